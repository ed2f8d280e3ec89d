/**
 * Build provenance at the gate (issue 6, point 2): the `<name>-<version>.sigstore` attachment that
 * `npm publish --provenance` / `--provenance-file` sends, or a DSSE statement from a registered build
 * key, is verified before anything is held: its subject must be the staged tarball and its signer the
 * trusted publisher (or the very CI run that staged it). Policy can require it. Upstream, the
 * attachment goes with the package where the registry takes it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { approveWithQuorum, startTestGate, type TestGate } from './support/gate.ts';
import { escapedName, packageTarball, publishDoc } from './support/publish-doc.ts';
import { eventually } from './support/net.ts';
import { startOidcIssuer, type LocalOidcIssuer } from './support/oidc-issuer.ts';
import { startVerdaccio, type Verdaccio } from './support/verdaccio.ts';
import { provenanceSection } from '../src/web/ui/pages.ts';
import {
  makeFulcioish,
  npmProvenanceBundle,
  slsaStatement,
  type Fulcioish,
  type WorkflowIdentity,
} from '../src/signing/testing/provenance-fixture.ts';
import {
  createDsseBundle,
  generateLocalKey,
  keySetFromRecords,
  LocalKeySigner,
  verifyRelease,
} from '../src/signing/index.ts';

const PUBLISHER = {
  packages: ['@acme/*'],
  provider: 'github',
  issuer: 'https://token.actions.githubusercontent.com',
  audience: 'npm:localhost',
  claims: {
    repository_id: '1234',
    repository_owner_id: '99',
    workflow_ref: 'acme/widget/.github/workflows/release.yml@refs/tags/v*',
  },
};

interface Staged {
  readonly status: number;
  readonly code: string | undefined;
  readonly release: string | undefined;
}

function purl(name: string, version: string): string {
  return `pkg:npm/${name.replace('@', '%40')}@${version}`;
}

function sha512Hex(bytes: Buffer): string {
  return createHash('sha512').update(bytes).digest('hex');
}

/** A publish document with a `.sigstore` attachment, in npm's shape (JSON text, UTF-16 length). */
function withSigstore(doc: Record<string, unknown>, name: string, version: string, text: string) {
  const attachments = doc['_attachments'] as Record<string, unknown>;
  attachments[`${name}-${version}.sigstore`] = {
    content_type: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    data: text,
    length: text.length,
  };
  return doc;
}

