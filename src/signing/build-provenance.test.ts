import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  createHash,
  generateKeyPairSync,
  randomBytes,
  sign,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { preAuthEncoding } from './dsse.ts';
import {
  verifyBuildProvenance,
  type TrustedPublisher,
  type VerifyBuildProvenanceOptions,
} from './build-provenance.ts';
import { keySetFromRecords } from './key-set.ts';
import { generateLocalKey, LocalKeySigner } from './local-key-signer.ts';
import { createDsseBundle } from './sigstore-bundle.ts';
import { buildCertificate } from './testing/x509-builder.ts';

const NOW = new Date('2025-06-01T12:00:00.000Z');
const REPO = 'https://github.com/acme/widget';
const WORKFLOW = '.github/workflows/release.yml';
const REF = 'refs/tags/v1.2.3';
const tarball = randomBytes(2048);
const sha512 = createHash('sha512').update(tarball).digest('hex');
const publisher: TrustedPublisher = {
  issuer: 'https://token.actions.githubusercontent.com',
  repository: REPO,
  repositoryId: '1234',
  repositoryOwnerId: '99',
  workflowPath: WORKFLOW,
  refs: ['refs/tags/v*'],
  runnerEnvironment: 'github-hosted',
};
const base: Omit<VerifyBuildProvenanceOptions, 'publisher'> = {
  sha512,
  expected: { name: '@acme/widget', version: '1.2.3' },
  now: NOW,
};

/** A SLSA provenance v1 statement shaped like GitHub Actions' workflow build type. */
function slsaStatement(
  overrides: { name?: string; digest?: string; ref?: string; repository?: string; event?: string } = {},
) {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [
      {
        name: overrides.name ?? 'pkg:npm/%40acme/widget@1.2.3',
        digest: { sha512: overrides.digest ?? sha512 },
      },
    ],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: {
        buildType: 'https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1',
        externalParameters: {
          workflow: { ref: overrides.ref ?? REF, repository: overrides.repository ?? REPO, path: WORKFLOW },
        },
        internalParameters: {
          github: {
            event_name: overrides.event ?? 'push',
            repository_id: '1234',
            repository_owner_id: '99',
            runner_environment: 'github-hosted',
          },
        },
        resolvedDependencies: [{ uri: `git+${REPO}@${REF}`, digest: { gitCommit: 'c'.repeat(40) } }],
      },
      runDetails: {
        builder: { id: 'https://github.com/actions/runner/github-hosted' },
        metadata: { invocationId: `${REPO}/actions/runs/1/attempts/1` },
      },
    },
  };
}

interface Fulcioish {
  caPem: string;
  leafDer: Buffer;
  leafKey: KeyObject;
}

/** A self-made CA and a short-lived leaf carrying Fulcio-style extensions for the GitHub workflow identity. */
function makeFulcioish(extensionOverrides: Record<string, string> = {}): Fulcioish {
  const ca = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const leaf = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const caDer = buildCertificate({
    subject: 'pubgate test CA',
    issuer: 'pubgate test CA',
    publicKey: ca.publicKey,
    signingKey: ca.privateKey,
    notBefore: new Date(NOW.getTime() - 86_400_000),
    notAfter: new Date(NOW.getTime() + 86_400_000),
    isCA: true,
  });
  const leafDer = buildCertificate({
    subject: '',
    issuer: 'pubgate test CA',
    publicKey: leaf.publicKey,
    signingKey: ca.privateKey,
    notBefore: new Date(NOW.getTime() - 60_000),
    notAfter: new Date(NOW.getTime() + 540_000),
    serial: 42,
    sanUri: `${REPO}/${WORKFLOW}@${REF}`,
    utf8Extensions: {
      '1.3.6.1.4.1.57264.1.8': 'https://token.actions.githubusercontent.com',
      '1.3.6.1.4.1.57264.1.9': `${REPO}/${WORKFLOW}@${REF}`,
      '1.3.6.1.4.1.57264.1.11': 'github-hosted',
      '1.3.6.1.4.1.57264.1.12': REPO,
      '1.3.6.1.4.1.57264.1.13': 'c'.repeat(40),
      '1.3.6.1.4.1.57264.1.14': REF,
      '1.3.6.1.4.1.57264.1.15': '1234',
      '1.3.6.1.4.1.57264.1.17': '99',
      '1.3.6.1.4.1.57264.1.18': `${REPO}/${WORKFLOW}@${REF}`,
      '1.3.6.1.4.1.57264.1.20': 'push',
      ...extensionOverrides,
    },
  });
  return { caPem: new X509Certificate(caDer).toString(), leafDer, leafKey: leaf.privateKey };
}

