/**
 * Validation of the JSON document that `npm publish` and `npm stage publish` send
 * (see DESIGN.md, wire facts). Every failure is a `ValidationError` with a stable code; nothing
 * is stored until the whole document, its tarball and their digests agree.
 */
import { createHash } from 'node:crypto';
import semver from 'semver';
import validatePackageName from 'validate-npm-package-name';
import { ValidationError } from '../errors/index.ts';
import { inspectTarball, type TarballInspection, type TarballLimits } from './tarball.ts';

/** Bounds on a publish request. */
export interface PublishLimits extends TarballLimits {
  readonly tarballBytes: number;
  readonly jsonDepth: number;
}

/** A fully validated publish. */
export interface ValidatedPublish {
  readonly name: string;
  readonly version: string;
  readonly tag: string;
  readonly access: string | null;
  /** The version document (package.json plus npm's fields), exactly as received. */
  readonly manifest: Record<string, unknown>;
  readonly tarball: Buffer;
  /** `sha512-<base64>`. */
  readonly integrity: string;
  readonly sha512Hex: string;
  readonly shasum: string;
  readonly inspection: TarballInspection;
  /**
   * The `<name>-<version>.sigstore` attachment (`npm publish --provenance` / `--provenance-file`, or a
   * DSSE envelope from a build key), parsed but not yet verified; `text` is exactly what was received.
   */
  readonly provenance?: { readonly bundle: Record<string, unknown>; readonly text: string };
}

/** Largest accepted provenance attachment (npm's bundles are a few KB). */
export const MAX_PROVENANCE_BYTES = 256 * 1024;

const FORBIDDEN_KEYS = new Set(['__proto__']);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function fail(code: string, message: string): never {
  throw new ValidationError(code, message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Largest body worth reading for these limits: the base64 tarball plus the manifest budget. */
export function maxPublishBodyBytes(limits: Pick<PublishLimits, 'tarballBytes' | 'manifestBytes'>): number {
  return Math.ceil(limits.tarballBytes / 3) * 4 + limits.manifestBytes + 4096;
}

/**
 * Nesting depth of a JSON text, counted without parsing (strings skipped), so a document nested
 * 100k levels deep is refused before any parser or serialiser recurses into it.
 */
export function jsonDepthExceeds(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** Refuses `__proto__` keys anywhere: they are never legitimate in a package document. Iterative, no recursion. */
function assertNoForbiddenKeys(root: unknown): void {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) stack.push(...value);
    else if (isRecord(value)) {
      for (const key of Object.keys(value)) {
        if (FORBIDDEN_KEYS.has(key))
          fail('ERR_PUBLISH_FORBIDDEN_KEY', `the document contains a "${key}" key`);
        stack.push(value[key]);
      }
    }
  }
}

/** Checks an npm package name against npm's rules for new packages. */
export function assertValidPackageName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0)
    fail('ERR_PUBLISH_BAD_NAME', 'the package name is missing');
  const result = validatePackageName(name);
  if (!result.validForNewPackages) {
    const why = [...(result.errors ?? []), ...(result.warnings ?? [])].join('; ');
    fail('ERR_PUBLISH_BAD_NAME', `invalid package name ${JSON.stringify(name.slice(0, 214))}: ${why}`);
  }
}

function assertValidTag(tag: string): void {
  // npm refuses tags that parse as semver ranges (they would shadow version specs) and non-URL-safe tags.
  if (
    tag.length === 0 ||
    tag.length > 128 ||
    encodeURIComponent(tag) !== tag ||
    semver.validRange(tag) !== null ||
    tag === 'constructor' ||
    tag === 'prototype'
  ) {
    fail('ERR_PUBLISH_BAD_TAG', `invalid dist-tag ${JSON.stringify(tag.slice(0, 128))}`);
  }
}

/** Parses an SRI string and returns the sha512 digest it names (base64), refusing unknown or extra algorithms. */
function parseIntegrity(integrity: unknown): string {
  if (typeof integrity !== 'string') fail('ERR_PUBLISH_NO_INTEGRITY', 'dist.integrity is missing');
  const parts = integrity.trim().split(/\s+/);
  let sha512: string | undefined;
  for (const part of parts) {
    const match = /^(sha512|sha384|sha256|sha1)-([A-Za-z0-9+/]+={0,2})(\?.*)?$/.exec(part);
    if (match === null) fail('ERR_PUBLISH_BAD_INTEGRITY', 'dist.integrity is not a valid SRI string');
    if (match[1] === 'sha512') {
      if (sha512 !== undefined && sha512 !== match[2])
        fail('ERR_PUBLISH_INTEGRITY_MISMATCH', 'dist.integrity lists two different sha512 digests');
      sha512 = match[2];
    }
  }
  if (sha512 === undefined) fail('ERR_PUBLISH_NO_INTEGRITY', 'dist.integrity has no sha512 digest');
  return sha512;
}

