import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateToken } from '../tokens/index.ts';
import { allowVerdict, parseAllowComment } from './allow-comments.ts';
import { createScanner, scanWithScanner } from './scanner.ts';

const scanner = createScanner();

void describe('allow comments', () => {
  void it('parses rule ids and the reason', () => {
    assert.deepEqual(
      parseAllowComment('x // pubgate:allow npm-access-token,jwt -- test fixture for the parser'),
      {
        rules: ['npm-access-token', 'jwt'],
        reason: 'test fixture for the parser',
      },
    );
  });
  void it('strips a closing comment marker from the reason', () => {
    assert.equal(parseAllowComment('/* pubgate:allow * -- revoked long ago */')?.reason, 'revoked long ago');
  });
  void it('hides a finding when the comment on the same line names its rule and a reason', () => {
    const findings = scanWithScanner(
      scanner,
      `t = "${generateToken()}" # pubgate:allow pubgate-token -- revoked, kept as a fixture\n`,
      'a.py',
    );
    assert.equal(findings.length, 0);
  });
  void it('hides a finding when the comment is on the line above', () => {
    const findings = scanWithScanner(
      scanner,
      `// pubgate:allow * -- documented sample\nconst t = "${generateToken()}";\n`,
      'a.js',
    );
    assert.equal(findings.length, 0);
  });
  void it('keeps the finding, with a note, when the comment gives no reason', () => {
    const findings = scanWithScanner(
      scanner,
      `t = "${generateToken()}" # pubgate:allow pubgate-token\n`,
      'a.py',
    );
    assert.equal(findings.length, 1);
    assert.match(findings[0]!.note ?? '', /no reason/);
  });
  void it('keeps the finding when the comment names another rule', () => {
    assert.equal(allowVerdict('pubgate-token', 'x # pubgate:allow jwt -- a reason here', undefined), 'none');
  });
});
