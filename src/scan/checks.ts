/** Format checks that turn a regex match into a confident finding: checksums, structure, decoding. */
import { isLowQualityRandom } from './entropy.ts';

// One CRC-32 and base62 for every checksummed token format (pubgate, GitHub, npm).
import { crc32, toBase62 } from '../tokens/index.ts';

export { crc32, toBase62 };

/**
 * Checks the checksum of GitHub (`ghp_` and kin) and npm (`npm_`) tokens: the last 6 characters are
 * the base62 CRC-32 of the 30 random characters after the prefix (github.blog, 2021-04-05, "Behind
 * GitHub's new authentication token formats"; npm adopted the same format in 2021).
 */
export function hasValidPrefixedChecksum(token: string, prefixLength: number): boolean {
  const body = token.slice(prefixLength);
  if (body.length < 7) return false;
  const random = body.slice(0, -6);
  return body.slice(-6) === toBase62(crc32(random), 6);
}

/** True when the random part (after `prefixLength`) does not look hand-typed. */
export function isRandomEnough(token: string, prefixLength: number): boolean {
  return !isLowQualityRandom(token.slice(prefixLength));
}

function decodeBase64Url(segment: string): string | undefined {
  try {
    return Buffer.from(segment, 'base64url').toString('utf8');
  } catch {
    return undefined;
  }
}

/** True when `token` is a JWT whose header names a signing algorithm and whose payload is a JSON object. */
export function isJwt(token: string): boolean {
  const [header, payload, signature] = token.split('.');
  if (header === undefined || payload === undefined || signature === undefined) return false;
  try {
    const h = JSON.parse(decodeBase64Url(header) ?? '') as unknown;
    const p = JSON.parse(decodeBase64Url(payload) ?? '') as unknown;
    if (typeof h !== 'object' || h === null || typeof p !== 'object' || p === null) return false;
    const alg = (h as { alg?: unknown }).alg;
    // RFC 7519 §6: alg "none" is an unsecured JWT, which grants nothing on its own.
    return typeof alg === 'string' && alg.toLowerCase() !== 'none';
  } catch {
    return false;
  }
}

/** True when `token` looks like the jwt.io sample (its fixed subject and name). */
export function isSampleJwt(token: string): boolean {
  const payload = decodeBase64Url(token.split('.')[1] ?? '') ?? '';
  return payload.includes('"John Doe"') || payload.includes('"1234567890"');
}

/** Decodes base64 to text when it is printable; undefined otherwise. */
export function decodePrintableBase64(value: string): string | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) return undefined;
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length === 0) return undefined;
  for (const byte of bytes) if (byte < 0x20 || byte > 0x7e) return undefined;
  return bytes.toString('latin1');
}

/** True when `value` is base64 of `user:password` with a non-empty password. */
export function isBase64UserPassword(value: string): boolean {
  const decoded = decodePrintableBase64(value);
  if (decoded === undefined) return false;
  const colon = decoded.indexOf(':');
  return colon >= 0 && colon < decoded.length - 1;
}

/** True when a PEM/PGP private-key body holds real key material (not `...` or a one-line stub). */
export function hasKeyMaterial(body: string): boolean {
  const material = body
    .replace(/\\[nr]/g, '\n')
    .split(/\r?\n/)
    .filter((line) => !/^[\s"'`+,]*[A-Za-z-]+:\s/.test(line)) // Proc-Type:, DEK-Info:, Version: headers
    .join('')
    .replace(/[^A-Za-z0-9+/=]/g, '');
  if (material.length < 64) return false;
  if (/\.{3}|…|[xX]{8,}/.test(body)) return false;
  // Real key material uses most of the base64 alphabet; OpenSSH keys have long runs of `A`, so no run test.
  return new Set(material).size >= 20;
}
