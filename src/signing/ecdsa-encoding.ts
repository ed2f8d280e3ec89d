/** Conversions between ECDSA encodings: PKCS#11 gives r‖s (IEEE P1363), Sigstore and npm expect ASN.1 DER. */
import { createPublicKey, type KeyObject } from 'node:crypto';

/** Converts a P1363 signature (r‖s, fixed width) to DER `SEQUENCE { INTEGER r, INTEGER s }` (RFC 3279 §2.2.3). */
export function p1363ToDer(signature: Uint8Array): Buffer {
  if (signature.length === 0 || signature.length % 2 !== 0 || signature.length > 132) {
    throw new RangeError('not a P1363 ECDSA signature');
  }
  const half = signature.length / 2;
  const r = derInteger(signature.subarray(0, half));
  const s = derInteger(signature.subarray(half));
  return Buffer.concat([Buffer.from([0x30]), derLength(r.length + s.length), r, s]);
}

/** The EC P-256 public key of a PKCS#11 `CKA_EC_POINT` (a DER OCTET STRING around the uncompressed point, or the bare point). */
export function p256PublicKeyFromEcPoint(ecPoint: Uint8Array): KeyObject {
  let point = Buffer.from(ecPoint);
  // PKCS#11 v2.40 §2.3.3 says DER-wrapped; some modules return the bare point, so accept both.
  if (point.length === 67 && point[0] === 0x04 && point[1] === 0x41) point = point.subarray(2);
  if (point.length !== 65 || point[0] !== 0x04) throw new RangeError('not an uncompressed P-256 point');
  return createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33, 65).toString('base64url'),
    },
    format: 'jwk',
  });
}

function derInteger(bytes: Uint8Array): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  let body = Buffer.from(bytes.subarray(start));
  // A set high bit would read as negative; DER prefixes a zero byte (X.690 §8.3.2).
  if (body[0]! & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return Buffer.concat([Buffer.from([0x02]), derLength(body.length), body]);
}

function derLength(length: number): Buffer {
  return length < 0x80 ? Buffer.from([length]) : Buffer.from([0x81, length]);
}
