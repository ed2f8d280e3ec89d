import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { generateToken, hashToken } from '../tokens/index.ts';
import { plantedSecrets } from '../../test/fixtures/scan/secrets.ts';
import { fingerprintSecret, redactSecret } from './fingerprint.ts';
import { createScanner, scanWithScanner } from './scanner.ts';

void describe('fingerprints and redaction', () => {
  void it('fingerprints with HMAC-SHA256 under the given key', () => {
    const key = randomBytes(32);
    assert.equal(fingerprintSecret('value', key), createHmac('sha256', key).update('value').digest('hex'));
  });
  void it('refuses an empty key with RangeError', () => {
    assert.throws(() => fingerprintSecret('value', ''), RangeError);
  });
  void it('shows the public prefix, two characters and the length', () => {
    assert.equal(redactSecret(`npm_ab${'c'.repeat(34)}`, 4), 'npm_ab…(40 chars)');
  });
  void it('shows nothing of a short secret', () => {
    assert.equal(redactSecret('hunter22'), '…(8 chars)');
  });
  void it('never puts a planted secret, or half of it, in any field of any finding', () => {
    const scanner = createScanner({ fingerprintKey: randomBytes(32) });
    for (const item of plantedSecrets()) {
      for (const finding of scanWithScanner(scanner, item.text, item.path ?? 'file.txt')) {
        const serialized = JSON.stringify(finding);
        const half = item.secret.slice(0, Math.ceil(item.secret.length / 2));
        assert.ok(item.secret === '' || !serialized.includes(half), `${item.ruleId} leaked into its finding`);
      }
    }
  });
  void it('gives a pgt_ finding the token hash the gate stores', () => {
    const token = generateToken();
    const [finding] = scanWithScanner(createScanner(), `PUBGATE_TOKEN=${token}\n`, '.env');
    assert.equal(finding?.pubgateTokenHash, hashToken(token));
  });
  void it('gives the same fingerprint to the same secret in two places', () => {
    const token = generateToken();
    const scanner = createScanner({ fingerprintKey: 'k'.repeat(32) });
    const [a] = scanWithScanner(scanner, `a=${token}\n`, 'a');
    const [b] = scanWithScanner(scanner, `\n\n  b: ${token}\n`, 'b');
    assert.equal(a?.fingerprint, b?.fingerprint);
    assert.equal(a?.fingerprint, fingerprintSecret(token, 'k'.repeat(32)));
  });
});
