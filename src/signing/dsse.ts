/**
 * DSSE (Dead Simple Signing Envelope) v1.0: the pre-authentication encoding and envelope checks,
 * written here, independent of sigstore-js, so our verifier is a second implementation.
 */
import { verify, type KeyObject } from 'node:crypto';

/** The payload type of an in-toto statement inside a DSSE envelope. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** One signature of an envelope, decoded. */
export interface DsseSignature {
  readonly keyid: string;
  readonly sig: Buffer;
}

/** A DSSE envelope with its payload and signatures decoded from base64. */
export interface DsseEnvelope {
  readonly payloadType: string;
  readonly payload: Buffer;
  readonly signatures: readonly DsseSignature[];
}

/**
 * PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, where LEN is the byte length
 * in ASCII decimal (DSSE protocol spec v1.0, "Signature definition"). Signing the PAE rather than the
 * payload binds the payload type, so a statement cannot be replayed as another kind of document.
 */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'ascii'),
    type,
    Buffer.from(` ${payload.length} `, 'ascii'),
    payload,
  ]);
}

/** True when `sig` is a valid ECDSA/SHA-256 signature by `publicKey` over the envelope's PAE. */
export function verifyDsseSignature(envelope: DsseEnvelope, sig: Uint8Array, publicKey: KeyObject): boolean {
  try {
    return verify(
      'sha256',
      preAuthEncoding(envelope.payloadType, envelope.payload),
      { key: publicKey, dsaEncoding: 'der' },
      sig,
    );
  } catch {
    // A malformed DER signature makes OpenSSL throw; for the caller it is simply not a valid signature.
    return false;
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes strict standard base64 (padded), or returns undefined; Buffer.from alone skips junk silently. */
export function decodeBase64Strict(value: unknown): Buffer | undefined {
  if (typeof value !== 'string' || !BASE64.test(value)) return undefined;
  return Buffer.from(value, 'base64');
}