/** Options of {@link validatePublishDocument}. */
export interface ValidatePublishOptions {
  /** The package name from the URL (decoded). */
  readonly urlName: string;
  readonly limits: PublishLimits;
}

/** Validates a raw publish body end to end; returns the parsed release or throws `ERR_PUBLISH_*` / `ERR_TARBALL_*`. */
export async function validatePublishDocument(
  body: Buffer,
  options: ValidatePublishOptions,
): Promise<ValidatedPublish> {
  const { limits } = options;
  if (body.length > maxPublishBodyBytes(limits))
    fail('ERR_PUBLISH_TOO_LARGE', 'the publish document is larger than the configured limit');
  const text = body.toString('utf8');
  if (jsonDepthExceeds(text, limits.jsonDepth))
    fail('ERR_PUBLISH_TOO_DEEP', `the publish document nests deeper than ${limits.jsonDepth} levels`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    fail('ERR_PUBLISH_BAD_JSON', 'the publish body is not valid JSON');
  }
  if (!isRecord(doc)) fail('ERR_PUBLISH_BAD_JSON', 'the publish body is not a JSON object');
  assertNoForbiddenKeys(doc);

  assertValidPackageName(options.urlName);
  const name = doc['name'];
  if (name !== options.urlName) fail('ERR_PUBLISH_NAME_MISMATCH', 'the document name does not match the URL');
  if (doc['_id'] !== undefined && doc['_id'] !== name)
    fail('ERR_PUBLISH_NAME_MISMATCH', 'the document _id does not match its name');

  const attachments = doc['_attachments'];
  if (!isRecord(attachments) || Object.keys(attachments).length === 0) {
    fail(
      'ERR_PUBLISH_NO_ATTACHMENT',
      'the request carries no tarball; the gate accepts publishes only (deprecate, unpublish and dist-tag changes are not supported through it)',
    );
  }
  const versions = doc['versions'];
  if (!isRecord(versions) || Object.keys(versions).length !== 1)
    fail('ERR_PUBLISH_BAD_VERSIONS', 'the document must carry exactly one version');
  const version = Object.keys(versions)[0]!;
  if (semver.valid(version) !== version)
    fail('ERR_PUBLISH_BAD_VERSION', `"${version.slice(0, 64)}" is not a valid semver version`);
  const manifest = versions[version];
  if (!isRecord(manifest)) fail('ERR_PUBLISH_BAD_VERSIONS', 'the version document is not an object');
  if (manifest['name'] !== name || manifest['version'] !== version) {
    fail('ERR_PUBLISH_NAME_MISMATCH', 'the version document name or version does not match the document');
  }

  const tags = doc['dist-tags'];
  if (!isRecord(tags) || Object.keys(tags).length !== 1)
    fail('ERR_PUBLISH_BAD_TAG', 'the document must carry exactly one dist-tag');
  const tag = Object.keys(tags)[0]!;
  assertValidTag(tag);
  if (tags[tag] !== version)
    fail('ERR_PUBLISH_BAD_TAG', 'the dist-tag does not point at the published version');

  const expectedAttachment = `${name}-${version}.tgz`;
  const provenanceAttachment = `${name}-${version}.sigstore`;
  const keys = Object.keys(attachments);
  if (
    !keys.includes(expectedAttachment) ||
    keys.some((k) => k !== expectedAttachment && k !== provenanceAttachment)
  ) {
    fail(
      'ERR_PUBLISH_BAD_ATTACHMENT',
      `expected the attachment ${expectedAttachment}, and at most ${provenanceAttachment} beside it`,
    );
  }
  const attachment = attachments[expectedAttachment];
  if (!isRecord(attachment) || typeof attachment['data'] !== 'string')
    fail('ERR_PUBLISH_BAD_ATTACHMENT', 'the attachment has no data');
  const data = attachment['data'];
  if (data.length % 4 !== 0 || !BASE64.test(data))
    fail('ERR_PUBLISH_BAD_BASE64', 'the attachment data is not canonical base64');
  const provenance = keys.includes(provenanceAttachment)
    ? parseProvenanceAttachment(attachments[provenanceAttachment], limits.jsonDepth)
    : undefined;
  if (body.length - data.length > limits.manifestBytes)
    fail(
      'ERR_PUBLISH_MANIFEST_TOO_LARGE',
      `the document without its tarball is larger than ${limits.manifestBytes} bytes`,
    );
  const tarball = Buffer.from(data, 'base64');
  if (tarball.length > limits.tarballBytes)
    fail('ERR_PUBLISH_TOO_LARGE', `the tarball is larger than ${limits.tarballBytes} bytes`);
  if (typeof attachment['length'] !== 'number' || attachment['length'] !== tarball.length) {
    fail(
      'ERR_PUBLISH_LENGTH_MISMATCH',
      `the attachment length field does not match its ${tarball.length} decoded bytes`,
    );
  }

  const dist = manifest['dist'];
  if (!isRecord(dist)) fail('ERR_PUBLISH_NO_INTEGRITY', 'the version document has no dist');
  // The registry, not the publisher, vouches for a version: a planted signature or attestation link
  // would sit beside the gate's own and mislead `npm audit signatures`.
  for (const field of ['signatures', 'attestations', 'npm-signature'])
    if (dist[field] !== undefined)
      fail('ERR_PUBLISH_BAD_DIST', `dist.${field} is set by the registry, never by the publisher`);
  const claimed = parseIntegrity(dist['integrity']);
  const sha512 = createHash('sha512').update(tarball).digest();
  if (claimed !== sha512.toString('base64'))
    fail('ERR_PUBLISH_INTEGRITY_MISMATCH', 'dist.integrity does not match the tarball');
  const shasum = createHash('sha1').update(tarball).digest('hex');
  if (typeof dist['shasum'] !== 'string' || dist['shasum'].toLowerCase() !== shasum) {
    fail('ERR_PUBLISH_SHASUM_MISMATCH', 'dist.shasum does not match the tarball');
  }

  const inspection = await inspectTarball(tarball, limits);
  if (inspection.packageJson['name'] !== name || inspection.packageJson['version'] !== version) {
    fail(
      'ERR_PUBLISH_TARBALL_MISMATCH',
      'package.json inside the tarball names a different package or version than the document',
    );
  }
  const access = typeof doc['access'] === 'string' ? doc['access'] : null;
  return {
    name,
    version,
    tag,
    access,
    manifest,
    tarball,
    integrity: `sha512-${sha512.toString('base64')}`,
    sha512Hex: sha512.toString('hex'),
    shasum,
    inspection,
    ...(provenance === undefined ? {} : { provenance }),
  };
}

