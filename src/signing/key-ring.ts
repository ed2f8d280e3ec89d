/**
 * The gate's signing keys: records with validity windows, private keys sealed under the master key,
 * rotation with an overlap, explicit retirement, and the lookup verifiers use.
 */
import type { SealedSecret } from '../vault/index.ts';
import { sealSecret, unsealSecret } from '../vault/index.ts';
import { SIGN_ERROR_CODES, SigningError } from './errors.ts';
import { computeKeyId, toP256PublicKeyPem } from './key-id.ts';
import { generateLocalKey, LocalKeySigner } from './local-key-signer.ts';
import { SIGNING_ALGORITHM, type Signer, type SigningAlgorithm } from './signer.ts';

/** The public facts of a signing key; safe to serve at `/keys`. Times are ISO 8601 UTC. */
export interface KeyRecord {
  readonly keyId: string;
  readonly algorithm: SigningAlgorithm;
  readonly publicKeyPem: string;
  /** First instant at which a signature by this key is accepted. */
  readonly notBefore: string;
  /** Last instant at which a signature by this key is accepted; null while it is the current key. */
  readonly notAfter: string | null;
  /** Set when the key was withdrawn; from then on nothing it signed is trusted, whenever signed. */
  readonly retiredAt?: string;
}

/** Where the private half lives: sealed in the store, or inside a PKCS#11 token under a label. */
export type KeyCustody =
  | { readonly kind: 'sealed'; readonly sealed: SealedSecret }
  | { readonly kind: 'pkcs11'; readonly label: string };

/** Where a key's private half lives, without the sealed blob: what `pubgate keys list` shows. */
export type KeyCustodyKind =
  { readonly kind: 'sealed' } | { readonly kind: 'pkcs11'; readonly label: string };

/** What the key-ring store persists: the public record and the custody of the private key. */
export interface StoredKey extends KeyRecord {
  readonly custody: KeyCustody;
}

/** Persistence of the key ring; the gate implements it on its SQL store. */
export interface KeyRingStore {
  /** The stored key with this id, or undefined. */
  get(keyId: string): Promise<StoredKey | undefined>;
  /** Inserts or replaces the stored key with this id. */
  put(key: StoredKey): Promise<void>;
  /** Every stored key, in any order. */
  list(): Promise<StoredKey[]>;
}

/** Looks up public key records by id; what verifiers need (a `KeyRing`, or a key set read from `/keys`). */
export interface KeyLookup {
  /** The record with this id, or undefined. */
  getKey(keyId: string): Promise<KeyRecord | undefined>;
}

/** Opens a `Signer` for a key held in a PKCS#11 token (see `openPkcs11Signer`). */
export type OpenHsmSigner = (record: KeyRecord, label: string) => Promise<Signer>;

/** Options of `new KeyRing`. */
export interface KeyRingOptions {
  readonly store: KeyRingStore;
  /** The 32-byte master key that seals local private keys. Required for local keys. */
  readonly masterKey?: Uint8Array;
  /** How long a rotated-out key stays valid beside its successor; default 7 days. */
  readonly rotationOverlapMs?: number;
  /** Opens signers for PKCS#11-held keys; required only when such keys exist. */
  readonly openHsmSigner?: OpenHsmSigner;
  /** The clock; tests freeze it. */
  readonly now?: () => Date;
}

/** Default overlap of an old key's validity after rotation. */
export const DEFAULT_ROTATION_OVERLAP_MS = 7 * 24 * 60 * 60 * 1000;

/** A public key held in an HSM, to be registered in the ring under its PKCS#11 label. */
export interface HsmKeyReference {
  readonly label: string;
  readonly publicKeyPem: string;
}

/** Options of `KeyRing.rotate`. */
export interface RotateOptions {
  /** Overrides the ring's overlap for this rotation. */
  readonly overlapMs?: number;
  /** Rotate to a key in the HSM instead of generating a local one. */
  readonly hsmKey?: HsmKeyReference;
}

/** The signing keys of the gate. */
export class KeyRing implements KeyLookup {
  readonly #store: KeyRingStore;
  readonly #masterKey: Uint8Array | undefined;
  readonly #overlapMs: number;
  readonly #openHsmSigner: OpenHsmSigner | undefined;
  readonly #now: () => Date;

