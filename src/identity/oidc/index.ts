/** Workload identity: OIDC tokens from CI (GitHub Actions, GitLab CI, any discovery issuer) checked against trusted publishers. */
export {
  verifyWorkloadToken,
  VERIFY_WORKLOAD_DEFAULTS,
  FORBIDDEN_GITHUB_EVENTS,
  FORBIDDEN_GITLAB_PIPELINE_SOURCES,
} from './verify-workload.ts';
export type { VerifyWorkloadTokenOptions, WorkloadIdentity } from './verify-workload.ts';
export {
  validateTrustedPublishers,
  publishersFor,
  matchesPackagePattern,
  isPackagePattern,
  matchesClaim,
  GITHUB_ACTIONS_ISSUER,
  GITHUB_PINNABLE_CLAIMS,
  GITLAB_PINNABLE_CLAIMS,
  PATTERN_CLAIMS,
} from './trusted-publishers.ts';
export type {
  TrustedPublisherConfig,
  TrustedPublisherClaims,
  TrustedPublisherIssue,
  PublisherProvider,
  ValidateTrustedPublishersOptions,
} from './trusted-publishers.ts';
export { MemoryJtiStore } from './jti-store.ts';
export type { JtiStore, MemoryJtiStoreOptions } from './jti-store.ts';
export {
  RemoteJwksProvider,
  StaticJwksProvider,
  DEFAULT_ALGORITHMS,
  ASYMMETRIC_ALGORITHMS,
  REMOTE_JWKS_DEFAULTS,
  MAX_TOKEN_LENGTH,
} from './jose-adapter.ts';
export type { JwksProvider, JwsKeyHint, VerificationKey, RemoteJwksProviderOptions } from './jose-adapter.ts';
export { OIDC_ERROR_CODES, OidcError, JwksUnavailableError } from './errors.ts';
