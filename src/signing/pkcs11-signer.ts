/**
 * The PKCS#11 `Signer`: the private key stays in a token (an HSM, a cloud KMS with a PKCS#11 front,
 * or SoftHSM2); we send it a SHA-256 digest and get back r‖s. The one module that touches `pkcs11js`.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import type * as Pkcs11Module from 'pkcs11js';
import { SIGN_ERROR_CODES, SigningError } from './errors.ts';
import { p1363ToDer, p256PublicKeyFromEcPoint } from './ecdsa-encoding.ts';
import { computeKeyId, toP256PublicKeyPem } from './key-id.ts';
import { SIGNING_ALGORITHM, type Signer, type SigningAlgorithm } from './signer.ts';

/** Where the key is: module, token, PIN and key label. */
export interface Pkcs11Options {
  /** Path of the PKCS#11 module, e.g. `/usr/lib/softhsm/libsofthsm2.so`. */
  readonly modulePath: string;
  /** Label of the token; preferred over `slotIndex` because slot ids can change when tokens are added. */
  readonly tokenLabel?: string;
  /** Index in the list of slots that hold a token, when no label is given. */
  readonly slotIndex?: number;
  /** The user PIN (read it with `readPkcs11Pin`; never log it). */
  readonly pin: string;
  /** `CKA_LABEL` of the key pair. */
  readonly keyLabel: string;
}

/** Where to read the PIN from: a file (first line) or an environment variable. */
export interface Pkcs11PinSource {
  readonly pinFile?: string;
  readonly pinEnv?: string;
}

/** Reads a PKCS#11 PIN from a file or an environment variable, so it never sits in the config file. */
export async function readPkcs11Pin(source: Pkcs11PinSource): Promise<string> {
  if (source.pinFile !== undefined) {
    let text: string;
    try {
      text = await readFile(source.pinFile, 'utf8');
    } catch (error) {
      // The file system error names the path and errno only; no cause, so nothing of the file travels.
      const errno = (error as { code?: unknown }).code;
      throw new SigningError(
        SIGN_ERROR_CODES.pkcs11,
        `cannot read the PIN file ${source.pinFile}${typeof errno === 'string' ? ` (${errno})` : ''}`,
      );
    }
    const pin = text.split(/\r?\n/, 1)[0] ?? '';
    if (pin.length === 0)
      throw new SigningError(SIGN_ERROR_CODES.pkcs11, `the PIN file ${source.pinFile} is empty`);
    return pin;
  }
  if (source.pinEnv !== undefined) {
    const pin = process.env[source.pinEnv];
    if (pin === undefined || pin.length === 0) {
      throw new SigningError(
        SIGN_ERROR_CODES.pkcs11,
        `the environment variable ${source.pinEnv} holds no PIN`,
      );
    }
    return pin;
  }
  throw new TypeError('give pinFile or pinEnv');
}

type Pkcs11Lib = typeof Pkcs11Module;
type Handle = Buffer;

let lib: Pkcs11Lib | undefined;
function loadLib(): Pkcs11Lib {
  // Loaded on first use so that a missing native build only matters to deployments that use an HSM.
  lib ??= createRequire(import.meta.url)('pkcs11js') as Pkcs11Lib;
  return lib;
}

// One initialised module per path and process: C_Initialize twice is an error, and C_Finalize
// must wait until the last session on the module is closed.
const modules = new Map<string, { pkcs11: Pkcs11Module.PKCS11; users: number }>();

function acquireModule(path: string): Pkcs11Module.PKCS11 {
  const existing = modules.get(path);
  if (existing !== undefined) {
    existing.users++;
    return existing.pkcs11;
  }
  const { PKCS11, CKR_CRYPTOKI_ALREADY_INITIALIZED } = loadLib();
  const pkcs11 = new PKCS11();
  pkcs11.load(path);
  try {
    pkcs11.C_Initialize();
  } catch (error) {
    if ((error as { code?: number }).code !== CKR_CRYPTOKI_ALREADY_INITIALIZED) throw error;
  }
  modules.set(path, { pkcs11, users: 1 });
  return pkcs11;
}

function releaseModule(path: string): void {
  const entry = modules.get(path);
  if (entry === undefined) return;
  if (--entry.users > 0) return;
  modules.delete(path);
  try {
    entry.pkcs11.C_Finalize();
  } finally {
    entry.pkcs11.close();
  }
}

/** A logged-in session on the token, and how to end it. */
interface Session {
  readonly pkcs11: Pkcs11Module.PKCS11;
  readonly handle: Handle;
  close(): void;
}

