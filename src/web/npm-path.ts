/** Parsing the npm namespace's raw paths: `@scope%2fname`, `@scope/name`, tarball and `-/` routes. */

/** A parsed npm path below `/npm/`. */
export type NpmPath =
  | { readonly kind: 'special'; readonly segments: readonly string[] }
  | { readonly kind: 'package'; readonly name: string; readonly rest: readonly string[] };

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** Parses the part of a raw (undecoded) path after `/npm/`; undefined when malformed. */
export function parseNpmPath(raw: string): NpmPath | undefined {
  const segments = raw.split('/').filter((s) => s !== '');
  if (segments.length === 0) return undefined;
  const decoded = segments.map(decode);
  if (decoded.some((s) => s === undefined || s.includes('\0'))) return undefined;
  const parts = decoded as string[];
  if (parts[0] === '-') return { kind: 'special', segments: parts.slice(1) };
  const first = parts[0]!;
  if (first.startsWith('@')) {
    // `@scope%2fname` arrives as one segment that decodes to `@scope/name`.
    if (first.includes('/')) return { kind: 'package', name: first, rest: parts.slice(1) };
    if (parts.length < 2) return undefined;
    return { kind: 'package', name: `${first}/${parts[1]}`, rest: parts.slice(2) };
  }
  return { kind: 'package', name: first, rest: parts.slice(1) };
}
