/** Credentials issued by pubgate: format, issue, authentication, scope, revocation. */
export { TOKEN_PREFIX, TOKEN_PATTERN, generateToken, isWellFormedToken, hashToken } from './token-format.ts';
export { CredentialService, principalCovers } from './credentials.ts';
export type { CredentialKind, Principal, IssueCredentialOptions, IssuedCredential, CredentialInfo } from './credentials.ts';
export { scopeCovers, assertScopePattern } from './scope.ts';
