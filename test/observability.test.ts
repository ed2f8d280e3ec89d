/**
 * Observability: JSON logs that never contain a secret (even at trace level), Prometheus metrics,
 * health and readiness, and a graceful shutdown that finishes the publish in flight.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { buildApp, createLogger, startGate, type RunningGate } from '../src/app.ts';
import { loadConfig } from '../src/config/index.ts';
import { generateToken } from '../src/tokens/index.ts';
import { startVerdaccio, type Verdaccio } from './support/verdaccio.ts';
import { issueToken, sealUpstreamToken, writeGateConfig, approveWithQuorum } from './support/gate.ts';
import { startHoldProxy, type HoldProxy } from './support/hold-proxy.ts';
import { escapedName, packageTarball, publishDoc } from './support/publish-doc.ts';
import { eventually } from './support/net.ts';

describe('observability', () => {
  let verdaccio: Verdaccio;
  let proxy: HoldProxy;
  let gate: RunningGate;
  let token: string;
  const logs: string[] = [];

  before(async () => {
    verdaccio = await startVerdaccio();
    proxy = await startHoldProxy(verdaccio.url);
    const { file } = writeGateConfig({ upstream: { url: proxy.url, token: verdaccio.token } });
    const sink = new PassThrough();
    sink.on('data', (chunk: Buffer) =>
      logs.push(
        ...chunk
          .toString()
          .split('\n')
          .filter((l) => l !== ''),
      ),
    );
    const app = await buildApp(loadConfig({ file, env: {} }), { logger: createLogger('trace', sink) });
    await sealUpstreamToken(app, verdaccio.token);
    token = await issueToken(app, 'alice');
    gate = await startGate(app);
  });
  after(async () => {
    await proxy?.close();
    await verdaccio?.stop();
  });

  async function hold(name: string): Promise<string> {
    const body = JSON.stringify(publishDoc(name, '1.0.0', await packageTarball(name, '1.0.0')));
    const r = await fetch(`${gate.url}/npm/${escapedName(name)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    });
    return ((await r.json()) as { release: string }).release;
  }

  it('answers /healthz and /readyz', async () => {
    assert.equal((await fetch(`${gate.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${gate.url}/readyz`)).status, 200);
  });

  it('exposes releases, approvals, credentials and upstream latency in Prometheus format', async () => {
    const id = await hold('metrics-pkg');
    await approveWithQuorum(gate.app, id);
    await eventually(async () =>
      (await gate.app.releases.get(id)).state === 'published' ? true : undefined,
    );
    const text = await (await fetch(`${gate.url}/metrics`)).text();
    assert.match(text, /^pubgate_releases\{state="published"\} 1$/m);
    assert.match(text, /^pubgate_approvals_total 1$/m);
    assert.match(text, /^pubgate_credentials_minted_total\{kind="request"\} 1$/m);
    assert.match(text, /^pubgate_credentials_revoked_total\{kind="request"\} 0$/m);
    assert.match(
      text,
      /^pubgate_upstream_request_duration_seconds_count\{operation="publish",outcome="ok"\} 1$/m,
    );
    assert.match(text, /^# TYPE pubgate_upstream_request_duration_seconds histogram$/m);
  });

  it('writes JSON logs that never contain a credential, even at trace level', async () => {
    const bogus = generateToken();
    await fetch(`${gate.url}/npm/x`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${bogus}` },
      body: '{}',
    });
    await fetch(`${gate.url}/npm/-/whoami`, { headers: { authorization: `Bearer ${token}` } });
    assert.ok(logs.length > 5, 'the gate logged');
    for (const line of logs) {
      const entry = JSON.parse(line) as { level: number; msg?: string };
      assert.equal(typeof entry.level, 'number');
    }
    const all = logs.join('\n');
    for (const secret of [token, verdaccio.token, bogus])
      assert.ok(!all.includes(secret), 'a credential appeared in the logs');
  });

  it('finishes the publish in flight on shutdown', async () => {
    const id = await hold('shutdown-pkg');
    proxy.mode = 'delay';
    await approveWithQuorum(gate.app, id);
    await proxy.held();
    await gate.stop();
    const { buildApp: reopen } = await import('../src/app.ts');
    const app = await reopen(gate.app.config, { logger: createLogger('silent') });
    try {
      assert.equal((await app.releases.get(id)).state, 'published');
    } finally {
      await app.close();
    }
  });
});
