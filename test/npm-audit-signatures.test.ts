/**
 * npm's registry-signature check against the gate: every version the gate released carries the
 * gate's registry signature (`dist.signatures`, checked against `/-/npm/v1/keys`); a version that
 * reached the upstream around the gate has none, which `npm audit signatures` reports as missing; a
 * signature that does not match is refused. The check itself is npm's own code (pacote, from the
 * installed npm CLI): `npm audit signatures` first refreshes Sigstore's public TUF repository
 * (tuf-repo-cdn.sigstore.dev), which this test machine cannot reach, and only then asks the gate.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { approveWithQuorum, startTestGate, type TestGate } from './support/gate.ts';
import { escapedName, packageTarball, publishDoc } from './support/publish-doc.ts';
import { eventually } from './support/net.ts';
import { makePackage, runNpm, writeNpmrc } from './support/npm.ts';
import { startVerdaccio, type Verdaccio } from './support/verdaccio.ts';

interface PacoteManifest {
  readonly _signatures?: ReadonlyArray<{ keyid: string }>;
}
interface Pacote {
  manifest(spec: string, options: Record<string, unknown>): Promise<PacoteManifest>;
}

/** pacote as the installed npm CLI ships it (the code that verifies `dist.signatures`), found from the `npm` on PATH. */
function npmsPacote(): Pacote {
  const candidates = [
    join(execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim(), 'npm', 'package.json'),
    // npm-cli.js lives in <npm>/bin/: the npm on PATH, wherever its prefix is.
    join(
      realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim()),
      '..',
      '..',
      'package.json',
    ),
  ];
  for (const candidate of candidates) {
    try {
      return createRequire(candidate)('pacote') as Pacote;
    } catch {
      // try the next place
    }
  }
  throw new Error(`pacote not found beside the npm CLI (${candidates.join(', ')})`);
}
const pacote = npmsPacote();

/** What `npm audit signatures` does with a registry's keys, then the manifest check it runs per package. */
async function verifyWithNpm(registry: string, spec: string): Promise<PacoteManifest> {
  const { keys } = (await (await fetch(`${registry}-/npm/v1/keys`)).json()) as {
    keys: Array<{ keyid: string; key: string; expires: string | null }>;
  };
  const registryKeys = keys.map((key) => ({
    ...key,
    pemkey: `-----BEGIN PUBLIC KEY-----\n${key.key}\n-----END PUBLIC KEY-----`,
  }));
  // npm hands the keys to pacote keyed by the registry's host and path.
  const url = new URL(registry);
  return pacote.manifest(spec, {
    registry,
    cache: mkdtempSync(join(tmpdir(), 'pubgate-pacote-')),
    verifySignatures: true,
    [`//${url.host}${url.pathname}:_keys`]: registryKeys,
  });
}

