/**
 * Our own reader of Sigstore bundles holding a DSSE envelope (independent of sigstore-js): media type,
 * key material (public-key hint or certificate), the envelope and its one signature, all strictly decoded.
 */
import { decodeBase64Strict, type DsseEnvelope } from './dsse.ts';
import { fail } from './errors.ts';
import { isPlainObject } from './release-predicate.ts';
import { SIGSTORE_BUNDLE_V03_MEDIA_TYPE } from './sigstore-bundle.ts';

/** The media type of a v0.2 bundle, which npm provenance attachments still use. */
export const SIGSTORE_BUNDLE_V02_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle+json;version=0.2';

/** The key material of a bundle: a hint to look up, or a leaf certificate (DER) with its chain. */
export type BundleKeyMaterial =
  | { readonly kind: 'publicKey'; readonly hint: string }
  | { readonly kind: 'certificate'; readonly leaf: Buffer; readonly chain: readonly Buffer[] };

/** A bundle decoded by our parser. */
export interface ParsedDsseBundle {
  readonly mediaType: string;
  readonly material: BundleKeyMaterial;
  readonly envelope: DsseEnvelope;
  readonly sig: Buffer;
  /** Seconds since the epoch of the first tlog entry, if any; NOT authenticated offline. */
  readonly integratedTime: number | undefined;
  readonly json: Record<string, unknown>;
}

// An attestation is a few kilobytes; anything this large is hostile, and JSON.parse on it is costly.
const MAX_BUNDLE_CHARS = 1 << 20;
const MEDIA_TYPES: ReadonlySet<string> = new Set([
  SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
  SIGSTORE_BUNDLE_V02_MEDIA_TYPE,
]);

/** Parses a bundle (JSON text, bytes or object); throws `ERR_VERIFY_MALFORMED_BUNDLE` or `ERR_VERIFY_UNSIGNED`. */
export function parseDsseBundle(
  input: unknown,
  mediaTypes: ReadonlySet<string> = new Set([SIGSTORE_BUNDLE_V03_MEDIA_TYPE]),
): ParsedDsseBundle {
  const json = parseJsonObject(input);
  if (
    typeof json.mediaType !== 'string' ||
    !mediaTypes.has(json.mediaType) ||
    !MEDIA_TYPES.has(json.mediaType)
  ) {
    throw fail('malformedBundle', `the bundle's mediaType is not one of ${[...mediaTypes].join(', ')}`);
  }
  const material = readKeyMaterial(json.verificationMaterial);
  const dsse = json.dsseEnvelope;
  if (!isPlainObject(dsse)) throw fail('malformedBundle', 'the bundle holds no DSSE envelope');
  const payload = decodeBase64Strict(dsse.payload);
  if (payload === undefined || payload.length === 0 || typeof dsse.payloadType !== 'string') {
    throw fail('malformedBundle', 'the DSSE envelope has no base64 payload or no payloadType');
  }
  const signatures = dsse.signatures;
  if (signatures === undefined || (Array.isArray(signatures) && signatures.length === 0)) {
    throw fail('unsigned', 'the DSSE envelope carries no signature');
  }
  if (!Array.isArray(signatures) || signatures.length !== 1 || !isPlainObject(signatures[0])) {
    throw fail('malformedBundle', 'a bundle carries exactly one DSSE signature');
  }
  const entry = signatures[0];
  if (entry.sig === undefined || entry.sig === '') throw fail('unsigned', 'the DSSE signature is empty');
  const sig = decodeBase64Strict(entry.sig);
  if (sig === undefined) throw fail('malformedBundle', 'the DSSE signature is not base64');
  // npm reads signatures[0].keyid and sigstore-js reads the hint; both must name the same key.
  if (
    material.kind === 'publicKey' &&
    entry.keyid !== undefined &&
    entry.keyid !== '' &&
    entry.keyid !== material.hint
  ) {
    throw fail('malformedBundle', 'the signature keyid and the bundle key hint differ');
  }
  const keyid = material.kind === 'publicKey' ? material.hint : '';
  return {
    mediaType: json.mediaType,
    material,
    envelope: { payloadType: dsse.payloadType, payload, signatures: [{ keyid, sig }] },
    sig,
    integratedTime: readIntegratedTime(json.verificationMaterial),
    json,
  };
}

function readKeyMaterial(material: unknown): BundleKeyMaterial {
  if (!isPlainObject(material)) throw fail('malformedBundle', 'the bundle has no verificationMaterial');
  if (isPlainObject(material.publicKey)) {
    const hint = material.publicKey.hint;
    if (typeof hint !== 'string' || hint.length === 0 || hint.length > 256) {
      throw fail('malformedBundle', 'the bundle names no public key (verificationMaterial.publicKey.hint)');
    }
    return { kind: 'publicKey', hint };
  }
  let raws: unknown[] | undefined;
  if (isPlainObject(material.certificate)) raws = [material.certificate.rawBytes];
  else if (
    isPlainObject(material.x509CertificateChain) &&
    Array.isArray(material.x509CertificateChain.certificates)
  ) {
    raws = material.x509CertificateChain.certificates.map((c: unknown) =>
      isPlainObject(c) ? c.rawBytes : undefined,
    );
  }
  const ders = raws?.map((r) => decodeBase64Strict(r));
  if (ders === undefined || ders.length === 0 || ders.some((d) => d === undefined || d.length === 0)) {
    throw fail('malformedBundle', 'the bundle has neither a public key hint nor a certificate');
  }
  const [leaf, ...chain] = ders as Buffer[];
  return { kind: 'certificate', leaf: leaf!, chain };
}

function readIntegratedTime(material: unknown): number | undefined {
  if (!isPlainObject(material) || !Array.isArray(material.tlogEntries)) return undefined;
  const first: unknown = material.tlogEntries[0];
  if (!isPlainObject(first)) return undefined;
  const t = Number(first.integratedTime);
  return Number.isSafeInteger(t) && t > 0 ? t : undefined;
}

function parseJsonObject(input: unknown): Record<string, unknown> {
  let value = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
    if (text.length > MAX_BUNDLE_CHARS) throw fail('malformedBundle', 'the bundle is too large');
    try {
      value = JSON.parse(text);
    } catch (cause) {
      throw fail('malformedBundle', 'the bundle is not JSON', undefined, cause);
    }
  }
  if (!isPlainObject(value)) throw fail('malformedBundle', 'the bundle is not a JSON object');
  return value;
}
