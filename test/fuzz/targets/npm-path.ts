/** npm path parsing (`parseNpmPath`): never throws; what it returns is decoded, NUL-free and round-trips npm's own escaping. */
import fc from 'fast-check';
import { parseNpmPath } from '../../../src/web/index.ts';
import { syncProperty, type FuzzProperty } from '../harness.ts';
import { escapedName } from '../../support/publish-doc.ts';

const pieceArb = fc.oneof(
  fc.constantFrom(
    '@',
    '%40',
    '%2f',
    '%2F',
    '%',
    '%%',
    '%zz',
    '%0',
    '%00',
    '%e9',
    '%c3%a9',
    '%ed%a0%80',
    '-',
    '..',
    '.',
    '/',
    '//',
    '?',
    '#',
    'npm',
    'dist-tags',
    'latest',
  ),
  fc.string({ unit: 'grapheme-ascii', maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 3 }),
);
/** Raw paths built from the pieces that make percent-decoding and scope handling interesting. */
const rawPathArb = fc.oneof(
  fc.array(pieceArb, { maxLength: 10 }).map((pieces) => pieces.join('')),
  fc.string({ unit: 'binary', maxLength: 80 }),
);

const NAME_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789-._~';
const nameWordArb = fc
  .string({ unit: fc.constantFrom(...NAME_CHARS), minLength: 1, maxLength: 20 })
  .filter((w) => !w.startsWith('.') && !w.startsWith('_') && !w.startsWith('-'));
/** Names as npm allows them for new packages (lower case, URL-safe, optionally scoped). */
const npmNameArb = fc.oneof(
  nameWordArb,
  fc.tuple(nameWordArb, nameWordArb).map(([scope, name]) => `@${scope}/${name}`),
);

function assertWellShaped(raw: string): void {
  const parsed = parseNpmPath(raw);
  if (parsed === undefined) return;
  if (parsed.kind === 'special') {
    if (parsed.segments.some((s) => s.includes('\0'))) throw new Error('a special segment keeps a NUL');
    return;
  }
  if (parsed.name.length === 0 || parsed.name.includes('\0'))
    throw new Error(`bad name ${JSON.stringify(parsed.name)}`);
  if (parsed.rest.some((s) => s.length === 0 || s.includes('\0')))
    throw new Error('an empty or NUL rest segment');
}

/** The npm path properties. */
export const npmPathProperties: readonly FuzzProperty[] = [
  {
    name: 'parseNpmPath never throws and returns only non-empty, NUL-free names and segments',
    ciRuns: 3000,
    caseTimeoutMs: 1_000,
    build: () => syncProperty(rawPathArb, (raw) => assertWellShaped(raw)),
  },
  {
    name: 'parseNpmPath reads back any npm name as npm escapes it, with or without a tarball suffix',
    ciRuns: 1500,
    caseTimeoutMs: 1_000,
    build: () =>
      syncProperty(
        fc.record({ name: npmNameArb, tarball: fc.boolean(), leadingSlash: fc.boolean() }),
        ({ name, tarball, leadingSlash }) => {
          const leaf = name.split('/').pop()!;
          const raw = `${leadingSlash ? '/' : ''}${escapedName(name)}${tarball ? `/-/${leaf}-1.0.0.tgz` : ''}`;
          const parsed = parseNpmPath(raw);
          if (parsed?.kind !== 'package' || parsed.name !== name)
            throw new Error(`read back ${JSON.stringify(parsed)}`);
          const rest = tarball ? ['-', `${leaf}-1.0.0.tgz`] : [];
          if (JSON.stringify(parsed.rest) !== JSON.stringify(rest))
            throw new Error(`rest ${JSON.stringify(parsed.rest)}`);
        },
      ),
  },
];