function openSession(options: Pkcs11Options, readWrite: boolean): Session {
  const { CKF_SERIAL_SESSION, CKF_RW_SESSION, CKU_USER, CKR_USER_ALREADY_LOGGED_IN } = loadLib();
  let pkcs11: Pkcs11Module.PKCS11;
  try {
    pkcs11 = acquireModule(options.modulePath);
  } catch (cause) {
    throw pkcs11Error(`cannot load the PKCS#11 module ${options.modulePath}`, cause);
  }
  let handle: Handle | undefined;
  try {
    const slot = findSlot(pkcs11, options);
    handle = pkcs11.C_OpenSession(slot, CKF_SERIAL_SESSION | (readWrite ? CKF_RW_SESSION : 0));
    try {
      pkcs11.C_Login(handle, CKU_USER, options.pin);
    } catch (error) {
      if ((error as { code?: number }).code !== CKR_USER_ALREADY_LOGGED_IN) throw error;
    }
  } catch (cause) {
    if (handle !== undefined) pkcs11.C_CloseSession(handle);
    releaseModule(options.modulePath);
    // The PKCS#11 error names the failing call and CKR code only; the PIN is never part of it.
    throw cause instanceof SigningError ? cause : pkcs11Error('cannot open a session on the token', cause);
  }
  const session = handle;
  let closed = false;
  return {
    pkcs11,
    handle: session,
    close: () => {
      if (closed) return;
      closed = true;
      // Login state is per token and application, so C_Logout would log out every other session this
      // process holds on the token (another key's signer) and their private key handles would turn
      // invalid. Only the module's last session logs out; closing the last session on a token returns
      // it to public sessions anyway (PKCS#11 v2.40 §5.6, C_CloseSession).
      if (modules.get(options.modulePath)?.users === 1) {
        try {
          pkcs11.C_Logout(session);
        } catch {
          // Already logged out: nothing to undo.
        }
      }
      pkcs11.C_CloseSession(session);
      releaseModule(options.modulePath);
    },
  };
}

function findSlot(pkcs11: Pkcs11Module.PKCS11, options: Pkcs11Options): Handle {
  const slots = pkcs11.C_GetSlotList(true);
  if (options.tokenLabel !== undefined) {
    const slot = slots.find((s) => pkcs11.C_GetTokenInfo(s).label.trim() === options.tokenLabel);
    if (slot === undefined)
      throw new SigningError(SIGN_ERROR_CODES.pkcs11, `no token labelled ${options.tokenLabel}`);
    return slot;
  }
  const slot = slots[options.slotIndex ?? 0];
  if (slot === undefined)
    throw new SigningError(SIGN_ERROR_CODES.pkcs11, `no token in slot index ${options.slotIndex ?? 0}`);
  return slot;
}

// Up to two matches: enough to tell none, one and ambiguous apart.
function findKeys(session: Session, keyClass: number, label: string): Handle[] {
  const { CKA_CLASS, CKA_LABEL, CKA_KEY_TYPE, CKK_EC } = loadLib();
  const { pkcs11, handle } = session;
  pkcs11.C_FindObjectsInit(handle, [
    { type: CKA_CLASS, value: keyClass },
    { type: CKA_KEY_TYPE, value: CKK_EC },
    { type: CKA_LABEL, value: label },
  ]);
  try {
    return pkcs11.C_FindObjects(handle, 2);
  } finally {
    pkcs11.C_FindObjectsFinal(handle);
  }
}

function findKey(session: Session, keyClass: number, label: string): Handle {
  const found = findKeys(session, keyClass, label);
  if (found.length !== 1) {
    throw new SigningError(
      SIGN_ERROR_CODES.pkcs11,
      `expected one EC key labelled ${label} in the token, found ${found.length}`,
    );
  }
  return found[0]!;
}

function readPublicKeyPem(session: Session, label: string): string {
  const { CKO_PUBLIC_KEY, CKA_EC_POINT } = loadLib();
  const publicHandle = findKey(session, CKO_PUBLIC_KEY, label);
  const [point] = session.pkcs11.C_GetAttributeValue(session.handle, publicHandle, [{ type: CKA_EC_POINT }]);
  if (point?.value === undefined)
    throw new SigningError(SIGN_ERROR_CODES.pkcs11, `key ${label} has no EC point`);
  return toP256PublicKeyPem(p256PublicKeyFromEcPoint(point.value));
}

/** Signs with an EC P-256 key inside a PKCS#11 token; one session, calls serialised. */
export class Pkcs11Signer implements Signer {
  readonly keyId: string;
  readonly publicKeyPem: string;
  readonly algorithm: SigningAlgorithm = SIGNING_ALGORITHM;
  readonly #session: Session;
  readonly #privateKey: Handle;
  // A PKCS#11 session runs one operation at a time (PKCS#11 v2.40 §5.6); queue the callers.
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(session: Session, privateKey: Handle, publicKeyPem: string) {
    this.#session = session;
    this.#privateKey = privateKey;
    this.publicKeyPem = publicKeyPem;
    this.keyId = computeKeyId(publicKeyPem);
  }

  /** Opens the token, logs in, finds the key pair by label; close it with `close()`. */
  static open(options: Pkcs11Options): Pkcs11Signer {
    const session = openSession(options, false);
    try {
      const { CKO_PRIVATE_KEY } = loadLib();
      const privateKey = findKey(session, CKO_PRIVATE_KEY, options.keyLabel);
      return new Pkcs11Signer(session, privateKey, readPublicKeyPem(session, options.keyLabel));
    } catch (cause) {
      session.close();
      throw cause instanceof SigningError ? cause : pkcs11Error(`cannot use key ${options.keyLabel}`, cause);
    }
  }

