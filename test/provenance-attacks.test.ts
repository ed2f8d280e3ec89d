/**
 * Build provenance under attack: a CI job or a maintainer token trying to get provenance accepted
 * that does not match, and hostile attachments or upstreams trying to break packuments, keys and
 * `dist.signatures`. Each test is an attack the gate refuses; those that once got through (found by
 * an adversarial review) are fixed and stay here as regression tests.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { approveWithQuorum, startTestGate, type TestGate } from './support/gate.ts';
import { escapedName, packageTarball, publishDoc } from './support/publish-doc.ts';
import { eventually } from './support/net.ts';
import { checkBuildProvenance } from '../src/release/index.ts';
import { PubgateError } from '../src/errors/index.ts';
import type { TrustedPublisherConfig } from '../src/identity/index.ts';
import { createDsseBundle, generateLocalKey, LocalKeySigner } from '../src/signing/index.ts';
import {
  makeFulcioish,
  npmProvenanceBundle,
  slsaStatement,
  type WorkflowIdentity,
} from '../src/signing/testing/provenance-fixture.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const GITHUB = 'https://token.actions.githubusercontent.com';
const IN_TOTO = 'application/vnd.in-toto+json';
const MISMATCH = 'ERR_PROVENANCE_IDENTITY_MISMATCH';
const OID = (n: number): string => `1.3.6.1.4.1.57264.1.${n}`;
/** A GitHub publisher of @acme/* pinning `acme/<repo>`'s release workflow on v* tags. */
const github = (id: string, repo: string, claims: Json = {}, more: Json = {}): TrustedPublisherConfig => ({
  packages: ['@acme/*'],
  provider: 'github',
  issuer: GITHUB,
  audience: 'npm:localhost',
  claims: {
    repository_id: id,
    workflow_ref: `acme/${repo}/.github/workflows/release.yml@refs/tags/v*`,
    ...claims,
  },
  ...more,
});
const PUBLISHER = github('1234', 'widget');
const DIGEST = createHash('sha512').update('staged tarball').digest('hex');
const PURL = 'pkg:npm/%40acme/widget@1.0.0';
const buildSigner = LocalKeySigner.fromPkcs8Der(generateLocalKey().privateKeyPkcs8Der);
const stranger = LocalKeySigner.fromPkcs8Der(generateLocalKey().privateKeyPkcs8Der);
const KEYED = [github('1234', 'widget', {}, { buildKeys: [buildSigner.publicKeyPem] })];

/** `accepted`, or the code the gate refuses the provenance of @acme/widget@1.0.0 with. */
async function judge(bundle: unknown, publishers = [PUBLISHER], workload?: Record<string, string>) {
  const settings = { trustedCertificates: [], requireCertificateChain: false };
  const subject = { name: '@acme/widget', version: '1.0.0', sha512Hex: DIGEST, bundle, workload };
  try {
    await checkBuildProvenance(subject, { ...settings, publishers: () => Promise.resolve(publishers) });
    return 'accepted';
  } catch (error) {
    if (error instanceof PubgateError) return error.code;
    throw error;
  }
}

/** npm-style provenance whose certificate and statement both claim `identity`. */
function certBundle(identity: Partial<WorkflowIdentity> = {}, extensions: Record<string, string> = {}): Json {
  const f = makeFulcioish({ identity, extensions });
  return npmProvenanceBundle(f, slsaStatement({ name: PURL, sha512: DIGEST }, identity)) as Json;
}

async function keyed(statement: object, signer = buildSigner): Promise<Json> {
  return (await createDsseBundle(signer, Buffer.from(JSON.stringify(statement)), IN_TOTO)) as Json;
}

const clone = (value: Json): Json => JSON.parse(JSON.stringify(value)) as Json;

