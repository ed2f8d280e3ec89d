import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { decodeBase64Strict, preAuthEncoding } from './dsse.ts';
import { p1363ToDer } from './ecdsa-encoding.ts';
import { sha512HexFromIntegrity, toNpmPurl } from './statement.ts';
import { findReleasePredicateProblems } from './release-predicate.ts';

void describe('DSSE and statement helpers', () => {
  void it('encodes the PAE as the DSSE v1.0 spec example does', () => {
    assert.equal(
      preAuthEncoding('http://example.com/HelloWorld', Buffer.from('hello world')).toString(),
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
  });

  void it('counts bytes, not characters, in PAE lengths', () => {
    assert.equal(preAuthEncoding('t', Buffer.from('é')).toString(), 'DSSEv1 1 t 2 é');
  });

  void it('decodes only strict padded base64', () => {
    assert.deepEqual(decodeBase64Strict('aGk='), Buffer.from('hi'));
    for (const bad of ['aGk', 'aG k=', 'aGk=!', 'a-_=', 42]) assert.equal(decodeBase64Strict(bad), undefined);
  });

  void it('converts P1363 ECDSA signatures to DER that verifies', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    // 200 signatures make r or s with a high bit or a leading zero byte all but certain to occur.
    for (let i = 0; i < 200; i++) {
      const data = Buffer.from(`message ${i}`);
      const der = p1363ToDer(sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' }));
      assert.ok(verify('sha256', data, { key: publicKey, dsaEncoding: 'der' }, der));
    }
  });

  void it('names npm packages as purl does, with a scope percent-encoded', () => {
    assert.equal(toNpmPurl('left-pad', '1.3.0'), 'pkg:npm/left-pad@1.3.0');
    assert.equal(toNpmPurl('@acme/widget', '1.2.3-rc.1'), 'pkg:npm/%40acme/widget@1.2.3-rc.1');
    assert.throws(() => toNpmPurl('a/b', '1.0.0'), TypeError);
    assert.throws(() => toNpmPurl('@a/b/c', '1.0.0'), TypeError);
  });

  void it('reads the sha512 from an npm integrity string', () => {
    const digest = Buffer.alloc(64, 0xab);
    assert.equal(
      sha512HexFromIntegrity(`sha1-abc sha512-${digest.toString('base64')}`),
      digest.toString('hex'),
    );
    assert.equal(sha512HexFromIntegrity('sha1-abc'), undefined);
  });

  void it('lists every bad field of a predicate, and a __proto__ key changes nothing', () => {
    const problems = findReleasePredicateProblems(
      JSON.parse(
        '{"__proto__": {"releaseId": "x"}, "policy": {"id": "", "version": "1", "requiredApprovals": -1}}',
      ),
    );
    assert.ok(problems.includes('predicate.releaseId'));
    assert.ok(problems.includes('predicate.policy.id'));
    assert.ok(problems.includes('predicate.policy.requiredApprovals'));
    assert.ok(problems.includes('predicate.times'));
    assert.equal(({} as Record<string, unknown>).releaseId, undefined);
  });
});
