/**
 * The gate's key ring as configured (`signing` in the config): a local key sealed under the master
 * key, or a key held in a PKCS#11 token. The first start creates the first key; `pubgate keys rotate`
 * creates the next one where the configured signer keeps it.
 *
 * A configured signer that differs from the active key's custody (the config moved from local to
 * pkcs11, or back) changes nothing by itself: the active key keeps signing until `pubgate keys
 * rotate` makes a key of the configured kind, and the start logs a warning saying so. Rotation is an
 * explicit step because it changes what verifiers trust, and because instances starting together
 * would otherwise each rotate.
 */
import { SIGN_ERROR_CODES, SigningError } from './errors.ts';
import {
  KeyRing,
  type HsmKeyReference,
  type KeyCustodyKind,
  type KeyRecord,
  type KeyRingStore,
} from './key-ring.ts';
import {
  findPkcs11Key,
  generatePkcs11Key,
  openPkcs11Signer,
  readPkcs11Pin,
  type Pkcs11Options,
  type Pkcs11Signer,
} from './pkcs11-signer.ts';
import type { Signer } from './signer.ts';

/** The `signing.pkcs11` section of the config. */
export interface Pkcs11Settings {
  readonly modulePath: string;
  readonly tokenLabel?: string | undefined;
  readonly slotIndex?: number | undefined;
  readonly pinFile?: string | undefined;
  readonly pinEnv?: string | undefined;
  readonly keyLabel: string;
}

/** The `signing` section of the config. */
export interface SigningSettings {
  readonly signer: 'local' | 'pkcs11';
  readonly rotationOverlapSeconds: number;
  readonly pkcs11?: Pkcs11Settings | undefined;
}

/** Where the key ring reports what an operator must act on (the gate's logger fits). */
export interface SigningNotices {
  warn(details: Record<string, unknown>, message: string): void;
}

/** Options of `openConfiguredKeyRing`. */
export interface OpenConfiguredKeyRingOptions {
  readonly settings: SigningSettings;
  readonly store: KeyRingStore;
  readonly masterKey: Uint8Array;
  readonly now: () => Date;
  readonly logger?: SigningNotices;
  /**
   * Runs the first-key check-and-create alone among the gate's instances (PostgreSQL: an advisory
   * lock), so instances that start together on an empty store make one key, not one each.
   */
  readonly exclusive?: <T>(work: () => Promise<T>) => Promise<T>;
}

/** The configured key ring, and how to end the PKCS#11 sessions it opened. */
export interface ConfiguredKeyRing {
  readonly ring: KeyRing;
  /** Closes every PKCS#11 session opened for signing; call once at shutdown. */
  close(): Promise<void>;
}

/**
 * Opens the key ring and creates the first key when none is active. With the pkcs11 signer the
 * token is checked now (module, token, PIN), so a misconfigured token stops the start with
 * `ERR_SIGN_PKCS11` instead of failing the first approval.
 */
export async function openConfiguredKeyRing(
  options: OpenConfiguredKeyRingOptions,
): Promise<ConfiguredKeyRing> {
  const { settings } = options;
  const token = settings.pkcs11 === undefined ? undefined : new TokenSessions(settings.pkcs11);
  const ring = new KeyRing({
    store: options.store,
    masterKey: options.masterKey,
    rotationOverlapMs: settings.rotationOverlapSeconds * 1000,
    now: options.now,
    // Also with the local signer when a token is configured: an HSM key that is still active keeps signing.
    ...(token === undefined ? {} : { openHsmSigner: (_record, label) => token.signer(label) }),
  });
  const close = (): Promise<void> => token?.close() ?? Promise.resolve();
  try {
    const firstKey = async (): Promise<KeyRecord> =>
      (await ring.activeKey()) ??
      (settings.signer === 'pkcs11'
        ? await ring.initialize(await firstTokenKey(ring, requireToken(token), options.now()))
        : await ring.initialize());
    // Checked again under the lock: another instance may have made the key meanwhile.
    const active =
      (await ring.activeKey()) ??
      (await (options.exclusive === undefined ? firstKey() : options.exclusive(firstKey)));
    const custody = await ring.getCustody(active.keyId);
    if (custody?.kind === 'pkcs11' && token !== undefined) {
      // Opens the session the gate signs with, so a wrong PIN or a missing key shows now.
      await ring.signerFor(active.keyId);
    } else if (settings.signer === 'pkcs11') {
      // The active key is sealed; still prove the token is usable before anyone runs a rotation.
      await requireToken(token).find(settings.pkcs11!.keyLabel);
    }
    warnOnCustodyMismatch(options.logger, settings, active, custody);
  } catch (error) {
    await close();
    throw error;
  }
  return { ring, close };
}