describe('certificate identity tricks against a GitHub trusted publisher', () => {
  it('accepts the honest certificate (baseline)', async () => {
    assert.equal(await judge(certBundle()), 'accepted');
  });

  const otherRepoConfig = 'https://github.com/evil/x/.github/workflows/release.yml@refs/tags/v1';
  const tricks: Array<[string, Partial<WorkflowIdentity>, Record<string, string>?]> = [
    ['a branch named like a tag', { ref: 'refs/heads/v1.2.3' }],
    ['a ref that only contains the tag pattern', { ref: 'refs/heads/refs/tags/v1' }],
    ['a workflow file named release.yml@x.yml', { workflowPath: '.github/workflows/release.yml@x.yml' }],
    ['a workflow whose name extends the pinned one', { workflowPath: '.github/workflows/release.yml.evil' }],
    ['a repository whose name extends the pinned one', { repository: 'https://github.com/acme/widget-evil' }],
    ['the repository in another case', { repository: 'https://github.com/ACME/widget' }],
    ['the repository with a trailing slash', { repository: 'https://github.com/acme/widget/' }],
    ['a self-hosted runner', {}, { [OID(11)]: 'self-hosted' }],
    ['the issuer with a trailing slash', {}, { [OID(8)]: `${GITHUB}/` }],
    ['a build config in another repository', {}, { [OID(18)]: otherRepoConfig }],
  ];
  for (const [what, identity, extensions] of tricks) {
    it(`refuses ${what} with ${MISMATCH}`, async () => {
      assert.equal(await judge(certBundle(identity, extensions)), MISMATCH);
    });
  }
});

describe('bundle and statement tricks', () => {
  it('judges a v0.1 statement of another predicate by its certificate', async () => {
    const f = makeFulcioish({ identity: { repositoryId: '5555' } });
    const subject = [{ name: PURL, digest: { sha512: DIGEST } }];
    const v01 = { _type: 'https://in-toto.io/Statement/v0.1', subject, predicateType: 'x', predicate: {} };
    assert.equal(await judge(npmProvenanceBundle(f, v01)), MISMATCH);
  });

  it('refuses two subjects of the same name when the first names other bytes, and an unencoded scope', async () => {
    const statement = slsaStatement({ name: PURL, sha512: 'f'.repeat(128) });
    (statement['subject'] as unknown[]).push({ name: PURL, digest: { sha512: DIGEST } });
    assert.equal(await judge(await keyed(statement), KEYED), 'ERR_PROVENANCE_DIGEST_MISMATCH');
    const unencoded = slsaStatement({ name: 'pkg:npm/@acme/widget@1.0.0', sha512: DIGEST });
    assert.equal(await judge(await keyed(unencoded), KEYED), 'ERR_PROVENANCE_SUBJECT_MISMATCH');
  });

  it('refuses keyid tricks and extra signatures in bundles and bare envelopes', async () => {
    const good = await keyed(slsaStatement({ name: PURL, sha512: DIGEST }));
    assert.equal(await judge(good.dsseEnvelope, KEYED), 'accepted');
    const twice = clone(good);
    twice.dsseEnvelope.signatures.push(twice.dsseEnvelope.signatures[0]);
    assert.equal(await judge(twice, KEYED), 'ERR_PROVENANCE_MALFORMED_BUNDLE');
    const otherKeyid = clone(good);
    otherKeyid.dsseEnvelope.signatures[0].keyid = stranger.keyId;
    assert.equal(await judge(otherKeyid, KEYED), 'ERR_PROVENANCE_MALFORMED_BUNDLE');
    // A stranger's envelope that names the registered key, alone or padded with a good signature.
    const forged = (await keyed(slsaStatement({ name: PURL, sha512: DIGEST }), stranger))
      .dsseEnvelope as Json;
    forged.signatures[0].keyid = buildSigner.keyId;
    assert.equal(await judge(forged, KEYED), 'ERR_PROVENANCE_BAD_SIGNATURE');
    forged.signatures.push(good.dsseEnvelope.signatures[0]);
    assert.equal(await judge(forged, KEYED), 'ERR_PROVENANCE_MALFORMED_BUNDLE');
  });

  it('holds a build key to the claims it makes: pull_request_target, another commit than the run', async () => {
    const prt = await keyed(slsaStatement({ name: PURL, sha512: DIGEST }, { event: 'pull_request_target' }));
    assert.equal(await judge(prt, KEYED), MISMATCH);
    const workflow_ref = 'acme/widget/.github/workflows/release.yml@refs/tags/v1.2.3';
    const run = { provider: 'github', issuer: GITHUB, repository: 'acme/widget', repository_id: '1234' };
    // The exchange records the build keys of the publisher the run's token matched.
    const staging = {
      ...run,
      workflow_ref,
      ref: 'refs/tags/v1.2.3',
      sha: 'a'.repeat(40),
      build_keys: buildSigner.keyId,
    };
    const other = await keyed(slsaStatement({ name: PURL, sha512: DIGEST }, { commit: 'c'.repeat(40) }));
    assert.equal(await judge(other, KEYED, staging), MISMATCH);
  });
});