  constructor(options: KeyRingOptions) {
    if (options.masterKey !== undefined && options.masterKey.length !== 32) {
      throw new RangeError('the master key must be 32 bytes');
    }
    const overlap = options.rotationOverlapMs ?? DEFAULT_ROTATION_OVERLAP_MS;
    if (!Number.isSafeInteger(overlap) || overlap < 0)
      throw new RangeError('rotationOverlapMs must be a non-negative integer');
    this.#store = options.store;
    this.#masterKey = options.masterKey;
    this.#overlapMs = overlap;
    this.#openHsmSigner = options.openHsmSigner;
    this.#now = options.now ?? (() => new Date());
  }

  /** Creates the first signing key when no key is active (`pubgate init`); returns the active key. */
  async initialize(hsmKey?: HsmKeyReference): Promise<KeyRecord> {
    const active = await this.activeKey();
    if (active !== undefined) return active;
    return this.#addKey(this.#now(), hsmKey);
  }

  /**
   * Rotates (`pubgate keys rotate`): adds a new current key and ends every other open window at
   * now + overlap, so signatures made just before the rotation, and caches of the old key set, keep working.
   */
  async rotate(options: RotateOptions = {}): Promise<{ current: KeyRecord; previous: KeyRecord[] }> {
    const overlap = options.overlapMs ?? this.#overlapMs;
    if (!Number.isSafeInteger(overlap) || overlap < 0)
      throw new RangeError('overlapMs must be a non-negative integer');
    const now = this.#now();
    const endMs = now.getTime() + overlap;
    const end = new Date(endMs).toISOString();
    const previous: KeyRecord[] = [];
    for (const key of await this.#store.list()) {
      if (key.retiredAt !== undefined) continue;
      if (key.notAfter !== null && Date.parse(key.notAfter) <= endMs) continue;
      const ended: StoredKey = { ...key, notAfter: end };
      await this.#store.put(ended);
      previous.push(toRecord(ended));
    }
    const current = await this.#addKey(now, options.hsmKey);
    return { current, previous };
  }

