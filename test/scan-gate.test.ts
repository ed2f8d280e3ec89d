/**
 * The scanner wired into the gate: a tarball with a secret inside is blocked before approval (a
 * pubgate credential inside it is revoked), and a scan agent reporting to the real gate gets a
 * leaked pubgate credential revoked. No test output contains a planted secret.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAgent } from '../src/scan/index.ts';
import { startTestGate, type TestGate } from './support/gate.ts';
import { escapedName, packageTarball, publishDoc } from './support/publish-doc.ts';
import { checksummed } from './fixtures/scan/secrets.ts';

describe('secret scanning at the gate', () => {
  let gate: TestGate;
  let token: string;

  before(async () => {
    gate = await startTestGate();
    token = await gate.issueToken('alice');
  });
  after(() => gate?.stop());

  async function stage(
    name: string,
    files: Array<{ name: string; content: string }>,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const body = JSON.stringify(publishDoc(name, '1.0.0', await packageTarball(name, '1.0.0', files)));
    const response = await fetch(`${gate.url}/npm/-/stage/package/${escapedName(name)}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('blocks a staged release with an npm token in a .npmrc inside its tarball, showing where but never the value', async () => {
    const secret = checksummed('npm_');
    const result = await stage('leaky-npmrc', [
      { name: 'package/.npmrc', content: `//registry.npmjs.org/:_authToken=${secret}\n` },
    ]);
    assert.equal(result.status, 403);
    assert.equal(result.body['code'], 'ERR_POLICY_SECRET_FOUND');
    assert.match(String(result.body['error']), /package\/\.npmrc:1/);
    assert.ok(!JSON.stringify(result.body).includes(secret), 'the answer never contains the secret');
    assert.deepEqual(await gate.app.releases.list({ package: 'leaky-npmrc' }), []);
  });

  it('revokes a pubgate credential found inside a tarball', async () => {
    const leaked = await gate.issueToken('ci-bot', ['*'], 'read');
    const result = await stage('leaky-pgt', [
      { name: 'package/config.json', content: JSON.stringify({ registryToken: leaked }) },
    ]);
    assert.equal(result.body['code'], 'ERR_POLICY_SECRET_FOUND');
    await assert.rejects(gate.app.credentials.authenticate(leaked), { code: 'ERR_AUTH_REVOKED' });
  });

  it('holds a clean release with the scan recorded as a passed check', async () => {
    const result = await stage('clean-pkg', [
      { name: 'package/README.md', content: 'token: ${NPM_TOKEN}\n' },
    ]);
    assert.equal(result.status, 201, JSON.stringify(result.body));
    const release = await gate.app.releases.get(String(result.body['stageId']));
    const scan = release.checks.find((c) => c.name === 'secret-scan');
    assert.deepEqual([scan?.ok, (scan?.details as { scanned: boolean }).scanned], [true, true]);
  });

  it('takes an agent report from a laptop, records the sighting and revokes the leaked pubgate credential', async () => {
    const leaked = await gate.issueToken('alice-laptop', ['*'], 'request');
    const agentToken = await gate.issueToken('agent-laptop-1', ['*'], 'agent');
    const home = mkdtempSync(join(tmpdir(), 'pubgate-home-'));
    writeFileSync(join(home, '.npmrc'), `//gate.example.com/npm/:_authToken=${leaked}\n`);
    mkdirSync(join(home, 'project'));
    writeFileSync(join(home, 'project', '.env'), `PUBGATE_TOKEN=${leaked}\n`);
    const lines: string[] = [];
    const result = await runAgent({
      server: gate.url,
      token: agentToken,
      once: true,
      home,
      host: 'laptop-1',
      context: 'laptop',
      log: (l) => lines.push(l),
    });
    assert.ok(result.cycles >= 1);
    await assert.rejects(gate.app.credentials.authenticate(leaked), { code: 'ERR_AUTH_REVOKED' });
    const reused = await gate.app.sightings.reused();
    assert.equal(reused.length, 0, 'one host is not reuse');
    assert.ok(!lines.join('\n').includes(leaked), 'agent output never shows the secret');
    let revokedEvents = 0;
    for await (const e of gate.app.audit.events())
      if (e.action === 'credential.revoked_leaked') revokedEvents++;
    assert.ok(revokedEvents >= 1);
    const dump = JSON.stringify(await gate.app.store.db.selectFrom('secret_sightings').selectAll().execute());
    assert.ok(!dump.includes(leaked), 'sightings hold fingerprints, never the secret');
  });

  it('refuses agent reports from a credential that is not an agent (ERR_AUTH_FORBIDDEN)', async () => {
    const response = await fetch(`${gate.url}/api/v1/scan/key`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(response.status, 403);
    assert.equal(((await response.json()) as { code: string }).code, 'ERR_AUTH_FORBIDDEN');
  });
});