describe('trusted publisher claims the provenance check drops', () => {
  // The minimum a GitLab publisher must pin: the project and its pipeline definition with its ref.
  const ci_config_ref_uri = 'gitlab.com/acme/widget//.gitlab-ci.yml@refs/heads/main';
  const GITLAB: TrustedPublisherConfig = {
    ...PUBLISHER,
    provider: 'gitlab',
    issuer: 'https://gitlab.com',
    claims: { project_id: '4242', ci_config_ref_uri },
  };
  const pipeline = { repository: 'https://gitlab.com/acme/widget', repositoryId: '4242' };
  const gitlabCert = (identity: Partial<WorkflowIdentity>, runner = 'gitlab-hosted'): Json =>
    certBundle(
      { ...pipeline, workflowPath: '/.gitlab-ci.yml', ref: 'refs/heads/main', ...identity },
      { [OID(8)]: 'https://gitlab.com', [OID(11)]: runner },
    );

  it('GitLab: takes the honest pipeline (baseline)', async () => {
    assert.equal(await judge(gitlabCert({}), [GITLAB]), 'accepted');
  });

  it('GitLab: refuses a pipeline on another branch, or of another CI file, than ci_config_ref_uri pins', async () => {
    assert.equal(await judge(gitlabCert({ ref: 'refs/heads/feature' }), [GITLAB]), MISMATCH);
    assert.equal(await judge(gitlabCert({ workflowPath: '/evil.yml' }), [GITLAB]), MISMATCH);
  });

  it('GitLab: refuses what its OIDC check refuses: a self-hosted runner, a tag named like the pinned branch', async () => {
    assert.equal(await judge(gitlabCert({}, 'self-hosted'), [GITLAB]), MISMATCH);
    const pinned = { ...GITLAB, claims: { ...GITLAB.claims, ref: 'main', ref_type: 'branch' } };
    assert.equal(await judge(gitlabCert({ ref: 'refs/tags/main' }), [pinned]), MISMATCH);
  });

  it('GitHub: a publisher pinning job_workflow_ref refuses provenance from any other workflow or ref', async () => {
    const job_workflow_ref = 'acme/builder/.github/workflows/publish.yml@refs/tags/v1';
    const reusable = { ...PUBLISHER, claims: { repository_id: '1234', job_workflow_ref } };
    const evil = certBundle({ workflowPath: '.github/workflows/evil.yml', ref: 'refs/heads/evil' });
    assert.equal(await judge(evil, [reusable]), MISMATCH);
  });

  it("a build key registered for one publisher does not vouch for another publisher's identity", async () => {
    const one = github('1111', 'one', {}, { buildKeys: [buildSigner.publicKeyPem] });
    const two = { repository: 'https://github.com/acme/two', repositoryId: '2222', ref: 'refs/tags/v1' };
    const bundle = await keyed(slsaStatement({ name: PURL, sha512: DIGEST }, two));
    assert.equal(await judge(bundle, [one, github('2222', 'two')]), MISMATCH);
  });
});

// ---- Through the gate's HTTP API ----

const sha512Hex = (bytes: Buffer): string => createHash('sha512').update(bytes).digest('hex');
const integrityOf = (bytes: Buffer): string =>
  `sha512-${Buffer.from(sha512Hex(bytes), 'hex').toString('base64')}`;
const HELD = 'ERR_RELEASE_HELD';

function withSigstore(doc: Json, text: string): Json {
  const file = `${doc.name}-${Object.keys(doc.versions)[0]}.sigstore`;
  doc._attachments[file] = { data: text, length: text.length };
  return doc;
}

