/** Keyed fingerprints and redacted previews: the only forms in which a secret leaves the scanner. */
import { createHmac, randomBytes } from 'node:crypto';

/** HMAC-SHA256 hex of `secret` under `key` (for the agent, the key the gate issued). */
export function fingerprintSecret(secret: string, key: Uint8Array | string): string {
  if (typeof key === 'string' ? key.length === 0 : key.byteLength === 0)
    throw new RangeError('fingerprint key must not be empty');
  return createHmac('sha256', key).update(secret, 'utf8').digest('hex');
}

let processKey: Buffer | undefined;

/** A random key for this process, used when the caller gives none (fingerprints then only compare within one run). */
export function defaultFingerprintKey(): Buffer {
  processKey ??= randomBytes(32);
  return processKey;
}

/**
 * A preview that identifies a secret without revealing it: the public prefix (e.g. `npm_`) plus at
 * most two characters, never more than a quarter of the value, then the length.
 */
export function redactSecret(secret: string, reveal = 0): string {
  const length = [...secret].length;
  const extra = reveal > 0 ? 2 : length >= 16 ? 2 : 0;
  const shown = Math.max(0, Math.min(reveal + extra, Math.floor(length / 4)));
  const head = secret.slice(0, shown).replace(/[^\x21-\x7e]/g, '?');
  return `${head}…(${length} chars)`;
}
