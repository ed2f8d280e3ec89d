import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateToken, hashToken, isWellFormedToken, TOKEN_PATTERN } from './token-format.ts';

describe('token format', () => {
  it('generates pgt_ tokens that verify and match the pattern', () => {
    for (let i = 0; i < 200; i++) {
      const token = generateToken();
      assert.ok(isWellFormedToken(token));
      assert.equal(token.match(TOKEN_PATTERN)?.[0], token);
    }
  });

  it('rejects a token with one character changed (checksum)', () => {
    const token = generateToken();
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    assert.equal(isWellFormedToken(token.slice(0, -1) + last), false);
    const mid = token[10] === 'x' ? 'y' : 'x';
    assert.equal(isWellFormedToken(token.slice(0, 10) + mid + token.slice(11)), false);
  });

  it('rejects other prefixes, lengths and characters', () => {
    const token = generateToken();
    assert.equal(isWellFormedToken('npm_' + token.slice(4)), false);
    assert.equal(isWellFormedToken(token + 'a'), false);
    assert.equal(isWellFormedToken(token.slice(0, 20) + '-' + token.slice(21)), false);
  });

  it('hashes to 64 hex characters, different per token', () => {
    const a = generateToken();
    assert.match(hashToken(a), /^[0-9a-f]{64}$/);
    assert.notEqual(hashToken(a), hashToken(generateToken()));
  });
});
