/**
 * The one module that reads X.509 certificates: Node's `X509Certificate` for chain and key checks,
 * `@sigstore/core`'s parser for the Fulcio extensions Node does not expose.
 */
import { X509Certificate as NodeX509, type KeyObject } from 'node:crypto';
import { X509Certificate as SigstoreX509 } from '@sigstore/core';

/** The Fulcio extensions under 1.3.6.1.4.1.57264.1 (sigstore/fulcio docs/oid-info.md). */
export const FULCIO_OIDS = Object.freeze({
  issuerV1: '1.3.6.1.4.1.57264.1.1',
  issuer: '1.3.6.1.4.1.57264.1.8',
  buildSignerUri: '1.3.6.1.4.1.57264.1.9',
  buildSignerDigest: '1.3.6.1.4.1.57264.1.10',
  runnerEnvironment: '1.3.6.1.4.1.57264.1.11',
  sourceRepositoryUri: '1.3.6.1.4.1.57264.1.12',
  sourceRepositoryDigest: '1.3.6.1.4.1.57264.1.13',
  sourceRepositoryRef: '1.3.6.1.4.1.57264.1.14',
  sourceRepositoryIdentifier: '1.3.6.1.4.1.57264.1.15',
  sourceRepositoryOwnerUri: '1.3.6.1.4.1.57264.1.16',
  sourceRepositoryOwnerIdentifier: '1.3.6.1.4.1.57264.1.17',
  buildConfigUri: '1.3.6.1.4.1.57264.1.18',
  buildConfigDigest: '1.3.6.1.4.1.57264.1.19',
  buildTrigger: '1.3.6.1.4.1.57264.1.20',
  runInvocationUri: '1.3.6.1.4.1.57264.1.21',
  deploymentEnvironment: '1.3.6.1.4.1.57264.1.23',
});

/** What we read from a signing certificate. */
export interface CertificateFacts {
  readonly publicKey: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The URI or email of the SubjectAlternativeName, if any. */
  readonly subjectAlternativeName: string | undefined;
  /** Fulcio extension values by name (UTF-8 strings), absent when the certificate lacks them. */
  readonly fulcio: Readonly<Partial<Record<keyof typeof FULCIO_OIDS, string>>>;
}

/** Parses a DER certificate; throws on anything that is not one. */
export function readCertificate(der: Buffer): CertificateFacts {
  const node = new NodeX509(der);
  const parsed = SigstoreX509.parse(Buffer.from(der));
  const fulcio: Partial<Record<keyof typeof FULCIO_OIDS, string>> = {};
  for (const [name, oid] of Object.entries(FULCIO_OIDS) as [keyof typeof FULCIO_OIDS, string][]) {
    const ext = parsed.extension(oid);
    if (ext === undefined) continue;
    // 1.1–1.6 hold the raw string; 1.8 onwards a DER UTF8String (oid-info.md, "Extension values").
    const value = name === 'issuerV1' ? ext.value : ext.valueObj.subs[0]?.value;
    if (value !== undefined) fulcio[name] = value.toString('utf8');
  }
  return {
    publicKey: node.publicKey,
    notBefore: new Date(node.validFrom),
    notAfter: new Date(node.validTo),
    subjectAlternativeName: parsed.subjectAltName,
    fulcio,
  };
}

/**
 * True when `leaf` chains, through `intermediates` (from the bundle) and `trusted` (supplied by the
 * operator), to a certificate in `trusted`: each link's name matches and its signature verifies.
 */
export function chainsToTrusted(
  leaf: Buffer,
  intermediates: readonly Buffer[],
  trusted: readonly string[],
): boolean {
  const anchors = trusted.map((pem) => new NodeX509(pem));
  const pool = [...intermediates.map((d) => new NodeX509(d)), ...anchors];
  let current = new NodeX509(leaf);
  for (let depth = 0; depth < 5; depth++) {
    const anchor = anchors.find((a) => a.raw.equals(current.raw));
    if (anchor !== undefined) return true;
    const issuer = pool.find((c) => c.ca && current.checkIssued(c) && current.verify(c.publicKey));
    if (issuer === undefined) return false;
    if (anchors.some((a) => a.raw.equals(issuer.raw))) return true;
    current = issuer;
  }
  return false;
}
