/** Starts a real Verdaccio 6.8.0 on 127.0.0.1 with its own storage, for the upstream in tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForHttp } from './net.ts';

/** A running Verdaccio with one user able to publish. */
export interface Verdaccio {
  readonly url: string;
  readonly token: string;
  stop(): Promise<void>;
}

const root = new URL('../..', import.meta.url).pathname;

/** Options of {@link startVerdaccio}. */
export interface StartVerdaccioOptions {
  /**
   * JWT API tokens instead of Verdaccio's default legacy ones, which it checks against htpasswd
   * (bcrypt, ~90 ms of its one thread) on every authenticated request: benchmarks want JWTs.
   */
  readonly jwt?: boolean;
}

/** Starts Verdaccio and registers a publishing user; resolves once it answers. */
export async function startVerdaccio(options: StartVerdaccioOptions = {}): Promise<Verdaccio> {
  const dir = mkdtempSync(join(tmpdir(), 'pubgate-verdaccio-'));
  const port = await freePort();
  const config = [
    `storage: ${join(dir, 'storage')}`,
    'auth:',
    '  htpasswd:',
    `    file: ${join(dir, 'htpasswd')}`,
    '    max_users: 10',
    'uplinks: {}',
    ...(options.jwt === true
      ? ['security:', '  api:', '    legacy: false', '    jwt:', '      sign:', '        expiresIn: 1d']
      : []),
    'packages:',
    "  '@*/*':",
    '    access: $all',
    '    publish: $authenticated',
    "  '**':",
    '    access: $all',
    '    publish: $authenticated',
    'server:',
    '  keepAliveTimeout: 60',
    'max_body_size: 200mb',
    'log: { type: stdout, format: json, level: error }',
    'web: { enable: false }',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'config.yaml'), config);
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(root, 'node_modules/verdaccio/bin/verdaccio'),
      '--config',
      join(dir, 'config.yaml'),
      '--listen',
      `127.0.0.1:${port}`,
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/-/ping`, 30_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`verdaccio did not start: ${stderr.slice(0, 2000)}`, { cause: error });
  }
  const response = await fetch(`${url}/-/user/org.couchdb.user:upstream-publisher`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'upstream-publisher',
      password: `pw-${Math.random().toString(36).slice(2)}`,
      type: 'user',
      roles: [],
      date: new Date().toISOString(),
    }),
  });
  const body = (await response.json()) as { token?: string };
  if (body.token === undefined) throw new Error(`verdaccio adduser failed: ${response.status}`);
  return {
    url,
    token: body.token,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