async function stage(gate: TestGate, token: string, doc: Record<string, unknown>): Promise<Staged> {
  const response = await fetch(`${gate.url}/npm/${escapedName(String(doc['name']))}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(doc),
  });
  const body = (await response.json()) as { code?: string; release?: string };
  return { status: response.status, code: body.code, release: body.release };
}

/** A certificate-signed provenance document for name@version; `tweak` changes the statement or identity. */
async function provenanceDoc(
  name: string,
  version: string,
  options: {
    identity?: Partial<WorkflowIdentity>;
    certificate?: Fulcioish;
    subjectSha512?: string;
    subjectVersion?: string;
  } = {},
): Promise<{ doc: Record<string, unknown>; text: string; tarball: Buffer }> {
  const tarball = await packageTarball(name, version);
  const f = options.certificate ?? makeFulcioish({ identity: options.identity ?? {} });
  const statement = slsaStatement(
    {
      name: purl(name, options.subjectVersion ?? version),
      sha512: options.subjectSha512 ?? sha512Hex(tarball),
    },
    options.identity ?? {},
  );
  const text = JSON.stringify(npmProvenanceBundle(f, statement));
  return { doc: withSigstore(publishDoc(name, version, tarball), name, version, text), text, tarball };
}

async function finalState(gate: TestGate, id: string): Promise<string> {
  return eventually(
    async () => {
      const r = await gate.app.releases.get(id);
      return r.state === 'published' || r.state === 'failed' ? r.state : undefined;
    },
    30_000,
    'release to finish',
  );
}

async function approve(gate: TestGate, id: string): Promise<void> {
  await gate.app.releases.markRequesterVerified(id, 'user:alice', 'test');
  await approveWithQuorum(gate.app, id);
}

function provenanceCheck(checks: readonly { name: string; details?: unknown }[]): Record<string, unknown> {
  const check = checks.find((c) => c.name === 'build-provenance');
  assert.ok(check !== undefined, 'the release records a build-provenance check');
  return check.details as Record<string, unknown>;
}

describe('build provenance at the gate', () => {
  const buildKey = generateLocalKey();
  const buildSigner = LocalKeySigner.fromPkcs8Der(buildKey.privateKeyPkcs8Der);
  let gate: TestGate;
  let token: string;

  before(async () => {
    gate = await startTestGate({
      trustedPublishers: [
        { ...PUBLISHER, buildKeys: [buildSigner.publicKeyPem] },
        // Another publisher that must not lend its identity to @acme packages.
        { ...PUBLISHER, packages: ['other-pkg'], claims: { ...PUBLISHER.claims, repository_id: '5555' } },
      ],
      policy: { rules: [{ packages: ['@acme/strict'], provenance: 'require' }] },
    });
    token = await gate.issueToken('alice');
  });
  after(async () => {
    await gate?.stop();
  });

  it('holds a release whose npm provenance names the staged tarball and the trusted publisher, attests it and serves it beside the gate attestation', async () => {
    const { doc, text, tarball } = await provenanceDoc('@acme/widget', '1.0.0');
    const staged = await stage(gate, token, doc);
    assert.equal(staged.code, 'ERR_RELEASE_HELD');
    const release = await gate.app.releases.get(staged.release!);
    const details = provenanceCheck(release.checks);
    assert.equal(details['present'], true);
    assert.equal(details['kind'], 'certificate');
    assert.equal(details['matched'], 'trusted publisher 1');
    assert.equal(details['certificateChainVerified'], false);
    assert.equal(details['transparencyLogVerified'], false);
    assert.equal((details['identity'] as Record<string, string>)['repositoryId'], '1234');
    // What approvers see on the release page.
    const shown = provenanceSection(release);
    assert.match(shown, /https:\/\/github.com\/acme\/widget/);
    assert.match(shown, /certificate chain not verified/);

    await approve(gate, release.id);
    assert.equal(await finalState(gate, release.id), 'published');
    const served = (await (
      await fetch(`${gate.url}/npm/-/npm/v1/attestations/@acme/widget@1.0.0`)
    ).json()) as { attestations: Array<{ predicateType: string; bundle: unknown }> };
    assert.deepEqual(
      served.attestations.map((a) => a.predicateType),
      ['https://pubgate.dev/attestation/release/v1', 'https://slsa.dev/provenance/v1'],
    );
    // The build's bundle is served exactly as it arrived.
    assert.deepEqual(served.attestations[1]!.bundle, JSON.parse(text));
    // The gate's own attestation records the provenance check, and still verifies.
    const keys = keySetFromRecords(await gate.app.keyRing.listKeys());
    const verified = await verifyRelease({
      bundle: served.attestations[0]!.bundle,
      artifact: tarball,
      expected: { name: '@acme/widget', version: '1.0.0' },
      keys,
    });
    const check = verified.predicate.checks.find((c) => c.name === 'build-provenance');
    assert.equal(check?.result, 'pass');
    assert.match(
      check?.details ?? '',
      /certificate: https:\/\/github.com\/acme\/widget .*chain not verified/,
    );
  });

  it('records "skipped" in the attestation when no provenance came with the release', async () => {
    const tarball = await packageTarball('@acme/plain', '1.0.0');
    const staged = await stage(gate, token, publishDoc('@acme/plain', '1.0.0', tarball));
    assert.equal(staged.code, 'ERR_RELEASE_HELD');
    await approve(gate, staged.release!);
    const bundle = await gate.app.attestations.get(staged.release!);
    const verified = await verifyRelease({
      bundle,
      artifact: tarball,
      expected: { name: '@acme/plain', version: '1.0.0' },
      keys: keySetFromRecords(await gate.app.keyRing.listKeys()),
    });
    assert.equal(verified.predicate.checks.find((c) => c.name === 'build-provenance')?.result, 'skipped');
  });

  it('refuses provenance that does not match, each with its own code, and stores nothing', async () => {
    const tarball = await packageTarball('@acme/refused', '2.0.0');
    const cases: Array<[string, Promise<{ doc: Record<string, unknown> }>]> = [
      [
        'ERR_PROVENANCE_DIGEST_MISMATCH',
        provenanceDoc('@acme/refused', '2.0.0', { subjectSha512: 'f'.repeat(128) }),
      ],
      [
        'ERR_PROVENANCE_SUBJECT_MISMATCH',
        provenanceDoc('@acme/refused', '2.0.0', { subjectVersion: '1.9.9' }),
      ],
      [
        'ERR_PROVENANCE_IDENTITY_MISMATCH',
        provenanceDoc('@acme/refused', '2.0.0', { identity: { repositoryId: '5555' } }),
      ],
      [
        'ERR_PROVENANCE_IDENTITY_MISMATCH',
        provenanceDoc('@acme/refused', '2.0.0', { identity: { ref: 'refs/heads/main' } }),
      ],
      [
        'ERR_PROVENANCE_IDENTITY_MISMATCH',
        provenanceDoc('@acme/refused', '2.0.0', { identity: { event: 'pull_request_target' } }),
      ],
    ];
    for (const [code, built] of cases) {
      const staged = await stage(gate, token, (await built).doc);
      assert.equal(staged.status, 403, code);
      assert.equal(staged.code, code);
    }
    // Tampered statement, stripped signature, unregistered build key.
    const { doc } = await provenanceDoc('@acme/refused', '2.0.0');
    const name = '@acme/refused-2.0.0.sigstore';
    const attachments = doc['_attachments'] as Record<string, { data: string; length: number }>;
    const bundle = JSON.parse(attachments[name]!.data) as {
      dsseEnvelope: { payload: string; signatures: unknown[] };
    };
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString()) as {
      predicate: { buildDefinition: { externalParameters: { workflow: { path: string } } } };
    };
    statement.predicate.buildDefinition.externalParameters.workflow.path = '.github/workflows/evil.yml';
    const tampered = {
      ...bundle,
      dsseEnvelope: {
        ...bundle.dsseEnvelope,
        payload: Buffer.from(JSON.stringify(statement)).toString('base64'),
      },
    };
    const stripped = { ...bundle, dsseEnvelope: { ...bundle.dsseEnvelope, signatures: [] } };
    const stranger = LocalKeySigner.fromPkcs8Der(generateLocalKey().privateKeyPkcs8Der);
    const strangerBundle = await createDsseBundle(
      stranger,
      Buffer.from(
        JSON.stringify(slsaStatement({ name: purl('@acme/refused', '2.0.0'), sha512: sha512Hex(tarball) })),
      ),
      'application/vnd.in-toto+json',
    );
    for (const [code, value] of [
      ['ERR_PROVENANCE_BAD_SIGNATURE', tampered],
      ['ERR_PROVENANCE_UNSIGNED', stripped],
      ['ERR_PROVENANCE_KEY_UNKNOWN', strangerBundle],
    ] as const) {
      const text = JSON.stringify(value);
      const fresh = withSigstore(
        publishDoc('@acme/refused', '2.0.0', tarball),
        '@acme/refused',
        '2.0.0',
        text,
      );
      const staged = await stage(gate, token, fresh);
      assert.equal(staged.code, code);
    }
    // Malformed attachments are refused as bad documents.
    const notJson = withSigstore(
      publishDoc('@acme/refused', '2.0.0', tarball),
      '@acme/refused',
      '2.0.0',
      '{not json',
    );
    assert.equal((await stage(gate, token, notJson)).code, 'ERR_PUBLISH_BAD_PROVENANCE');
    const extra = publishDoc('@acme/refused', '2.0.0', tarball);
    (extra['_attachments'] as Record<string, unknown>)['evil.tgz'] = { data: '', length: 0 };
    assert.equal((await stage(gate, token, extra)).code, 'ERR_PUBLISH_BAD_ATTACHMENT');
    assert.deepEqual(await gate.app.releases.list({ package: '@acme/refused' }), []);
  });

  it('accepts a bare DSSE statement signed by a build key registered for the publisher', async () => {
    const tarball = await packageTarball('@acme/keyed', '1.0.0');
    const bundle = await createDsseBundle(
      buildSigner,
      Buffer.from(
        JSON.stringify(slsaStatement({ name: purl('@acme/keyed', '1.0.0'), sha512: sha512Hex(tarball) })),
      ),
      'application/vnd.in-toto+json',
    );
    // A build that signs with its own key may send just the envelope.
    const text = JSON.stringify(bundle.dsseEnvelope);
    const staged = await stage(
      gate,
      token,
      withSigstore(publishDoc('@acme/keyed', '1.0.0', tarball), '@acme/keyed', '1.0.0', text),
    );
    assert.equal(staged.code, 'ERR_RELEASE_HELD');
    const details = provenanceCheck((await gate.app.releases.get(staged.release!)).checks);
    assert.equal(details['kind'], 'build-key');
    assert.equal(details['keyId'], buildSigner.keyId);
  });

  it('refuses provenance for a package no trusted publisher covers', async () => {
    const { doc } = await provenanceDoc('lonely-pkg', '1.0.0');
    const staged = await stage(gate, token, doc);
    assert.equal(staged.code, 'ERR_PROVENANCE_NO_PUBLISHER');
  });

  it('requires provenance where the policy says so, and takes it when it verifies', async () => {
    const tarball = await packageTarball('@acme/strict', '1.0.0');
    const without = await stage(gate, token, publishDoc('@acme/strict', '1.0.0', tarball));
    assert.equal(without.status, 403);
    assert.equal(without.code, 'ERR_POLICY_PROVENANCE_REQUIRED');
    assert.deepEqual(await gate.app.releases.list({ package: '@acme/strict' }), []);
    const { doc } = await provenanceDoc('@acme/strict', '1.0.0');
    assert.equal((await stage(gate, token, doc)).code, 'ERR_RELEASE_HELD');
  });
});

describe('build provenance with a trusted certificate authority', () => {
  let gate: TestGate;
  let token: string;
  const trusted = makeFulcioish();

  before(async () => {
    const caFile = join(mkdtempSync(join(tmpdir(), 'pubgate-ca-')), 'ca.pem');
    writeFileSync(caFile, trusted.caPem);
    gate = await startTestGate({
      trustedPublishers: [PUBLISHER],
      provenance: { trustedCertificates: [caFile], requireCertificateChain: true },
    });
    token = await gate.issueToken('alice');
  });
  after(async () => {
    await gate?.stop();
  });

  it('verifies the chain to the configured CA, and refuses a certificate from any other', async () => {
    const good = await provenanceDoc('@acme/chained', '1.0.0', { certificate: trusted });
    const staged = await stage(gate, token, good.doc);
    assert.equal(staged.code, 'ERR_RELEASE_HELD');
    assert.equal(
      provenanceCheck((await gate.app.releases.get(staged.release!)).checks)['certificateChainVerified'],
      true,
    );
    const other = await provenanceDoc('@acme/chained', '1.0.1');
    assert.equal((await stage(gate, token, other.doc)).code, 'ERR_PROVENANCE_UNTRUSTED_CERTIFICATE');
  });
});

describe('build provenance from a CI workload', () => {
  let issuer: LocalOidcIssuer;
  let gate: TestGate;

  before(async () => {
    issuer = await startOidcIssuer();
    gate = await startTestGate({
      trustedPublishers: [
        {
          packages: ['@acme/widget'],
          provider: 'github',
          issuer: issuer.url,
          audience: 'npm:localhost',
          claims: {
            repository_id: '123456789',
            workflow_ref: 'acme/widget/.github/workflows/release.yml@refs/tags/*',
          },
        },
      ],
      oidc: { allowInsecureLoopbackIssuers: true },
    });
  });
  after(async () => {
    await gate?.stop();
    await issuer?.close();
  });

  async function buildCredential(): Promise<string> {
    const response = await fetch(`${gate.url}/-/npm/v1/oidc/token/exchange/package/@acme%2fwidget`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await issuer.mint({}, { audience: 'npm:localhost' })}` },
    });
    assert.equal(response.status, 200, await response.clone().text());
    return ((await response.json()) as { token: string }).token;
  }

  /** The identity of the issuer's default GitHub job, as its certificate would carry it. */
  function runIdentity(overrides: Partial<WorkflowIdentity> = {}): Partial<WorkflowIdentity> {
    const claims = issuer.claims('github');
    return {
      // The local issuer's host stands in for github.com.
      repository: `${new URL(issuer.url).origin}/acme/widget`,
      repositoryId: String(claims['repository_id']),
      ownerId: String(claims['repository_owner_id']),
      ref: String(claims['ref']),
      commit: String(claims['sha']),
      ...overrides,
    };
  }

  it('takes provenance from the very run that staged the release', async () => {
    const f = makeFulcioish({
      identity: runIdentity(),
      extensions: { '1.3.6.1.4.1.57264.1.8': issuer.url },
    });
    const { doc } = await provenanceDoc('@acme/widget', '1.2.3', { identity: runIdentity(), certificate: f });
    const staged = await stage(gate, await buildCredential(), doc);
    assert.equal(staged.code, 'ERR_RELEASE_HELD');
    const details = provenanceCheck((await gate.app.releases.get(staged.release!)).checks);
    assert.equal(details['matched'], 'workload');
    assert.equal((details['identity'] as Record<string, string>)['commit'], runIdentity().commit);
  });

  it('refuses provenance of another commit of the same repository and workflow', async () => {
    const identity = runIdentity({ commit: 'd'.repeat(40) });
    const f = makeFulcioish({ identity, extensions: { '1.3.6.1.4.1.57264.1.8': issuer.url } });
    const { doc } = await provenanceDoc('@acme/widget', '1.2.4', { identity, certificate: f });
    const staged = await stage(gate, await buildCredential(), doc);
    assert.equal(staged.code, 'ERR_PROVENANCE_IDENTITY_MISMATCH');
  });
});