/**
 * npm sends the bundle as JSON text (not base64) with `length` counted in UTF-16 units; a build key's
 * bare DSSE envelope is accepted as well and wrapped by the verifier.
 */
function parseProvenanceAttachment(
  attachment: unknown,
  maxDepth: number,
): { bundle: Record<string, unknown>; text: string } {
  if (!isRecord(attachment) || typeof attachment['data'] !== 'string')
    fail('ERR_PUBLISH_BAD_PROVENANCE', 'the .sigstore attachment has no data');
  const text = attachment['data'];
  if (Buffer.byteLength(text) > MAX_PROVENANCE_BYTES)
    fail(
      'ERR_PUBLISH_BAD_PROVENANCE',
      `the .sigstore attachment is larger than ${MAX_PROVENANCE_BYTES} bytes`,
    );
  const length = attachment['length'];
  if (length !== undefined && length !== text.length && length !== Buffer.byteLength(text))
    fail('ERR_PUBLISH_LENGTH_MISMATCH', 'the .sigstore attachment length field does not match its data');
  // The bundle is JSON inside a JSON string: the document's depth check did not see into it.
  if (jsonDepthExceeds(text, maxDepth))
    fail('ERR_PUBLISH_BAD_PROVENANCE', `the .sigstore attachment nests deeper than ${maxDepth} levels`);
  let bundle: unknown;
  try {
    bundle = JSON.parse(text);
  } catch {
    fail(
      'ERR_PUBLISH_BAD_PROVENANCE',
      'the .sigstore attachment is not JSON (npm sends the bundle as JSON text)',
    );
  }
  if (!isRecord(bundle))
    fail('ERR_PUBLISH_BAD_PROVENANCE', 'the .sigstore attachment is not a Sigstore bundle or DSSE envelope');
  return { bundle, text };
}
