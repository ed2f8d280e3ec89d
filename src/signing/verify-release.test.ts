import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { bundleFromJSON } from '@sigstore/bundle';
import { toSignedEntity, Verifier } from '@sigstore/verify';
import { createPublicKey } from 'node:crypto';
import { signReleaseAttestation, type ReleaseAttestationInput } from './attest.ts';
import { preAuthEncoding } from './dsse.ts';
import { generateLocalKey, LocalKeySigner } from './local-key-signer.ts';
import type { KeyRing } from './key-ring.ts';
import type { SigstoreBundleJson } from './sigstore-bundle.ts';
import { verifyRelease, type VerifyReleaseOptions } from './verify-release.ts';
import {
  createTestClock,
  createTestKeyRing,
  makeRelease,
  makeTarball,
  type TestClock,
} from './testing/release-fixture.ts';

// Tests poke at arbitrary paths of bundle JSON; a loose type keeps them readable.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const DAY = 24 * 60 * 60 * 1000;
const expected = { name: '@acme/widget', version: '1.2.3' };

async function setup(release?: (sha512: string) => ReleaseAttestationInput) {
  const clock = createTestClock();
  const ring = createTestKeyRing(clock);
  await ring.initialize();
  clock.advance(60_000);
  const { tarball, sha512 } = makeTarball();
  const signed = await signReleaseAttestation({
    signer: await ring.activeSigner(),
    release: release ? release(sha512) : makeRelease(sha512),
    now: clock.now,
  });
  const verify = (overrides: Partial<VerifyReleaseOptions> = {}) =>
    verifyRelease({
      bundle: signed.bundle,
      artifact: tarball,
      expected,
      keys: ring,
      now: clock.now,
      ...overrides,
    });
  return { clock, ring, tarball, sha512, signed, verify };
}

/** A deep copy of the bundle's JSON with `edit` applied. */
function editBundle(bundle: SigstoreBundleJson, edit: (json: Json) => void): unknown {
  const copy = structuredClone(bundle) as unknown;
  edit(copy);
  return copy;
}

function decodePayload(bundle: SigstoreBundleJson): Record<string, Json> {
  return JSON.parse(Buffer.from(bundle.dsseEnvelope!.payload, 'base64').toString('utf8')) as Record<
    string,
    Json
  >;
}

async function signWithRingKeyAt(ring: KeyRing, keyId: string, clock: TestClock, at: Date) {
  const { sha512, tarball } = makeTarball();
  const saved = clock.now;
  clock.now = at;
  const signed = await signReleaseAttestation({
    signer: await ring.signerFor(keyId),
    release: makeRelease(sha512),
    now: at,
  });
  clock.now = saved;
  return { signed, tarball };
}

