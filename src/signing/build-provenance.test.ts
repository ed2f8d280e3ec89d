import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  asProvenanceBundle,
  verifyBuildProvenance,
  type TrustedPublisher,
  type VerifyBuildProvenanceOptions,
} from './build-provenance.ts';
import { keySetFromRecords } from './key-set.ts';
import { generateLocalKey, LocalKeySigner } from './local-key-signer.ts';
import { createDsseBundle } from './sigstore-bundle.ts';
import {
  makeFulcioish as makeFixtureCertificate,
  npmProvenanceBundle as fixtureBundle,
  slsaStatement as fixtureStatement,
  type Fulcioish,
} from './testing/provenance-fixture.ts';

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

/** The fixture statement, with overrides of the subject and the workflow identity. */
function slsaStatement(
  overrides: { name?: string; digest?: string; ref?: string; repository?: string; event?: string } = {},
) {
  return fixtureStatement(
    { name: overrides.name ?? 'pkg:npm/%40acme/widget@1.2.3', sha512: overrides.digest ?? sha512 },
    {
      ...(overrides.ref === undefined ? {} : { ref: overrides.ref }),
      ...(overrides.repository === undefined ? {} : { repository: overrides.repository }),
      ...(overrides.event === undefined ? {} : { event: overrides.event }),
    },
  );
}

function makeFulcioish(extensions: Record<string, string> = {}): Fulcioish {
  return makeFixtureCertificate({ now: NOW, extensions });
}

function npmProvenanceBundle(f: Fulcioish, statement: object, version: '0.2' | '0.3' = '0.3') {
  return fixtureBundle(f, statement, { version, now: NOW });
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

    void it('refuses another commit than the one the publisher pins with ERR_VERIFY_IDENTITY_MISMATCH', async () => {
      const f = makeFulcioish();
      await assert.rejects(
        verifyBuildProvenance(npmProvenanceBundle(f, slsaStatement()), {
          ...base,
          publisher: { ...publisher, commit: 'd'.repeat(40) },
        }),
        (e: { code: string; details: { fields: string[] } }) => {
          assert.equal(e.code, 'ERR_VERIFY_IDENTITY_MISMATCH');
          assert.deepEqual(e.details.fields, ['commit']);
          return true;
        },
      );
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

    void it('accepts the bare DSSE envelope of a build key, as a build may send it', async () => {
      const { bundle, record } = await keyed(slsaStatement());
      const result = await verifyBuildProvenance(asProvenanceBundle(bundle.dsseEnvelope), {
        ...base,
        publisher,
        buildKeys: keySetFromRecords([record]),
      });
      assert.equal(result.keyId, record.keyId);
      // The verifier wraps it itself, too.
      await verifyBuildProvenance(bundle.dsseEnvelope, {
        ...base,
        publisher,
        buildKeys: keySetFromRecords([record]),
      });
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
