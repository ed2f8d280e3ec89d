import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { generateMasterKey } from '../vault/index.ts';
import { computeKeyId } from './key-id.ts';
import { KeyRing, type StoredKey } from './key-ring.ts';
import { keySetFromJson, toPublicKeySet } from './key-set.ts';
import { MemoryKeyRingStore } from './memory-key-ring-store.ts';
import { createTestClock } from './testing/release-fixture.ts';

const DAY = 86_400_000;

function setup() {
  const clock = createTestClock();
  const store = new MemoryKeyRingStore();
  const masterKey = generateMasterKey();
  const ring = new KeyRing({ store, masterKey, now: clock.read });
  return { clock, store, masterKey, ring };
}

void describe('key ring', () => {
  void it('creates one key at initialize and returns the same key when called again', async () => {
    const { ring } = setup();
    const first = await ring.initialize();
    assert.equal(first.keyId, computeKeyId(first.publicKeyPem));
    assert.equal(first.notAfter, null);
    assert.equal((await ring.initialize()).keyId, first.keyId);
    assert.equal((await ring.listKeys()).length, 1);
  });

  void it('stores the private key sealed under the master key, never in clear', async () => {
    const { ring, store } = setup();
    const record = await ring.initialize();
    const [stored] = await store.list();
    assert.equal(stored!.custody.kind, 'sealed');
    const text = JSON.stringify(stored);
    assert.ok(!text.includes('PRIVATE KEY'));
    const signer = await ring.activeSigner();
    const data = Buffer.from('x');
    assert.ok(verify('sha256', data, createPublicKey(record.publicKeyPem), await signer.sign(data)));
    assert.ok(!JSON.stringify(signer).includes('PRIVATE'));
  });

  void it('refuses to open keys under another master key with ERR_VAULT_WRONG_KEY', async () => {
    const { ring, store, clock } = setup();
    await ring.initialize();
    const other = new KeyRing({ store, masterKey: generateMasterKey(), now: clock.read });
    await assert.rejects(other.activeSigner(), { code: 'ERR_VAULT_WRONG_KEY' });
  });

  void it('refuses a sealed key moved onto another key record with ERR_VAULT_TAMPERED', async () => {
    const { ring, store } = setup();
    const a = await ring.initialize();
    const { current: b } = await ring.rotate();
    const storedA = (await store.get(a.keyId))!;
    const storedB = (await store.get(b.keyId))!;
    await store.put({ ...storedB, custody: storedA.custody } satisfies StoredKey);
    await assert.rejects(ring.signerFor(b.keyId), { code: 'ERR_VAULT_TAMPERED' });
  });

  void it('rotates: the new key signs, the old one stays valid for the overlap and then ends', async () => {
    const { ring, clock } = setup();
    const old = await ring.initialize();
    clock.advance(DAY);
    const { current, previous } = await ring.rotate();
    assert.notEqual(current.keyId, old.keyId);
    assert.deepEqual(
      previous.map((k) => k.keyId),
      [old.keyId],
    );
    assert.equal(previous[0]!.notAfter, new Date(clock.now.getTime() + 7 * DAY).toISOString());
    assert.equal((await ring.activeSigner()).keyId, current.keyId);
    assert.equal((await ring.activeKey(new Date(clock.now.getTime() + 8 * DAY)))!.keyId, current.keyId);
  });

  void it('honours a configured overlap and does not extend an already shorter window', async () => {
    const { store, masterKey, clock } = setup();
    const ring = new KeyRing({ store, masterKey, now: clock.read, rotationOverlapMs: DAY });
    const old = await ring.initialize();
    await ring.rotate({ overlapMs: 60_000 });
    await ring.rotate();
    assert.equal(
      (await ring.getKey(old.keyId))!.notAfter,
      new Date(clock.now.getTime() + 60_000).toISOString(),
    );
  });

  void it('retires a key and refuses an unknown key id with ERR_SIGN_KEY_UNKNOWN', async () => {
    const { ring, clock } = setup();
    const key = await ring.initialize();
    clock.advance(1000);
    const retired = await ring.retire(key.keyId);
    assert.equal(retired.retiredAt, clock.now.toISOString());
    await assert.rejects(ring.activeSigner(), { code: 'ERR_SIGN_NO_ACTIVE_KEY' });
    await assert.rejects(ring.retire('SHA256:nope'), { code: 'ERR_SIGN_KEY_UNKNOWN' });
  });

  void it('refuses to sign with no key valid now with ERR_SIGN_NO_ACTIVE_KEY', async () => {
    const { ring } = setup();
    await assert.rejects(ring.activeSigner(), { code: 'ERR_SIGN_NO_ACTIVE_KEY' });
  });

  void it('rejects a negative overlap as a caller mistake with RangeError', () => {
    assert.throws(() => new KeyRing({ store: new MemoryKeyRingStore(), rotationOverlapMs: -1 }), RangeError);
  });

  void it('round-trips the public key set through JSON and refuses a key id that is not the key fingerprint', async () => {
    const { ring, clock } = setup();
    const a = await ring.initialize();
    clock.advance(1000);
    const { current: b } = await ring.rotate();
    const json = JSON.stringify(toPublicKeySet(await ring.listKeys()));
    assert.ok(!json.includes('sealed'));
    const lookup = keySetFromJson(json);
    assert.equal((await lookup.getKey(a.keyId))!.notAfter !== null, true);
    assert.equal((await lookup.getKey(b.keyId))!.publicKeyPem, b.publicKeyPem);
    const forged = JSON.parse(json) as { keys: { keyId: string }[] };
    assert.equal(forged.keys[0]!.keyId, a.keyId);
    forged.keys[0]!.keyId = b.keyId;
    assert.throws(() => keySetFromJson(forged), TypeError);
  });
});