async function release(gate: TestGate, name: string, version: string): Promise<void> {
  const token = await gate.issueToken('alice');
  const tarball = await packageTarball(name, version);
  const response = await fetch(`${gate.url}/npm/${escapedName(name)}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(publishDoc(name, version, tarball)),
  });
  const id = ((await response.json()) as { release: string }).release;
  await gate.app.releases.markRequesterVerified(id, 'user:alice', 'test');
  await approveWithQuorum(gate.app, id);
  await eventually(
    async () => ((await gate.app.releases.get(id)).state === 'published' ? true : undefined),
    30_000,
    'release to be published',
  );
}

/** The stock npm CLI installs `deps` from `registry` (signatures in the packuments do not disturb it). */
async function install(registry: string, deps: string[]): Promise<void> {
  const project = mkdtempSync(join(tmpdir(), 'pubgate-audit-'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0' }));
  const result = await runNpm(['install', ...deps], {
    cwd: project,
    userconfig: writeNpmrc(registry, undefined),
  });
  assert.equal(result.code, 0, result.stderr.slice(-2000));
}

describe('registry signatures of released packages', () => {
  let gate: TestGate;

  before(async () => {
    gate = await startTestGate();
    await release(gate, 'audited-pkg', '1.0.0');
  });
  after(async () => {
    await gate?.stop();
  });

  it('verifies the registry signature of a package the gate released', async () => {
    const packument = (await (await fetch(`${gate.url}/npm/audited-pkg`)).json()) as {
      versions: Record<string, { dist: { signatures?: Array<{ keyid: string }> } }>;
    };
    const [key] = (await gate.app.keyRing.listKeys()).filter((k) => k.notAfter === null);
    assert.deepEqual(
      packument.versions['1.0.0']!.dist.signatures?.map((s) => s.keyid),
      [key!.keyId],
    );
    await install(`${gate.url}/npm/`, ['audited-pkg@1.0.0']);
    const verified = await verifyWithNpm(`${gate.url}/npm/`, 'audited-pkg@1.0.0');
    assert.deepEqual(
      verified._signatures?.map((s) => s.keyid),
      [key!.keyId],
    );
  });

  it('reports a signature that does not match the package as invalid', async () => {
    // Another release's signature moved onto this one: valid ECDSA, wrong message.
    await release(gate, 'audited-pkg', '1.0.1');
    const rows = await gate.app.store.db
      .selectFrom('attestations')
      .select(['version', 'registry_signature'])
      .where('package', '=', 'audited-pkg')
      .execute();
    const other = rows.find((r) => r.version === '1.0.0')!.registry_signature;
    await gate.app.store.db
      .updateTable('attestations')
      .set({ registry_signature: other })
      .where('package', '=', 'audited-pkg')
      .where('version', '=', '1.0.1')
      .execute();
    await assert.rejects(verifyWithNpm(`${gate.url}/npm/`, 'audited-pkg@1.0.1'), {
      code: 'EINTEGRITYSIGNATURE',
    });
  });
});

describe('registry signatures show what bypassed the gate', () => {
  let verdaccio: Verdaccio;
  let gate: TestGate;

  before(async () => {
    verdaccio = await startVerdaccio();
    gate = await startTestGate({ upstream: { url: verdaccio.url, token: verdaccio.token } });
    await release(gate, 'gated-pkg', '1.0.0');
    // Published straight to the upstream with its token, around the gate.
    const dir = makePackage('bypassed-pkg', '1.0.0');
    const published = await runNpm(['publish'], {
      cwd: dir,
      userconfig: writeNpmrc(verdaccio.url, verdaccio.token),
    });
    assert.equal(published.code, 0, published.stderr.slice(-2000));
  });
  after(async () => {
    await gate?.stop();
    await verdaccio?.stop();
  });

  it('verifies the gated package; the bypassed one has no signature, which npm audit reports as missing', async () => {
    await install(`${gate.url}/npm/`, ['gated-pkg@1.0.0', 'bypassed-pkg@1.0.0']);
    const gated = await verifyWithNpm(`${gate.url}/npm/`, 'gated-pkg@1.0.0');
    assert.equal(gated._signatures?.length, 1);
    const bypassed = await verifyWithNpm(`${gate.url}/npm/`, 'bypassed-pkg@1.0.0');
    // npm's verify-signatures: no signatures while the registry serves keys = "missing registry signature".
    assert.equal(bypassed._signatures, undefined);
  });
});

describe("the upstream's registry keys", () => {
  it('are served beside the gate key, so signatures the upstream made still verify through the gate', async () => {
    const upstreamKey = {
      expires: null,
      keyid: 'SHA256:upstream-key',
      keytype: 'ecdsa-sha2-nistp256',
      scheme: 'ecdsa-sha2-nistp256',
      key: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE',
    };
    const server = createServer((req, res) => {
      if (req.url === '/-/npm/v1/keys')
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ keys: [upstreamKey, { keyid: 'x'.repeat(5000), key: 'y' }, 'junk'] }));
      else res.writeHead(404).end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const gate = await startTestGate({
      upstream: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 't' },
    });
    try {
      const { keys } = (await (await fetch(`${gate.url}/npm/-/npm/v1/keys`)).json()) as {
        keys: Array<{ keyid: string }>;
      };
      const [own] = (await gate.app.keyRing.listKeys()).filter((k) => k.notAfter === null);
      assert.deepEqual(
        keys.map((k) => k.keyid),
        [own!.keyId, upstreamKey.keyid],
      );
    } finally {
      await gate.stop();
      await new Promise((r) => server.close(r));
    }
  });
});
