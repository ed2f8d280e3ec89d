/** OIDC `jti` replay protection in the store: a unique key on (issuer, jti) makes `remember` atomic across instances. */
import type { Store } from '../store/index.ts';
import type { JtiStore } from './oidc/index.ts';

/** The SQL {@link JtiStore}. */
export class SqlJtiStore implements JtiStore {
  readonly #store: Store;
  readonly #now: () => Date;

  constructor(store: Store, now: () => Date = () => new Date()) {
    this.#store = store;
    this.#now = now;
  }

  async remember(issuer: string, jti: string, expiresAt: Date): Promise<boolean> {
    try {
      await this.#store.db
        .insertInto('oidc_jtis')
        .values({ issuer, jti: jti.slice(0, 512), expires_at: expiresAt.toISOString() })
        .execute();
      return true;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE')
        return false;
      throw error;
    }
  }

  /** Forgets ids whose tokens expired more than a day ago (they can no longer be replayed). */
  async prune(): Promise<void> {
    await this.#store.db
      .deleteFrom('oidc_jtis')
      .where('expires_at', '<', new Date(this.#now().getTime() - 86_400_000).toISOString())
      .execute();
  }
}
