/**
 * Verdaccio 6.8.0 for benchmarks, with JWT API tokens. `verdaccio.ts` uses Verdaccio's default
 * legacy tokens, which Verdaccio checks against htpasswd (bcrypt) on every authenticated request:
 * about 90 ms of its single thread per request here, which would cap any benchmark of a gate that
 * sends its upstream credential at ~11 requests/s. A JWT is checked with an HMAC. This is the minimal
 * part of `verdaccio.ts` plus the `security` block.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForHttp } from './net.ts';
import type { Verdaccio } from './verdaccio.ts';

const root = new URL('../..', import.meta.url).pathname;

/** Starts Verdaccio on 127.0.0.1 with JWT API tokens and registers a publishing user. */
export async function startVerdaccioWithJwt(): Promise<Verdaccio> {
  const dir = mkdtempSync(join(tmpdir(), 'pubgate-verdaccio-'));
  const port = await freePort();
  const config = [
    `storage: ${join(dir, 'storage')}`,
    'auth:',
    '  htpasswd:',
    `    file: ${join(dir, 'htpasswd')}`,
    '    max_users: 10',
    'security:',
    '  api:',
    '    legacy: false',
    '    jwt:',
    '      sign:',
    '        expiresIn: 1d',
    'uplinks: {}',
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
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForHttp(`${url}/-/ping`, 30_000);
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
    return { url, token: body.token, stop };
  } catch (error) {
    await stop();
    throw new Error(`verdaccio did not start: ${stderr.slice(0, 2000)}`, { cause: error });
  }
}
