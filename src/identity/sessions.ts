/** Browser sessions: a random cookie (only its hash is stored), a CSRF token, idle and absolute timeouts. */
import { randomBytes } from 'node:crypto';
import type { Store } from '../store/index.ts';
import { hashToken } from '../tokens/index.ts';

/** A live session. */
export interface Session {
  readonly userId: string;
  readonly csrf: string;
  readonly createdAt: string;
}

/** Creates, resolves and ends sessions. */
export class SessionService {
  readonly #store: Store;
  readonly #idleSeconds: number;
  readonly #maxSeconds: number;
  readonly #now: () => Date;

  constructor(
    store: Store,
    options: { idleSeconds: number; maxSeconds: number },
    now: () => Date = () => new Date(),
  ) {
    this.#store = store;
    this.#idleSeconds = options.idleSeconds;
    this.#maxSeconds = options.maxSeconds;
    this.#now = now;
  }

  /** Starts a session; returns the cookie value (shown to the browser only). */
  async create(userId: string): Promise<{ cookie: string; csrf: string }> {
    const cookie = randomBytes(32).toString('base64url');
    const csrf = randomBytes(24).toString('base64url');
    const now = this.#now();
    await this.#store.db
      .insertInto('sessions')
      .values({
        id_hash: hashToken(cookie),
        user_id: userId,
        csrf,
        created_at: now.toISOString(),
        last_seen_at: now.toISOString(),
        expires_at: new Date(now.getTime() + this.#maxSeconds * 1000).toISOString(),
      })
      .execute();
    return { cookie, csrf };
  }

  /** The session behind a cookie, refreshed; undefined when unknown, idle too long or past its end. */
  async resolve(cookie: string | undefined): Promise<Session | undefined> {
    if (cookie === undefined || cookie.length < 20 || cookie.length > 100) return undefined;
    const row = await this.#store.db
      .selectFrom('sessions')
      .selectAll()
      .where('id_hash', '=', hashToken(cookie))
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const now = this.#now();
    const idleLimit = new Date(now.getTime() - this.#idleSeconds * 1000).toISOString();
    if (row.expires_at <= now.toISOString() || row.last_seen_at < idleLimit) {
      await this.#store.db.deleteFrom('sessions').where('id_hash', '=', row.id_hash).execute();
      return undefined;
    }
    await this.#store.db
      .updateTable('sessions')
      .set({ last_seen_at: now.toISOString() })
      .where('id_hash', '=', row.id_hash)
      .execute();
    return { userId: row.user_id, csrf: row.csrf, createdAt: row.created_at };
  }

  /** Ends the session behind a cookie. */
  async destroy(cookie: string | undefined): Promise<void> {
    if (cookie === undefined) return;
    await this.#store.db.deleteFrom('sessions').where('id_hash', '=', hashToken(cookie)).execute();
  }

  /** Deletes sessions past their end or idle limit that nobody came back to. */
  async prune(): Promise<void> {
    const now = this.#now();
    const idleLimit = new Date(now.getTime() - this.#idleSeconds * 1000).toISOString();
    await this.#store.db
      .deleteFrom('sessions')
      .where((eb) => eb.or([eb('expires_at', '<=', now.toISOString()), eb('last_seen_at', '<', idleLimit)]))
      .execute();
  }

  /** Ends every session of a person (role change, removal). */
  async destroyAllFor(userId: string): Promise<void> {
    await this.#store.db.deleteFrom('sessions').where('user_id', '=', userId).execute();
  }
}