/** An npm-style provenance bundle: DSSE envelope signed by the leaf, certificate in the verification material. */
function npmProvenanceBundle(f: Fulcioish, statement: object, version: '0.2' | '0.3' = '0.3') {
  const payload = Buffer.from(JSON.stringify(statement));
  const sig = sign('sha256', preAuthEncoding('application/vnd.in-toto+json', payload), {
    key: f.leafKey,
    dsaEncoding: 'der',
  });
  const rawBytes = f.leafDer.toString('base64');
  const tlogEntries = [
    { logIndex: '1', integratedTime: String(Math.floor(NOW.getTime() / 1000)), canonicalizedBody: 'e30=' },
  ];
  return {
    mediaType:
      version === '0.3'
        ? 'application/vnd.dev.sigstore.bundle.v0.3+json'
        : 'application/vnd.dev.sigstore.bundle+json;version=0.2',
    verificationMaterial:
      version === '0.3'
        ? { certificate: { rawBytes }, tlogEntries }
        : { x509CertificateChain: { certificates: [{ rawBytes }] }, tlogEntries },
    dsseEnvelope: {
      payload: payload.toString('base64'),
      payloadType: 'application/vnd.in-toto+json',
      signatures: [{ sig: sig.toString('base64'), keyid: '' }],
    },
  };
}

