/**
 * Decoders for the places where leaks hide: base64 (docker auths, Kubernetes data, CI variables),
 * percent-encoding (URLs, form bodies) and string escapes (JSON `\u005f`, `\/`, C `\x41`).
 * Each finds the encoded segment around a trigger and returns its decoded text, or undefined.
 */
import type { Encoding } from './types.ts';

const MAX_SEGMENT = 65536;
/** Escaped and percent-encoded secrets sit in short strings; a longer reach only costs time. */
const MAX_TEXT_REACH = 1024;

// Prefixes whose base64 forms trigger a decode. Kept short: each one is another prefilter keyword,
// and every keyword costs prefilter time on all text.
const BASE64_PREFIXES = [
  'npm_',
  'ghp_',
  'github_pat_',
  'pgt_',
  'AKIA',
  '-----BEGIN',
  '_authToken',
  'password',
];

/**
 * The base64 text that `prefix` becomes at each of the three byte alignments, keeping only the
 * characters fully determined by the prefix's own bits (RFC 4648 §4: 6 bits per character).
 */
export function base64Forms(prefix: string): string[] {
  const forms: string[] = [];
  const bytes = Buffer.from(prefix, 'latin1');
  for (let pad = 0; pad < 3; pad++) {
    const encoded = Buffer.concat([Buffer.alloc(pad), bytes]).toString('base64');
    const first = Math.ceil((8 * pad) / 6);
    const last = Math.floor((8 * (pad + bytes.length)) / 6);
    const form = encoded.slice(first, last);
    if (form.length >= 4) forms.push(form);
  }
  return forms;
}

let triggers: string[] | undefined;

/** Every base64 trigger string (standard and URL-safe alphabets). */
export function base64Triggers(): readonly string[] {
  if (triggers === undefined) {
    const all = new Set<string>();
    for (const prefix of BASE64_PREFIXES) {
      for (const form of base64Forms(prefix)) {
        all.add(form);
        all.add(form.replaceAll('+', '-').replaceAll('/', '_'));
      }
    }
    triggers = [...all];
  }
  return triggers;
}

function isBase64Char(code: number): boolean {
  return (
    (code >= 65 && code <= 90) ||
    (code >= 97 && code <= 122) ||
    (code >= 48 && code <= 57) ||
    code === 43 ||
    code === 47 ||
    code === 45 ||
    code === 95
  );
}

function isUrlChar(code: number): boolean {
  // Everything up to whitespace, quotes and angle brackets (RFC 3986 has no literal space or quote).
  return code > 32 && code !== 34 && code !== 39 && code !== 60 && code !== 62 && code !== 96 && code < 127;
}

/** The [start, end) of the encoded segment that contains offset `at`. */
export function expandSegment(text: string, at: number, encoding: Encoding): [number, number] {
  if (encoding === 'escape') {
    // A string literal: up to the nearest unescaped quote on each side, on the same line.
    let start = at;
    while (start > 0 && at - start < MAX_TEXT_REACH) {
      const c = text.charCodeAt(start - 1);
      if ((c === 34 || c === 39) && text.charCodeAt(start - 2) !== 92) break;
      if (c === 10) break;
      start--;
    }
    let end = at;
    while (end < text.length && end - at < MAX_TEXT_REACH) {
      const c = text.charCodeAt(end);
      if ((c === 34 || c === 39) && text.charCodeAt(end - 1) !== 92) break;
      if (c === 10) break;
      end++;
    }
    return [start, end];
  }
  const inside = encoding === 'base64' ? isBase64Char : isUrlChar;
  const reach = encoding === 'base64' ? MAX_SEGMENT : MAX_TEXT_REACH;
  let start = at;
  while (start > 0 && at - start < reach && inside(text.charCodeAt(start - 1))) start--;
  let end = at;
  while (end < text.length && end - at < reach && inside(text.charCodeAt(end))) end++;
  if (encoding === 'base64')
    while (end < text.length && text.charCodeAt(end) === 61 && end - at < MAX_SEGMENT) end++;
  return [start, end];
}

function printable(text: string): boolean {
  let bad = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13) || c === 127 || c === 0xfffd) bad++;
  }
  return bad <= text.length * 0.02;
}

/** Decodes a base64 (or base64url) segment to printable text; undefined when it is binary. */
export function decodeBase64Segment(segment: string): string | undefined {
  if (segment.length < 8) return undefined;
  // The segment may start mid-quantum when base64 sits right after other letters: try each alignment.
  for (let skip = 0; skip < 4 && segment.length - skip >= 8; skip++) {
    const text = Buffer.from(segment.slice(skip), 'base64').toString('utf8');
    if (text.length > 0 && printable(text)) return text;
  }
  return undefined;
}

/** Decodes %XX sequences (tolerating malformed ones); undefined when nothing was encoded. */
export function decodeUrlSegment(segment: string): string | undefined {
  if (!segment.includes('%')) return undefined;
  try {
    return decodeURIComponent(segment.replaceAll('+', ' '));
  } catch {
    return segment.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) =>
      String.fromCharCode(Number.parseInt(hex, 16)),
    );
  }
}

/** Decodes JSON / JavaScript / C string escapes. */
export function decodeEscapedSegment(segment: string): string | undefined {
  if (!segment.includes('\\')) return undefined;
  return segment.replace(/\\(u[0-9A-Fa-f]{4}|x[0-9A-Fa-f]{2}|[nrt"'\\/bf0])/g, (_, escape: string) => {
    switch (escape[0]) {
      case 'u':
      case 'x':
        return String.fromCharCode(Number.parseInt(escape.slice(1), 16));
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case '0':
        return '\0';
      default:
        return escape;
    }
  });
}
