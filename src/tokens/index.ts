/** Credentials issued by pubgate: format, minting, scope, single use, revocation. */
export { TOKEN_PREFIX, TOKEN_PATTERN, generateToken, isWellFormedToken, hashToken } from './token-format.ts';
