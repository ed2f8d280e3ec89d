/**
 * A software WebAuthn authenticator for tests: an EC P-256 (ES256) key pair that makes assertions
 * with whatever signature counter, flags, origin and RP id a test asks for. A virtual browser
 * authenticator cannot be told to replay a counter (as a cloned authenticator would); this one can.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type { AuthenticationResponseJSON } from '../../src/identity/webauthn.ts';

/** What an assertion is made for. */
export interface SoftAssertionOptions {
  /** The challenge, base64url (as the server issued it). */
  readonly challenge: string;
  readonly origin: string;
  readonly rpId: string;
  /** The signature counter to report (any value: tests make it regress on purpose). */
  readonly counter: number;
  /** Sets the UV flag (user verified); default true. */
  readonly userVerified?: boolean;
  /** The user handle to return, base64url. */
  readonly userHandle?: string;
}

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;

/** A CBOR byte string header for lengths 24..255 (major type 2, one length byte). */
function cborBytes(bytes: Buffer): Buffer {
  if (bytes.length < 24 || bytes.length > 255)
    throw new RangeError('only 24..255-byte strings are encoded here');
  return Buffer.concat([Buffer.from([0x58, bytes.length]), bytes]);
}

/** A software ES256 authenticator holding one credential. */
export class SoftAuthenticator {
  /** Credential id, base64url. */
  readonly credentialId: string;
  readonly #privateKey: KeyObject;
  readonly #x: Buffer;
  readonly #y: Buffer;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    if (jwk.x === undefined || jwk.y === undefined) throw new Error('P-256 public key without coordinates');
    this.#privateKey = privateKey;
    this.#x = Buffer.from(jwk.x, 'base64url');
    this.#y = Buffer.from(jwk.y, 'base64url');
    this.credentialId = randomBytes(16).toString('base64url');
  }

  /**
   * The COSE_Key (RFC 9053): CBOR map {1: 2 (kty EC2), 3: -7 (alg ES256), -1: 1 (crv P-256), -2: x, -3: y}.
   * Encoded by hand: 0xa5 is a map (major type 5) of 5 pairs; 0x00..0x17 are unsigned ints,
   * 0x20 + n is the negative int -1 - n; byte strings of 32 bytes are 0x58 0x20 then the bytes.
   */
  cosePublicKey(): Uint8Array {
    return Buffer.concat([
      Buffer.from([0xa5]),
      Buffer.from([0x01, 0x02]), // kty: EC2
      Buffer.from([0x03, 0x26]), // alg: -7 (ES256)
      Buffer.from([0x20, 0x01]), // crv (-1): P-256
      Buffer.from([0x21]), // x (-2)
      cborBytes(this.#x),
      Buffer.from([0x22]), // y (-3)
      cborBytes(this.#y),
    ]);
  }

  /** The COSE public key, base64url, as the `passkeys.public_key` column stores it. */
  publicKeyBase64url(): string {
    return Buffer.from(this.cosePublicKey()).toString('base64url');
  }

  /** An assertion (navigator.credentials.get() result, JSON-encoded) over `challenge`. */
  assert(options: SoftAssertionOptions): AuthenticationResponseJSON {
    const clientDataJSON = Buffer.from(
      JSON.stringify({
        type: 'webauthn.get',
        challenge: options.challenge,
        origin: options.origin,
        crossOrigin: false,
      }),
      'utf8',
    );
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(options.counter);
    const flags = FLAG_UP | (options.userVerified === false ? 0 : FLAG_UV);
    const authenticatorData = Buffer.concat([
      createHash('sha256').update(options.rpId).digest(),
      Buffer.from([flags]),
      counter,
    ]);
    const signed = Buffer.concat([authenticatorData, createHash('sha256').update(clientDataJSON).digest()]);
    // ECDSA-SHA256, DER-encoded (node's default for EC keys), as WebAuthn's ES256 signatures are.
    const signature = sign('sha256', signed, this.#privateKey);
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: 'public-key',
      response: {
        clientDataJSON: clientDataJSON.toString('base64url'),
        authenticatorData: authenticatorData.toString('base64url'),
        signature: signature.toString('base64url'),
        ...(options.userHandle === undefined ? {} : { userHandle: options.userHandle }),
      },
      clientExtensionResults: {},
    };
  }
}
