/**
 * Tar parsing (`inspectTarball`, `assertSafeEntryPath`). Contract: for any input it resolves or
 * rejects with a PubgateError coded ERR_TARBALL_* / ERR_PUBLISH_*; what it accepts lies under
 * `package/` with no traversal, no absolute path and no case-folded duplicate; gzip bombs stop at
 * `unpackedBytes`.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import {
  assertSafeEntryPath,
  inspectTarball,
  type TarballInspection,
  type TarballLimits,
} from '../../../src/release/index.ts';
import { asyncProperty, outcomeOf, outcomeOfSync, syncProperty, type FuzzProperty } from '../harness.ts';
import { packageTarball } from '../../support/publish-doc.ts';
import {
  ENTRY_TYPES,
  base256Size,
  octalSize,
  packTar,
  padBlock,
  paxRecord,
  rawHeaderBlock,
  type PackEntry,
  type RawHeader,
} from '../support/tar.ts';

const LIMITS: TarballLimits = { unpackedBytes: 64 * 1024, entries: 24, manifestBytes: 4096 };
const CODED = /^ERR_(TARBALL|PUBLISH)_/;
const PATH_CODES = /^ERR_TARBALL_(BAD_PATH|ABSOLUTE_PATH|PATH_TRAVERSAL|OUTSIDE_PACKAGE)$/;

// ---- arbitraries ------------------------------------------------------------------------------

/** Path segments that matter to an installer: traversal, case and Unicode look-alikes, drive letters. */
const segmentArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('package', 'index.js', 'package.json', 'lib', 'a') },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'PACKAGE',
      'Package',
      'PACKAGE.JSON',
      'Index.js',
      'A',
      '..',
      '.',
      '',
      '...',
      '.npmrc',
      'C:',
      'c:',
      '~',
      '%2e%2e',
      '\u00e9',
      'e\u0301',
      '\u212a',
      'k',
      '\0',
      ' ',
    ),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 8 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom('x'.repeat(101), 'y'.repeat(160)) },
);
const separatorArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant('/') },
  { weight: 1, arbitrary: fc.constantFrom('//', '\\', '/./', '/../') },
);

/** Entry names, usually under `package/`, often hostile. */
export const entryNameArb: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'package',
      'package/',
      './package',
      'package/.',
      'package//',
      'package/x/..',
      'PACKAGE/INDEX.JS',
    ),
  },
  { weight: 12, arbitrary: composedNameArb() },
);

function composedNameArb(): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.oneof(
        { weight: 6, arbitrary: fc.constant('package/') },
        {
          weight: 1,
          arbitrary: fc.constantFrom('', '/', './', '../', 'C:\\', 'PACKAGE/', 'package\\', './package/'),
        },
      ),
      fc.array(fc.tuple(segmentArb, separatorArb), { minLength: 0, maxLength: 4 }),
      segmentArb,
      fc.boolean(),
    )
    .map(
      ([prefix, middle, last, trailingSlash]) =>
        `${prefix}${middle.map(([s, sep]) => s + sep).join('')}${last}${trailingSlash ? '/' : ''}`,
    );
}

const contentArb = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 256 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 96 * 1024 }).map((n) => new Uint8Array(n)) },
);

const manifestArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant(JSON.stringify({ name: 'fuzz-pkg', version: '1.0.0' })) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 64 }) },
  { weight: 1, arbitrary: fc.constant(`\uFEFF${JSON.stringify({ name: 'fuzz-pkg', version: '1.0.0' })}`) },
  { weight: 1, arbitrary: fc.constant(JSON.stringify({ pad: 'x'.repeat(LIMITS.manifestBytes) })) },
);

const packEntryArb: fc.Arbitrary<PackEntry> = fc.record(
  {
    name: entryNameArb,
    type: fc.oneof(
      { weight: 6, arbitrary: fc.constant('file' as const) },
      { weight: 3, arbitrary: fc.constantFrom(...ENTRY_TYPES) },
    ),
    content: contentArb,
    linkname: fc.constantFrom('package/index.js', '../../etc/passwd', '/etc/passwd', 'x'),
    mode: fc.constantFrom(0o644, 0o755, 0o4755, 0o777, 0),
  },
  { requiredKeys: ['name', 'type', 'content'] },
);

/** Well-formed archives (tar-stream's packer) with arbitrary entries, usually with a manifest first. */
const wellFormedArb = fc.record({
  manifest: fc.option(manifestArb, { freq: 5 }),
  manifestName: fc.constantFrom(
    'package/package.json',
    'package/package.json',
    'PACKAGE/package.json',
    'package//package.json',
    './package/package.json',
  ),
  entries: fc.array(packEntryArb, { maxLength: 8 }),
  shuffleManifestLast: fc.boolean(),
});

