import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateMasterKey, rewrapSecret, sealSecret, unsealSecret } from './envelope.ts';

const secret = Buffer.from('upstream-credential-value-for-test');

describe('vault envelope', () => {
  it('round-trips a secret under the same key and name', () => {
    const key = generateMasterKey();
    const sealed = sealSecret(key, 'upstream/npm', secret);
    assert.deepEqual(unsealSecret(key, 'upstream/npm', sealed), secret);
    assert.ok(!JSON.stringify(sealed).includes(secret.toString()));
  });

  it('refuses another master key with ERR_VAULT_WRONG_KEY', () => {
    const sealed = sealSecret(generateMasterKey(), 'a', secret);
    assert.throws(() => unsealSecret(generateMasterKey(), 'a', sealed), { code: 'ERR_VAULT_WRONG_KEY' });
  });

  it('refuses a sealed secret moved to another name with ERR_VAULT_TAMPERED', () => {
    const key = generateMasterKey();
    const sealed = sealSecret(key, 'a', secret);
    assert.throws(() => unsealSecret(key, 'b', sealed), { code: 'ERR_VAULT_TAMPERED' });
  });

  it('refuses a flipped ciphertext bit with ERR_VAULT_TAMPERED', () => {
    const key = generateMasterKey();
    const sealed = sealSecret(key, 'a', secret);
    const raw = Buffer.from(sealed.ciphertext, 'base64');
    raw[raw.length - 1]! ^= 1;
    assert.throws(() => unsealSecret(key, 'a', { ...sealed, ciphertext: raw.toString('base64') }), {
      code: 'ERR_VAULT_TAMPERED',
    });
  });

  it('re-wraps under a new master key without changing the secret', () => {
    const oldKey = generateMasterKey();
    const newKey = generateMasterKey();
    const rewrapped = rewrapSecret(oldKey, newKey, 'a', sealSecret(oldKey, 'a', secret));
    assert.deepEqual(unsealSecret(newKey, 'a', rewrapped), secret);
    assert.throws(() => unsealSecret(oldKey, 'a', rewrapped), { code: 'ERR_VAULT_WRONG_KEY' });
  });
});