  /** Retires a key ("rotated out" / withdrawn): verification refuses everything it signed. */
  async retire(keyId: string): Promise<KeyRecord> {
    const key = await this.#store.get(keyId);
    if (key === undefined) throw new SigningError(SIGN_ERROR_CODES.keyUnknown, `no signing key ${keyId}`);
    if (key.retiredAt !== undefined) return toRecord(key);
    const retired: StoredKey = { ...key, retiredAt: this.#now().toISOString() };
    await this.#store.put(retired);
    return toRecord(retired);
  }

  /** The public record of a key, or undefined. */
  async getKey(keyId: string): Promise<KeyRecord | undefined> {
    const key = await this.#store.get(keyId);
    return key === undefined ? undefined : toRecord(key);
  }

  /** Where the key's private half lives (sealed here, or a PKCS#11 label), or undefined for an unknown key. */
  async getCustody(keyId: string): Promise<KeyCustodyKind | undefined> {
    const key = await this.#store.get(keyId);
    if (key === undefined) return undefined;
    return key.custody.kind === 'pkcs11' ? { kind: 'pkcs11', label: key.custody.label } : { kind: 'sealed' };
  }

  /** Every key's public record, oldest first (what `/keys` serves). */
  async listKeys(): Promise<KeyRecord[]> {
    return (await this.#store.list()).map(toRecord).sort(byNotBefore);
  }

  /**
   * The key that signs at `at`: among keys valid then and not retired, the current one (open window)
   * if any, else the newest; during an overlap the successor signs and the predecessor only verifies.
   */
  async activeKey(at: Date = this.#now()): Promise<KeyRecord | undefined> {
    const candidates = (await this.listKeys()).filter(
      (k) => isKeyValidAt(k, at) && k.retiredAt === undefined,
    );
    return candidates.find((k) => k.notAfter === null) ?? candidates.at(-1);
  }

  /** A `Signer` for the active key; throws `ERR_SIGN_NO_ACTIVE_KEY` when none is valid now. */
  async activeSigner(): Promise<Signer> {
    const record = await this.activeKey();
    if (record === undefined) {
      throw new SigningError(
        SIGN_ERROR_CODES.noActiveKey,
        'no signing key is valid now; run `pubgate keys rotate`',
      );
    }
    return this.signerFor(record.keyId);
  }

  /** A `Signer` for a given key (sealed keys are opened with the master key, HSM keys through `openHsmSigner`). */
  async signerFor(keyId: string): Promise<Signer> {
    const key = await this.#store.get(keyId);
    if (key === undefined) throw new SigningError(SIGN_ERROR_CODES.keyUnknown, `no signing key ${keyId}`);
    let signer: Signer;
    if (key.custody.kind === 'pkcs11') {
      if (this.#openHsmSigner === undefined) {
        throw new SigningError(
          SIGN_ERROR_CODES.keyUnusable,
          `key ${keyId} is held in a PKCS#11 token and no HSM is configured`,
        );
      }
      signer = await this.#openHsmSigner(toRecord(key), key.custody.label);
    } else {
      const der = unsealSecret(this.#requireMasterKey(), sealName(keyId), key.custody.sealed);
      try {
        signer = LocalKeySigner.fromPkcs8Der(der);
      } catch (cause) {
        throw new SigningError(
          SIGN_ERROR_CODES.keyUnusable,
          `sealed key ${keyId} is not a usable P-256 key`,
          { cause },
        );
      } finally {
        der.fill(0);
      }
    }
    // A record whose private half belongs to another key would sign under a false hint.
    if (signer.keyId !== keyId) {
      throw new SigningError(
        SIGN_ERROR_CODES.keyUnusable,
        `the private key stored for ${keyId} does not match its public key`,
      );
    }
    return signer;
  }

  async #addKey(now: Date, hsmKey: HsmKeyReference | undefined): Promise<KeyRecord> {
    const notBefore = now.toISOString();
    let stored: StoredKey;
    if (hsmKey !== undefined) {
      const publicKeyPem = toP256PublicKeyPem(hsmKey.publicKeyPem);
      stored = {
        keyId: computeKeyId(publicKeyPem),
        algorithm: SIGNING_ALGORITHM,
        publicKeyPem,
        notBefore,
        notAfter: null,
        custody: { kind: 'pkcs11', label: hsmKey.label },
      };
    } else {
      const masterKey = this.#requireMasterKey();
      const generated = generateLocalKey();
      try {
        stored = {
          keyId: generated.keyId,
          algorithm: SIGNING_ALGORITHM,
          publicKeyPem: generated.publicKeyPem,
          notBefore,
          notAfter: null,
          custody: {
            kind: 'sealed',
            sealed: sealSecret(masterKey, sealName(generated.keyId), generated.privateKeyPkcs8Der),
          },
        };
      } finally {
        generated.privateKeyPkcs8Der.fill(0);
      }
    }
    if ((await this.#store.get(stored.keyId)) !== undefined) {
      throw new SigningError(SIGN_ERROR_CODES.keyUnusable, `key ${stored.keyId} is already in the ring`);
    }
    await this.#store.put(stored);
    return toRecord(stored);
  }

  #requireMasterKey(): Uint8Array {
    if (this.#masterKey === undefined) throw new TypeError('this key ring was built without a master key');
    return this.#masterKey;
  }
}

/** Whether `at` lies inside the key's validity window (retirement is judged separately). */
export function isKeyValidAt(key: KeyRecord, at: Date): boolean {
  const t = at.getTime();
  return Date.parse(key.notBefore) <= t && (key.notAfter === null || t <= Date.parse(key.notAfter));
}

/** The public record of a stored key (custody dropped). */
export function toRecord(key: StoredKey | KeyRecord): KeyRecord {
  const record: KeyRecord = {
    keyId: key.keyId,
    algorithm: key.algorithm,
    publicKeyPem: key.publicKeyPem,
    notBefore: key.notBefore,
    notAfter: key.notAfter,
  };
  return key.retiredAt === undefined ? record : { ...record, retiredAt: key.retiredAt };
}

// The sealed blob is bound to its key id, so it cannot be swapped onto another record (vault AAD).
function sealName(keyId: string): string {
  return `signing-key/${keyId}`;
}

function byNotBefore(a: KeyRecord, b: KeyRecord): number {
  return Date.parse(a.notBefore) - Date.parse(b.notBefore) || a.keyId.localeCompare(b.keyId);
}
