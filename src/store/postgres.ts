/** PostgreSQL backend (`pg`): several gate instances share one database. */
import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { Database } from './schema.ts';
import type { Db, Store } from './store.ts';
import { runMigrations } from './migrate.ts';

// int8 (bigint) columns hold sizes and sequence numbers far below 2^53: read them as numbers.
pg.types.setTypeParser(20, (value) => Number(value));

/** Options of {@link openPostgresStore}. */
export interface OpenPostgresStoreOptions {
  readonly url: string;
  readonly poolSize: number;
}

/** Connects to PostgreSQL. */
export function openPostgresStore(options: OpenPostgresStoreOptions): Store {
  const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize });
  // A client's error (e.g. the server restarting) must not crash the process. The pool handles idle
  // clients ('error' on the pool) but removes its listener while a client is checked out, so every
  // client gets its own listener too; the failed query rejects and the pool drops the client.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    dialect: 'postgres',
    db,
    transaction: <T>(fn: (tx: Db) => Promise<T>) => db.transaction().execute(fn),
    async serialize(tx, name) {
      await sql`select pg_advisory_xact_lock(hashtext(${name}))`.execute(tx);
    },
    forUpdate: (query) => query.forUpdate(),
    forUpdateSkipLocked: (query) => query.forUpdate().skipLocked(),
    migrate: () => runMigrations(db as Kysely<unknown>),
    async ping() {
      await sql`select 1`.execute(db);
      return true;
    },
    close: () => db.destroy(),
  };
}
