/** Named secrets sealed under the master key and kept in the store. Never written in clear. */
import type { Store } from '../store/index.ts';
import { masterKeyIdOf, sealSecret, unsealSecret, type SealedSecret } from './envelope.ts';

/** Reads and writes sealed secrets by name. */
export class VaultStore {
  readonly #store: Store;
  readonly #masterKey: Buffer;
  readonly #now: () => Date;

  constructor(store: Store, masterKey: Buffer, now: () => Date = () => new Date()) {
    this.#store = store;
    this.#masterKey = masterKey;
    this.#now = now;
  }

  /** Seals and stores `plaintext` under `name`, replacing any previous value. */
  async put(name: string, plaintext: Buffer): Promise<void> {
    const sealed = JSON.stringify(sealSecret(this.#masterKey, name, plaintext));
    const row = {
      name,
      sealed,
      master_key_id: masterKeyIdOf(this.#masterKey),
      updated_at: this.#now().toISOString(),
    };
    await this.#store.db
      .insertInto('vault_secrets')
      .values(row)
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ sealed: row.sealed, master_key_id: row.master_key_id, updated_at: row.updated_at }),
      )
      .execute();
  }

  /**
   * Seals and stores `plaintext` under `name` only if no value exists yet; true when this call
   * stored it. Two instances creating the same secret at once end up with one value.
   */
  async putIfAbsent(name: string, plaintext: Buffer): Promise<boolean> {
    const sealed = JSON.stringify(sealSecret(this.#masterKey, name, plaintext));
    const result = await this.#store.db
      .insertInto('vault_secrets')
      .values({
        name,
        sealed,
        master_key_id: masterKeyIdOf(this.#masterKey),
        updated_at: this.#now().toISOString(),
      })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  /** Opens the secret `name`, or undefined when none is stored. Callers zero the buffer after use. */
  async get(name: string): Promise<Buffer | undefined> {
    const row = await this.#store.db
      .selectFrom('vault_secrets')
      .select('sealed')
      .where('name', '=', name)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    return unsealSecret(this.#masterKey, name, JSON.parse(row.sealed) as SealedSecret);
  }

  /** Removes a secret; true when one existed. */
  async delete(name: string): Promise<boolean> {
    const result = await this.#store.db
      .deleteFrom('vault_secrets')
      .where('name', '=', name)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Names and metadata only. */
  async list(): Promise<Array<{ name: string; masterKeyId: string; updatedAt: string }>> {
    const rows = await this.#store.db
      .selectFrom('vault_secrets')
      .select(['name', 'master_key_id', 'updated_at'])
      .orderBy('name')
      .execute();
    return rows.map((r) => ({ name: r.name, masterKeyId: r.master_key_id, updatedAt: r.updated_at }));
  }
}
