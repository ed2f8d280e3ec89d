/**
 * The only module that imports `jose`. It decodes compact JWS, verifies signatures against an
 * allow-list of asymmetric algorithms, and serves issuer key sets found through OIDC discovery:
 * cached with a TTL, refetched on an unknown `kid` at most once per cool-down window, fetched with a
 * timeout, a size cap and no redirects. Keys come only from the configured issuer, never from the
 * token (`jku`, `x5u`, `jwk` and `x5c` headers are ignored; RFC 8725 §3.10).
 */
import {
  compactVerify,
  createLocalJWKSet,
  errors as joseErrors,
  type CryptoKey as JoseCryptoKey,
  type JSONWebKeySet,
  type LocalJWKSet,
} from 'jose';
import { JwksUnavailableError, OIDC_ERROR_CODES, refuse } from './errors.ts';

/** The algorithms accepted when none are configured: what GitHub (RS256) and most issuers use. */
export const DEFAULT_ALGORITHMS: readonly string[] = Object.freeze(['RS256', 'ES256']);

/** Every algorithm that may ever be allowed: asymmetric signatures only, so no `none` and no HMAC. */
export const ASYMMETRIC_ALGORITHMS: readonly string[] = Object.freeze([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);

/** Longest compact token accepted; real GitHub and GitLab ID tokens are 1–3 KiB. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/** A public key ready for signature verification; only this module creates them. */
export type VerificationKey = JoseCryptoKey;

/** What a key set needs from a JWS header to pick a key. */
export interface JwsKeyHint {
  readonly alg: string;
  readonly kid?: string;
}

/** A source of issuer public keys. */
export interface JwksProvider {
  /** The key of `issuer` that `hint` names; throws `ERR_OIDC_UNKNOWN_KID` when there is none. */
  resolveKey(issuer: string, hint: JwsKeyHint): Promise<VerificationKey>;
}

/** A compact JWS split and JSON-decoded, not verified. */
export interface UnverifiedJwt {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
}

// Three base64url segments; the signature may be empty (alg `none`) so the alg check can name it.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Splits and decodes a compact JWS without verifying it; throws `ERR_OIDC_MALFORMED`. */
export function decodeUnverifiedJwt(token: string): UnverifiedJwt {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) {
    throw refuse('malformed', 'the token is not a compact JWS of acceptable size');
  }
  const [header, payload, signature] = token.split('.') as [string, string, string];
  // One token, one spelling: base64url whose unused final bits are set decodes to the same bytes, so
  // without this a signed token would have several accepted texts (jose decodes leniently).
  for (const segment of [header, payload, signature]) {
    if (Buffer.from(segment, 'base64url').toString('base64url') !== segment)
      throw refuse('malformed', 'the token is not canonical base64url');
  }
  return { header: decodeSegment(header, 'header'), payload: decodeSegment(payload, 'payload') };
}

