/**
 * Scans a byte stream with bounded memory: chunks are decoded as latin1 (one byte per character,
 * so offsets stay byte offsets and regexes run on one-byte strings), scanned with an overlap that
 * is longer than any secret, and dropped. Binary content (a NUL byte early on) is skipped.
 */
import type { Scanner } from './scanner.ts';
import { scanWithScanner } from './scanner.ts';
import type { ScanFinding } from './types.ts';

/** Bytes looked at to decide whether content is binary (as git does, a NUL byte in the first 8000). */
export const BINARY_SNIFF_BYTES = 8000;
/** Characters kept from one chunk to the next; longer than the longest match (a 16 KiB PEM block). */
const OVERLAP = 32 * 1024;
/** Text is gathered up to this size before scanning. */
const CHUNK = 4 * 1024 * 1024;

/** True when `bytes` starts like binary content. */
export function isBinary(bytes: Uint8Array): boolean {
  const end = Math.min(bytes.length, BINARY_SNIFF_BYTES);
  for (let i = 0; i < end; i++) if (bytes[i] === 0) return true;
  return false;
}

/** What scanning one stream produced. */
export interface StreamScanResult {
  readonly findings: ScanFinding[];
  readonly bytes: number;
  readonly binary: boolean;
}

function countNewlines(text: string, end: number): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Scans a whole in-memory buffer. */
export function scanBytes(
  scanner: Scanner,
  bytes: Uint8Array,
  path: string,
  commit?: string,
): StreamScanResult {
  if (isBinary(bytes)) return { findings: [], bytes: bytes.length, binary: true };
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  return {
    findings: scanWithScanner(scanner, text, path, {
      latin1: true,
      ...(commit === undefined ? {} : { commit }),
    }),
    bytes: bytes.length,
    binary: false,
  };
}

/** Scans a stream chunk by chunk; memory stays near CHUNK + OVERLAP whatever the stream's size. */
export async function scanStream(
  scanner: Scanner,
  chunks: AsyncIterable<Uint8Array>,
  path: string,
): Promise<StreamScanResult> {
  const findings: ScanFinding[] = [];
  let carry = '';
  let line = 1;
  let bytes = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let first = true;
  const flush = (final: boolean): void => {
    const text = carry + Buffer.concat(pending, pendingBytes).toString('latin1');
    pending = [];
    pendingBytes = 0;
    if (final || text.length <= OVERLAP) {
      if (final) findings.push(...scanWithScanner(scanner, text, path, { latin1: true, firstLine: line }));
      else carry = text;
      return;
    }
    // Cut where a line starts, when one is near, so that the next chunk begins with a whole line.
    let cut = text.length - OVERLAP;
    const newline = text.lastIndexOf('\n', cut);
    if (newline > cut - OVERLAP) cut = newline + 1;
    findings.push(
      ...scanWithScanner(scanner, text, path, { latin1: true, firstLine: line, reportBefore: cut }),
    );
    line += countNewlines(text, cut);
    carry = text.slice(cut);
  };
  for await (const chunk of chunks) {
    const buffer = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (first) {
      first = false;
      if (isBinary(buffer)) {
        // Drain nothing more: the caller closes the stream.
        return { findings: [], bytes: buffer.length, binary: true };
      }
    }
    bytes += buffer.length;
    pending.push(buffer);
    pendingBytes += buffer.length;
    if (pendingBytes >= CHUNK) flush(false);
  }
  flush(true);
  return { findings, bytes, binary: false };
}
