/**
 * `scanText`: never throws on any text, finds a planted pubgate token raw or hidden in base64,
 * percent-encoding or string escapes, never shows the token in a finding, and scans in time
 * proportional to the text.
 */
import fc from 'fast-check';
import { scanText } from '../../../src/scan/index.ts';
import { generateToken, hashToken } from '../../../src/tokens/index.ts';
import { tokenFromSeed } from '../support/token.ts';
import { syncProperty, type FuzzProperty } from '../harness.ts';

/** Fragments that wake the prefilter, the rules and every decoder. */
const FRAGMENTS = [
  'npm_',
  'ghp_',
  'github_pat_',
  'pgt_',
  'AKIA',
  'xoxb-',
  'sk_live_',
  '-----BEGIN PRIVATE KEY-----',
  '-----END PRIVATE KEY-----',
  '_authToken=',
  '//registry.npmjs.org/:_authToken=',
  'password=',
  'PASSWORD: ',
  'token',
  'secret',
  'api_key',
  'Authorization: Bearer ',
  'https://user:pass@host/',
  'cGd0X',
  'bnBtX',
  'Z2hwX',
  'QUtJQ',
  'X2F1dGhUb2tlb',
  '%41',
  '%2F',
  '%',
  '\\u0041',
  '\\x41',
  '\\/',
  '\\',
  '"',
  "'",
  '=',
  '==',
  ':',
  ' ',
  '\n',
  '\r\n',
  '\t',
  '# pubgate-allow: reason',
  '# pubgate-allow',
  '0123456789abcdef',
  'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  'zzzzzzzz',
];

const textArb = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 400 }),
  fc
    .array(
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...FRAGMENTS) },
        { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
        { weight: 1, arbitrary: fc.base64String({ maxLength: 80 }) },
      ),
      { maxLength: 80 },
    )
    .map((p) => p.join('')),
);

const noiseArb = fc.array(
  fc.string({ unit: 'grapheme-ascii', maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ' ')),
  { maxLength: 4 },
);

/** Substrings the scanner's placeholder heuristics treat as "not a real secret" (a known bug for checksummed tokens). */
const PLACEHOLDER_LOOKALIKE = /[xX]{4,}|example|fake|dummy|redacted|changeme|placeholder|notreal|yourtoken/i;

/** A fresh token that does not trip the placeholder heuristics (those cases have their own todo property). */
function plainToken(): string {
  for (;;) {
    const token = generateToken();
    if (!PLACEHOLDER_LOOKALIKE.test(token)) return token;
  }
}

function percentAll(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`)
    .join('');
}

function escapeSome(text: string, every: number): string {
  return [...text]
    .map((c, i) => (i % every === 0 ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c))
    .join('');
}

/** The scanText properties. */
export const scanTextProperties: readonly FuzzProperty[] = [
  {
    name: 'scanText never throws on any text and reports well-formed, secret-free findings',
    ciRuns: 800,
    caseTimeoutMs: 2_000,
    build: () =>
      syncProperty(textArb, (text) => {
        for (const finding of scanText(text, 'fuzz.txt')) {
          if (!(finding.line >= 1 && finding.column >= 1 && /^[0-9a-f]{64}$/.test(finding.fingerprint)))
            throw new Error(`malformed finding ${finding.ruleId}`);
        }
      }),
  },
  {
    name: 'a planted pubgate token is found raw or inside base64, percent-encoding and escapes, and never shown',
    ciRuns: 300,
    caseTimeoutMs: 2_000,
    build: () =>
      syncProperty(
        fc.record({
          encoding: fc.constantFrom(
            'raw' as const,
            'base64' as const,
            'base64url' as const,
            'url' as const,
            'escape' as const,
          ),
          before: noiseArb,
          after: noiseArb,
          indent: fc.integer({ min: 0, max: 12 }),
          lead: fc.constantFrom('', 'x', 'xy', 'TOKEN='),
          every: fc.integer({ min: 1, max: 9 }),
        }),
        ({ encoding, before, after, indent, lead, every }) => {
          // Made per case and never part of the generated value, so no report can print it.
          const token = plainToken();
          const planted = {
            raw: `token: ${token}`,
            base64: `blob: ${Buffer.from(`${lead}${token}\n`).toString('base64')}`,
            base64url: `blob: ${Buffer.from(`${lead}${token}\n`).toString('base64url')}`,
            url: `url: https://x.example/?t=${percentAll(token)}&a=b`,
            escape: `value: "${escapeSome(token, every)}"`,
          }[encoding];
          const lines = [...before, `${' '.repeat(indent)}${planted}`, ...after];
          const findings = scanText(lines.join('\n'), 'planted.txt');
          const found = findings.find((f) => f.ruleId === 'pubgate-token');
          if (found === undefined) throw new Error(`the token was not found (${encoding})`);
          if (found.pubgateTokenHash !== hashToken(token)) throw new Error('the finding names another token');
          const expected = encoding === 'raw' ? undefined : encoding === 'base64url' ? 'base64' : encoding;
          if (found.encoding !== expected)
            throw new Error(`encoding ${found.encoding} instead of ${expected}`);
          if (found.line !== before.length + 1)
            throw new Error(`line ${found.line} instead of ${before.length + 1}`);
          if (findings.some((f) => JSON.stringify(f).includes(token.slice(4))))
            throw new Error('a finding shows the token');
        },
      ),
  },
  {
    name: 'a checksum-valid pubgate token is found even when its random part looks like a placeholder (xxxx, fake, dummy)',
    ciRuns: 50,
    caseTimeoutMs: 2_000,
    build: () =>
      syncProperty(
        fc.record({
          seed: fc.nat(),
          word: fc.constantFrom(
            'xxxx',
            'XXXX',
            'xXxX',
            'fake',
            'FAKE',
            'dummy',
            'example',
            'EXAMPLE',
            'redacted',
            'changeme',
          ),
          at: fc.integer({ min: 0, max: 39 }),
        }),
        ({ seed, word, at }) => {
          const token = tokenFromSeed(seed, word, at);
          const found = scanText(`token: ${token}\n`, 'planted.txt').some(
            (f) => f.ruleId === 'pubgate-token' && f.pubgateTokenHash === hashToken(token),
          );
          if (!found)
            throw new Error(`a checksum-valid token containing ${JSON.stringify(word)} was not reported`);
        },
      ),
  },
  {
    name: 'scanText runs in time proportional to the text, also on trigger-dense text',
    ciRuns: 1,
    caseTimeoutMs: 1_500,
    endOnFailure: true,
    build: () =>
      syncProperty(
        fc.record({
          units: fc.array(fc.constantFrom('%41 ', '\\x41"', 'cGd0X ', 'bnBtX ', "\\u0041'", 'word '), {
            minLength: 1,
            maxLength: 3,
          }),
          kilobytes: fc.integer({ min: 96, max: 160 }),
        }),
        ({ units, kilobytes }) => {
          const unit = units.join('');
          scanText(unit.repeat(Math.ceil((kilobytes * 1024) / unit.length)), 'dense.txt');
        },
      ),
  },
];
