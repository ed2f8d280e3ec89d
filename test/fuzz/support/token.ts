/** An independent model of the pubgate token format (CRC-32 from node:zlib, base62 written again). */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';

/** The base62 alphabet of token bodies. */
export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** The reference checksum: CRC-32 of the random part, 6 base62 digits, most significant first. */
export function referenceChecksum(random: string): string {
  let value = crc32(random);
  let out = '';
  for (let i = 0; i < 6; i++) {
    out = BASE62[value % 62]! + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/** True when `value` is a pubgate token by the reference model. */
export function referenceWellFormed(value: string): boolean {
  return /^pgt_[0-9A-Za-z]{46}$/.test(value) && value.slice(44) === referenceChecksum(value.slice(4, 44));
}

/**
 * A checksum-valid token derived from `seed`, with `word` written into its random part at `at`.
 * Derived inside the property, so a report shows the seed and the word, never the token.
 */
export function tokenFromSeed(seed: number, word = '', at = 0): string {
  const bytes = createHash('sha512').update(`pubgate-fuzz-${seed}`).digest();
  let random = [...bytes.subarray(0, 40)].map((b) => BASE62[b % 62]).join('');
  const offset = Math.min(at, 40 - word.length);
  random = random.slice(0, offset) + word + random.slice(offset + word.length);
  return `pgt_${random}${referenceChecksum(random)}`;
}