type WellFormed = typeof wellFormedArb extends fc.Arbitrary<infer R> ? R : never;

async function buildWellFormed(input: WellFormed): Promise<Buffer> {
  const manifest: PackEntry[] =
    input.manifest === null
      ? []
      : [{ name: input.manifestName, type: 'file', content: Buffer.from(input.manifest, 'utf8') }];
  const entries = input.shuffleManifestLast
    ? [...input.entries, ...manifest]
    : [...manifest, ...input.entries];
  return gzipSync(await packTar(entries));
}

const rawHeaderArb: fc.Arbitrary<RawHeader> = fc.record({
  name: fc.oneof(entryNameArb, fc.string({ unit: 'binary', maxLength: 110 })),
  mode: fc.oneof(fc.constant('0000644\0'), fc.stringMatching(/^[0-7 \0]{0,8}$/), fc.string({ maxLength: 8 })),
  size: fc.oneof(
    { weight: 6, arbitrary: fc.nat(4096).map(octalSize) },
    { weight: 1, arbitrary: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 80n }).map(base256Size) },
    { weight: 1, arbitrary: fc.constantFrom('77777777777\0', '99999999999\0', '', ' 1 2 3', '-1', '0x10') },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 12, maxLength: 12 }) },
  ),
  typeflag: fc.oneof(
    fc.constantFrom(
      '0',
      '\0',
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
      'x',
      'g',
      'L',
      'K',
      'D',
      'M',
      'N',
      'S',
      'V',
    ),
    fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 }),
  ),
  linkname: fc.oneof(fc.constant(''), entryNameArb),
  magic: fc.constantFrom('ustar\u000000', 'ustar  \0', 'ustar\0\0\0', '\0\0\0\0\0\0\0\0', 'garbage!'),
  prefix: fc.oneof(
    { weight: 4, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: fc.constantFrom('package', '..', '/abs', 'package/..') },
    { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  ),
  badChecksum: fc.oneof(
    { weight: 9, arbitrary: fc.constant(false) },
    { weight: 1, arbitrary: fc.constant(true) },
  ),
});

const paxBodyArb = fc
  .array(
    fc.tuple(
      fc.constantFrom(
        'path',
        'linkpath',
        'size',
        'mtime',
        'uid',
        'gname',
        'SCHILY.xattr.x',
        'GNU.sparse.size',
        'comment',
      ),
      fc.oneof(entryNameArb, fc.stringMatching(/^[0-9]{0,20}$/), fc.string({ maxLength: 20 })),
    ),
    { maxLength: 3 },
  )
  .map((records) => Buffer.from(records.map(([key, value]) => paxRecord(key, value)).join(''), 'utf8'));

/** Hand-made archives: header blocks with arbitrary fields, bodies that may not match the declared size. */
const tarIshArb = fc
  .record({
    members: fc.array(
      fc.tuple(
        rawHeaderArb,
        fc.oneof(
          fc.uint8Array({ maxLength: 1200 }),
          paxBodyArb,
          entryNameArb.map((n) => Buffer.from(`${n}\0`, 'utf8')),
        ),
      ),
      { minLength: 1, maxLength: 5 },
    ),
    end: fc.constantFrom('two-zero-blocks', 'one-zero-block', 'none', 'garbage'),
  })
  .map(({ members, end }) => {
    const parts: Buffer[] = [];
    for (const [header, body] of members) parts.push(rawHeaderBlock(header), padBlock(body));
    if (end === 'two-zero-blocks') parts.push(Buffer.alloc(1024));
    if (end === 'one-zero-block') parts.push(Buffer.alloc(512));
    if (end === 'garbage') parts.push(Buffer.from('not a header at all'.repeat(30)));
    return Buffer.concat(parts);
  });

/** Random bytes: raw, behind a gzip magic, or gzipped (valid gzip, random tar). */
const randomBytesArb = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }),
  fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.concat([Buffer.from([0x1f, 0x8b]), b])),
  fc.uint8Array({ maxLength: 4096 }).map((b) => gzipSync(b)),
  fc.uint8Array({ maxLength: 600 }).map((b) => gzipSync(Buffer.concat([padBlock(b), Buffer.alloc(1024)]))),
);

const mutationArb = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('overwrite' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 600 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 600 }) }),
);
type Mutation = typeof mutationArb extends fc.Arbitrary<infer M> ? M : never;

