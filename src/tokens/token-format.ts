/**
 * The shape of pubgate credentials: `pgt_` + 40 base62 random characters (~238 bits) + 6 base62
 * characters of CRC-32 over the random part. The prefix and checksum let scanners recognise a leaked
 * pubgate token without a false positive on random text, as GitHub's token format does.
 */
import { createHash, randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Every pubgate credential starts with this. */
export const TOKEN_PREFIX = 'pgt_';
const RANDOM_LENGTH = 40;
const CHECKSUM_LENGTH = 6;
/** Matches a pubgate token anywhere in text (checksum not yet verified). */
export const TOKEN_PATTERN = /\bpgt_[0-9A-Za-z]{46}\b/g;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE) of an ASCII string: the checksum of pubgate, GitHub and npm token formats. */
export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) crc = CRC_TABLE[(crc ^ text.charCodeAt(i)) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Base62 (0-9A-Za-z) of `value` in exactly `width` digits (big-endian, zero-padded). */
export function toBase62(value: number, width: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < width; i++) {
    out = ALPHABET[rest % 62]! + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

/** Creates a new random token string. */
export function generateToken(): string {
  // Rejection sampling keeps every base62 character uniform (256 is not a multiple of 62).
  let random = '';
  while (random.length < RANDOM_LENGTH) {
    for (const byte of randomBytes(64)) {
      if (byte < 248 && random.length < RANDOM_LENGTH) random += ALPHABET[byte % 62];
    }
  }
  return TOKEN_PREFIX + random + toBase62(crc32(random), CHECKSUM_LENGTH);
}

/** True when `value` has the pgt_ shape and a valid checksum. */
export function isWellFormedToken(value: string): boolean {
  if (value.length !== TOKEN_PREFIX.length + RANDOM_LENGTH + CHECKSUM_LENGTH) return false;
  if (!value.startsWith(TOKEN_PREFIX)) return false;
  const body = value.slice(TOKEN_PREFIX.length);
  if (!/^[0-9A-Za-z]+$/.test(body)) return false;
  const random = body.slice(0, RANDOM_LENGTH);
  return body.slice(RANDOM_LENGTH) === toBase62(crc32(random), CHECKSUM_LENGTH);
}

/**
 * The only form in which a token is stored or reported: sha256 hex of the whole token.
 * The token carries ~238 random bits, so its hash reveals nothing and needs no salt.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