/** Options of `rotateConfiguredKeyRing`. */
export interface RotateConfiguredKeyRingOptions {
  readonly settings: SigningSettings;
  readonly ring: KeyRing;
  /** How long the previous keys stay valid; default the ring's `rotationOverlapSeconds`. */
  readonly overlapMs?: number;
  /** `CKA_LABEL` of the new token key (pkcs11 only); default `<keyLabel>-<UTC time>`. */
  readonly label?: string;
  /** The clock, for the default label. */
  readonly now?: Date;
}

/**
 * Rotates to a new key of the configured kind (`pubgate keys rotate`): a new sealed key, or a key
 * pair in the token under `label`. A key pair the token already holds under that label (made by the
 * HSM's own tools) is used as is; otherwise the token generates one.
 */
export async function rotateConfiguredKeyRing(
  options: RotateConfiguredKeyRingOptions,
): Promise<{ current: KeyRecord; previous: KeyRecord[] }> {
  const { settings, ring } = options;
  const overlap = options.overlapMs === undefined ? {} : { overlapMs: options.overlapMs };
  if (settings.signer === 'local') {
    if (options.label !== undefined)
      throw new TypeError('a key label applies only to the pkcs11 signer (signing.signer)');
    return ring.rotate(overlap);
  }
  const token = requireToken(settings.pkcs11 === undefined ? undefined : new TokenSessions(settings.pkcs11));
  try {
    const label = options.label ?? toRotatedLabel(token.keyLabel, options.now ?? new Date());
    const hsmKey = await adoptOrGenerateTokenKey(ring, token, label);
    // Proves the private half is there and usable before verifiers are told to trust the key.
    await token.signer(label);
    return await ring.rotate({ ...overlap, hsmKey });
  } finally {
    await token.close();
  }
}

/**
 * The first key when none is active: the configured `keyLabel` pair, generated when absent. When
 * that pair is already in the ring (it expired or was retired), a new pair named as rotation names
 * it, as the local signer makes a new key; a start that refused would also stop `keys rotate`.
 */
async function firstTokenKey(ring: KeyRing, token: TokenSessions, now: Date): Promise<HsmKeyReference> {
  const found = await token.find(token.keyLabel);
  if (found === undefined || (await ring.getKey(found.keyId)) === undefined)
    return adoptOrGenerateTokenKey(ring, token, token.keyLabel);
  return adoptOrGenerateTokenKey(ring, token, toRotatedLabel(token.keyLabel, now));
}

/**
 * The token's key pair under `label`, generated when absent. A key the ring already knows is
 * refused: registering it again would revive a rotated-out or retired key.
 */
async function adoptOrGenerateTokenKey(
  ring: KeyRing,
  token: TokenSessions,
  label: string,
): Promise<HsmKeyReference> {
  const found = await token.find(label);
  if (found !== undefined && (await ring.getKey(found.keyId)) !== undefined) {
    throw new SigningError(
      SIGN_ERROR_CODES.keyUnusable,
      `the token's key ${label} (${found.keyId}) is already in the key ring; choose another --label`,
    );
  }
  const key = found ?? (await token.generate(label));
  return { label, publicKeyPem: key.publicKeyPem };
}

