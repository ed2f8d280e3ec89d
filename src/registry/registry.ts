/** The registry behind the gate: where released packages go and where reads come from. */

/** What the gate publishes: exactly the approved bytes and their document. */
export interface PublishInput {
  readonly name: string;
  readonly version: string;
  readonly tag: string;
  readonly access: string | null;
  readonly manifest: Readonly<Record<string, unknown>>;
  readonly tarball: Buffer;
  /** `sha512-<base64>`. */
  readonly integrity: string;
  /** A Sigstore bundle (JSON text) to send as the `<name>-<version>.sigstore` attachment. */
  readonly sigstore?: string;
}

/** Which `.sigstore` attachment goes upstream with a release. */
export type SigstoreAttachmentMode = 'build-provenance' | 'release-attestation' | 'none';

/**
 * Resolves the `upstream.sigstoreAttachment` setting. `auto` forwards build provenance to
 * registry.npmjs.org, which verifies and keeps it, and sends nothing elsewhere: Verdaccio 6 refuses a
 * publish document with more than one attachment, and npmjs accepts only Sigstore public-good provenance.
 */
export function resolveSigstoreAttachment(
  setting: SigstoreAttachmentMode | 'auto',
  upstreamUrl: string | undefined,
): SigstoreAttachmentMode {
  if (setting !== 'auto') return setting;
  if (upstreamUrl === undefined) return 'none';
  return new URL(upstreamUrl).hostname === 'registry.npmjs.org' ? 'build-provenance' : 'none';
}

/** How a publish ended. */
export type PublishOutcome = 'published' | 'already-published';

/** The state of one version in the registry. */
export type VersionState =
  { readonly exists: false } | { readonly exists: true; readonly integrity: string | undefined };

/** A streamed tarball. */
export interface TarballResponse {
  readonly body: ReadableStream<Uint8Array> | Uint8Array;
  readonly size: number | undefined;
}

/** A registry backend: an upstream over HTTP, or pubgate's own storage. */
export interface Registry {
  readonly kind: 'npm-http' | 'local';
  /** The packument with tarball URLs pointing at `gateBase`, or undefined when the package does not exist. */
  getPackument(name: string, gateBase: string): Promise<Record<string, unknown> | undefined>;
  /** A tarball by file name, or undefined. */
  getTarball(name: string, file: string): Promise<TarballResponse | undefined>;
  versionState(name: string, version: string): Promise<VersionState>;
  /**
   * Publishes; resolves `already-published` when that exact version already exists with the same
   * integrity (a retry after a crash), throws `ERR_UPSTREAM_VERSION_CONFLICT` when it exists with other bytes.
   */
  publish(input: PublishInput): Promise<PublishOutcome>;
  /**
   * The upstream's own registry-signature keys (npm's `/-/npm/v1/keys` shape), which the gate serves
   * beside its own so the upstream's `dist.signatures` still verify through it. Empty when it has none.
   */
  npmSigningKeys?(): Promise<readonly Readonly<Record<string, unknown>>[]>;
}

/** The file name npm gives a tarball: unscoped name, dash, version. */
export function tarballFileName(name: string, version: string): string {
  const base = name.startsWith('@') ? name.slice(name.indexOf('/') + 1) : name;
  return `${base}-${version}.tgz`;
}

/** The gate's URL for a tarball. */
export function gateTarballUrl(gateBase: string, name: string, file: string): string {
  return `${gateBase}/npm/${name}/-/${file}`;
}

/** The part of the gate's blob store a registry uses (declared here so registry does not import release). */
export interface BlobStore {
  put(bytes: Uint8Array): Promise<string>;
  get(sha512Hex: string): Promise<Buffer>;
}