async function stage(
  gate: TestGate,
  doc: Json,
): Promise<{ status: number; code?: string; release?: string }> {
  const authorization = `Bearer ${await gate.issueToken('alice')}`;
  const response = await fetch(`${gate.url}/npm/${escapedName(String(doc.name))}`, {
    method: 'PUT',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify(doc),
  });
  return { status: response.status, ...((await response.json()) as { code?: string; release?: string }) };
}

/** Approves a held release and waits until it is published or failed. */
async function approveAndFinish(gate: TestGate, id: string): Promise<string> {
  await gate.app.releases.markRequesterVerified(id, 'user:alice', 'test');
  await approveWithQuorum(gate.app, id);
  return eventually(async () => {
    const { state } = await gate.app.releases.get(id);
    return state === 'published' || state === 'failed' ? state : undefined;
  }, 20_000);
}

/** A build key's bundle (JSON text) for name@1.0.0 with these bytes. */
async function keyedText(name: string, tarball: Buffer): Promise<string> {
  const purl = `pkg:npm/${name.replace('@', '%40')}@1.0.0`;
  return JSON.stringify(await keyed(slsaStatement({ name: purl, sha512: sha512Hex(tarball) })));
}

async function gateKeyId(gate: TestGate): Promise<string> {
  return (await gate.app.keyRing.listKeys()).find((k) => k.notAfter === null)!.keyId;
}

describe('hostile attachments at a gate', () => {
  let gate: TestGate;
  before(async () => {
    gate = await startTestGate({ trustedPublishers: KEYED.map((p) => ({ ...p })) });
  });
  after(async () => {
    await gate?.stop();
  });

  it('a refused provenance stores no release, no blob and no audit event', async () => {
    const tarball = await packageTarball('@acme/refused', '1.0.0');
    const other = { repositoryId: '5555' };
    const purl = 'pkg:npm/%40acme/refused@1.0.0';
    const statement = slsaStatement({ name: purl, sha512: sha512Hex(tarball) }, other);
    const text = JSON.stringify(npmProvenanceBundle(makeFulcioish({ identity: other }), statement));
    const staged = await stage(gate, withSigstore(publishDoc('@acme/refused', '1.0.0', tarball), text));
    assert.deepEqual([staged.status, staged.code], [403, MISMATCH]);
    assert.deepEqual(await gate.app.releases.list({ package: '@acme/refused' }), []);
    assert.equal(await gate.app.blobs.has(sha512Hex(tarball)), false);
    const audit = gate.app.store.db.selectFrom('audit_events').select('action');
    assert.deepEqual(await audit.where('data', 'like', '%@acme/refused%').execute(), []);
  });

  it('answers malformed, huge, deep and __proto__ attachments with a 4xx and stores nothing', async () => {
    const tarball = await packageTarball('@acme/hostile', '1.0.0');
    const valid = await keyedText('@acme/hostile', tarball);
    const texts = [
      '[]',
      'null',
      `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
      JSON.stringify({ s: 'x'.repeat(300_000) }),
      '{"__proto__":{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"},"dsseEnvelope":{}}',
      `{"payloadType":"${IN_TOTO}","payload":"e30=","signatures":{"0":{"keyid":"${buildSigner.keyId}"}}}`,
      `${valid.slice(0, -1)},"verificationMaterial":{"publicKey":{"hint":"${stranger.keyId}"}}}`,
    ];
    for (const text of texts) {
      const { status, code } = await stage(
        gate,
        withSigstore(publishDoc('@acme/hostile', '1.0.0', tarball), text),
      );
      assert.ok(status >= 400 && status < 500 && code !== HELD, `${text.slice(0, 40)}: ${status} ${code}`);
    }
    const lying = withSigstore(publishDoc('@acme/hostile', '1.0.0', tarball), valid);
    lying._attachments['@acme/hostile-1.0.0.sigstore'].length = 3;
    assert.equal((await stage(gate, lying)).code, 'ERR_PUBLISH_LENGTH_MISMATCH');
    assert.deepEqual(await gate.app.releases.list({ package: '@acme/hostile' }), []);
  });

  it('a deeply nested field in an accepted bundle does not break the attestations endpoint', async () => {
    const tarball = await packageTarball('@acme/deep', '1.0.0');
    const valid = await keyedText('@acme/deep', tarball);
    const text = `${valid.slice(0, -1)},"x":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const staged = await stage(gate, withSigstore(publishDoc('@acme/deep', '1.0.0', tarball), text));
    // Refused at the door (a 4xx other than npm's 401 "held") would be fine too.
    if (staged.code !== HELD) return assert.ok(staged.status < 500, String(staged.code));
    assert.equal(await approveAndFinish(gate, staged.release!), 'published');
    assert.equal((await fetch(`${gate.url}/npm/-/npm/v1/attestations/@acme/deep@1.0.0`)).status, 200);
  });

  it('refuses dist.signatures or dist.attestations planted in the publish document (ERR_PUBLISH_BAD_DIST)', async () => {
    const tarball = await packageTarball('@acme/planted', '1.0.0');
    for (const [field, value] of [
      ['signatures', [{ keyid: 'SHA256:planted', sig: 'MEUCIQ==' }]],
      ['attestations', { url: 'https://evil.example/a', provenance: {} }],
    ] as const) {
      const doc = publishDoc('@acme/planted', '1.0.0', tarball) as Json;
      doc.versions['1.0.0'].dist[field] = value;
      const staged = await stage(gate, doc);
      assert.equal(staged.code, 'ERR_PUBLISH_BAD_DIST', field);
    }
    assert.deepEqual(await gate.app.releases.list({ package: '@acme/planted' }), [], 'nothing held');
  });
});

