/** Key ids and public-key encodings shared by every backend. */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

/**
 * The id of a public key: `SHA256:` and the unpadded base64 of the SHA-256 of its SPKI DER, the
 * fingerprint form npm's `/-/npm/v1/keys` uses, so the same id works as a Sigstore key hint and npm keyid.
 */
export function computeKeyId(publicKey: string | KeyObject): string {
  const der = toSpkiDer(publicKey);
  return 'SHA256:' + createHash('sha256').update(der).digest('base64').replace(/=+$/, '');
}

/** The SPKI DER bytes of a public key given as PEM or `KeyObject`. */
export function toSpkiDer(publicKey: string | KeyObject): Buffer {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  return key.export({ type: 'spki', format: 'der' });
}

/** Normalises a public key to SPKI PEM, and checks it is an EC P-256 key. */
export function toP256PublicKeyPem(publicKey: string | KeyObject): string {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new TypeError('signing keys must be EC P-256');
  }
  return key.export({ type: 'spki', format: 'pem' }).toString();
}
