/**
 * npm's wire shapes: `GET /-/npm/v1/keys`, `GET /-/npm/v1/attestations/<pkg>@<version>`, and the
 * registry signature in `dist.signatures` that `npm audit signatures` checks against those keys.
 */
import { toSpkiDer } from './key-id.ts';
import type { KeyRecord } from './key-ring.ts';
import { isPlainObject } from './release-predicate.ts';
import type { SigstoreBundleJson } from './sigstore-bundle.ts';
import type { Signer } from './signer.ts';

/** One key as npm's keys endpoint lists it. */
export interface NpmRegistryKey {
  /** ISO 8601 end of validity, or null while open; npm refuses signatures made after it. */
  readonly expires: string | null;
  readonly keyid: string;
  readonly keytype: 'ecdsa-sha2-nistp256';
  readonly scheme: 'ecdsa-sha2-nistp256';
  /** Base64 SPKI DER (npm wraps it in PEM armour itself). */
  readonly key: string;
}

/** The body of `GET /-/npm/v1/keys`. */
export interface NpmKeysResponse {
  readonly keys: readonly NpmRegistryKey[];
}

/**
 * Builds `/-/npm/v1/keys` from key records. Retired keys are left out: npm has no notion of
 * retirement, and a missing key makes it refuse (EMISSINGSIGNATUREKEY) what that key signed.
 */
export function toNpmKeysResponse(records: readonly KeyRecord[]): NpmKeysResponse {
  return {
    keys: records
      .filter((r) => r.retiredAt === undefined)
      .map((r) => ({
        expires: r.notAfter,
        keyid: r.keyId,
        keytype: 'ecdsa-sha2-nistp256',
        scheme: 'ecdsa-sha2-nistp256',
        key: toSpkiDer(r.publicKeyPem).toString('base64'),
      })),
  };
}

/** One attestation as npm's attestations endpoint lists it. */
export interface NpmAttestation {
  readonly predicateType: string;
  readonly bundle: SigstoreBundleJson;
}

/** The body of `GET /-/npm/v1/attestations/<pkg>@<version>`. */
export interface NpmAttestationsResponse {
  readonly attestations: readonly NpmAttestation[];
}

/** Builds the attestations body from stored bundles, reading each predicateType from its statement. */
export function toNpmAttestationsResponse(bundles: readonly SigstoreBundleJson[]): NpmAttestationsResponse {
  return { attestations: bundles.map((bundle) => ({ predicateType: predicateTypeOf(bundle), bundle })) };
}

/** An entry of `dist.signatures` in a packument version. */
export interface NpmRegistrySignature {
  readonly keyid: string;
  /** Base64 DER ECDSA signature. */
  readonly sig: string;
}

/**
 * Signs `<name>@<version>:<integrity>` (ECDSA P-256 / SHA-256), the message npm's pacote verifies
 * against `/-/npm/v1/keys` for `dist.signatures` (docs.npmjs.com "About ECDSA registry signatures").
 */
export async function signNpmRegistrySignature(
  signer: Signer,
  release: { readonly name: string; readonly version: string; readonly integrity: string },
): Promise<NpmRegistrySignature> {
  const message = Buffer.from(`${release.name}@${release.version}:${release.integrity}`, 'utf8');
  return { keyid: signer.keyId, sig: Buffer.from(await signer.sign(message)).toString('base64') };
}

function predicateTypeOf(bundle: SigstoreBundleJson): string {
  const payload = bundle.dsseEnvelope?.payload;
  if (typeof payload !== 'string') throw new TypeError('an npm attestation must hold a DSSE envelope');
  const statement: unknown = JSON.parse(Buffer.from(payload, 'base64').toString('utf8'));
  if (!isPlainObject(statement) || typeof statement.predicateType !== 'string') {
    throw new TypeError('the attestation payload has no predicateType');
  }
  return statement.predicateType;
}
