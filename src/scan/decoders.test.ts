import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checksummed } from '../../test/fixtures/scan/secrets.ts';
import { base64Forms, decodeBase64Segment, decodeEscapedSegment, decodeUrlSegment } from './decoders.ts';
import { createScanner, scanWithScanner } from './scanner.ts';

const scanner = createScanner();
const npmToken = (): string => checksummed(['npm', '_'].join(''));

void describe('decoders', () => {
  void describe('base64', () => {
    void it('finds the base64 form of a prefix at every byte alignment', () => {
      for (const pad of ['', 'a', 'ab']) {
        const encoded = Buffer.from(`${pad}npm_`).toString('base64');
        assert.ok(base64Forms('npm_').some((form) => encoded.includes(form)));
      }
    });
    void it('decodes printable text and refuses binary', () => {
      assert.equal(decodeBase64Segment(Buffer.from('hello, world').toString('base64')), 'hello, world');
      assert.equal(
        decodeBase64Segment(Buffer.from([0, 1, 2, 3, 250, 251, 252, 253, 254]).toString('base64')),
        undefined,
      );
    });
    void it('reports a token hidden in base64 at the start of the encoded segment', () => {
      for (const pad of ['', 'x', 'xy']) {
        const encoded = Buffer.from(`${pad}NPM_TOKEN=${npmToken()}\n`).toString('base64');
        const findings = scanWithScanner(scanner, `config:\n  blob: ${encoded}\n`, 'values.yaml');
        const found = findings.find((f) => f.ruleId === 'npm-access-token');
        assert.ok(found !== undefined, 'base64-wrapped token not found');
        assert.equal(found.encoding, 'base64');
        assert.equal(found.line, 2);
        assert.equal(found.column, 9);
      }
    });
    void it('reports a token inside a base64 Kubernetes Secret value by its own rule', () => {
      const encoded = Buffer.from(npmToken()).toString('base64');
      const findings = scanWithScanner(scanner, `kind: Secret\ndata:\n  npm: ${encoded}\n`, 'secret.yaml');
      assert.deepEqual(
        findings.map((f) => f.ruleId),
        ['npm-access-token'],
      );
    });
  });

  void describe('URL encoding', () => {
    void it('decodes %XX sequences, tolerating malformed ones', () => {
      assert.equal(decodeUrlSegment('a%2Fb'), 'a/b');
      assert.equal(decodeUrlSegment('a%2Fb%ZZ'), 'a/b%ZZ');
    });
    void it('reports a token hidden in a percent-encoded query string', () => {
      const token = npmToken();
      const encoded = encodeURIComponent(`token=${token}&x=1`).replace('_', '%5F');
      const findings = scanWithScanner(scanner, `GET /hook?payload=${encoded} HTTP/1.1\n`, 'access.log');
      const found = findings.find((f) => f.ruleId === 'npm-access-token');
      assert.ok(found !== undefined, 'percent-encoded token not found');
      assert.equal(found.encoding, 'url');
    });
  });

  void describe('string escapes', () => {
    void it('decodes JSON, JavaScript and C escapes', () => {
      assert.equal(decodeEscapedSegment('a\\u005fb\\x41\\/c\\n'), 'a_bA/c\n');
    });
    void it('reports a token whose underscore is written as \\u005f', () => {
      const token = npmToken().replace('_', '\\u005f');
      const findings = scanWithScanner(scanner, `{"registryToken": "${token}"}\n`, 'config.json');
      const found = findings.find((f) => f.ruleId === 'npm-access-token');
      assert.ok(found !== undefined, 'escaped token not found');
      assert.equal(found.encoding, 'escape');
    });
    void it('reports URL credentials whose slashes are escaped as \\/', () => {
      const password = checksummed(['gh', 'p_'].join(''));
      const findings = scanWithScanner(
        scanner,
        `{"remote": "https:\\/\\/bot:${password}@github.com\\/org\\/repo.git"}\n`,
        'config.json',
      );
      assert.ok(findings.some((f) => f.ruleId === 'github-classic-pat'));
    });
  });
});
