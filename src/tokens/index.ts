/** Credentials issued by pubgate: format, issue, authentication, scope, revocation. */
export {
  TOKEN_PREFIX,
  TOKEN_PATTERN,
  generateToken,
  isWellFormedToken,
  hashToken,
  crc32,
  toBase62,
} from './token-format.ts';
export { CredentialService, principalCovers, REQUEST_KINDS } from './credentials.ts';
export type {
  CredentialKind,
  Principal,
  IssueCredentialOptions,
  IssuedCredential,
  CredentialInfo,
  JitBinding,
} from './credentials.ts';
export { scopeCovers, assertScopePattern } from './scope.ts';
