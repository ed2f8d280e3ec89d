/** The key ring on the gate's SQL store. */
import type { Store } from '../store/index.ts';
import type { KeyRingStore, StoredKey } from './key-ring.ts';

/** {@link KeyRingStore} in the `signing_keys` table. */
export class SqlKeyRingStore implements KeyRingStore {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  async get(keyId: string): Promise<StoredKey | undefined> {
    const row = await this.#store.db
      .selectFrom('signing_keys')
      .select('stored')
      .where('key_id', '=', keyId)
      .executeTakeFirst();
    return row === undefined ? undefined : (JSON.parse(row.stored) as StoredKey);
  }

  async put(key: StoredKey): Promise<void> {
    const stored = JSON.stringify(key);
    await this.#store.db
      .insertInto('signing_keys')
      .values({ key_id: key.keyId, stored })
      .onConflict((oc) => oc.column('key_id').doUpdateSet({ stored }))
      .execute();
  }

  async list(): Promise<StoredKey[]> {
    return (await this.#store.db.selectFrom('signing_keys').select('stored').execute()).map(
      (r) => JSON.parse(r.stored) as StoredKey,
    );
  }
}
