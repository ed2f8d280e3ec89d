/** The one table that maps error codes to HTTP statuses. Unknown errors become a bare 500. */
import { NotFoundError, PubgateError } from '../errors/index.ts';

const exact: Readonly<Record<string, number>> = Object.freeze({
  ERR_AUTH_MISSING: 401,
  ERR_AUTH_BAD_TOKEN: 401,
  ERR_AUTH_UNKNOWN_TOKEN: 401,
  ERR_AUTH_EXPIRED: 401,
  ERR_AUTH_REVOKED: 401,
  ERR_AUTH_FORBIDDEN: 403,
  ERR_AUTH_SCOPE: 403,
  ERR_POLICY_BLOCKED: 403,
  ERR_LOCKDOWN: 403,
  ERR_LOCKDOWN_NOT_FOUND: 404,
  ERR_TOKEN_USED: 409,
  ERR_TOKEN_BINDING_MISMATCH: 403,
  ERR_TOKEN_WRONG_KIND: 403,
  ERR_POLICY_SECRET_FOUND: 403,
  ERR_APPROVAL_STEP_UP_REQUIRED: 403,
  ERR_PUBLISH_OTP_INVALID: 403,
  ERR_PUBLISH_TOO_LARGE: 413,
  ERR_PUBLISH_MANIFEST_TOO_LARGE: 413,
  ERR_PUBLISH_VERSION_EXISTS: 409,
  ERR_PUBLISH_VERSION_PENDING: 409,
  ERR_RELEASE_STATE: 409,
  ERR_RELEASE_NOT_FOUND: 404,
  ERR_NOT_FOUND: 404,
  ERR_METHOD_NOT_ALLOWED: 405,
  ERR_UPSTREAM_UNREACHABLE: 502,
  ERR_AUTH_SESSION: 401,
  ERR_CSRF: 403,
  ERR_RATE_LIMITED: 429,
  ERR_APPROVAL_DUPLICATE: 409,
  ERR_WEBAUTHN_MALFORMED: 400,
  ERR_ENROL_EXPIRED: 410,
  ERR_ENROL_USED: 410,
  ERR_ENROL_NAME_TAKEN: 409,
  ERR_ENROL_BAD_NAME: 400,
  ERR_PASSKEY_LAST: 409,
  ERR_PASSKEY_NOT_FOUND: 404,
  ERR_PERSON_NOT_FOUND: 404,
  ERR_UPSTREAM_STATUS: 502,
  ERR_UPSTREAM_BAD_RESPONSE: 502,
});

const byPrefix: ReadonlyArray<readonly [string, number]> = [
  ['ERR_PUBLISH_', 400],
  ['ERR_TARBALL_', 400],
  ['ERR_REQUEST_', 400],
  ['ERR_AUTH_', 403],
  ['ERR_APPROVAL_', 403],
  ['ERR_OIDC_JWKS_UNAVAILABLE', 502],
  ['ERR_OIDC_', 401],
  ['ERR_RELEASE_', 403],
  ['ERR_WEBAUTHN_', 403],
  ['ERR_ENROL_', 403],
  ['ERR_UPSTREAM_', 502],
  ['ERR_PROVENANCE_', 403],
  ['ERR_POLICY_', 403],
];

/** Errors of a database that is down or restarting: the answer is 503 (try again), not 500. */
function isStoreUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : '';
  return (
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === '57P01' ||
    code === '57P03' ||
    code === 'SQLITE_BUSY' ||
    /Connection terminated|connection timeout/i.test(message)
  );
}

/** HTTP status for an error. */
export function statusFor(error: unknown): number {
  if (!(error instanceof PubgateError)) return isStoreUnavailable(error) ? 503 : 500;
  const direct = exact[error.code];
  if (direct !== undefined) return direct;
  for (const [prefix, status] of byPrefix) if (error.code.startsWith(prefix)) return status;
  return error instanceof NotFoundError ? 404 : 400;
}

/**
 * The JSON body of an error. npm shows the `error` field to the user, so the code is put in it too.
 * Internal errors say nothing about their cause (it may hold paths or secrets).
 */
export function errorBody(error: unknown): {
  error: string;
  code: string;
  details?: Readonly<Record<string, unknown>>;
} {
  if (!(error instanceof PubgateError)) {
    return isStoreUnavailable(error)
      ? { error: 'the database is unavailable; try again shortly', code: 'ERR_STORE_UNAVAILABLE' }
      : { error: 'internal error', code: 'ERR_INTERNAL' };
  }
  return {
    error: `[${error.code}] ${error.message}`,
    code: error.code,
    ...(error.details === undefined ? {} : { details: error.details }),
  };
}
