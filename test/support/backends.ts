/**
 * The store backends a test runs against: SQLite always; PostgreSQL when PUBGATE_TEST_POSTGRES_URL
 * names a server (`.ci/run` starts one). In CI a missing PostgreSQL is an error, not a skip.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A backend choice for gate options. */
export type Backend =
  | { readonly name: 'sqlite'; readonly store: undefined }
  | { readonly name: 'postgres'; readonly store: { driver: 'postgres'; postgresUrl: string } };

/** The admin URL of the test PostgreSQL server, or undefined. */
export function postgresAdminUrl(): string | undefined {
  const url = process.env['PUBGATE_TEST_POSTGRES_URL'];
  if ((url === undefined || url === '') && process.env['CI'] === 'true') {
    throw new Error(
      'CI must run the PostgreSQL tests: set PUBGATE_TEST_POSTGRES_URL (.ci/run starts PostgreSQL)',
    );
  }
  return url === '' ? undefined : url;
}

/** Creates an empty database and returns its URL. */
export async function freshPostgresDatabase(): Promise<string> {
  const admin = postgresAdminUrl();
  if (admin === undefined) throw new Error('no PostgreSQL for tests');
  const name = `pubgate_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Every backend available here, each with a fresh database when it needs one. */
export function backendNames(): Array<'sqlite' | 'postgres'> {
  return postgresAdminUrl() === undefined ? ['sqlite'] : ['sqlite', 'postgres'];
}

/** Gate options for a backend, creating a fresh PostgreSQL database when needed. */
export async function backendStore(name: 'sqlite' | 'postgres'): Promise<Backend> {
  if (name === 'sqlite') return { name, store: undefined };
  return { name, store: { driver: 'postgres', postgresUrl: await freshPostgresDatabase() } };
}
