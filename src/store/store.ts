/** The Store: one Kysely database shared by every capability, with backend-specific transactions. */
import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { Database } from './schema.ts';

/** The database handle inside or outside a transaction. */
export type Db = Kysely<Database>;

/** A store backend. Capabilities write their queries once against `Db`; the backend handles dialect gaps. */
export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  readonly db: Db;
  /**
   * Runs `fn` in a write transaction. SQLite: `BEGIN IMMEDIATE` (one writer at a time).
   * PostgreSQL: READ COMMITTED, with row locks taken through {@link Store.forUpdate}.
   */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  /** Adds `FOR UPDATE` (PostgreSQL); SQLite's writer lock already serialises the transaction. */
  forUpdate<O>(
    query: SelectQueryBuilder<Database, keyof Database, O>,
  ): SelectQueryBuilder<Database, keyof Database, O>;
  /** Adds `FOR UPDATE SKIP LOCKED` (PostgreSQL) so that instances share background work without duplicates. */
  forUpdateSkipLocked<O>(
    query: SelectQueryBuilder<Database, keyof Database, O>,
  ): SelectQueryBuilder<Database, keyof Database, O>;
  /**
   * Serialises transactions that take the same named lock until they end (PostgreSQL: a
   * transaction-scoped advisory lock; SQLite: already serialised). Used for the audit chain head.
   */
  serialize(tx: Db, name: string): Promise<void>;
  /** Applies pending migrations; safe when several instances start at once. */
  migrate(): Promise<void>;
  /** True when the database answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Runs work alone among the instances that share a PostgreSQL store: inside a transaction that
 * holds the advisory lock `name` while `work` runs (work may use `store.db`, other connections).
 * Not for SQLite, whose one connection the transaction would hold: it serves one instance anyway.
 */
export function exclusively(store: Store, name: string): <T>(work: () => Promise<T>) => Promise<T> {
  return (work) =>
    store.transaction(async (tx) => {
      await store.serialize(tx, name);
      return work();
    });
}
