/**
 * Inspection of a package tarball in memory, without extracting anything to disk. Refuses every
 * trick that makes what a checker reads differ from what an installer writes: links, device files,
 * absolute or `..` paths, entries outside `package/`, duplicate paths, gzip bombs.
 */
import { createHash } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { extract, type Header as TarHeader } from 'tar-stream';
import { ValidationError } from '../errors/index.ts';

/** Bounds applied while reading a tarball. */
export interface TarballLimits {
  readonly unpackedBytes: number;
  readonly entries: number;
  readonly manifestBytes: number;
}

/** One regular file in the tarball. */
export interface TarballFile {
  readonly path: string;
  readonly size: number;
  readonly mode: number;
  readonly sha256: string;
  /** A native executable or module (ELF, PE, Mach-O, WebAssembly). */
  readonly nativeBinary: boolean;
  /** JavaScript whose lines are long enough to hide what it does (minified or obfuscated). */
  readonly minified: boolean;
}

const SCRIPT_EXTENSIONS = /\.(c|m)?js$/i;

function isNativeBinary(head: Buffer): boolean {
  if (head.length < 4) return false;
  const magic = head.readUInt32BE(0);
  return (
    magic === 0x7f454c46 || // ELF
    magic === 0x0061736d || // WebAssembly
    magic === 0xfeedface ||
    magic === 0xfeedfacf ||
    magic === 0xcefaedfe ||
    magic === 0xcffaedfe ||
    magic === 0xcafebabe || // Mach-O
    (head[0] === 0x4d && head[1] === 0x5a) // PE ("MZ")
  );
}

/** What the gate learned from a tarball. */
export interface TarballInspection {
  readonly packageJson: Record<string, unknown>;
  readonly files: readonly TarballFile[];
  readonly unpackedBytes: number;
}

const GZIP_MAGIC = [0x1f, 0x8b];

function fail(code: string, message: string): never {
  throw new ValidationError(code, message);
}

/** Checks an entry path and returns it normalised; throws on anything an installer could misplace. */
export function assertSafeEntryPath(name: string): string {
  if (name.length === 0 || name.length > 4096)
    fail('ERR_TARBALL_BAD_PATH', 'tarball entry has an empty or over-long path');
  if (name.includes('\0')) fail('ERR_TARBALL_BAD_PATH', 'tarball entry path contains a NUL byte');
  if (name.includes('\\'))
    fail(
      'ERR_TARBALL_BAD_PATH',
      `tarball entry path contains a backslash: ${JSON.stringify(name.slice(0, 200))}`,
    );
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) {
    fail(
      'ERR_TARBALL_ABSOLUTE_PATH',
      `tarball entry has an absolute path: ${JSON.stringify(name.slice(0, 200))}`,
    );
  }
  const segments = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..'))
    fail(
      'ERR_TARBALL_PATH_TRAVERSAL',
      `tarball entry escapes the package folder: ${JSON.stringify(name.slice(0, 200))}`,
    );
  if (segments[0] !== 'package') {
    fail(
      'ERR_TARBALL_OUTSIDE_PACKAGE',
      `tarball entry is outside package/: ${JSON.stringify(name.slice(0, 200))}`,
    );
  }
  return segments.join('/');
}