/** A registry behind the gate that the test steers: its packuments, its keys, publishes it fails. */
async function startFakeUpstream() {
  const state = {
    packuments: new Map<string, Json>(),
    failPublish: new Set<string>(),
    puts: [] as Json[],
    keys: { keys: [] } as unknown,
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = decodeURIComponent((req.url ?? '/').slice(1));
      const send = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      if (path === '-/npm/v1/keys') return send(200, state.keys);
      if (req.method !== 'PUT')
        return send(state.packuments.has(path) ? 200 : 404, state.packuments.get(path) ?? {});
      if (state.failPublish.has(path)) return send(500, { error: 'down' });
      state.puts.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json);
      return send(201, { ok: true });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(state, { url, close: () => new Promise((r) => server.close(r)) });
}

/** An upstream packument: each version with these `dist` fields. */
function packumentOf(name: string, versions: Record<string, Json>): Json {
  const entries = Object.entries(versions).map(([version, dist]) => {
    const tarball = `http://upstream.invalid/${name}/-/x-${version}.tgz`;
    return [version, { name, version, dist: { tarball, ...dist } }];
  });
  return { name, 'dist-tags': { latest: entries[0]![0] }, versions: Object.fromEntries(entries) };
}

describe('registry signatures, keys and provenance through an upstream', () => {
  let upstream: Awaited<ReturnType<typeof startFakeUpstream>>;
  let gate: TestGate;
  const upstreamKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const key = upstreamKey.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  const npmKey = { keyid: 'SHA256:up', keytype: 'ecdsa-sha2-nistp256', scheme: 'ecdsa-sha2-nistp256', key };

  before(async () => {
    upstream = await startFakeUpstream();
    upstream.keys = { keys: [{ ...npmKey, expires: null, junk: 'x'.repeat(100_000) }] };
    gate = await startTestGate({
      upstream: { url: upstream.url, token: 'upstream-token', sigstoreAttachment: 'build-provenance' },
      trustedPublishers: KEYED.map((p) => ({ ...p })),
      release: { publishMaxAttempts: 1 },
    });
  });
  after(async () => {
    await gate?.stop();
    await upstream?.close();
  });

  async function packument(name: string): Promise<{ status: number; body: Json }> {
    const response = await fetch(`${gate.url}/npm/${escapedName(name)}`);
    return { status: response.status, body: (await response.json()) as Json };
  }

  it('signs only the approved bytes at the approved version, never a swapped version or other bytes', async () => {
    const tarball = await packageTarball('@acme/swap', '1.0.0');
    const staged = await stage(gate, publishDoc('@acme/swap', '1.0.0', tarball));
    assert.equal(await approveAndFinish(gate, staged.release!), 'published');
    const other = await packageTarball('@acme/swap', '1.0.0', [{ name: 'package/evil.js', content: '1' }]);
    const swapped = {
      '1.0.0': { integrity: integrityOf(other) },
      '1.0.1': { integrity: integrityOf(tarball) },
    };
    upstream.packuments.set('@acme/swap', packumentOf('@acme/swap', swapped));
    const { body } = await packument('@acme/swap');
    for (const v of ['1.0.0', '1.0.1']) assert.equal(body.versions[v].dist.signatures, undefined, v);
    upstream.packuments.set(
      '@acme/swap',
      packumentOf('@acme/swap', { '1.0.0': { integrity: integrityOf(tarball) } }),
    );
    const signed = (await packument('@acme/swap')).body.versions['1.0.0'].dist.signatures as Json[];
    assert.deepEqual(
      signed.map((s) => s.keyid),
      [await gateKeyId(gate)],
    );
  });

  it("build-provenance sends the upstream only a certificate bundle, never a build key's bare envelope", async () => {
    const tarball = await packageTarball('@acme/bare', '1.0.0');
    const envelope = JSON.stringify(
      (JSON.parse(await keyedText('@acme/bare', tarball)) as Json).dsseEnvelope,
    );
    const staged = await stage(gate, withSigstore(publishDoc('@acme/bare', '1.0.0', tarball), envelope));
    assert.equal(await approveAndFinish(gate, staged.release!), 'published');
    const put = upstream.puts.find((p) => p.name === '@acme/bare')!;
    const sent = put._attachments['@acme/bare-1.0.0.sigstore'] as Json | undefined;
    if (sent === undefined) return;
    const material = (JSON.parse(sent.data as string) as Json).verificationMaterial as Json | undefined;
    const certified = material?.certificate !== undefined || material?.x509CertificateChain !== undefined;
    // assert.ok without a message hangs here: Node re-parses the TypeScript call site for the message.
    assert.equal(certified, true, 'the .sigstore attachment upstream is a certificate bundle');
  });

  describe('a release that was approved but never published', () => {
    before(async () => {
      const tarball = await packageTarball('@acme/failed', '1.0.0');
      upstream.failPublish.add('@acme/failed');
      const staged = await stage(gate, publishDoc('@acme/failed', '1.0.0', tarball));
      assert.equal(await approveAndFinish(gate, staged.release!), 'failed');
      // Later the same bytes reach the upstream around the gate (a stolen upstream token).
      const version = { '1.0.0': { integrity: integrityOf(tarball) } };
      upstream.packuments.set('@acme/failed', packumentOf('@acme/failed', version));
    });

    it('is neither signed nor attested by the gate when it shows up upstream', async () => {
      assert.equal((await packument('@acme/failed')).body.versions['1.0.0'].dist.signatures, undefined);
      assert.equal((await fetch(`${gate.url}/npm/-/npm/v1/attestations/@acme/failed@1.0.0`)).status, 404);
    });
  });

  it("serves the upstream's keys with their five npm fields only", async () => {
    const { keys } = (await (await fetch(`${gate.url}/npm/-/npm/v1/keys`)).json()) as { keys: Json[] };
    assert.equal(keys.length, 2);
    for (const k of keys)
      assert.deepEqual(Object.keys(k).sort(), ['expires', 'key', 'keyid', 'keytype', 'scheme']);
  });

  it("a version that bypassed the gate carries no gate signature, only the upstream's own (documented: with a signing upstream such as npmjs, npm audit signatures cannot tell a bypass)", async () => {
    const integrity = integrityOf(Buffer.from('published around the gate'));
    const message = Buffer.from(`bypassed-up@1.0.0:${integrity}`);
    const sig = sign('sha256', message, upstreamKey.privateKey).toString('base64');
    upstream.packuments.set(
      'bypassed-up',
      packumentOf('bypassed-up', { '1.0.0': { integrity, signatures: [{ keyid: npmKey.keyid, sig }] } }),
    );
    const served = ((await packument('bypassed-up')).body.versions['1.0.0'].dist.signatures ?? []) as Json[];
    assert.deepEqual(
      served.map((x) => x.keyid),
      [npmKey.keyid],
      'the gate adds nothing to a version it did not release',
    );
    const own = await gateKeyId(gate);
    assert.ok(!served.some((x) => x.keyid === own), 'no gate signature');
  });
});