/** A registry that accepts any publish and keeps the documents (to see what the gate sends). */
async function startRecordingRegistry(): Promise<{
  url: string;
  puts: Record<string, unknown>[];
  close(): Promise<void>;
}> {
  const puts: Record<string, unknown>[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'PUT') {
        puts.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
        res.writeHead(201, { 'content-type': 'application/json' }).end('{"ok":true}');
      } else res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    puts,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('the .sigstore attachment upstream', () => {
  let verdaccio: Verdaccio;

  before(async () => {
    verdaccio = await startVerdaccio();
  });
  after(async () => {
    await verdaccio?.stop();
  });

  async function releaseThrough(
    gate: TestGate,
    name: string,
    version: string,
  ): Promise<{ state: string; text: string; tarball: Buffer; id: string }> {
    const token = await gate.issueToken('alice');
    const { doc, text, tarball } = await provenanceDoc(name, version);
    const staged = await stage(gate, token, doc);
    assert.equal(staged.code, 'ERR_RELEASE_HELD');
    await approve(gate, staged.release!);
    return { state: await finalState(gate, staged.release!), text, tarball, id: staged.release! };
  }

  it('auto: Verdaccio gets the tarball alone, and the provenance stays served by the gate', async () => {
    const gate = await startTestGate({
      upstream: { url: verdaccio.url, token: verdaccio.token },
      trustedPublishers: [PUBLISHER],
    });
    try {
      const { state } = await releaseThrough(gate, '@acme/auto', '1.0.0');
      assert.equal(state, 'published');
      const served = (await (await fetch(`${gate.url}/-/npm/v1/attestations/@acme/auto@1.0.0`)).json()) as {
        attestations: unknown[];
      };
      assert.equal(served.attestations.length, 2);
    } finally {
      await gate.stop();
    }
  });

  it('Verdaccio 6 refuses a publish with a second attachment, so forcing it there fails the release', async () => {
    const gate = await startTestGate({
      upstream: { url: verdaccio.url, token: verdaccio.token, sigstoreAttachment: 'build-provenance' },
      trustedPublishers: [PUBLISHER],
      release: { publishMaxAttempts: 1 },
    });
    try {
      const { state, id } = await releaseThrough(gate, '@acme/forced', '1.0.0');
      assert.equal(state, 'failed');
      assert.match((await gate.app.releases.get(id)).reason ?? '', /ERR_UPSTREAM_PUBLISH_FAILED/);
    } finally {
      await gate.stop();
    }
  });

  it('build-provenance sends the bundle exactly as received; release-attestation sends the gate attestation', async () => {
    const upstream = await startRecordingRegistry();
    const build = await startTestGate({
      upstream: { url: upstream.url, token: 'upstream-token', sigstoreAttachment: 'build-provenance' },
      trustedPublishers: [PUBLISHER],
    });
    const attest = await startTestGate({
      upstream: { url: upstream.url, token: 'upstream-token', sigstoreAttachment: 'release-attestation' },
      trustedPublishers: [PUBLISHER],
    });
    try {
      const first = await releaseThrough(build, '@acme/fwd', '1.0.0');
      assert.equal(first.state, 'published');
      const sent = upstream.puts.at(-1)!['_attachments'] as Record<string, { data: string; length: number }>;
      assert.deepEqual(Object.keys(sent).sort(), ['@acme/fwd-1.0.0.sigstore', '@acme/fwd-1.0.0.tgz']);
      assert.equal(sent['@acme/fwd-1.0.0.sigstore']!.data, first.text);
      assert.equal(sent['@acme/fwd-1.0.0.sigstore']!.length, first.text.length);

      const second = await releaseThrough(attest, '@acme/att', '1.0.0');
      assert.equal(second.state, 'published');
      const attached = (upstream.puts.at(-1)!['_attachments'] as Record<string, { data: string }>)[
        '@acme/att-1.0.0.sigstore'
      ]!.data;
      const verified = await verifyRelease({
        bundle: attached,
        artifact: second.tarball,
        expected: { name: '@acme/att', version: '1.0.0' },
        keys: keySetFromRecords(await attest.app.keyRing.listKeys()),
      });
      assert.equal(verified.predicate.releaseId, second.id);
    } finally {
      await build.stop();
      await attest.stop();
      await upstream.close();
    }
  });
});