void describe('verifyBuildProvenance', () => {
  void describe('with an npm provenance bundle (Fulcio-style certificate)', () => {
    void it('accepts a matching bundle and reports the chain as unverified without trusted certificates', async () => {
      const f = makeFulcioish();
      const result = await verifyBuildProvenance(npmProvenanceBundle(f, slsaStatement()), {
        ...base,
        publisher,
      });
      assert.equal(result.kind, 'certificate');
      assert.equal(result.certificateChainVerified, false);
      assert.equal(result.transparencyLogVerified, false);
      assert.equal(result.identity.repositoryId, '1234');
      assert.equal(result.identity.workflowPath, WORKFLOW);
    });

    void it('accepts the v0.2 bundle shape with a certificate chain', async () => {
      const f = makeFulcioish();
      const result = await verifyBuildProvenance(npmProvenanceBundle(f, slsaStatement(), '0.2'), {
        ...base,
        publisher,
      });
      assert.equal(result.kind, 'certificate');
    });

    void it('verifies the chain offline when the operator supplies the CA', async () => {
      const f = makeFulcioish();
      const result = await verifyBuildProvenance(npmProvenanceBundle(f, slsaStatement()), {
        ...base,
        publisher,
        trustedCertificates: [f.caPem],
        requireCertificateChain: true,
      });
      assert.equal(result.certificateChainVerified, true);
    });

    void it('refuses a certificate from another CA with ERR_VERIFY_UNTRUSTED_CERTIFICATE', async () => {
      const f = makeFulcioish();
      const other = makeFulcioish();
      await assert.rejects(
        verifyBuildProvenance(npmProvenanceBundle(f, slsaStatement()), {
          ...base,
          publisher,
          trustedCertificates: [other.caPem],
        }),
        { code: 'ERR_VERIFY_UNTRUSTED_CERTIFICATE' },
      );
      await assert.rejects(
        verifyBuildProvenance(npmProvenanceBundle(f, slsaStatement()), {
          ...base,
          publisher,
          requireCertificateChain: true,
        }),
        { code: 'ERR_VERIFY_UNTRUSTED_CERTIFICATE' },
      );
    });

    void it('refuses a subject digest that is not the staged tarball with ERR_VERIFY_DIGEST_MISMATCH', async () => {
      const f = makeFulcioish();
      await assert.rejects(
        verifyBuildProvenance(npmProvenanceBundle(f, slsaStatement({ digest: 'f'.repeat(128) })), {
          ...base,
          publisher,
        }),
        {
          code: 'ERR_VERIFY_DIGEST_MISMATCH',
        },
      );
    });

    void it('refuses provenance for another version with ERR_VERIFY_SUBJECT_MISMATCH', async () => {
      const f = makeFulcioish();
      await assert.rejects(
        verifyBuildProvenance(
          npmProvenanceBundle(f, slsaStatement({ name: 'pkg:npm/%40acme/widget@1.2.2' })),
          { ...base, publisher },
        ),
        { code: 'ERR_VERIFY_SUBJECT_MISMATCH' },
      );
    });

    void it('refuses another repository id in the certificate with ERR_VERIFY_IDENTITY_MISMATCH', async () => {
      const f = makeFulcioish({ '1.3.6.1.4.1.57264.1.15': '666' });
      await assert.rejects(
        verifyBuildProvenance(npmProvenanceBundle(f, slsaStatement()), { ...base, publisher }),
        (e: { code: string }) => {
          assert.equal(e.code, 'ERR_VERIFY_IDENTITY_MISMATCH');
          return true;
        },
      );
    });

    void it('refuses another issuer, a branch ref, or pull_request_target with ERR_VERIFY_IDENTITY_MISMATCH', async () => {
      const cases: Record<string, string>[] = [
        { '1.3.6.1.4.1.57264.1.8': 'https://evil.example' },
        { '1.3.6.1.4.1.57264.1.14': 'refs/heads/main' },
        { '1.3.6.1.4.1.57264.1.20': 'pull_request_target' },
      ];
      for (const ext of cases) {
        const f = makeFulcioish(ext);
        const statement = slsaStatement({
          ref: ext['1.3.6.1.4.1.57264.1.14'] ?? REF,
          event: ext['1.3.6.1.4.1.57264.1.20'] ?? 'push',
        });
        await assert.rejects(
          verifyBuildProvenance(npmProvenanceBundle(f, statement), { ...base, publisher }),
          {
            code: 'ERR_VERIFY_IDENTITY_MISMATCH',
          },
        );
      }
    });

    void it('refuses a statement whose workflow disagrees with its certificate with ERR_VERIFY_IDENTITY_MISMATCH', async () => {
      const f = makeFulcioish();
      await assert.rejects(
        verifyBuildProvenance(
          npmProvenanceBundle(f, slsaStatement({ repository: 'https://github.com/evil/widget' })),
          { ...base, publisher },
        ),
        { code: 'ERR_VERIFY_IDENTITY_MISMATCH' },
      );
    });

    void it('refuses a tampered statement with ERR_VERIFY_BAD_SIGNATURE', async () => {
      const f = makeFulcioish();
      const bundle = npmProvenanceBundle(f, slsaStatement());
      const tampered = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString()) as {
        subject: { digest: { sha512: string } }[];
      };
      tampered.subject[0]!.digest.sha512 = '0'.repeat(128);
      bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(tampered)).toString('base64');
      await assert.rejects(verifyBuildProvenance(bundle, { ...base, publisher }), {
        code: 'ERR_VERIFY_BAD_SIGNATURE',
      });
    });

    void it('refuses a stripped signature with ERR_VERIFY_UNSIGNED', async () => {
      const bundle = npmProvenanceBundle(makeFulcioish(), slsaStatement());
      bundle.dsseEnvelope.signatures = [];
      await assert.rejects(verifyBuildProvenance(bundle, { ...base, publisher }), {
        code: 'ERR_VERIFY_UNSIGNED',
      });
    });
  });

  void describe('with a DSSE statement signed by a build key', () => {
    async function keyed(statement: object) {
      const generated = generateLocalKey();
      const signer = LocalKeySigner.fromPkcs8Der(generated.privateKeyPkcs8Der);
      const bundle = await createDsseBundle(
        signer,
        Buffer.from(JSON.stringify(statement)),
        'application/vnd.in-toto+json',
      );
      const record = {
        keyId: signer.keyId,
        algorithm: signer.algorithm,
        publicKeyPem: signer.publicKeyPem,
        notBefore: '2025-01-01T00:00:00.000Z',
        notAfter: null,
      };
      return { bundle, record };
    }

    void it('accepts a statement by a registered build key', async () => {
      const { bundle, record } = await keyed(slsaStatement());
      const result = await verifyBuildProvenance(bundle, {
        ...base,
        publisher,
        buildKeys: keySetFromRecords([record]),
      });
      assert.equal(result.kind, 'build-key');
      assert.equal(result.keyId, record.keyId);
    });

    void it('refuses a key not registered for the publisher with ERR_VERIFY_KEY_UNKNOWN', async () => {
      const { bundle } = await keyed(slsaStatement());
      await assert.rejects(
        verifyBuildProvenance(bundle, { ...base, publisher, buildKeys: keySetFromRecords([]) }),
        {
          code: 'ERR_VERIFY_KEY_UNKNOWN',
        },
      );
    });

    void it('refuses a retired build key with ERR_VERIFY_KEY_RETIRED', async () => {
      const { bundle, record } = await keyed(slsaStatement());
      await assert.rejects(
        verifyBuildProvenance(bundle, {
          ...base,
          publisher,
          buildKeys: keySetFromRecords([{ ...record, retiredAt: '2025-05-01T00:00:00.000Z' }]),
        }),
        { code: 'ERR_VERIFY_KEY_RETIRED' },
      );
    });

    void it('refuses a statement naming another repository with ERR_VERIFY_IDENTITY_MISMATCH', async () => {
      const { bundle, record } = await keyed(slsaStatement({ repository: 'https://github.com/evil/widget' }));
      await assert.rejects(
        verifyBuildProvenance(bundle, { ...base, publisher, buildKeys: keySetFromRecords([record]) }),
        {
          code: 'ERR_VERIFY_IDENTITY_MISMATCH',
        },
      );
    });

    void it('refuses a digest that is not the staged tarball with ERR_VERIFY_DIGEST_MISMATCH', async () => {
      const { bundle, record } = await keyed(slsaStatement({ digest: 'e'.repeat(128) }));
      await assert.rejects(
        verifyBuildProvenance(bundle, { ...base, publisher, buildKeys: keySetFromRecords([record]) }),
        {
          code: 'ERR_VERIFY_DIGEST_MISMATCH',
        },
      );
    });
  });
});
