import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { generateToken } from '../tokens/index.ts';
import {
  badChecksum,
  checksummed,
  plantedSecrets,
  randomBase62,
  randomFrom,
} from '../../test/fixtures/scan/secrets.ts';
import { BUILTIN_RULES } from './rules.ts';
import { createScanner, scanWithScanner } from './scanner.ts';

const scanner = createScanner();
const scan = (text: string, path = 'file.txt') => scanWithScanner(scanner, text, path);
const j = (...parts: string[]): string => parts.join('');
const x = (n: number): string => 'x'.repeat(n);

void describe('built-in rules', () => {
  void describe('true positives', () => {
    const cases = plantedSecrets();
    void it('has a planted case for every built-in rule', () => {
      const covered = new Set(cases.map((c) => c.ruleId));
      const missing = BUILTIN_RULES.map((rule) => rule.id).filter((id) => !covered.has(id));
      assert.deepEqual(missing, []);
    });
    for (const item of cases) {
      void it(`reports ${item.ruleId}`, () => {
        const findings = scan(item.text, item.path);
        assert.ok(
          findings.some((f) => f.ruleId === item.ruleId),
          `expected ${item.ruleId}, got [${findings.map((f) => f.ruleId).join(', ')}]`,
        );
      });
    }
  });

  void describe('look-alikes that must not be reported', () => {
    const pgt = generateToken();
    const awsExample = j('AKIA', 'IOSFODNN7', 'EXAMPLE');
    const sample = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const lookAlikes: Array<[string, string, string?]> = [
      ['a pgt_ token with a wrong checksum', `token ${pgt.slice(0, -1)}${pgt.endsWith('a') ? 'b' : 'a'}`],
      ['an npm_ token with a wrong checksum', `t = "${badChecksum(j('npm', '_'))}"`],
      ['an npm_ token with a wrong checksum under a token name', `NPM_TOKEN="${badChecksum(j('npm', '_'))}"`],
      ['a ghp_ token with a wrong checksum', `t = "${badChecksum(j('gh', 'p_'))}"`],
      ['a gho_ token with a wrong checksum', badChecksum(j('gh', 'o_'))],
      ['the token in GitHub docs', j('gh', 'p_16C7e42F292c6912E7710c838347Ae178B4a')],
      ['an npm_ placeholder of x', j('npm', '_', x(36))],
      ['an _authToken environment placeholder', '//registry.npmjs.org/:_authToken=${NPM_TOKEN}'],
      ['an _authToken Actions placeholder', '//registry.npmjs.org/:_authToken=${{ secrets.NPM_TOKEN }}'],
      ['an _authToken angle-bracket placeholder', '//registry.npmjs.org/:_authToken=<YOUR_TOKEN>'],
      ['an _auth value that is not user:password', `_auth=${Buffer.from('justaname').toString('base64')}`],
      ['a glpat- of repeated characters', j('gl', 'pat-', x(20))],
      ['a glpat- of a counting sequence', j('gl', 'pat-', '12345678901234567890')],
      ['a pypi- token of x', j('pypi', '-AgEIcHlwaS5vcmc', x(70))],
      ['the AWS documentation key id', `aws_access_key_id = ${awsExample}`],
      [
        'the AWS documentation secret',
        `aws_secret_access_key = ${j('wJalrXUtnFEMI/K7MDENG/bPxRfiCY', 'EXAMPLEKEY')}`,
      ],
      ['a Google API key placeholder', j('AI', 'za', x(35))],
      ['a JWT with alg none', `${sample({ alg: 'none' })}.${sample({ sub: 'a-user-id' })}.${x(20)}`],
      [
        'the jwt.io sample',
        `${sample({ alg: 'HS256', typ: 'JWT' })}.${sample({ sub: '1234567890', name: 'John Doe', iat: 1516239022 })}.${randomBase62(43)}`,
      ],
      [
        'eyJ text that is not JSON',
        j('eyJ', randomBase62(20), '.eyJ', randomBase62(20), '.', randomBase62(30)),
      ],
      [
        'a truncated private key',
        j('-----BEGIN RSA ', 'PRIVATE KEY-----\nMIIEpAIBAAKCAQEA...\n-----END RSA ', 'PRIVATE KEY-----'),
      ],
      [
        'a public key',
        j('-----BEGIN PUBLIC KEY-----\n', randomBytes(300).toString('base64'), '\n-----END PUBLIC KEY-----'),
      ],
      [
        'a certificate',
        j(
          '-----BEGIN CERTIFICATE-----\n',
          randomBytes(600).toString('base64'),
          '\n-----END CERTIFICATE-----',
        ),
      ],
      ['a URL with a stop-word password', 'https://user:password@registry.corp.internal/'],
      ['a URL with an environment placeholder', 'postgres://app:${DB_PASSWORD}@db:5432/app'],
      ['a URL on example.com', `https://user:${randomBase62(12)}@example.com/`],
      ['a URL with a port and no credentials', 'https://registry.corp:8443/path'],
      ['a password read from the environment', 'password = process.env.PASSWORD'],
      ['a token read from a member', 'const token = this.options.token;'],
      ['an API key placeholder', 'apiKey: "<YOUR_API_KEY>"'],
      ['an API key of x', `api_key = "${x(32)}"`],
      ['a lockfile integrity value', `"integrity": "sha512-${randomBytes(64).toString('base64')}"`],
      ['an SRI value under a token name', `token: "sha384-${randomBytes(48).toString('base64')}"`],
      [
        'a UUID under a secret name',
        `client_secret = "${randomFrom('0123456789abcdef', 8)}-1234-4abc-8def-${randomFrom('0123456789abcdef', 12)}"`,
      ],
      ['a commit id under a sha name', `commit_sha = "${randomFrom('0123456789abcdef', 40)}"`],
      ['a bcrypt hash', `password_hash: "$2b$10$${randomBase62(53)}"`],
      ['a password that is a hash', `password: "$2b$10$${randomBase62(53)}"`],
      ['a tokenizer call', 'const tokenizer = createTokenizer(options);'],
      [
        'a Slack webhook placeholder',
        j('https://hooks.', 'slack.com/services/T00000000/B00000000/', 'X'.repeat(24)),
      ],
      [
        'a ConfigMap data value',
        `kind: ConfigMap\ndata:\n  api: ${Buffer.from(randomBase62(20)).toString('base64')}\n`,
      ],
      ['a Secret with a templated value', 'kind: Secret\nstringData:\n  api: ${API_TOKEN}\n'],
      ['a Stripe publishable key', j('pk', '_live_', randomBase62(24))],
      ['an hf_ identifier of lower-case words', j('h', 'f_', 'abcdefghijklmnopqrstuvwxyzabcdefgh')],
      ['a secret that is an identifier', 'secret: someSecretVariableName,'],
      ['a TypeScript type annotation', 'password: string;'],
      ['a password example in docs', 'password: "your-password-here"'],
      ['a masked secret', 'NPM_TOKEN=****************'],
      ['an Actions secret reference', 'token: ${{ secrets.GITHUB_TOKEN }}'],
      ['a Helm template value', 'password: {{ .Values.db.password }}'],
      ['a key in a cache key name', `cacheKey = "${randomBase62(24)}"`],
      [
        'a TypeScript property typed with a PascalCase type',
        '    signalAllAcceptedCredentials: BrowserCapabilitySupport;',
      ],
      ['a class alias with a numeric suffix', 'CompositePrivateKey = CompositePrivateKey_1 = __decorate(['],
      ['a SCREAMING_CASE constant', 'exports.SOCKS5_NO_ACCEPTABLE_AUTH = SOCKS5_NO_ACCEPTABLE_AUTH;'],
      ['a header name under an AUTH constant', "  WWW_AUTH: 'WWW-Authenticate',"],
      ['a word with a leading symbol', "  DEPRECATED_AUTH: '@authenticated',"],
      ['a regex that mentions _authToken=', 'const AuthTokenPattern = /_authToken=([^$].*)/g;'],
      ['a URL with a placeholder user name', "'socks://your-name%40gmail.com:abcdef12345124@proxy.internal'"],
    ];
    for (const [name, text, path] of lookAlikes) {
      void it(`does not report ${name}`, () => {
        const findings = scan(`${text}\n`, path);
        assert.deepEqual(
          findings.map((f) => f.ruleId),
          [],
        );
      });
    }
  });

  void describe('when two rules match the same characters', () => {
    void it('reports only the more specific one', () => {
      const token = checksummed(j('npm', '_'));
      const findings = scan(`//registry.npmjs.org/:_authToken=${token}\nNPM_TOKEN="${token}"\n`);
      assert.deepEqual(
        findings.map((f) => `${f.ruleId}@${f.line}`),
        ['npm-access-token@1', 'npm-access-token@2'],
      );
    });
  });
});