function decodeSegment(segment: string, part: 'header' | 'payload'): Readonly<Record<string, unknown>> {
  const parsed = parseJsonObject(Buffer.from(segment, 'base64url').toString('utf8'));
  if (parsed === undefined) throw refuse('malformed', `the token ${part} is not a JSON object`, { part });
  return parsed;
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Throws `RangeError` unless every entry is a known asymmetric signature algorithm. */
export function assertAlgorithms(algorithms: readonly string[]): void {
  if (algorithms.length === 0) throw new RangeError('the algorithm allow-list is empty');
  for (const alg of algorithms) {
    if (!ASYMMETRIC_ALGORITHMS.includes(alg)) {
      throw new RangeError(
        `algorithm ${JSON.stringify(alg)} may not be allowed (asymmetric signatures only)`,
      );
    }
  }
}

/** Options of `verifyJwsSignature`. */
export interface VerifyJwsSignatureOptions {
  /** The issuer whose keys must have signed the token (already matched against configuration). */
  readonly issuer: string;
  readonly keys: JwksProvider;
  /** Allowed `alg` values; defaults to `DEFAULT_ALGORITHMS`. */
  readonly algorithms?: readonly string[];
}

/** Verifies the token's signature with `issuer`'s key and returns its claims; throws coded `OidcError`s. */
export async function verifyJwsSignature(
  token: string,
  options: VerifyJwsSignatureOptions,
): Promise<Readonly<Record<string, unknown>>> {
  const algorithms = options.algorithms ?? DEFAULT_ALGORITHMS;
  assertAlgorithms(algorithms);
  let payload: Uint8Array;
  // What the key source threw (a coded refusal, JWKS unavailable, or a caller's TypeError) passes
  // through unchanged; everything jose throws becomes a refusal.
  let keyError: unknown;
  try {
    const result = await compactVerify(
      token,
      async (header) => {
        try {
          return await options.keys.resolveKey(options.issuer, {
            alg: String(header.alg),
            ...(typeof header.kid === 'string' ? { kid: header.kid } : {}),
          });
        } catch (error) {
          keyError = error;
          throw error;
        }
      },
      // jose checks the allow-list before it asks for a key, so a refused alg never causes a fetch.
      { algorithms: [...algorithms] },
    );
    payload = result.payload;
  } catch (error) {
    if (keyError !== undefined && error === keyError) throw error;
    // The cause is dropped on purpose: nothing derived from the token leaves this module.
    throw toOidcError(error);
  }
  const claims = parseJsonObject(new TextDecoder().decode(payload));
  if (claims === undefined)
    throw refuse('malformed', 'the token payload is not a JSON object', { part: 'payload' });
  return claims;
}

function toOidcError(error: unknown): Error {
  if (error instanceof joseErrors.JOSEAlgNotAllowed || error instanceof joseErrors.JOSENotSupported) {
    return refuse('algNotAllowed', 'the token algorithm is not allowed');
  }
  if (error instanceof joseErrors.JWSInvalid) return refuse('malformed', 'the token is not a valid JWS');
  // JWSSignatureVerificationFailed, and TypeErrors from a key too short for its algorithm.
  return refuse('badSignature', 'the token signature does not verify');
}

/** Options of `RemoteJwksProvider`. */
export interface RemoteJwksProviderOptions {
  /** How long a fetched key set is used before it is fetched again (default 10 minutes). */
  readonly cacheTtlMs?: number;
  /** Minimum time between two refetches of one issuer's key set for an unknown `kid`, and between retries after a failed fetch (default 30 s). */
  readonly cooldownMs?: number;
  /** Timeout of each HTTP request, body included (default 5 s). */
  readonly timeoutMs?: number;
  /** Largest discovery document or key set accepted, in bytes (default 256 KiB). */
  readonly maxResponseBytes?: number;
  /** Most keys read from one key set (default 64); the rest are ignored. */
  readonly maxKeys?: number;
  /** Key set URL per issuer, used instead of discovery (e.g. GitHub's `<issuer>/.well-known/jwks`). */
  readonly jwksUris?: Readonly<Record<string, string>>;
  /** Allow `http://` issuers on 127.0.0.1, ::1 or localhost; for tests only. */
  readonly allowInsecureLoopbackIssuers?: boolean;
  readonly now?: () => Date;
}

/** Defaults of `RemoteJwksProvider`; exported for documentation and tests, never mutated. */
export const REMOTE_JWKS_DEFAULTS = Object.freeze({
  cacheTtlMs: 10 * 60_000,
  cooldownMs: 30_000,
  timeoutMs: 5_000,
  maxResponseBytes: 256 * 1024,
  maxKeys: 64,
});

interface CachedKeySet {
  readonly select: LocalJWKSet;
  readonly jwksUri: string;
  readonly fetchedAt: number;
}

interface IssuerState {
  keySet: CachedKeySet | undefined;
  /** When the last fetch of the key set started, successful or not. */
  lastFetchAt: number;
  /** When the last fetch caused by an unknown `kid` started: the rate limit counts from here. */
  lastRefreshAt: number;
  lastFetchFailed: boolean;
  pending: Promise<CachedKeySet> | undefined;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Throws `TypeError` unless `url` is https, or http on a loopback host when `allowInsecureLoopback`. */
export function assertIssuerUrl(url: string, allowInsecureLoopback = false): void {
  if (!isFetchableUrl(url, allowInsecureLoopback)) {
    throw new TypeError('an OIDC issuer must be an https URL without credentials, query or fragment');
  }
}

function isFetchableUrl(url: string, allowInsecureLoopback: boolean): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.username !== '' || parsed.password !== '' || parsed.search !== '' || parsed.hash !== '')
    return false;
  if (parsed.protocol === 'https:') return true;
  return parsed.protocol === 'http:' && allowInsecureLoopback && LOOPBACK_HOSTS.has(parsed.hostname);
}

/**
 * Issuer key sets fetched over HTTPS through OIDC discovery, cached per issuer. An unknown `kid`
 * (the issuer rotated its keys) causes one refetch, unless another unknown `kid` caused one less than
 * `cooldownMs` ago, so a flood of made-up `kid`s costs the issuer at most one request per window.
 * Concurrent callers share one in-flight fetch; a failed fetch is not retried within the window.
 */
