import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { signReleaseAttestation } from './attest.ts';
import { toNpmAttestationsResponse, toNpmKeysResponse, signNpmRegistrySignature } from './npm-shapes.ts';
import { createTestClock, createTestKeyRing, makeRelease, makeTarball } from './testing/release-fixture.ts';

void describe('npm shapes', () => {
  void it('lists keys as npm /-/npm/v1/keys does, with expiry from the window and retired keys left out', async () => {
    const clock = createTestClock();
    const ring = createTestKeyRing(clock);
    const first = await ring.initialize();
    clock.advance(1000);
    const { current } = await ring.rotate({ overlapMs: 1000 });
    const firstEnds = new Date(clock.now.getTime() + 1000).toISOString();
    clock.advance(1000);
    const third = (await ring.rotate()).current;
    await ring.retire(third.keyId);
    const body = toNpmKeysResponse(await ring.listKeys());
    assert.deepEqual(
      body.keys.map((k) => k.keyid),
      [first.keyId, current.keyId],
    );
    const [old, now] = body.keys;
    assert.equal(old!.expires, firstEnds);
    assert.equal(now!.keytype, 'ecdsa-sha2-nistp256');
    assert.equal(now!.scheme, 'ecdsa-sha2-nistp256');
    assert.match(now!.keyid, /^SHA256:[A-Za-z0-9+/]{43}$/);
    // npm builds `-----BEGIN PUBLIC KEY-----\n${key}\n-----END PUBLIC KEY-----` from `key`.
    const pem = `-----BEGIN PUBLIC KEY-----\n${now!.key}\n-----END PUBLIC KEY-----`;
    assert.equal(createPublicKey(pem).asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.deepEqual(Object.keys(now!).sort(), ['expires', 'key', 'keyid', 'keytype', 'scheme']);
  });

  void it('signs dist.signatures over name@version:integrity so npm can verify it with the listed key', async () => {
    const ring = createTestKeyRing(createTestClock());
    await ring.initialize();
    const signer = await ring.activeSigner();
    const integrity = 'sha512-' + Buffer.alloc(64, 7).toString('base64');
    const entry = await signNpmRegistrySignature(signer, {
      name: '@acme/widget',
      version: '1.2.3',
      integrity,
    });
    const listed = toNpmKeysResponse(await ring.listKeys()).keys.find((k) => k.keyid === entry.keyid)!;
    const pem = `-----BEGIN PUBLIC KEY-----\n${listed.key}\n-----END PUBLIC KEY-----`;
    assert.ok(
      verify('sha256', Buffer.from(`@acme/widget@1.2.3:${integrity}`), pem, Buffer.from(entry.sig, 'base64')),
    );
  });

  void it('lists attestations as {predicateType, bundle} with the predicate type read from the statement', async () => {
    const clock = createTestClock();
    const ring = createTestKeyRing(clock);
    await ring.initialize();
    const { sha512 } = makeTarball();
    const { bundle } = await signReleaseAttestation({
      signer: await ring.activeSigner(),
      release: makeRelease(sha512),
      now: clock.now,
    });
    const body = toNpmAttestationsResponse([bundle]);
    assert.deepEqual(body, {
      attestations: [{ predicateType: 'https://pubgate.dev/attestation/release/v1', bundle }],
    });
    assert.equal(
      body.attestations[0]!.bundle.dsseEnvelope!.signatures[0]!.keyid,
      (await ring.activeKey())!.keyId,
    );
  });
});
