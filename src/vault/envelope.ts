/**
 * Envelope encryption under the master key: each secret gets its own random data key (DEK); the
 * secret is sealed with the DEK (AES-256-GCM) and the DEK is wrapped with the master key (AES-256-GCM).
 * Both carry the secret's name as additional authenticated data, so a sealed blob cannot be moved to
 * another name. Rotating the master key re-wraps DEKs only.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { IntegrityError } from '../errors/index.ts';

/** A sealed secret: everything needed to open it with the right master key, nothing in clear. */
export interface SealedSecret {
  readonly version: 1;
  /** Identifies the master key that wrapped the DEK (first 16 hex of sha256 of the key); not secret. */
  readonly masterKeyId: string;
  readonly wrappedKey: string;
  readonly ciphertext: string;
}

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The id under which a master key is known, derived from the key (one-way). */
export function masterKeyIdOf(masterKey: Uint8Array): string {
  assertKey(masterKey);
  return createHash('sha256').update('pubgate master key id\0').update(masterKey).digest('hex').slice(0, 16);
}

/** Creates a fresh random 32-byte master key. */
export function generateMasterKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** Seals `plaintext` under `masterKey`, bound to `name`. */
export function sealSecret(masterKey: Uint8Array, name: string, plaintext: Uint8Array): SealedSecret {
  assertKey(masterKey);
  const dataKey = randomBytes(KEY_BYTES);
  try {
    return {
      version: 1,
      masterKeyId: masterKeyIdOf(masterKey),
      wrappedKey: encrypt(masterKey, dataKey, `pubgate:dek:${name}`),
      ciphertext: encrypt(dataKey, plaintext, `pubgate:secret:${name}`),
    };
  } finally {
    dataKey.fill(0);
  }
}

/** Opens a sealed secret; throws `ERR_VAULT_WRONG_KEY` or `ERR_VAULT_TAMPERED`. The caller should zero the result after use. */
export function unsealSecret(masterKey: Uint8Array, name: string, sealed: SealedSecret): Buffer {
  assertKey(masterKey);
  if (sealed.version !== 1)
    throw new IntegrityError('ERR_VAULT_TAMPERED', 'sealed secret has an unknown version');
  if (sealed.masterKeyId !== masterKeyIdOf(masterKey)) {
    throw new IntegrityError(
      'ERR_VAULT_WRONG_KEY',
      `secret "${name}" was sealed under master key ${sealed.masterKeyId}, not the one loaded; load that key or re-seal the secret`,
    );
  }
  const dataKey = decrypt(masterKey, sealed.wrappedKey, `pubgate:dek:${name}`, name);
  try {
    return decrypt(dataKey, sealed.ciphertext, `pubgate:secret:${name}`, name);
  } finally {
    dataKey.fill(0);
  }
}

/** Re-wraps a sealed secret's DEK under a new master key without exposing the secret itself. */
export function rewrapSecret(
  oldKey: Uint8Array,
  newKey: Uint8Array,
  name: string,
  sealed: SealedSecret,
): SealedSecret {
  if (sealed.masterKeyId !== masterKeyIdOf(oldKey)) {
    throw new IntegrityError(
      'ERR_VAULT_WRONG_KEY',
      `secret "${name}" was not sealed under the old master key`,
    );
  }
  const dataKey = decrypt(oldKey, sealed.wrappedKey, `pubgate:dek:${name}`, name);
  try {
    return {
      ...sealed,
      masterKeyId: masterKeyIdOf(newKey),
      wrappedKey: encrypt(newKey, dataKey, `pubgate:dek:${name}`),
    };
  } finally {
    dataKey.fill(0);
  }
}

function assertKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
    throw new TypeError(`master key must be ${KEY_BYTES} bytes`);
  }
}

function encrypt(key: Uint8Array, plaintext: Uint8Array, aad: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

function decrypt(key: Uint8Array, sealed: string, aad: string, name: string): Buffer {
  const raw = Buffer.from(sealed, 'base64');
  if (raw.length < IV_BYTES + TAG_BYTES)
    throw new IntegrityError('ERR_VAULT_TAMPERED', `sealed secret "${name}" is truncated`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch (cause) {
    throw new IntegrityError('ERR_VAULT_TAMPERED', `sealed secret "${name}" failed authentication`, {
      cause,
    });
  }
}