export class RemoteJwksProvider implements JwksProvider {
  readonly #options: Required<Omit<RemoteJwksProviderOptions, 'jwksUris' | 'now'>> & {
    readonly jwksUris: Readonly<Record<string, string>>;
    readonly now: () => Date;
  };
  readonly #issuers = new Map<string, IssuerState>();

  constructor(options: RemoteJwksProviderOptions = {}) {
    this.#options = {
      ...REMOTE_JWKS_DEFAULTS,
      allowInsecureLoopbackIssuers: false,
      jwksUris: {},
      now: () => new Date(),
      ...definedOnly(options),
    };
    for (const [name, value] of Object.entries(this.#options)) {
      if (typeof value === 'number' && !(Number.isFinite(value) && value >= 0)) {
        throw new RangeError(`${name} must be a non-negative number`);
      }
    }
    for (const [issuer, jwksUri] of Object.entries(this.#options.jwksUris)) {
      assertIssuerUrl(issuer, this.#options.allowInsecureLoopbackIssuers);
      if (!isFetchableUrl(jwksUri, this.#options.allowInsecureLoopbackIssuers)) {
        throw new TypeError('a jwksUri override must be an https URL');
      }
    }
  }

  /** The key of `issuer` that `hint` names, refetching the key set once (rate-limited) when it is unknown. */
  async resolveKey(issuer: string, hint: JwsKeyHint): Promise<VerificationKey> {
    assertIssuerUrl(issuer, this.#options.allowInsecureLoopbackIssuers);
    const state = this.#stateFor(issuer);
    let keySet = state.keySet;
    let fetchedNow = false;
    if (keySet === undefined || this.#now() - keySet.fetchedAt >= this.#options.cacheTtlMs) {
      keySet = await this.#load(issuer, state, 'expired');
      fetchedNow = true;
    }
    const key = await selectKey(keySet, hint, issuer);
    if (key !== undefined) return key;
    if (!fetchedNow) {
      let refreshed: CachedKeySet | undefined;
      if (state.pending !== undefined) refreshed = await state.pending;
      else if (this.#now() - state.lastRefreshAt >= this.#options.cooldownMs) {
        state.lastRefreshAt = this.#now();
        refreshed = await this.#load(issuer, state, 'unknown-kid');
      }
      if (refreshed !== undefined) {
        const again = await selectKey(refreshed, hint, issuer);
        if (again !== undefined) return again;
      }
    }
    throw refuse('unknownKid', "the issuer's key set has no key for the token's kid");
  }

  #now(): number {
    return this.#options.now().getTime();
  }

  #stateFor(issuer: string): IssuerState {
    let state = this.#issuers.get(issuer);
    if (state === undefined) {
      state = {
        keySet: undefined,
        lastFetchAt: Number.NEGATIVE_INFINITY,
        lastRefreshAt: Number.NEGATIVE_INFINITY,
        lastFetchFailed: false,
        pending: undefined,
      };
      this.#issuers.set(issuer, state);
    }
    return state;
  }

  #load(issuer: string, state: IssuerState, reason: 'expired' | 'unknown-kid'): Promise<CachedKeySet> {
    if (state.pending !== undefined) return state.pending;
    // An issuer that just failed is not asked again at once: each caller would otherwise wait out a timeout.
    if (state.lastFetchFailed && this.#now() - state.lastFetchAt < this.#options.cooldownMs) {
      return Promise.reject(unavailable(issuer, 'cooling-down'));
    }
    state.lastFetchAt = this.#now();
    const pending = this.#fetchKeySet(issuer, state, reason).then(
      (keySet) => {
        state.keySet = keySet;
        state.lastFetchFailed = false;
        return keySet;
      },
      (error: unknown) => {
        state.lastFetchFailed = true;
        throw error;
      },
    );
    state.pending = pending;
    const clear = (): void => {
      if (state.pending === pending) state.pending = undefined;
    };
    pending.then(clear, clear);
    return pending;
  }

  async #fetchKeySet(
    issuer: string,
    state: IssuerState,
    reason: 'expired' | 'unknown-kid',
  ): Promise<CachedKeySet> {
    const jwksUri =
      this.#options.jwksUris[issuer] ??
      // A rotation changes keys, not the discovery document, so a kid refresh reuses the known jwks_uri.
      (reason === 'unknown-kid' && state.keySet !== undefined
        ? state.keySet.jwksUri
        : await this.#discoverJwksUri(issuer));
    const document = await this.#fetchJson(jwksUri, issuer, 'jwks');
    const keys =
      typeof document === 'object' && document !== null ? (document as { keys?: unknown }).keys : undefined;
    if (!Array.isArray(keys)) throw unavailable(issuer, 'bad-jwks');
    // Only public, asymmetric keys: an `oct` key or one with private members is never a verification key.
    const usable = keys
      .filter(
        (key): key is Record<string, unknown> =>
          typeof key === 'object' &&
          key !== null &&
          !Array.isArray(key) &&
          (key as Record<string, unknown>).kty !== 'oct' &&
          !('d' in key) &&
          !('k' in key),
      )
      .slice(0, this.#options.maxKeys);
    let select: LocalJWKSet;
    try {
      select = createLocalJWKSet({ keys: usable } as unknown as JSONWebKeySet);
    } catch {
      throw unavailable(issuer, 'bad-jwks');
    }
    return { select, jwksUri, fetchedAt: this.#now() };
  }

  async #discoverJwksUri(issuer: string): Promise<string> {
    // OpenID Connect Discovery 1.0 §4: the issuer (without a trailing slash) + /.well-known/openid-configuration.
    const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const document = await this.#fetchJson(url, issuer, 'discovery');
    if (typeof document !== 'object' || document === null) throw unavailable(issuer, 'bad-discovery');
    const { issuer: named, jwks_uri: jwksUri } = document as { issuer?: unknown; jwks_uri?: unknown };
    // Discovery §4.3: the document's issuer must be exactly the issuer it was fetched for.
    if (named !== issuer) throw unavailable(issuer, 'discovery-issuer-mismatch');
    if (typeof jwksUri !== 'string' || !isFetchableUrl(jwksUri, this.#options.allowInsecureLoopbackIssuers)) {
      throw unavailable(issuer, 'insecure-jwks-uri');
    }
    return jwksUri;
  }

  async #fetchJson(url: string, issuer: string, what: 'discovery' | 'jwks'): Promise<unknown> {
    const limit = this.#options.maxResponseBytes;
    let response: Response;
    try {
      // No redirects: a redirect could lead off https or to another host than the one configured.
      response = await fetch(url, {
        redirect: 'error',
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
    } catch (cause) {
      throw unavailable(issuer, `${what}-unreachable`, cause);
    }
    try {
      if (response.status !== 200) throw unavailable(issuer, `${what}-status-${response.status}`);
      const declared = Number(response.headers.get('content-length') ?? '0');
      if (declared > limit) throw unavailable(issuer, `${what}-too-large`);
      const text = await readLimited(response, limit);
      if (text === undefined) throw unavailable(issuer, `${what}-too-large`);
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw unavailable(issuer, `${what}-not-json`);
      }
    } catch (error) {
      if (error instanceof JwksUnavailableError) throw error;
      throw unavailable(issuer, `${what}-unreadable`, error);
    } finally {
      await response.body?.cancel().catch(() => undefined);
    }
  }
}

/** Reads the body as UTF-8, or returns undefined as soon as it exceeds `limit` bytes. */
async function readLimited(response: Response, limit: number): Promise<string | undefined> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function selectKey(
  keySet: CachedKeySet,
  hint: JwsKeyHint,
  issuer: string,
): Promise<VerificationKey | undefined> {
  try {
    return await keySet.select({ alg: hint.alg, ...(hint.kid === undefined ? {} : { kid: hint.kid }) });
  } catch (error) {
    if (error instanceof joseErrors.JWKSNoMatchingKey) return undefined;
    if (error instanceof joseErrors.JWKSMultipleMatchingKeys) {
      throw refuse('unknownKid', 'the token names no kid and the issuer has several keys', {
        reason: 'ambiguous',
      });
    }
    if (error instanceof joseErrors.JOSENotSupported)
      throw refuse('algNotAllowed', 'the token algorithm is not allowed');
    // The key exists but cannot be imported (not public, bad parameters): the issuer's fault.
    throw unavailable(issuer, 'unusable-key');
  }
}

function unavailable(issuer: string, reason: string, cause?: unknown): JwksUnavailableError {
  return new JwksUnavailableError(
    OIDC_ERROR_CODES.jwksUnavailable,
    `the keys of OIDC issuer ${issuer} are unavailable (${reason})`,
    {
      details: { issuer, reason },
      ...(cause === undefined ? {} : { cause }),
    },
  );
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** Fixed key sets per issuer, for offline issuers and tests; never fetches. */
export class StaticJwksProvider implements JwksProvider {
  readonly #sets = new Map<string, LocalJWKSet>();

  /** `keySets` maps an issuer to its JWKS document (`{ keys: [...] }`); throws `TypeError` if one is malformed. */
  constructor(keySets: Readonly<Record<string, unknown>>) {
    for (const [issuer, jwks] of Object.entries(keySets)) {
      try {
        this.#sets.set(issuer, createLocalJWKSet(jwks as JSONWebKeySet));
      } catch {
        throw new TypeError(`the key set of ${issuer} is not a JWKS document`);
      }
    }
  }

  /** The key of `issuer` that `hint` names; throws `ERR_OIDC_UNKNOWN_KID` when there is none. */
  async resolveKey(issuer: string, hint: JwsKeyHint): Promise<VerificationKey> {
    const select = this.#sets.get(issuer);
    const key =
      select === undefined ? undefined : await selectKey({ select, jwksUri: '', fetchedAt: 0 }, hint, issuer);
    if (key === undefined) throw refuse('unknownKid', "the issuer's key set has no key for the token's kid");
    return key;
  }
}
