/** The `Signer` role: something that holds a private key and signs bytes with it. */

/** The one signing algorithm pubgate uses today: ECDSA on P-256 over a SHA-256 digest, DER signatures. */
export type SigningAlgorithm = 'ecdsa-p256-sha256';

/** The algorithm every pubgate key uses. */
export const SIGNING_ALGORITHM: SigningAlgorithm = 'ecdsa-p256-sha256';

/** Signs bytes with a private key it never reveals; implemented by the local key and by PKCS#11. */
export interface Signer {
  /** `SHA256:<base64 of sha256(SPKI DER)>`, the id npm and the Sigstore bundle hint use. */
  readonly keyId: string;
  /** The public key as SPKI PEM. */
  readonly publicKeyPem: string;
  /** The signature algorithm. */
  readonly algorithm: SigningAlgorithm;
  /** Hashes `data` with SHA-256 and signs it; resolves to an ASN.1 DER ECDSA signature. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}
