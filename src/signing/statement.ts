/** in-toto Statement v1 and the npm package URL that names its subject. */

/** The `_type` of an in-toto Statement v1. */
export const IN_TOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';

/** An in-toto ResourceDescriptor as used for subjects: a name and its digests (lowercase hex). */
export interface StatementSubject {
  readonly name: string;
  readonly digest: Readonly<Record<string, string>>;
}

/** An in-toto Statement v1 with a typed predicate. */
export interface Statement<P> {
  readonly _type: typeof IN_TOTO_STATEMENT_TYPE;
  readonly subject: readonly StatementSubject[];
  readonly predicateType: string;
  readonly predicate: P;
}

/**
 * The package URL of an npm release: `pkg:npm/<name>@<version>`, with a scope's `@` percent-encoded
 * (`pkg:npm/%40scope/name@1.0.0`) as the purl spec requires and as npm's own provenance subjects read.
 */
export function toNpmPurl(name: string, version: string): string {
  const parts = name.split('/');
  if (name.length === 0 || parts.length > 2 || (parts.length === 2 && !parts[0]!.startsWith('@'))) {
    throw new TypeError(`not an npm package name: ${JSON.stringify(name)}`);
  }
  if (version.length === 0) throw new TypeError('version must not be empty');
  return `pkg:npm/${parts.map((p) => encodeURIComponent(p)).join('/')}@${encodeURIComponent(version)}`;
}

/** The lowercase hex sha512 named by an npm `integrity` string (`sha512-<base64>`), or undefined. */
export function sha512HexFromIntegrity(integrity: string): string | undefined {
  for (const part of integrity.trim().split(/\s+/)) {
    const match = /^sha512-([A-Za-z0-9+/]{86}==)(?:\?.*)?$/.exec(part);
    if (match) return Buffer.from(match[1]!, 'base64').toString('hex');
  }
  return undefined;
}

/** Whether `value` is 128 lowercase hex characters, the form of a sha512 digest in a statement. */
export function isSha512Hex(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{128}$/.test(value);
}
