/**
 * Token format (`generateToken`, `isWellFormedToken`, `hashToken`) against an independent model
 * (test/fuzz/support/token.ts: CRC-32 from node:zlib, base62 written again). Every generated token verifies; no string
 * with a wrong checksum is accepted.
 */
import fc from 'fast-check';
import { generateToken, hashToken, isWellFormedToken, TOKEN_PATTERN } from '../../../src/tokens/index.ts';
import { syncProperty, type FuzzProperty } from '../harness.ts';
import { BASE62, referenceChecksum, referenceWellFormed } from '../support/token.ts';

const base62Arb = (length: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...BASE62), minLength: length, maxLength: length });

/** Candidate strings: right shape with random checksum, valid by the model, mutated valid, or anything. */
const candidateArb = fc.oneof(
  { weight: 4, arbitrary: base62Arb(46).map((body) => `pgt_${body}`) },
  { weight: 2, arbitrary: base62Arb(40).map((random) => `pgt_${random}${referenceChecksum(random)}`) },
  {
    weight: 3,
    arbitrary: fc
      .record({
        random: base62Arb(40),
        edits: fc.array(fc.tuple(fc.integer({ min: 0, max: 45 }), fc.constantFrom(...BASE62)), {
          minLength: 1,
          maxLength: 3,
        }),
      })
      .map(({ random, edits }) => {
        const body = [...`${random}${referenceChecksum(random)}`];
        for (const [at, c] of edits) body[at] = c;
        return `pgt_${body.join('')}`;
      }),
  },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.constantFrom('PGT_', 'pgt-', 'pgt__').chain((p) => base62Arb(46).map((b) => p + b)),
    ),
  },
);

/** The token format properties. */
export const tokenFormatProperties: readonly FuzzProperty[] = [
  {
    name: 'isWellFormedToken accepts exactly what the reference checksum accepts (no false accept, no false reject)',
    ciRuns: 5000,
    caseTimeoutMs: 1_000,
    build: () =>
      syncProperty(candidateArb, (candidate) => {
        if (isWellFormedToken(candidate) !== referenceWellFormed(candidate))
          throw new Error(
            `isWellFormedToken disagrees with the reference (${referenceWellFormed(candidate) ? 'false reject' : 'false accept'})`,
          );
      }),
  },
  {
    name: 'random right-shape strings are almost never accepted (rate under 1e-3 over the run)',
    ciRuns: 1,
    caseTimeoutMs: 5_000,
    build: () =>
      syncProperty(fc.array(base62Arb(46), { minLength: 4000, maxLength: 4000 }), (bodies) => {
        const accepted = bodies.filter(
          (b) => isWellFormedToken(`pgt_${b}`) && !referenceWellFormed(`pgt_${b}`),
        ).length;
        const valid = bodies.filter((b) => isWellFormedToken(`pgt_${b}`)).length;
        // A random 6-character base62 tail matches a CRC-32 with probability 2^-32: expect none.
        if (accepted > 0 || valid / bodies.length > 1e-3)
          throw new Error(`accepted ${valid} of ${bodies.length} random strings`);
      }),
  },
  {
    name: 'every generated token verifies, matches TOKEN_PATTERN and hashes to 64 hex digits',
    ciRuns: 2000,
    caseTimeoutMs: 1_000,
    build: () =>
      syncProperty(fc.constant(null), () => {
        const token = generateToken();
        if (!isWellFormedToken(token) || !referenceWellFormed(token))
          throw new Error('a generated token does not verify');
        TOKEN_PATTERN.lastIndex = 0;
        if (!TOKEN_PATTERN.test(` ${token} `)) throw new Error('TOKEN_PATTERN misses a generated token');
        TOKEN_PATTERN.lastIndex = 0;
        if (!/^[0-9a-f]{64}$/.test(hashToken(token))) throw new Error('hashToken is not sha256 hex');
      }),
  },
];
