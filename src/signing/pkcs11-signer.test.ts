import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signReleaseAttestation } from './attest.ts';
import {
  generatePkcs11Key,
  openPkcs11Signer,
  readPkcs11Pin,
  type Pkcs11Options,
  type Pkcs11Signer,
} from './pkcs11-signer.ts';
import { verifyRelease } from './verify-release.ts';
import { createTestClock, createTestKeyRing, makeRelease, makeTarball } from './testing/release-fixture.ts';

const MODULE = process.env.PUBGATE_PKCS11_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so';
const available = existsSync(MODULE) && existsSync('/usr/bin/softhsm2-util');
if (!available && process.env.CI === 'true') {
  throw new Error(
    `SoftHSM2 is required in CI: ${MODULE} or softhsm2-util is missing (apt-get install softhsm2)`,
  );
}
const skip = available
  ? false
  : `SoftHSM2 not installed (${MODULE}); install the softhsm2 package to run this test`;
if (skip) console.log(`# skipping PKCS#11 tests: ${skip}`);

// Test-only PINs for a throwaway token in a temp dir.
const USER_PIN = '246810';
const SO_PIN = '13579111';
const TOKEN = 'pubgate-test';

void describe('Pkcs11Signer against SoftHSM2', { skip }, () => {
  let dir = '';
  let options: Pkcs11Options;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pubgate-softhsm-'));
    await mkdir(join(dir, 'tokens'));
    const conf = join(dir, 'softhsm2.conf');
    await writeFile(
      conf,
      `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`,
    );
    // SoftHSM reads SOFTHSM2_CONF when the module initialises, so the token lives only in this temp dir.
    process.env.SOFTHSM2_CONF = conf;
    execFileSync(
      'softhsm2-util',
      ['--init-token', '--free', '--label', TOKEN, '--pin', USER_PIN, '--so-pin', SO_PIN],
      {
        env: { ...process.env, SOFTHSM2_CONF: conf },
        stdio: 'ignore',
      },
    );
    options = { modulePath: MODULE, tokenLabel: TOKEN, pin: USER_PIN, keyLabel: 'pubgate-signing-1' };
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void it('generates a P-256 key in the token and signs data that verifies with its public key', async () => {
    const generated = await generatePkcs11Key(options);
    const signer: Pkcs11Signer = await openPkcs11Signer(options);
    try {
      assert.equal(signer.keyId, generated.keyId);
      assert.equal(signer.publicKeyPem, generated.publicKeyPem);
      const data = Buffer.from('pubgate pkcs11 signing test');
      const signatures = await Promise.all([signer.sign(data), signer.sign(data), signer.sign(data)]);
      for (const sig of signatures) {
        assert.ok(
          verify('sha256', data, { key: createPublicKey(generated.publicKeyPem), dsaEncoding: 'der' }, sig),
        );
      }
      assert.ok(
        !verify('sha256', Buffer.from('other'), createPublicKey(generated.publicKeyPem), signatures[0]!),
      );
      assert.ok(!JSON.stringify(signer).includes(USER_PIN));
    } finally {
      await signer.close();
    }
  });

  void it('signs a release attestation that verifies with our verifier and @sigstore/verify', async () => {
    const clock = createTestClock();
    const signer = await openPkcs11Signer(options);
    try {
      const ring = createTestKeyRing(clock, {
        openHsmSigner: (record) =>
          Promise.resolve(record.keyId === signer.keyId ? signer : assert.fail('unexpected key')),
      });
      const record = await ring.initialize({ label: options.keyLabel, publicKeyPem: signer.publicKeyPem });
      assert.equal(record.keyId, signer.keyId);
      clock.advance(1000);
      const { tarball, sha512 } = makeTarball();
      const signed = await signReleaseAttestation({
        signer: await ring.activeSigner(),
        release: makeRelease(sha512),
        now: clock.now,
      });
      const result = await verifyRelease({
        bundle: signed.bundle,
        artifact: tarball,
        expected: { name: '@acme/widget', version: '1.2.3' },
        keys: ring,
        now: clock.now,
      });
      assert.equal(result.keyId, signer.keyId);
    } finally {
      await signer.close();
    }
  });

  void it('refuses a wrong PIN with ERR_SIGN_PKCS11 and keeps the PIN out of the message', async () => {
    await assert.rejects(
      openPkcs11Signer({ ...options, pin: '000000' }),
      (e: { code: string; message: string }) => {
        assert.equal(e.code, 'ERR_SIGN_PKCS11');
        assert.ok(!e.message.includes('000000'));
        return true;
      },
    );
  });

  void it('refuses an unknown key label or token with ERR_SIGN_PKCS11', async () => {
    await assert.rejects(openPkcs11Signer({ ...options, keyLabel: 'absent' }), { code: 'ERR_SIGN_PKCS11' });
    await assert.rejects(openPkcs11Signer({ ...options, tokenLabel: 'absent' }), { code: 'ERR_SIGN_PKCS11' });
  });

  void it('reads the PIN from a file or an environment variable', async () => {
    const file = join(dir, 'pin');
    await writeFile(file, `${USER_PIN}\n`, { mode: 0o600 });
    assert.equal(await readPkcs11Pin({ pinFile: file }), USER_PIN);
    process.env.PUBGATE_TEST_PKCS11_PIN = USER_PIN;
    assert.equal(await readPkcs11Pin({ pinEnv: 'PUBGATE_TEST_PKCS11_PIN' }), USER_PIN);
    await assert.rejects(readPkcs11Pin({ pinEnv: 'PUBGATE_TEST_PKCS11_PIN_ABSENT' }), {
      code: 'ERR_SIGN_PKCS11',
    });
  });
});
