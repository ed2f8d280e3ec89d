/**
 * Signed releases end to end: the gate attests every release it approves, serves its keys and
 * attestations in npm's shapes, refuses to publish what its attestation does not cover, and
 * `pubgate verify` / `pubgate promote` check releases outside the gate (two real Verdaccios).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVerdaccio, type Verdaccio } from './support/verdaccio.ts';
import { approveWithQuorum, startTestGate, type TestGate } from './support/gate.ts';
import { escapedName, packageTarball, publishDoc } from './support/publish-doc.ts';
import { eventually } from './support/net.ts';

const root = new URL('..', import.meta.url).pathname;

function pubgate(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, 'bin/pubgate.js'), ...args],
      { env: { ...process.env, ...env }, timeout: 120_000 },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          stdout,
          stderr,
        }),
    );
  });
}

describe('signed releases', () => {
  let a: Verdaccio;
  let b: Verdaccio;
  let c: Verdaccio;
  let gate: TestGate;
  let token: string;
  const tarballs = new Map<string, Buffer>();

  before(async () => {
    [a, b, c] = await Promise.all([startVerdaccio(), startVerdaccio(), startVerdaccio()]);
    gate = await startTestGate({ upstream: { url: a.url, token: a.token } });
    token = await gate.issueToken('alice');
  });
  after(async () => {
    await gate?.stop();
    await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
  });

  async function release(name: string, version: string, withQuorum = true): Promise<string> {
    const tarball = await packageTarball(name, version);
    tarballs.set(`${name}@${version}`, tarball);
    const response = await fetch(`${gate.url}/npm/-/stage/package/${escapedName(name)}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(publishDoc(name, version, tarball)),
    });
    const id = ((await response.json()) as { stageId: string }).stageId;
    await gate.app.releases.markRequesterVerified(id, 'user:alice', 'test');
    if (withQuorum) await approveWithQuorum(gate.app, id);
    else await gate.app.releases.approve(id, { actor: 'test:no-quorum' });
    return id;
  }

  async function final(id: string) {
    return eventually(
      async () => {
        const r = await gate.app.releases.get(id);
        return r.state === 'published' || r.state === 'failed' ? r : undefined;
      },
      30_000,
      'release to finish',
    );
  }

  it('attests the release at approval, serves keys and attestation in npm shapes, and publishes', async () => {
    const id = await release('@acme/signed', '1.0.0');
    assert.equal((await final(id)).state, 'published');
    const keys = (await (await fetch(`${gate.url}/keys`)).json()) as {
      keys: Array<{ keyId: string; publicKeyPem: string }>;
    };
    assert.equal(keys.keys.length, 1);
    assert.match(keys.keys[0]!.publicKeyPem, /BEGIN PUBLIC KEY/);
    for (const path of ['/npm/-/npm/v1/keys', '/-/npm/v1/keys']) {
      const npmKeys = (await (await fetch(`${gate.url}${path}`)).json()) as {
        keys: Array<{ keyid: string; keytype: string; scheme: string; key: string }>;
      };
      assert.equal(npmKeys.keys[0]!.keyid, keys.keys[0]!.keyId);
      assert.equal(npmKeys.keys[0]!.scheme, 'ecdsa-sha2-nistp256');
    }
    const att = (await (await fetch(`${gate.url}/npm/-/npm/v1/attestations/@acme/signed@1.0.0`)).json()) as {
      attestations: Array<{ predicateType: string; bundle: { mediaType: string } }>;
    };
    assert.equal(att.attestations[0]!.predicateType, 'https://pubgate.dev/attestation/release/v1');
    assert.equal(att.attestations[0]!.bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
  });

  it('`pubgate verify` accepts the published release and refuses a tampered tarball with its own code', async () => {
    const ok = await pubgate([
      'verify',
      '@acme/signed@1.0.0',
      '--gate',
      gate.url,
      '--registry',
      a.url,
      '--json',
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    const verified = JSON.parse(ok.stdout) as {
      verified: boolean;
      approvers: string[];
      policy: { requiredApprovals: number };
    };
    assert.equal(verified.verified, true);
    assert.equal(verified.approvers.length, verified.policy.requiredApprovals);
    const dir = mkdtempSync(join(tmpdir(), 'pubgate-verify-'));
    const tampered = join(dir, 'signed-1.0.0.tgz');
    writeFileSync(
      tampered,
      await packageTarball('@acme/signed', '1.0.0', [
        { name: 'package/backdoor.js', content: 'require("child_process")' },
      ]),
    );
    const bad = await pubgate(['verify', tampered, '--gate', gate.url, '--json']);
    assert.equal(bad.code, 1);
    assert.equal((JSON.parse(bad.stdout) as { code: string }).code, 'ERR_VERIFY_DIGEST_MISMATCH');
    const good = join(dir, 'good.tgz');
    writeFileSync(good, tarballs.get('@acme/signed@1.0.0')!);
    assert.equal((await pubgate(['verify', good, '--gate', gate.url])).code, 0);
  });

  it('promotes a verified release between two Verdaccio instances and refuses a tampered one', async () => {
    const promoted = await pubgate(
      ['promote', '@acme/signed@1.0.0', '--from', a.url, '--to', b.url, '--gate', gate.url, '--json'],
      { PUBGATE_PROMOTE_TOKEN: b.token },
    );
    assert.equal(promoted.code, 0, promoted.stderr + promoted.stdout);
    const onB = (await (await fetch(`${b.url}/@acme%2fsigned`)).json()) as {
      versions: Record<string, { dist: { integrity: string } }>;
    };
    assert.equal(
      onB.versions['1.0.0']!.dist.integrity,
      (await gate.app.releases.list({ package: '@acme/signed' }))[0]!.integrity,
    );
    // An attacker's registry holds other bytes under the same version.
    const evil = await packageTarball('@acme/signed', '1.0.0', [
      { name: 'package/evil.js', content: 'steal()' },
    ]);
    const put = await fetch(`${c.url}/@acme%2fsigned`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(publishDoc('@acme/signed', '1.0.0', evil)),
    });
    assert.ok(put.ok);
    const refused = await pubgate(
      ['promote', '@acme/signed@1.0.0', '--from', c.url, '--to', b.url, '--gate', gate.url, '--json'],
      { PUBGATE_PROMOTE_TOKEN: b.token },
    );
    assert.equal(refused.code, 1);
    assert.equal((JSON.parse(refused.stdout) as { code: string }).code, 'ERR_VERIFY_DIGEST_MISMATCH');
  });

  it('never publishes a release whose attestation does not meet the policy (approved without a quorum)', async () => {
    const id = await release('@acme/no-quorum', '1.0.0', false);
    const finished = await final(id);
    assert.equal(finished.state, 'failed');
    assert.match(String(finished.reason), /ERR_RELEASE_ATTESTATION_INVALID/);
    assert.equal((await fetch(`${a.url}/@acme%2fno-quorum`)).status, 404);
  });

  it('rotates keys with an overlap: old attestations still verify, new ones use the new key', async () => {
    const { current, previous } = await gate.app.keyRing.rotate();
    assert.equal(previous.length, 1);
    assert.equal(
      (await pubgate(['verify', '@acme/signed@1.0.0', '--gate', gate.url, '--registry', a.url])).code,
      0,
    );
    const id = await release('@acme/after-rotation', '1.0.0');
    assert.equal((await final(id)).state, 'published');
    const bundle = (await gate.app.attestations.get(id)) as unknown as {
      verificationMaterial: { publicKey: { hint: string } };
    };
    assert.equal(bundle.verificationMaterial.publicKey.hint, current.keyId);
  });

  it('retires a compromised key: what it signed stops verifying until `keys retire --reattest` signs it again', async () => {
    const config = join(gate.dir, 'pubgate.yaml');
    const signed = (await gate.app.attestations.forVersion('@acme/signed', '1.0.0'))!;
    const oldKey = (signed.bundle.verificationMaterial as { publicKey: { hint: string } }).publicKey.hint;
    const spec = ['verify', '@acme/signed@1.0.0', '--gate', gate.url, '--registry', a.url, '--json'];
    // The current key cannot be retired: rotate first.
    const current = (await gate.app.keyRing.activeKey())!.keyId;
    const refused = await pubgate(['keys', 'retire', current, '--config', config]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /ERR_KEYS_CURRENT/);
    const unknown = await pubgate(['keys', 'retire', 'SHA256:no-such-key', '--config', config]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /ERR_KEYS_UNKNOWN/);

    assert.equal((await pubgate(['keys', 'retire', oldKey, '--config', config])).code, 0);
    const bad = await pubgate(spec);
    assert.equal(bad.code, 1);
    assert.equal((JSON.parse(bad.stdout) as { code: string }).code, 'ERR_VERIFY_KEY_RETIRED');
    // npm's key list drops it too.
    const npmKeys = (await (await fetch(`${gate.url}/-/npm/v1/keys`)).json()) as {
      keys: { keyid: string }[];
    };
    assert.ok(!npmKeys.keys.some((k) => k.keyid === oldKey));

    const again = await pubgate(['keys', 'retire', oldKey, '--reattest', '--config', config]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /re-attested [1-9]\d* release/);
    const good = await pubgate(spec);
    assert.equal(good.code, 0, good.stdout + good.stderr);
    const resigned = (await gate.app.attestations.forVersion('@acme/signed', '1.0.0'))!;
    assert.equal(
      (resigned.bundle.verificationMaterial as { publicKey: { hint: string } }).publicKey.hint,
      current,
    );
  });
});