void describe('verifyRelease', () => {
  void describe('when the release is good', () => {
    void it('returns the verified statement, key id and signing time', async () => {
      const { verify, sha512, ring } = await setup();
      const result = await verify();
      assert.equal(result.sha512, sha512);
      assert.equal(result.statement.subject[0]!.name, 'pkg:npm/%40acme/widget@1.2.3');
      assert.equal(result.keyId, (await ring.activeKey())!.keyId);
      assert.equal(result.predicate.approvers.length, 2);
    });

    void it('verifies offline with @sigstore/verify directly (thresholds 0) and the subject digest matches', async () => {
      const { signed, ring, sha512 } = await setup();
      const record = (await ring.activeKey())!;
      const verifier = new Verifier(
        {
          certificateAuthorities: [],
          timestampAuthorities: [],
          tlogs: [],
          ctlogs: [],
          publicKey: (hint) => {
            assert.equal(hint, record.keyId);
            return { publicKey: createPublicKey(record.publicKeyPem), validFor: () => true };
          },
        },
        { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 },
      );
      assert.doesNotThrow(() => verifier.verify(toSignedEntity(bundleFromJSON(signed.bundle))));
      assert.equal(decodePayload(signed.bundle).subject[0].digest.sha512, sha512);
      assert.equal(signed.bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    });

    void it('accepts the tarball as a file path, a stream, or a precomputed sha512', async () => {
      const { verify, tarball, sha512 } = await setup();
      const dir = await mkdtemp(join(tmpdir(), 'pubgate-verify-'));
      try {
        const file = join(dir, 'widget-1.2.3.tgz');
        await writeFile(file, tarball);
        assert.equal((await verify({ artifact: { path: file } })).sha512, sha512);
        assert.equal(
          (
            await verify({
              artifact: { stream: Readable.from([tarball.subarray(0, 100), tarball.subarray(100)]) },
            })
          ).sha512,
          sha512,
        );
        assert.equal((await verify({ artifact: { sha512 } })).sha512, sha512);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    void it('accepts the bundle as JSON text', async () => {
      const { verify, signed } = await setup();
      await verify({ bundle: JSON.stringify(signed.bundle) });
    });
  });

  void describe('when the tarball was tampered with', () => {
    void it('refuses with ERR_VERIFY_DIGEST_MISMATCH', async () => {
      const { verify, tarball } = await setup();
      const tampered = Buffer.from(tarball);
      tampered[10]! ^= 1;
      await assert.rejects(verify({ artifact: tampered }), { code: 'ERR_VERIFY_DIGEST_MISMATCH' });
    });
  });

  void describe('when the statement was tampered with', () => {
    void it('refuses with ERR_VERIFY_BAD_SIGNATURE', async () => {
      const { verify, signed } = await setup();
      const statement = decodePayload(signed.bundle);
      statement.predicate.approvers.push({ ...statement.predicate.approvers[0], identity: 'user:mallory' });
      const bundle = editBundle(signed.bundle, (b) => {
        b.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
      });
      await assert.rejects(verify({ bundle }), { code: 'ERR_VERIFY_BAD_SIGNATURE' });
    });

    void it('refuses a changed payloadType with ERR_VERIFY_BAD_SIGNATURE (the PAE binds it)', async () => {
      const { verify, signed } = await setup();
      const bundle = editBundle(signed.bundle, (b) => {
        b.dsseEnvelope.payloadType = 'application/json';
      });
      await assert.rejects(verify({ bundle }), { code: 'ERR_VERIFY_BAD_SIGNATURE' });
    });
  });

  void describe('when the key is wrong', () => {
    void it('refuses a signature by a key outside the key set with ERR_VERIFY_KEY_UNKNOWN', async () => {
      const { verify, sha512 } = await setup();
      const stranger = LocalKeySigner.fromPkcs8Der(generateLocalKey().privateKeyPkcs8Der);
      const signed = await signReleaseAttestation({ signer: stranger, release: makeRelease(sha512) });
      await assert.rejects(verify({ bundle: signed.bundle }), { code: 'ERR_VERIFY_KEY_UNKNOWN' });
    });

    void it('refuses a signature by another key under the gate key hint with ERR_VERIFY_BAD_SIGNATURE', async () => {
      const { verify, signed, clock } = await setup();
      const stranger = LocalKeySigner.fromPkcs8Der(generateLocalKey().privateKeyPkcs8Der);
      const payload = Buffer.from(signed.bundle.dsseEnvelope!.payload, 'base64');
      const sig = await stranger.sign(preAuthEncoding('application/vnd.in-toto+json', payload));
      const bundle = editBundle(signed.bundle, (b) => {
        b.dsseEnvelope.signatures[0].sig = Buffer.from(sig).toString('base64');
      });
      await assert.rejects(verify({ bundle, now: clock.now }), { code: 'ERR_VERIFY_BAD_SIGNATURE' });
    });
  });

  void describe('when the key was not valid at signing time', () => {
    void it('refuses a signature dated after the key window ended with ERR_VERIFY_KEY_NOT_VALID_AT_SIGNING', async () => {
      const { ring, clock } = await setup();
      const old = (await ring.activeKey())!;
      await ring.rotate({ overlapMs: DAY });
      const late = new Date(clock.now.getTime() + 2 * DAY);
      const { signed, tarball } = await signWithRingKeyAt(ring, old.keyId, clock, late);
      await assert.rejects(
        verifyRelease({ bundle: signed.bundle, artifact: tarball, expected, keys: ring, now: late }),
        { code: 'ERR_VERIFY_KEY_NOT_VALID_AT_SIGNING' },
      );
    });

    void it('refuses a signature dated before the key existed with ERR_VERIFY_KEY_NOT_VALID_AT_SIGNING', async () => {
      const { ring, clock } = await setup();
      const key = (await ring.activeKey())!;
      const early = new Date(Date.parse(key.notBefore) - DAY);
      const { signed, tarball } = await signWithRingKeyAt(ring, key.keyId, clock, early);
      await assert.rejects(
        verifyRelease({ bundle: signed.bundle, artifact: tarball, expected, keys: ring, now: clock.now }),
        {
          code: 'ERR_VERIFY_KEY_NOT_VALID_AT_SIGNING',
        },
      );
    });

    void it('refuses a statement dated in the future of the verifier with ERR_VERIFY_KEY_NOT_VALID_AT_SIGNING', async () => {
      const { verify, clock } = await setup();
      await assert.rejects(verify({ now: new Date(clock.now.getTime() - 60 * 60 * 1000) }), {
        code: 'ERR_VERIFY_KEY_NOT_VALID_AT_SIGNING',
      });
    });

    void it('still accepts an attestation signed inside the window after the window has ended', async () => {
      const { verify, ring, clock } = await setup();
      await ring.rotate({ overlapMs: DAY });
      clock.advance(30 * DAY);
      await verify({ now: clock.now });
    });
  });

  void describe('when the key was rotated out', () => {
    void it('refuses anything it signed with ERR_VERIFY_KEY_RETIRED', async () => {
      const { verify, ring } = await setup();
      const old = (await ring.activeKey())!;
      await ring.rotate();
      await ring.retire(old.keyId);
      await assert.rejects(verify(), { code: 'ERR_VERIFY_KEY_RETIRED' });
    });
  });

  void describe('when the attestation is for another release', () => {
    void it('refuses another version with ERR_VERIFY_SUBJECT_MISMATCH', async () => {
      const { verify } = await setup();
      await assert.rejects(verify({ expected: { name: '@acme/widget', version: '1.2.4' } }), {
        code: 'ERR_VERIFY_SUBJECT_MISMATCH',
      });
    });

    void it('refuses another package with ERR_VERIFY_SUBJECT_MISMATCH', async () => {
      const { verify } = await setup();
      await assert.rejects(verify({ expected: { name: 'widget', version: '1.2.3' } }), {
        code: 'ERR_VERIFY_SUBJECT_MISMATCH',
      });
    });
  });

  void describe('when the approvals do not meet the policy', () => {
    void it('refuses fewer approvals than M with ERR_VERIFY_POLICY_NOT_MET', async () => {
      const { verify } = await setup((sha) => {
        const r = makeRelease(sha);
        return { ...r, predicate: { ...r.predicate, approvers: r.predicate.approvers.slice(0, 1) } };
      });
      await assert.rejects(verify(), (e: { code: string; details: { reasons: string[] } }) => {
        assert.equal(e.code, 'ERR_VERIFY_POLICY_NOT_MET');
        assert.match(e.details.reasons.join(), /1 distinct approvals/);
        return true;
      });
    });

    void it('refuses the requester among the approvers with ERR_VERIFY_POLICY_NOT_MET', async () => {
      const { verify } = await setup((sha) => {
        const r = makeRelease(sha);
        const [bob] = r.predicate.approvers;
        const self = {
          ...bob!,
          identity: 'user:alice',
          credentialId: 'YWxpY2U',
          assertionSha256: 'c'.repeat(64),
        };
        return { ...r, predicate: { ...r.predicate, approvers: [...r.predicate.approvers, self] } };
      });
      await assert.rejects(verify(), { code: 'ERR_VERIFY_POLICY_NOT_MET' });
    });

    void it('refuses one approver counted twice with ERR_VERIFY_POLICY_NOT_MET', async () => {
      const { verify } = await setup((sha) => {
        const r = makeRelease(sha);
        const [bob] = r.predicate.approvers;
        const again = { ...bob!, assertionSha256: 'd'.repeat(64), credentialId: 'b3RoZXI' };
        return { ...r, predicate: { ...r.predicate, approvers: [bob!, again] } };
      });
      await assert.rejects(verify(), { code: 'ERR_VERIFY_POLICY_NOT_MET' });
    });

    void it('refuses one passkey used under two names with ERR_VERIFY_POLICY_NOT_MET', async () => {
      const { verify } = await setup((sha) => {
        const r = makeRelease(sha);
        const [bob, carol] = r.predicate.approvers;
        return {
          ...r,
          predicate: { ...r.predicate, approvers: [bob!, { ...carol!, credentialId: bob!.credentialId }] },
        };
      });
      await assert.rejects(verify(), { code: 'ERR_VERIFY_POLICY_NOT_MET' });
    });

    void it('refuses when the caller policy check denies with ERR_VERIFY_POLICY_NOT_MET', async () => {
      const { verify } = await setup();
      await assert.rejects(
        verify({
          policyCheck: (p) => ({
            allow: p.policy.requiredApprovals >= 3,
            reasons: ['policy default@3 now requires 3'],
          }),
        }),
        { code: 'ERR_VERIFY_POLICY_NOT_MET' },
      );
    });

    void it('refuses a failed check with ERR_VERIFY_POLICY_NOT_MET', async () => {
      const { verify } = await setup((sha) => {
        const r = makeRelease(sha);
        return {
          ...r,
          predicate: { ...r.predicate, checks: [{ name: 'secret-scan', result: 'fail' as const }] },
        };
      });
      await assert.rejects(verify(), { code: 'ERR_VERIFY_POLICY_NOT_MET' });
    });
  });

  void describe('when the signature was stripped', () => {
    void it('refuses an envelope without signatures with ERR_VERIFY_UNSIGNED', async () => {
      const { verify, signed } = await setup();
      await assert.rejects(
        verify({ bundle: editBundle(signed.bundle, (b) => (b.dsseEnvelope.signatures = [])) }),
        {
          code: 'ERR_VERIFY_UNSIGNED',
        },
      );
      await assert.rejects(
        verify({ bundle: editBundle(signed.bundle, (b) => delete b.dsseEnvelope.signatures) }),
        {
          code: 'ERR_VERIFY_UNSIGNED',
        },
      );
    });

    void it('refuses an empty signature with ERR_VERIFY_UNSIGNED', async () => {
      const { verify, signed } = await setup();
      await assert.rejects(
        verify({ bundle: editBundle(signed.bundle, (b) => (b.dsseEnvelope.signatures[0].sig = '')) }),
        {
          code: 'ERR_VERIFY_UNSIGNED',
        },
      );
    });
  });

  void describe('when the bundle is malformed', () => {
    void it('refuses text that is not JSON, another media type, or a missing hint with ERR_VERIFY_MALFORMED_BUNDLE', async () => {
      const { verify, signed } = await setup();
      await assert.rejects(verify({ bundle: '{not json' }), { code: 'ERR_VERIFY_MALFORMED_BUNDLE' });
      await assert.rejects(
        verify({ bundle: editBundle(signed.bundle, (b) => (b.mediaType = 'application/json')) }),
        {
          code: 'ERR_VERIFY_MALFORMED_BUNDLE',
        },
      );
      await assert.rejects(
        verify({ bundle: editBundle(signed.bundle, (b) => delete b.verificationMaterial.publicKey) }),
        {
          code: 'ERR_VERIFY_MALFORMED_BUNDLE',
        },
      );
      await assert.rejects(
        verify({ bundle: editBundle(signed.bundle, (b) => (b.dsseEnvelope.payload += '!')) }),
        {
          code: 'ERR_VERIFY_MALFORMED_BUNDLE',
        },
      );
    });

    void it('refuses a second signature and a keyid that differs from the hint with ERR_VERIFY_MALFORMED_BUNDLE', async () => {
      const { verify, signed } = await setup();
      const sig0 = signed.bundle.dsseEnvelope!.signatures[0]!;
      await assert.rejects(
        verify({ bundle: editBundle(signed.bundle, (b) => b.dsseEnvelope.signatures.push(sig0)) }),
        {
          code: 'ERR_VERIFY_MALFORMED_BUNDLE',
        },
      );
      await assert.rejects(
        verify({ bundle: editBundle(signed.bundle, (b) => (b.dsseEnvelope.signatures[0].keyid = 'other')) }),
        {
          code: 'ERR_VERIFY_MALFORMED_BUNDLE',
        },
      );
    });

    void it('refuses a bundle over 1 MiB with ERR_VERIFY_MALFORMED_BUNDLE', async () => {
      const { verify } = await setup();
      await assert.rejects(verify({ bundle: ' '.repeat((1 << 20) + 1) }), {
        code: 'ERR_VERIFY_MALFORMED_BUNDLE',
      });
    });

    void it('refuses a tlog entry that @sigstore/verify cannot check with ERR_VERIFY_SIGSTORE_REJECTED', async () => {
      const { verify, signed } = await setup();
      const bundle = editBundle(signed.bundle, (b) => {
        b.verificationMaterial.tlogEntries = [
          {
            logIndex: '1',
            logId: { keyId: Buffer.alloc(32).toString('base64') },
            kindVersion: { kind: 'dsse', version: '0.0.1' },
            integratedTime: '1700000000',
            canonicalizedBody: Buffer.from('{}').toString('base64'),
          },
        ];
      });
      await assert.rejects(verify({ bundle }), { code: 'ERR_VERIFY_SIGSTORE_REJECTED' });
    });
  });

  void describe('when a signed statement is not a release attestation', () => {
    void it('refuses a statement with two subjects with ERR_VERIFY_MALFORMED_STATEMENT', async () => {
      const { ring, clock, sha512, tarball } = await setup();
      const { createDsseBundle } = await import('./sigstore-bundle.ts');
      const statement = {
        _type: 'https://in-toto.io/Statement/v1',
        subject: [
          { name: 'pkg:npm/%40acme/widget@1.2.3', digest: { sha512 } },
          { name: 'pkg:npm/%40acme/widget@9.9.9', digest: { sha512 } },
        ],
        predicateType: 'https://pubgate.dev/attestation/release/v1',
        predicate: {},
      };
      const bundle = await createDsseBundle(
        await ring.activeSigner(),
        Buffer.from(JSON.stringify(statement)),
        'application/vnd.in-toto+json',
      );
      await assert.rejects(
        verifyRelease({ bundle, artifact: tarball, expected, keys: ring, now: clock.now }),
        {
          code: 'ERR_VERIFY_MALFORMED_STATEMENT',
        },
      );
    });
  });
});
