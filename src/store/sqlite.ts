/** SQLite backend (better-sqlite3 12; v13 segfaults on Node 20): the embedded default. */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { Database } from './schema.ts';
import type { Db, Store } from './store.ts';
import { runMigrations } from './migrate.ts';

/** Opens (creating if needed) the SQLite store at `path`. */
export function openSqliteStore(path: string): Store {
  mkdirSync(dirname(path), { recursive: true });
  const database = new BetterSqlite3(path);
  // WAL lets readers (the CLI, `log verify`) run beside the server; busy_timeout waits for the writer lock.
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = FULL');
  database.pragma('busy_timeout = 10000');
  // Kysely prepares every query anew; better-sqlite3 statements are reusable, so keep the prepared
  // ones by SQL text (bounded: the gate issues a fixed set of queries). Safe: one connection.
  const statements = new Map<string, BetterSqlite3.Statement>();
  const cached = {
    close: () => database.close(),
    prepare: (sql: string): BetterSqlite3.Statement => {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = database.prepare(sql);
        if (statements.size < 1000) statements.set(sql, statement);
      }
      return statement;
    },
  };
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cached }) });
  return {
    dialect: 'sqlite',
    db,
    async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
      // Kysely's SQLite driver hands out its single connection under a mutex, so this body runs alone
      // in this process; BEGIN IMMEDIATE takes the file's writer lock up front against other processes.
      return db.connection().execute(async (conn) => {
        await sql`begin immediate`.execute(conn);
        try {
          const result = await fn(conn);
          await sql`commit`.execute(conn);
          return result;
        } catch (error) {
          await sql`rollback`.execute(conn);
          throw error;
        }
      });
    },
    serialize: () => Promise.resolve(),
    forUpdate: (query) => query,
    forUpdateSkipLocked: (query) => query,
    migrate: () => runMigrations(db as Kysely<unknown>),
    async ping() {
      await sql`select 1`.execute(db);
      return true;
    },
    close: () => db.destroy(),
  };
}