/** Applies byte-level mutations (positions taken modulo the current length). */
export function mutateBytes(input: Uint8Array, mutations: readonly Mutation[]): Buffer {
  let bytes = Buffer.from(input);
  for (const m of mutations) {
    const at = bytes.length === 0 ? 0 : m.at % bytes.length;
    switch (m.kind) {
      case 'flip':
        if (bytes.length > 0) bytes[at] = bytes[at]! ^ (1 << m.bit);
        break;
      case 'truncate':
        bytes = bytes.subarray(0, at);
        break;
      case 'overwrite':
        bytes = Buffer.concat([
          bytes.subarray(0, at),
          Buffer.from(m.bytes),
          bytes.subarray(at + m.bytes.length),
        ]);
        break;
      case 'insert':
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(m.bytes), bytes.subarray(at)]);
        break;
      case 'delete':
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
        break;
    }
  }
  return bytes;
}

/** Mutations of a valid package tarball, at the gzip layer or inside it (re-gzipped). */
export const mutationsArb = fc.record({
  layer: fc.constantFrom('gzip', 'tar'),
  mutations: fc.array(mutationArb, { minLength: 1, maxLength: 5 }),
});

// ---- checks -----------------------------------------------------------------------------------

/** The invariants of an accepted tarball (everything but "strictly below package/"). */
export function assertAcceptedInvariants(inspection: TarballInspection, limits: TarballLimits): void {
  if (inspection.files.length > limits.entries)
    throw new Error(`accepted ${inspection.files.length} files, over the entries limit`);
  const total = inspection.files.reduce((n, f) => n + f.size, 0);
  if (total !== inspection.unpackedBytes)
    throw new Error(`unpackedBytes ${inspection.unpackedBytes} is not the sum of file sizes ${total}`);
  if (total > limits.unpackedBytes) throw new Error(`accepted ${total} unpacked bytes, over the limit`);
  if (
    typeof inspection.packageJson !== 'object' ||
    inspection.packageJson === null ||
    Array.isArray(inspection.packageJson)
  ) {
    throw new Error('packageJson is not an object');
  }
  const seen = new Set<string>();
  for (const { path } of inspection.files) {
    const segments = path.split('/');
    if (segments[0] !== 'package') throw new Error(`accepted path outside package: ${JSON.stringify(path)}`);
    if (segments.some((s) => s === '' || s === '.' || s === '..'))
      throw new Error(`accepted a non-normalised path ${JSON.stringify(path)}`);
    if (path.startsWith('/') || /^[A-Za-z]:/.test(path) || path.includes('\\') || path.includes('\0'))
      throw new Error(`accepted an unsafe path ${JSON.stringify(path)}`);
    if (assertSafeEntryPath(path) !== path)
      throw new Error(`normalisation is not idempotent for ${JSON.stringify(path)}`);
    const key = path.toLowerCase();
    if (seen.has(key)) throw new Error(`accepted a case-folded duplicate ${JSON.stringify(path)}`);
    seen.add(key);
  }
}

async function assertInspectContract(bytes: Uint8Array, limits: TarballLimits = LIMITS): Promise<void> {
  const outcome = await outcomeOf(() => inspectTarball(bytes, limits), CODED);
  if (outcome.ok) assertAcceptedInvariants(outcome.value, limits);
}

// ---- properties -------------------------------------------------------------------------------

