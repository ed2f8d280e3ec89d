/**
 * npm publish document validation (`validatePublishDocument`, `jsonDepthExceeds`). Contract: the
 * outcome is a ValidatedPublish whose integrity is the sha512 of its tarball and whose name and
 * version match the URL and the tarball, or a PubgateError coded ERR_PUBLISH_* / ERR_TARBALL_*;
 * Object.prototype is never polluted.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  jsonDepthExceeds,
  validatePublishDocument,
  type PublishLimits,
  type ValidatedPublish,
} from '../../../src/release/index.ts';
import {
  assertPrototypeClean,
  asyncProperty,
  outcomeOf,
  syncProperty,
  type FuzzProperty,
} from '../harness.ts';
import { packageTarball, publishDoc } from '../../support/publish-doc.ts';

const LIMITS: PublishLimits = {
  tarballBytes: 64 * 1024,
  manifestBytes: 16 * 1024,
  jsonDepth: 32,
  unpackedBytes: 256 * 1024,
  entries: 64,
};
/** Room for a 200k-level body, so the depth check (not the size check) is what refuses it. */
const DEEP_LIMITS: PublishLimits = { ...LIMITS, tarballBytes: 1024 * 1024 };
const CODED = /^ERR_(PUBLISH|TARBALL)_/;
const NAME = 'fuzz-pkg';
const VERSION = '1.2.3';
const URL_NAMES = [
  NAME,
  '@fuzz/scoped',
  'other-pkg',
  'UPPER',
  '',
  '__proto__',
  'constructor',
  '../x',
  ' fuzz-pkg',
];

/** Runs the validator and checks whichever outcome it gives. */
async function assertValidateContract(body: Buffer, urlName: string): Promise<ValidatedPublish | undefined> {
  const outcome = await outcomeOf(() => validatePublishDocument(body, { urlName, limits: LIMITS }), CODED);
  assertPrototypeClean();
  if (!outcome.ok) return undefined;
  const result = outcome.value;
  const digest = createHash('sha512').update(result.tarball).digest();
  if (result.integrity !== `sha512-${digest.toString('base64')}`)
    throw new Error('integrity is not the sha512 of the tarball');
  if (result.sha512Hex !== digest.toString('hex'))
    throw new Error('sha512Hex is not the sha512 of the tarball');
  if (result.shasum !== createHash('sha1').update(result.tarball).digest('hex'))
    throw new Error('shasum is not the sha1 of the tarball');
  if (result.name !== urlName) throw new Error('accepted a document for another name than the URL');
  if (result.manifest['name'] !== result.name || result.manifest['version'] !== result.version)
    throw new Error('manifest and result disagree');
  if (
    result.inspection.packageJson['name'] !== result.name ||
    result.inspection.packageJson['version'] !== result.version
  ) {
    throw new Error('the tarball names another package or version');
  }
  if (result.tarball.length > LIMITS.tarballBytes) throw new Error('accepted a tarball over the limit');
  return result;
}

/** Nesting depth from the parsed value: the reference for `jsonDepthExceeds`. */
export function referenceDepth(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node === 'object' && node !== null) {
      const inner = depth + 1;
      if (inner > max) max = inner;
      for (const child of Object.values(node)) stack.push([child, inner]);
    }
  }
  return max;
}

