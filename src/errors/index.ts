/**
 * The one error base of pubgate. Every failure caused by hostile or bad input carries a stable
 * `code` (`ERR_<AREA>_<REASON>`); the web layer maps codes to HTTP statuses and the CLI to exit codes.
 * Messages never contain a secret: callers pass redacted previews or fingerprints only.
 */
export class PubgateError extends Error {
  /** Stable machine-readable code, e.g. `ERR_TOKEN_EXPIRED`. */
  readonly code: string;
  /** Extra, secret-free facts for the client (shown in JSON answers). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: string,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options?.details === undefined ? undefined : Object.freeze({ ...options.details });
  }
}

/** A request or document failed validation. */
export class ValidationError extends PubgateError {}
/** The caller is not who they must be, or may not do this. */
export class AuthError extends PubgateError {}
/** The thing asked for does not exist. */
export class NotFoundError extends PubgateError {}
/** The request conflicts with the current state (already published, already pending, wrong state). */
export class ConflictError extends PubgateError {}
/** A peer (upstream registry, database) failed. */
export class UpstreamError extends PubgateError {}
/** Configuration is invalid; lists every bad field. */
export class ConfigError extends PubgateError {}
/** Stored data failed an integrity check (audit chain, sealed secret). */
export class IntegrityError extends PubgateError {}

/** True when `value` is a pubgate error with the given code (or any code when omitted). */
export function isPubgateError(value: unknown, code?: string): value is PubgateError {
  return value instanceof PubgateError && (code === undefined || value.code === code);
}