/** The tar parsing properties. */
export const tarballProperties: readonly FuzzProperty[] = [
  {
    name: 'random bytes resolve or reject with ERR_TARBALL_*, never another exception',
    ciRuns: 300,
    caseTimeoutMs: 5_000,
    build: () => asyncProperty(randomBytesArb, (bytes) => assertInspectContract(bytes)),
  },
  {
    name: 'hand-made tar headers (pax, GNU long names, base-256 sizes, bad checksums) keep the contract',
    ciRuns: 300,
    caseTimeoutMs: 5_000,
    build: () => asyncProperty(tarIshArb, (tar) => assertInspectContract(gzipSync(tar))),
  },
  {
    name: 'a header whose base-256 size field has an invalid lead byte is refused with a code, not left pending',
    ciRuns: 20,
    caseTimeoutMs: 2_000,
    endOnFailure: true,
    build: () =>
      asyncProperty(
        fc.record({
          lead: fc.integer({ min: 0x81, max: 0xfe }),
          rest: fc.uint8Array({ minLength: 11, maxLength: 11 }),
          typeflag: fc.constantFrom('0', '7'),
        }),
        async ({ lead, rest, typeflag }) => {
          const header = rawHeaderBlock({
            name: 'package/a.js',
            mode: '0000644\0',
            size: Uint8Array.from([lead, ...rest]),
            typeflag,
            linkname: '',
            magic: 'ustar\u000000',
            prefix: '',
            badChecksum: false,
          });
          await outcomeOf(
            () => inspectTarball(gzipSync(Buffer.concat([header, Buffer.alloc(1024)])), LIMITS),
            CODED,
          );
        },
      ),
  },
  {
    name: 'well-formed tarballs with arbitrary entries are refused with a code or accepted with every path normalised under package/, unique case-folded',
    ciRuns: 200,
    caseTimeoutMs: 5_000,
    build: () =>
      asyncProperty(wellFormedArb, async (input) => assertInspectContract(await buildWellFormed(input))),
  },
  {
    name: 'every accepted file path is strictly below package/ (never the folder itself)',
    ciRuns: 200,
    caseTimeoutMs: 5_000,
    build: () =>
      asyncProperty(wellFormedArb, async (input) => {
        const outcome = await outcomeOf(
          async () => inspectTarball(await buildWellFormed(input), LIMITS),
          CODED,
        );
        if (!outcome.ok) return;
        const outside = outcome.value.files.find((f) => !f.path.startsWith('package/'));
        if (outside !== undefined)
          throw new Error(`accepted file path ${JSON.stringify(outside.path)} is not below package/`);
      }),
  },
  {
    name: 'bit flips, truncation, insertions and deletions of a valid tarball keep the contract',
    ciRuns: 250,
    caseTimeoutMs: 5_000,
    build: async () => {
      const gz = await packageTarball('fuzz-pkg', '1.0.0', [
        { name: 'package/lib/a.js', content: 'export const a = 1;\n'.repeat(20) },
        { name: 'package/README.md', content: '# fuzz\n' },
      ]);
      const tar = gunzipSync(gz);
      return asyncProperty(mutationsArb, ({ layer, mutations }) =>
        assertInspectContract(
          layer === 'gzip' ? mutateBytes(gz, mutations) : gzipSync(mutateBytes(tar, mutations)),
        ),
      );
    },
  },
  {
    name: 'a tarball that inflates past unpackedBytes (files or padding) is refused with ERR_TARBALL_TOO_LARGE_UNPACKED',
    ciRuns: 40,
    caseTimeoutMs: 10_000,
    build: () =>
      asyncProperty(
        fc.record({
          fileBytes: fc.integer({ min: 0, max: 256 * 1024 }),
          paddingBlocks: fc.integer({ min: 0, max: 6 * 1024 }),
        }),
        async ({ fileBytes, paddingBlocks }) => {
          const manifest = Buffer.from(JSON.stringify({ name: 'fuzz-pkg', version: '1.0.0' }));
          const tar = Buffer.concat([
            await packTar([
              { name: 'package/package.json', type: 'file', content: manifest },
              { name: 'package/zeros.bin', type: 'file', content: new Uint8Array(fileBytes) },
            ]),
            Buffer.alloc(paddingBlocks * 512),
          ]);
          const outcome = await outcomeOf(() => inspectTarball(gzipSync(tar), LIMITS), CODED);
          // The gate counts declared file sizes, and (against bombs in padding) every inflated byte with 1 MiB of slack.
          const tooLarge =
            manifest.length + fileBytes > LIMITS.unpackedBytes ||
            tar.length > LIMITS.unpackedBytes + 1024 * 1024;
          if (tooLarge && (outcome.ok || outcome.code !== 'ERR_TARBALL_TOO_LARGE_UNPACKED')) {
            throw new Error(
              `expected ERR_TARBALL_TOO_LARGE_UNPACKED, got ${outcome.ok ? 'acceptance' : outcome.code}`,
            );
          }
          if (!tooLarge && !outcome.ok)
            throw new Error(`a tarball within the limits was refused with ${outcome.code}`);
          if (outcome.ok) assertAcceptedInvariants(outcome.value, LIMITS);
        },
      ),
  },
  {
    name: 'assertSafeEntryPath returns an idempotent normalised path below package or throws a path code',
    ciRuns: 2000,
    caseTimeoutMs: 1_000,
    build: () =>
      syncProperty(
        fc.oneof(
          entryNameArb,
          fc.string({ unit: 'binary', maxLength: 64 }),
          fc.string({ minLength: 4090, maxLength: 4200 }),
        ),
        (name) => {
          const outcome = outcomeOfSync(() => assertSafeEntryPath(name), PATH_CODES);
          if (!outcome.ok) return;
          const path = outcome.value;
          const segments = path.split('/');
          if (segments[0] !== 'package' || segments.some((s) => s === '' || s === '.' || s === '..'))
            throw new Error(`not normalised: ${JSON.stringify(path)}`);
          if (path.includes('\\') || path.includes('\0'))
            throw new Error(`unsafe characters kept in ${JSON.stringify(path)}`);
          if (assertSafeEntryPath(path) !== path) throw new Error('not idempotent');
        },
      ),
  },
];
