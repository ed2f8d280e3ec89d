/** The local-key `Signer`: a P-256 private key held in process memory (sealed at rest by the key ring). */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { computeKeyId, toP256PublicKeyPem } from './key-id.ts';
import { SIGNING_ALGORITHM, type Signer, type SigningAlgorithm } from './signer.ts';

/** A freshly generated key pair; `privateKeyPkcs8Der` must be sealed and then zeroed by the caller. */
export interface GeneratedLocalKey {
  readonly keyId: string;
  readonly publicKeyPem: string;
  readonly privateKeyPkcs8Der: Buffer;
}

/** Generates a new EC P-256 key pair for local signing. */
export function generateLocalKey(): GeneratedLocalKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const publicKeyPem = toP256PublicKeyPem(publicKey);
  return {
    keyId: computeKeyId(publicKey),
    publicKeyPem,
    privateKeyPkcs8Der: privateKey.export({ type: 'pkcs8', format: 'der' }),
  };
}

/** Signs with an EC P-256 private key held in memory; the key never leaves the object. */
export class LocalKeySigner implements Signer {
  readonly keyId: string;
  readonly publicKeyPem: string;
  readonly algorithm: SigningAlgorithm = SIGNING_ALGORITHM;
  // A true private field: not enumerable, not reachable by JSON.stringify or util.inspect.
  readonly #privateKey: KeyObject;

  private constructor(privateKey: KeyObject) {
    if (
      privateKey.asymmetricKeyType !== 'ec' ||
      privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
    ) {
      throw new TypeError('LocalKeySigner needs an EC P-256 private key');
    }
    this.#privateKey = privateKey;
    const publicKey = createPublicKey(privateKey);
    this.publicKeyPem = toP256PublicKeyPem(publicKey);
    this.keyId = computeKeyId(publicKey);
  }

  /** Builds a signer from a PKCS#8 DER private key (the form the key ring seals). */
  static fromPkcs8Der(der: Uint8Array): LocalKeySigner {
    return new LocalKeySigner(createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' }));
  }

  /** Builds a signer from a Node `KeyObject` holding an EC P-256 private key. */
  static fromKeyObject(privateKey: KeyObject): LocalKeySigner {
    return new LocalKeySigner(privateKey);
  }

  /** Signs SHA-256(data) with ECDSA; DER-encoded, as Sigstore and npm registry signatures expect. */
  sign(data: Uint8Array): Promise<Uint8Array> {
    return Promise.resolve(sign('sha256', data, { key: this.#privateKey, dsaEncoding: 'der' }));
  }

  /** Keeps the private key out of logs even when the object is inspected. */
  toJSON(): { keyId: string; algorithm: SigningAlgorithm } {
    return { keyId: this.keyId, algorithm: this.algorithm };
  }
}