function warnOnCustodyMismatch(
  logger: SigningNotices | undefined,
  settings: SigningSettings,
  active: KeyRecord,
  custody: KeyCustodyKind | undefined,
): void {
  const activeKind = custody?.kind === 'pkcs11' ? 'pkcs11' : 'local';
  if (activeKind === settings.signer) return;
  const unusable = activeKind === 'pkcs11' && settings.pkcs11 === undefined;
  logger?.warn(
    { keyId: active.keyId, custody: activeKind, signer: settings.signer },
    unusable
      ? `the active signing key is held in a PKCS#11 token but signing.pkcs11 is not configured: nothing can be signed until \`pubgate keys rotate\` makes a ${settings.signer} key`
      : `the active signing key is ${activeKind} but signing.signer is ${settings.signer}: it keeps signing until \`pubgate keys rotate\` makes a ${settings.signer} key`,
  );
}

function requireToken(token: TokenSessions | undefined): TokenSessions {
  // The config loader refuses signer pkcs11 without a pkcs11 section; this guards direct callers.
  if (token === undefined) throw new TypeError('signing.pkcs11 is required when signing.signer is pkcs11');
  return token;
}

// <keyLabel>-20250314T101500Z for 2025-03-14T10:15:00.123Z: sortable, and valid in any token's CKA_LABEL.
function toRotatedLabel(keyLabel: string, at: Date): string {
  return `${keyLabel}-${at
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[-:]/g, '')}`;
}

/**
 * The configured token: the PIN read once on first use, and one open signer per key label. An
 * open signer holds a logged-in session; one whose signing fails is dropped and closed, so the next
 * signature opens a fresh session (an HSM restart invalidates sessions).
 */
class TokenSessions {
  readonly keyLabel: string;
  readonly #settings: Pkcs11Settings;
  readonly #signers = new Map<string, Promise<Pkcs11Signer>>();
  #pin: Promise<string> | undefined;

  constructor(settings: Pkcs11Settings) {
    this.#settings = settings;
    this.keyLabel = settings.keyLabel;
  }

  find(label: string): Promise<{ keyId: string; publicKeyPem: string } | undefined> {
    return this.#options(label).then(findPkcs11Key);
  }

  generate(label: string): Promise<{ keyId: string; publicKeyPem: string }> {
    return this.#options(label).then(generatePkcs11Key);
  }

  async signer(label: string): Promise<Signer> {
    let opening = this.#signers.get(label);
    if (opening === undefined) {
      opening = this.#options(label).then(openPkcs11Signer);
      this.#signers.set(label, opening);
    }
    let signer: Pkcs11Signer;
    try {
      signer = await opening;
    } catch (error) {
      // Not cached: the next call tries again (the token may be back).
      if (this.#signers.get(label) === opening) this.#signers.delete(label);
      throw error;
    }
    const current = opening;
    return {
      keyId: signer.keyId,
      publicKeyPem: signer.publicKeyPem,
      algorithm: signer.algorithm,
      sign: async (data) => {
        try {
          return await signer.sign(data);
        } catch (error) {
          if (this.#signers.get(label) === current) {
            this.#signers.delete(label);
            await signer.close().catch(() => undefined);
          }
          throw error;
        }
      },
    };
  }

  async close(): Promise<void> {
    const opened = [...this.#signers.values()];
    this.#signers.clear();
    await Promise.allSettled(opened.map(async (opening) => (await opening).close()));
  }

  async #options(keyLabel: string): Promise<Pkcs11Options> {
    const s = this.#settings;
    // Read lazily: a local-signer gate with a leftover pkcs11 section needs no PIN until a token key signs.
    this.#pin ??= readPkcs11Pin({
      ...(s.pinFile === undefined ? {} : { pinFile: s.pinFile }),
      ...(s.pinEnv === undefined ? {} : { pinEnv: s.pinEnv }),
    });
    const pin = await this.#pin.catch((error: unknown) => {
      this.#pin = undefined;
      throw error;
    });
    return {
      modulePath: s.modulePath,
      ...(s.tokenLabel === undefined ? {} : { tokenLabel: s.tokenLabel }),
      ...(s.slotIndex === undefined ? {} : { slotIndex: s.slotIndex }),
      pin,
      keyLabel,
    };
  }
}
