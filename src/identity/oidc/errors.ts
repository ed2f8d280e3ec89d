/** Coded errors of workload identity (OIDC): one code per kind of refusal, `ERR_OIDC_<REASON>`. */
import { AuthError, UpstreamError } from '../../errors/index.ts';

/** Every code the OIDC verifier throws; messages and details never contain the token. */
export const OIDC_ERROR_CODES = Object.freeze({
  /** Not a compact JWS with JSON header and claims, or a required claim has the wrong type. */
  malformed: 'ERR_OIDC_MALFORMED',
  /** The header's `alg` is outside the allow-list (`none` and every HMAC always are). */
  algNotAllowed: 'ERR_OIDC_ALG_NOT_ALLOWED',
  /** The signature does not verify with the issuer's key. */
  badSignature: 'ERR_OIDC_BAD_SIGNATURE',
  /** The issuer's key set has no key for the header's `kid`, even after a refetch. */
  unknownKid: 'ERR_OIDC_UNKNOWN_KID',
  /** The token's `iss` is not an issuer the package trusts. */
  wrongIssuer: 'ERR_OIDC_WRONG_ISSUER',
  /** The token's `aud` does not name the audience a trusted publisher expects. */
  wrongAudience: 'ERR_OIDC_WRONG_AUDIENCE',
  /** `exp` has passed (beyond the allowed skew). */
  expired: 'ERR_OIDC_EXPIRED',
  /** `nbf` or `iat` lies in the future (beyond the allowed skew). */
  notYetValid: 'ERR_OIDC_NOT_YET_VALID',
  /** The token has no `jti`, so a replay could not be detected. */
  noJti: 'ERR_OIDC_NO_JTI',
  /** The token's `jti` was accepted before. */
  replayed: 'ERR_OIDC_REPLAYED',
  /** The workflow was triggered by an event that runs untrusted code (pull requests, forks). */
  forbiddenEvent: 'ERR_OIDC_FORBIDDEN_EVENT',
  /** No trusted publisher is configured for this package. */
  noTrustedPublisher: 'ERR_OIDC_NO_TRUSTED_PUBLISHER',
  /** A claim the trusted publisher pins has another value; details name the claim only. */
  claimMismatch: 'ERR_OIDC_CLAIM_MISMATCH',
  /** The job ran on a self-hosted runner and the trusted publisher does not allow that. */
  selfHosted: 'ERR_OIDC_SELF_HOSTED',
  /** The issuer's discovery document or key set could not be fetched or was unusable. */
  jwksUnavailable: 'ERR_OIDC_JWKS_UNAVAILABLE',
});

/** The reasons a workload token is refused. */
export type OidcRefusal = Exclude<keyof typeof OIDC_ERROR_CODES, 'jwksUnavailable'>;

/** A workload token was refused; `code` says why. */
export class OidcError extends AuthError {}

/** The issuer's keys could not be obtained; the token was not judged. */
export class JwksUnavailableError extends UpstreamError {}

/** Builds the coded refusal; `details` must be secret-free (claim names, never values or the token). */
export function refuse(reason: OidcRefusal, message: string, details?: Record<string, unknown>): OidcError {
  return new OidcError(OIDC_ERROR_CODES[reason], message, details === undefined ? undefined : { details });
}
