/**
 * Stops and starts the test PostgreSQL server (`.ci/run` exports its data folder and socket folder),
 * so a test can restart it under a running gate. pg_ctl runs as the cluster's owner, `postgres`.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const PG_BIN = '/usr/lib/postgresql/15/bin';

/** A local PostgreSQL server this process may restart. */
export interface PostgresServer {
  readonly dataDir: string;
  readonly socketDir: string;
  readonly port: number;
}

/** The test server from PUBGATE_TEST_POSTGRES_URL, PUBGATE_TEST_PGDATA and PUBGATE_TEST_PGSOCKETDIR; undefined if one is unset. */
export function postgresServerFromEnv(env: NodeJS.ProcessEnv = process.env): PostgresServer | undefined {
  const url = env['PUBGATE_TEST_POSTGRES_URL'];
  const dataDir = env['PUBGATE_TEST_PGDATA'];
  const socketDir = env['PUBGATE_TEST_PGSOCKETDIR'];
  if (!url || !dataDir || !socketDir) return undefined;
  return { dataDir, socketDir, port: Number(new URL(url).port || 5432) };
}

function quote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * The server options of the running cluster, from `postmaster.opts` (written by the postmaster at
 * start), so a restart keeps `.ci/run`'s settings; the minimal set when that file cannot be read.
 */
export function postgresOptions(server: PostgresServer): string[] {
  try {
    const args = [
      ...readFileSync(join(server.dataDir, 'postmaster.opts'), 'utf8').matchAll(/"((?:[^"\\]|\\.)*)"/g),
    ].map((m) => m[1]!);
    const dashD = args.indexOf('-D');
    if (dashD !== -1) args.splice(dashD, 2);
    if (args.length > 0) return args;
  } catch {
    // not readable: fall back
  }
  return ['-c', 'listen_addresses=127.0.0.1', '-p', String(server.port), '-k', server.socketDir];
}

function runPgCtl(args: readonly string[], timeoutMs: number): Promise<void> {
  const command = [join(PG_BIN, 'pg_ctl'), ...args].map(quote).join(' ');
  // As root, run as the cluster owner; as anyone else, we must be the owner already.
  const [file, argv] =
    process.getuid?.() === 0
      ? ['su', ['postgres', '-s', '/bin/bash', '-c', command]]
      : ['/bin/bash', ['-c', command]];
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`pg_ctl ${args.at(-1) ?? ''} exited ${code}: ${output.slice(-1000)}`));
    });
  });
}

/** Stops the server at once (`-m immediate`: no checkpoint, backends killed, crash recovery at the next start). */
export function stopPostgresImmediately(server: PostgresServer): Promise<void> {
  return runPgCtl(['-D', server.dataDir, '-m', 'immediate', 'stop'], 30_000);
}

/** Starts the server with the options it last ran with and waits until it accepts connections. */
export function startPostgres(
  server: PostgresServer,
  options: readonly string[] = postgresOptions(server),
): Promise<void> {
  // The log goes where `.ci/run` puts it (the file `log` beside the data folder), else into the data folder.
  const ciLog = join(dirname(server.dataDir), 'log');
  const logFile = existsSync(ciLog) ? ciLog : join(server.dataDir, 'pubgate-restart.log');
  return runPgCtl(
    ['-D', server.dataDir, '-o', options.map(quote).join(' '), '-l', logFile, '-w', '-t', '60', 'start'],
    90_000,
  );
}

/** Stops the server immediately, waits `downMs`, and starts it again with the same options. */
export async function restartPostgresImmediately(server: PostgresServer, downMs: number): Promise<void> {
  // Read before stopping: the options file belongs to the running cluster.
  const options = postgresOptions(server);
  await stopPostgresImmediately(server);
  await new Promise((r) => setTimeout(r, downMs));
  await startPostgres(server, options);
}
