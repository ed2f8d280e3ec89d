/** Storage: the Store interface, its SQLite and PostgreSQL backends, and the table types. */
export type { Store, Db } from './store.ts';
export { exclusively } from './store.ts';
export type { Database, ReleasesTable, AuditEventsTable, CredentialsTable } from './schema.ts';
export { openSqliteStore } from './sqlite.ts';
export { openPostgresStore } from './postgres.ts';
export type { OpenPostgresStoreOptions } from './postgres.ts';
