/** Public key sets: our `/keys` document, and a `KeyLookup` over records read from one (for offline verify). */
import { SIGNING_ALGORITHM } from './signer.ts';
import { computeKeyId } from './key-id.ts';
import { toRecord, type KeyLookup, type KeyRecord } from './key-ring.ts';
import { isPlainObject } from './release-predicate.ts';

/** The body of pubgate's own `/keys`: every key with its window and retirement, oldest first. */
export interface PublicKeySet {
  readonly keys: readonly KeyRecord[];
}

/** Builds the `/keys` document from key records. */
export function toPublicKeySet(records: readonly KeyRecord[]): PublicKeySet {
  return { keys: records.map(toRecord) };
}

/** A `KeyLookup` over fixed records (e.g. a `/keys` document fetched for `pubgate verify` or promotion). */
export function keySetFromRecords(records: readonly KeyRecord[]): KeyLookup {
  const byId = new Map(records.map((r) => [r.keyId, toRecord(r)]));
  return { getKey: (keyId) => Promise.resolve(byId.get(keyId)) };
}

/**
 * Reads a `/keys` document; refuses records whose key id is not the fingerprint of their public key,
 * so a key set cannot alias one id to another key. Throws `TypeError` on a malformed document.
 */
export function keySetFromJson(json: unknown): KeyLookup {
  const value: unknown = typeof json === 'string' ? JSON.parse(json) : json;
  if (!isPlainObject(value) || !Array.isArray(value.keys)) throw new TypeError('a key set is {keys: [...]}');
  const records = value.keys.map((k: unknown, i): KeyRecord => {
    if (
      !isPlainObject(k) ||
      typeof k.keyId !== 'string' ||
      typeof k.publicKeyPem !== 'string' ||
      k.algorithm !== SIGNING_ALGORITHM ||
      typeof k.notBefore !== 'string' ||
      !(k.notAfter === null || typeof k.notAfter === 'string') ||
      !(k.retiredAt === undefined || typeof k.retiredAt === 'string')
    ) {
      throw new TypeError(`keys[${i}] is not a key record`);
    }
    if (computeKeyId(k.publicKeyPem) !== k.keyId)
      throw new TypeError(`keys[${i}].keyId is not the fingerprint of its key`);
    const base = {
      keyId: k.keyId,
      algorithm: SIGNING_ALGORITHM,
      publicKeyPem: k.publicKeyPem,
      notBefore: k.notBefore,
      notAfter: k.notAfter,
    };
    return k.retiredAt === undefined ? base : { ...base, retiredAt: k.retiredAt };
  });
  return keySetFromRecords(records);
}