  /** Hashes with SHA-256 here and has the token sign the digest with CKM_ECDSA; returns DER. */
  sign(data: Uint8Array): Promise<Uint8Array> {
    const run = this.#queue.then(async () => {
      const { CKM_ECDSA } = loadLib();
      const digest = createHash('sha256').update(data).digest();
      const { pkcs11, handle } = this.#session;
      try {
        pkcs11.C_SignInit(handle, { mechanism: CKM_ECDSA }, this.#privateKey);
        const raw = await pkcs11.C_SignAsync(handle, digest, Buffer.alloc(132));
        return p1363ToDer(raw);
      } catch (cause) {
        throw pkcs11Error('the token refused to sign', cause);
      }
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Logs out and closes the session (and the module when this was its last user). */
  async close(): Promise<void> {
    await this.#queue;
    this.#session.close();
  }

  /** Keeps handles out of logs. */
  toJSON(): { keyId: string; algorithm: SigningAlgorithm } {
    return { keyId: this.keyId, algorithm: this.algorithm };
  }
}

/** Opens a PKCS#11 signer (see `Pkcs11Signer.open`). */
export function openPkcs11Signer(options: Pkcs11Options): Promise<Pkcs11Signer> {
  return Promise.resolve().then(() => Pkcs11Signer.open(options));
}

/**
 * The public key of the EC key pair labelled `keyLabel` in the token (made by `generatePkcs11Key` or
 * by the HSM's own tools), or undefined when the token holds no key with that label. A half pair or
 * two pairs under one label is an `ERR_SIGN_PKCS11`.
 */
export function findPkcs11Key(
  options: Pkcs11Options,
): Promise<{ keyId: string; publicKeyPem: string } | undefined> {
  return Promise.resolve().then(() => {
    const { CKO_PRIVATE_KEY, CKO_PUBLIC_KEY } = loadLib();
    const session = openSession(options, false);
    try {
      const { keyLabel } = options;
      if (
        findKeys(session, CKO_PRIVATE_KEY, keyLabel).length === 0 &&
        findKeys(session, CKO_PUBLIC_KEY, keyLabel).length === 0
      )
        return undefined;
      findKey(session, CKO_PRIVATE_KEY, keyLabel);
      const publicKeyPem = readPublicKeyPem(session, keyLabel);
      return { keyId: computeKeyId(publicKeyPem), publicKeyPem };
    } catch (cause) {
      throw cause instanceof SigningError ? cause : pkcs11Error(`cannot read key ${options.keyLabel}`, cause);
    } finally {
      session.close();
    }
  });
}

/**
 * Generates an EC P-256 key pair inside the token under `keyLabel` (private half sensitive and not
 * extractable) and returns its public key, to register with `KeyRing.initialize` or `rotate`.
 */
export function generatePkcs11Key(options: Pkcs11Options): Promise<{ keyId: string; publicKeyPem: string }> {
  return Promise.resolve().then(() => {
    const k = loadLib();
    const session = openSession(options, true);
    try {
      // DER OID of prime256v1 (1.2.840.10045.3.1.7), the CKA_EC_PARAMS of a named P-256 curve.
      const p256 = Buffer.from('06082a8648ce3d030107', 'hex');
      const id = createHash('sha256').update(options.keyLabel).digest().subarray(0, 16);
      session.pkcs11.C_GenerateKeyPair(
        session.handle,
        { mechanism: k.CKM_EC_KEY_PAIR_GEN },
        [
          { type: k.CKA_TOKEN, value: true },
          { type: k.CKA_LABEL, value: options.keyLabel },
          { type: k.CKA_ID, value: id },
          { type: k.CKA_VERIFY, value: true },
          { type: k.CKA_EC_PARAMS, value: p256 },
        ],
        [
          { type: k.CKA_TOKEN, value: true },
          { type: k.CKA_LABEL, value: options.keyLabel },
          { type: k.CKA_ID, value: id },
          { type: k.CKA_SIGN, value: true },
          { type: k.CKA_PRIVATE, value: true },
          { type: k.CKA_SENSITIVE, value: true },
          { type: k.CKA_EXTRACTABLE, value: false },
        ],
      );
      const publicKeyPem = readPublicKeyPem(session, options.keyLabel);
      return { keyId: computeKeyId(publicKeyPem), publicKeyPem };
    } catch (cause) {
      throw cause instanceof SigningError
        ? cause
        : pkcs11Error(`cannot generate key ${options.keyLabel}`, cause);
    } finally {
      session.close();
    }
  });
}

function pkcs11Error(message: string, cause: unknown): SigningError {
  // Keep the CKR name and method (e.g. CKR_PIN_INCORRECT in C_Login); drop anything else.
  const e = cause as { message?: unknown; method?: unknown };
  const what = typeof e?.message === 'string' ? e.message.split('\n', 1)[0]!.slice(0, 120) : 'unknown error';
  const method = typeof e?.method === 'string' && e.method !== '' ? ` in ${e.method}` : '';
  return new SigningError(SIGN_ERROR_CODES.pkcs11, `${message}: ${what}${method}`, {
    details: { pkcs11: what },
  });
}
