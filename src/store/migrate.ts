/** Runs the migrations through Kysely's Migrator. */
import { Migrator, type Kysely, type MigrationProvider } from 'kysely';
import { PubgateError } from '../errors/index.ts';
import { migrations } from './migrations.ts';

const provider: MigrationProvider = { getMigrations: () => Promise.resolve({ ...migrations }) };

/** Applies every pending migration or throws `ERR_STORE_MIGRATION`. */
export async function runMigrations(db: Kysely<unknown>): Promise<void> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new PubgateError('ERR_STORE_MIGRATION', `database migration ${failed} failed`, { cause: error });
  }
}
