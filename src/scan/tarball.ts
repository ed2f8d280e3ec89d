/** Package tarballs (.tgz, .tar.gz, .tar), scanned entry by entry in memory: nothing is extracted to disk. */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { ScanInputError } from './errors.ts';
import { scanPkcs12 } from './file-source.ts';
import type { Scanner } from './scanner.ts';
import { scanStream } from './stream-scan.ts';
import type { ScanFinding } from './types.ts';

/** Default ceiling on the unpacked size of one tarball (a gzip bomb stops here). */
export const MAX_TARBALL_BYTES = 2 * 1024 * 1024 * 1024;

/** Options of {@link scanTarballStream}. */
export interface TarballScanOptions {
  /** Prefix shown before each entry path (e.g. `pkg.tgz!`). */
  readonly prefix?: string;
  readonly maxBytes?: number;
}

/** What scanning a tarball produced. */
export interface TarballScanResult {
  readonly findings: ScanFinding[];
  readonly entries: number;
  readonly bytes: number;
}

/** Scans a gzip'd (or plain) tar stream. Throws ERR_SCAN_TARBALL_CORRUPT or ERR_SCAN_TARBALL_TOO_LARGE. */
export async function scanTarballStream(
  scanner: Scanner,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: TarballScanOptions = {},
): Promise<TarballScanResult> {
  const limit = options.maxBytes ?? MAX_TARBALL_BYTES;
  const prefix = options.prefix ?? '';
  const tar = extract();
  const findings: ScanFinding[] = [];
  let entries = 0;
  let bytes = 0;
  // Peek at the first chunk: gzip starts with 1f 8b (RFC 1952 §2.3.1); anything else is read as plain tar.
  const iterator = (async function* () {
    for await (const chunk of source) yield chunk;
  })();
  const first = await iterator.next();
  const gzipped = first.done !== true && first.value[0] === 0x1f && first.value[1] === 0x8b;
  const raw = Readable.from(
    (async function* () {
      if (first.done !== true) yield first.value;
      yield* iterator;
    })(),
  );
  const feed = gzipped ? raw.pipe(createGunzip()) : raw;
  let failure: unknown;
  feed.on('error', (error) => {
    failure = error;
    tar.destroy(error);
  });
  feed.pipe(tar);
  try {
    for await (const entry of tar) {
      const name = entry.header.name;
      bytes += entry.header.size;
      if (bytes > limit) {
        throw new ScanInputError('ERR_SCAN_TARBALL_TOO_LARGE', `tarball unpacks to more than ${limit} bytes`);
      }
      if (entry.header.type !== 'file' && entry.header.type !== 'contiguous-file') {
        entry.resume();
        continue;
      }
      entries++;
      const path = prefix + name;
      if (/\.(?:p12|pfx)$/i.test(name)) {
        const parts: Buffer[] = [];
        for await (const chunk of entry) parts.push(chunk as Buffer);
        findings.push(...scanPkcs12(scanner, Buffer.concat(parts), path).findings);
        continue;
      }
      const result = await scanStream(scanner, entry as AsyncIterable<Uint8Array>, path);
      findings.push(...result.findings);
      // Drain what a binary entry left unread, so that the next entry can be parsed.
      for await (const chunk of entry) void chunk;
    }
  } catch (error) {
    if (error instanceof ScanInputError) throw error;
    throw new ScanInputError('ERR_SCAN_TARBALL_CORRUPT', 'not a readable tar or gzip archive', {
      cause: error,
    });
  } finally {
    raw.destroy();
  }
  if (failure !== undefined)
    throw new ScanInputError('ERR_SCAN_TARBALL_CORRUPT', 'not a readable tar or gzip archive', {
      cause: failure,
    });
  return { findings, entries, bytes };
}

/** Scans an in-memory tarball; findings carry the entry path (e.g. `package/.npmrc`). */
export async function scanTarballBytes(
  scanner: Scanner,
  bytes: Uint8Array,
  options: TarballScanOptions = {},
): Promise<TarballScanResult> {
  return scanTarballStream(scanner, [bytes], options);
}