/** Reads a gzip'd tar from memory and returns its package.json and file list, or throws `ERR_TARBALL_*`. */
export async function inspectTarball(bytes: Uint8Array, limits: TarballLimits): Promise<TarballInspection> {
  if (bytes.length < 2 || bytes[0] !== GZIP_MAGIC[0] || bytes[1] !== GZIP_MAGIC[1]) {
    fail('ERR_TARBALL_NOT_GZIP', 'the attachment is not a gzip file; publish the output of `npm pack`');
  }
  const files: TarballFile[] = [];
  const seen = new Set<string>();
  let unpacked = 0;
  let entries = 0;
  let packageJsonText: string | undefined;

  const gunzip = createGunzip();
  const tar = extract();
  const source = Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]);
  const failure = new Promise<never>((_, reject) => {
    gunzip.on('error', (error) =>
      reject(
        error instanceof ValidationError
          ? error
          : new ValidationError('ERR_TARBALL_CORRUPT', 'the tarball is not a valid gzip stream', {
              cause: error,
            }),
      ),
    );
    tar.on('error', (error) =>
      reject(
        error instanceof ValidationError
          ? error
          : new ValidationError('ERR_TARBALL_CORRUPT', 'the tarball is not a valid tar archive', {
              cause: error,
            }),
      ),
    );
  });
  // Count decompressed bytes before tar parsing sees them: bounds gzip bombs even in padding.
  let inflated = 0;
  gunzip.on('data', (chunk: Buffer) => {
    inflated += chunk.length;
    if (inflated > limits.unpackedBytes + 1024 * 1024) {
      gunzip.destroy(
        new ValidationError(
          'ERR_TARBALL_TOO_LARGE_UNPACKED',
          `the tarball unpacks to more than ${limits.unpackedBytes} bytes`,
        ),
      );
    }
  });
  source.pipe(gunzip).pipe(tar);

  const walk = (async () => {
    for await (const entry of tar) {
      const header: TarHeader = entry.header;
      entries++;
      if (entries > limits.entries)
        fail('ERR_TARBALL_TOO_MANY_ENTRIES', `the tarball has more than ${limits.entries} entries`);
      const path = assertSafeEntryPath(header.name);
      // tar-stream reads a malformed (e.g. bad base-256) size as null, and such an entry's stream
      // never ends: refuse it before reading (found by the fuzzer).
      if (!Number.isSafeInteger(header.size) || header.size < 0)
        fail(
          'ERR_TARBALL_CORRUPT',
          `tarball entry ${JSON.stringify(path.slice(0, 200))} has an invalid size field`,
        );
      switch (header.type) {
        case 'file':
        case 'contiguous-file':
          // A file must live below package/: an entry named `package` itself would be a file the
          // checker lists and the installer never writes.
          if (path === 'package')
            fail(
              'ERR_TARBALL_OUTSIDE_PACKAGE',
              'tarball has a file entry named "package"; files must live below package/',
            );
          break;
        case 'directory':
          entry.resume();
          continue;
        case 'symlink':
        case 'link':
          fail(
            'ERR_TARBALL_LINK',
            `tarball entry ${JSON.stringify(path.slice(0, 200))} is a link; npm pack never creates links, and links can point outside the package`,
          );
        default:
          fail(
            'ERR_TARBALL_SPECIAL_FILE',
            `tarball entry ${JSON.stringify(path.slice(0, 200))} is a ${header.type ?? 'special'} entry; only files and folders are allowed`,
          );
      }
      // Case-folded: on case-insensitive file systems two such entries overwrite each other.
      const key = path.toLowerCase();
      if (seen.has(key))
        fail(
          'ERR_TARBALL_DUPLICATE_ENTRY',
          `tarball contains ${JSON.stringify(path.slice(0, 200))} twice; an installer would keep a different copy than the checker read`,
        );
      seen.add(key);
      const size = header.size ?? 0;
      unpacked += size;
      if (unpacked > limits.unpackedBytes)
        fail(
          'ERR_TARBALL_TOO_LARGE_UNPACKED',
          `the tarball unpacks to more than ${limits.unpackedBytes} bytes`,
        );
      if (path === 'package/package.json' && size > limits.manifestBytes)
        fail('ERR_TARBALL_MANIFEST_TOO_LARGE', 'package/package.json is larger than the manifest limit');
      const hash = createHash('sha256');
      const keep: Buffer[] = [];
      let head = Buffer.alloc(0);
      let newlines = 0;
      let longestLine = 0;
      let lineLength = 0;
      const script = SCRIPT_EXTENSIONS.test(path);
      for await (const chunk of entry) {
        const bytes = chunk as Buffer;
        hash.update(bytes);
        if (head.length < 4) head = Buffer.concat([head, bytes.subarray(0, 4 - head.length)]);
        if (path === 'package/package.json') keep.push(bytes);
        if (script) {
          for (const byte of bytes) {
            if (byte === 0x0a) {
              newlines++;
              if (lineLength > longestLine) longestLine = lineLength;
              lineLength = 0;
            } else lineLength++;
          }
        }
      }
      if (lineLength > longestLine) longestLine = lineLength;
      // Heuristic: a script over 2 KB averaging 300+ characters a line, or any 5,000-character line.
      const minified =
        script &&
        ((size > 2048 && size / (newlines + 1) > 300) ||
          longestLine > 5000 ||
          /\.min\.(c|m)?js$/i.test(path));
      files.push({
        path,
        size,
        mode: header.mode ?? 0o644,
        sha256: hash.digest('hex'),
        nativeBinary: isNativeBinary(head) || path.endsWith('.node'),
        minified,
      });
      if (path === 'package/package.json') packageJsonText = Buffer.concat(keep).toString('utf8');
    }
  })();
  await Promise.race([walk, failure]).finally(() => {
    source.destroy();
    gunzip.destroy();
    tar.destroy();
  });

  if (packageJsonText === undefined)
    fail('ERR_TARBALL_NO_MANIFEST', 'the tarball has no package/package.json');
  let packageJson: unknown;
  try {
    packageJson = JSON.parse(packageJsonText.replace(/^\uFEFF/, ''));
  } catch {
    fail('ERR_TARBALL_BAD_MANIFEST', 'package/package.json in the tarball is not valid JSON');
  }
  if (typeof packageJson !== 'object' || packageJson === null || Array.isArray(packageJson)) {
    fail('ERR_TARBALL_BAD_MANIFEST', 'package/package.json in the tarball is not a JSON object');
  }
  return { packageJson: packageJson as Record<string, unknown>, files, unpackedBytes: unpacked };
}