/** JSON values whose strings are full of brackets, quotes and backslashes (to fool a naive counter). */
const trickyStringArb = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc
    .array(fc.constantFrom('[', ']', '{', '}', '"', '\\', '\\"', '\\\\', 'a', ':', ','), { maxLength: 10 })
    .map((parts) => parts.join('')),
);
const trickyJsonArb = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    trickyStringArb,
    fc.integer(),
    fc.constantFrom(null, true, false),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(trickyStringArb, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** A valid document as a mutable tree (plain objects), with its tarball. */
async function validDocument(): Promise<{ doc: Record<string, unknown>; tarball: Buffer }> {
  const tarball = await packageTarball(NAME, VERSION);
  return { doc: publishDoc(NAME, VERSION, tarball), tarball };
}

/** Every path (list of keys) to a plain object inside `root` (arrays are left alone: `length` edits would explode them). */
function containerPaths(root: unknown): string[][] {
  const out: string[][] = [];
  const stack: Array<[unknown, string[]]> = [[root, []]];
  while (stack.length > 0) {
    const [node, path] = stack.pop()!;
    if (typeof node === 'object' && node !== null && !Array.isArray(node)) {
      out.push(path);
      for (const [key, child] of Object.entries(node)) stack.push([child, [...path, key]]);
    }
  }
  return out.sort((a, b) => a.join('\0').localeCompare(b.join('\0')));
}

function at(root: unknown, path: readonly string[]): Record<string, unknown> {
  let node = root as Record<string, unknown>;
  for (const key of path) node = node[key] as Record<string, unknown>;
  return node;
}

const treeEditArb = fc.oneof(
  fc.record({
    kind: fc.constant('set' as const),
    where: fc.nat(),
    key: fc.constantFrom(
      'name',
      'version',
      '_id',
      'data',
      'length',
      'integrity',
      'shasum',
      'latest',
      'dist',
      'x',
    ),
    value: fc.jsonValue({ maxDepth: 2 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), where: fc.nat(), which: fc.nat() }),
  fc.record({
    kind: fc.constant('special-key' as const),
    where: fc.nat(),
    key: fc.constantFrom('__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString'),
    value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant({ polluted: true })),
  }),
  fc.record({
    kind: fc.constant('rename' as const),
    where: fc.nat(),
    which: fc.nat(),
    key: fc.constantFrom(
      '__proto__',
      'constructor',
      '1.2.4',
      '1.2.3-beta.1',
      'next',
      'fuzz-pkg-1.2.3.tgz',
      '',
    ),
  }),
);
type TreeEdit = typeof treeEditArb extends fc.Arbitrary<infer E> ? E : never;

/** A copy of a generated value: fast-check shares values between edits, and a shared one could close a cycle. */
function fresh(value: unknown): unknown {
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
}

/** Applies edits to a deep copy; `__proto__` keys become own data properties, as JSON.parse makes them. */
function applyEdits(
  doc: Record<string, unknown>,
  edits: readonly TreeEdit[],
): { doc: unknown; addedProto: boolean } {
  const copy = JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
  let addedProto = false;
  for (const edit of edits) {
    const paths = containerPaths(copy);
    const node = at(copy, paths[edit.where % paths.length]!);
    const keys = Object.keys(node);
    switch (edit.kind) {
      case 'set':
        Object.defineProperty(node, edit.key, {
          value: fresh(edit.value),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        break;
      case 'special-key':
        Object.defineProperty(node, edit.key, {
          value: fresh(edit.value),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        if (edit.key === '__proto__') addedProto = true;
        break;
      case 'delete':
        if (keys.length > 0) delete node[keys[edit.which % keys.length]!];
        break;
      case 'rename': {
        if (keys.length === 0) break;
        const old = keys[edit.which % keys.length]!;
        const value = node[old];
        delete node[old];
        Object.defineProperty(node, edit.key, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
        if (edit.key === '__proto__') addedProto = true;
        break;
      }
    }
  }
  return { doc: copy, addedProto };
}

const textEditArb = fc.array(
  fc.record({
    at: fc.nat(),
    remove: fc.integer({ min: 0, max: 8 }),
    insert: fc.oneof(
      fc.constantFrom(
        '',
        '"',
        '{',
        '[',
        ']',
        '}',
        ',',
        '\\',
        '\\u0000',
        '"__proto__":{},',
        '0',
        'e9999',
        '\uFEFF',
      ),
      fc.string({ maxLength: 4 }),
    ),
  }),
  { minLength: 1, maxLength: 4 },
);

function nested(depth: number, kind: 'array' | 'object', inner: string): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}${inner}${'}'.repeat(depth)}`;
}

/** The publish document properties. */
export const publishDocumentProperties: readonly FuzzProperty[] = [
  {
    name: 'arbitrary JSON bodies give a coded error or a consistent ValidatedPublish, and never pollute Object.prototype',
    ciRuns: 400,
    caseTimeoutMs: 5_000,
    build: () =>
      asyncProperty(
        fc.record({
          body: fc.oneof(
            fc.json({ maxDepth: 4 }),
            fc.anything({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
            fc.string({ unit: 'binary', maxLength: 200 }),
          ),
          urlName: fc.constantFrom(...URL_NAMES),
        }),
        async ({ body, urlName }) => {
          await assertValidateContract(Buffer.from(body, 'utf8'), urlName);
        },
      ),
  },
  {
    name: 'nesting past jsonDepth is refused with ERR_PUBLISH_TOO_DEEP, at any depth up to 200k levels, without a crash',
    ciRuns: 60,
    caseTimeoutMs: 5_000,
    build: () =>
      asyncProperty(
        fc.record({
          depth: fc.oneof(
            fc.integer({ min: 0, max: LIMITS.jsonDepth * 3 }),
            fc.integer({ min: 1000, max: 200_000 }),
          ),
          kind: fc.constantFrom('array' as const, 'object' as const),
          inner: fc.constantFrom('1', '"x"', '{}', '[]', '"[[[["', ''),
        }),
        async ({ depth, kind, inner }) => {
          const text = `{"name":"fuzz-pkg","deep":${nested(depth, kind, inner)}}`;
          const outcome = await outcomeOf(
            () => validatePublishDocument(Buffer.from(text), { urlName: NAME, limits: DEEP_LIMITS }),
            CODED,
          );
          const total = depth + 1 + (inner === '{}' || inner === '[]' ? 1 : 0);
          if (total > LIMITS.jsonDepth && (outcome.ok || outcome.code !== 'ERR_PUBLISH_TOO_DEEP')) {
            throw new Error(`depth ${total} gave ${outcome.ok ? 'acceptance' : outcome.code}`);
          }
          assertPrototypeClean();
        },
      ),
  },
  {
    name: '__proto__ keys anywhere in a valid document are refused with ERR_PUBLISH_FORBIDDEN_KEY; other edits keep the contract',
    ciRuns: 300,
    caseTimeoutMs: 5_000,
    build: async () => {
      const { doc } = await validDocument();
      return asyncProperty(fc.array(treeEditArb, { minLength: 1, maxLength: 4 }), async (edits) => {
        const edited = applyEdits(doc, edits);
        const body = Buffer.from(JSON.stringify(edited.doc));
        const outcome = await outcomeOf(
          () => validatePublishDocument(body, { urlName: NAME, limits: LIMITS }),
          CODED,
        );
        assertPrototypeClean();
        if (edited.addedProto && JSON.stringify(edited.doc).includes('"__proto__"')) {
          if (outcome.ok || outcome.code !== 'ERR_PUBLISH_FORBIDDEN_KEY')
            throw new Error(`a __proto__ key gave ${outcome.ok ? 'acceptance' : outcome.code}`);
        }
        await assertValidateContract(body, NAME);
      });
    },
  },
  {
    name: 'byte-level edits of a valid document keep the contract',
    ciRuns: 300,
    caseTimeoutMs: 5_000,
    build: async () => {
      const { doc } = await validDocument();
      const text = JSON.stringify(doc);
      return asyncProperty(textEditArb, async (edits) => {
        let edited = text;
        for (const edit of edits) {
          const at = edit.at % (edited.length + 1);
          edited = edited.slice(0, at) + edit.insert + edited.slice(at + edit.remove);
        }
        await assertValidateContract(Buffer.from(edited, 'utf8'), NAME);
      });
    },
  },
  {
    name: 'a document carrying another well-formed tarball is accepted only when name, version and digests all agree',
    ciRuns: 120,
    caseTimeoutMs: 5_000,
    build: () =>
      asyncProperty(
        fc.record({
          tarName: fc.constantFrom(NAME, 'other-pkg', 'FUZZ-PKG'),
          tarVersion: fc.constantFrom(VERSION, '1.2.4', '01.2.3', 'v1.2.3'),
          docVersion: fc.constantFrom(VERSION, '1.2.4'),
          integrity: fc.constantFrom('right', 'wrong', 'sha1-only', 'two-sha512', 'with-query'),
          shasumCase: fc.constantFrom('lower', 'upper', 'wrong'),
          length: fc.constantFrom('right', 'off-by-one', 'string'),
        }),
        async (input) => {
          const tarball = await packageTarball(input.tarName, input.tarVersion);
          const digest = createHash('sha512').update(tarball).digest('base64');
          const other = createHash('sha512').update('other').digest('base64');
          const integrity = {
            right: `sha512-${digest}`,
            wrong: `sha512-${other}`,
            'sha1-only': `sha1-${createHash('sha1').update(tarball).digest('base64')}`,
            'two-sha512': `sha512-${digest} sha512-${other}`,
            'with-query': `sha512-${digest}?opt`,
          }[input.integrity];
          const shasum = createHash('sha1')
            .update(input.shasumCase === 'wrong' ? 'x' : tarball)
            .digest('hex');
          const doc = publishDoc(NAME, input.docVersion, tarball, {
            integrity,
            shasum: input.shasumCase === 'upper' ? shasum.toUpperCase() : shasum,
          });
          const attachment = (doc['_attachments'] as Record<string, Record<string, unknown>>)[
            `${NAME}-${input.docVersion}.tgz`
          ]!;
          if (input.length === 'off-by-one') attachment['length'] = tarball.length + 1;
          if (input.length === 'string') attachment['length'] = String(tarball.length);
          const result = await assertValidateContract(Buffer.from(JSON.stringify(doc)), NAME);
          const shouldPass =
            input.tarName === NAME &&
            input.tarVersion === input.docVersion &&
            (input.integrity === 'right' || input.integrity === 'with-query') &&
            input.shasumCase !== 'wrong' &&
            input.length === 'right';
          if (shouldPass !== (result !== undefined))
            throw new Error(`expected ${shouldPass ? 'acceptance' : 'refusal'}, got the opposite`);
        },
      ),
  },
  {
    name: 'jsonDepthExceeds agrees with the depth of JSON.parse on valid JSON (any indentation, tricky strings)',
    ciRuns: 1500,
    caseTimeoutMs: 1_000,
    build: () =>
      syncProperty(
        fc.record({
          value: trickyJsonArb,
          indent: fc.constantFrom(undefined, 0, 1, '\t', ' \n '),
          slack: fc.integer({ min: -2, max: 2 }),
        }),
        ({ value, indent, slack }) => {
          const text = JSON.stringify(value, null, indent as string | number | undefined);
          const depth = referenceDepth(JSON.parse(text));
          const max = Math.max(0, depth + slack);
          if (jsonDepthExceeds(text, max) !== depth > max)
            throw new Error(`depth ${depth}, max ${max}: jsonDepthExceeds says ${!(depth > max)}`);
        },
      ),
  },
];
