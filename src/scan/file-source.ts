/** Files and directories: a .gitignore-aware walk and a per-file scan that streams big files. */
import { createReadStream } from 'node:fs';
import { lstat, readFile, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { fingerprintSecret } from './fingerprint.ts';
import type { Scanner } from './scanner.ts';
import { scanBytes, scanStream, type StreamScanResult } from './stream-scan.ts';

/** Files up to this size are read whole; bigger ones are streamed. */
const READ_WHOLE_LIMIT = 8 * 1024 * 1024;
const PKCS12 = /\.(?:p12|pfx)$/i;

/** Options of {@link walkFiles}. */
export interface WalkFilesOptions {
  /** Do not read .gitignore files. */
  readonly noIgnore?: boolean;
  /** Extra gitignore-style patterns to skip (from config `allowPaths`). */
  readonly allowPaths?: readonly string[];
}

/** A file found by the walk. */
export interface WalkedFile {
  readonly absolute: string;
  /** The path shown in findings: the argument joined with the path below it. */
  readonly display: string;
  readonly size: number;
}

interface IgnoreLevel {
  readonly base: string;
  readonly rules: Ignore;
}

function toPosix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}

async function readIgnoreFile(dir: string): Promise<Ignore | undefined> {
  try {
    return ignore().add(await readFile(join(dir, '.gitignore'), 'utf8'));
  } catch {
    return undefined;
  }
}

function isIgnored(levels: readonly IgnoreLevel[], absolute: string, directory: boolean): boolean {
  for (const level of levels) {
    const rel = toPosix(relative(level.base, absolute));
    if (rel === '' || rel.startsWith('..')) continue;
    if (level.rules.ignores(directory ? `${rel}/` : rel)) return true;
  }
  return false;
}

/** Walks `root` depth-first, skipping `.git`, symbolic links and (unless `noIgnore`) git-ignored paths. */
export async function* walkFiles(
  root: string,
  display: string,
  options: WalkFilesOptions = {},
): AsyncGenerator<WalkedFile> {
  const base: IgnoreLevel[] = [];
  if (options.allowPaths !== undefined && options.allowPaths.length > 0)
    base.push({ base: root, rules: ignore().add([...options.allowPaths]) });
  const stack: Array<{ dir: string; shown: string; levels: IgnoreLevel[] }> = [
    { dir: root, shown: display, levels: base },
  ];
  while (stack.length > 0) {
    const { dir, shown, levels: parentLevels } = stack.pop()!;
    let levels = parentLevels;
    if (options.noIgnore !== true) {
      const own = await readIgnoreFile(dir);
      if (own !== undefined) levels = [...parentLevels, { base: dir, rules: own }];
    }
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
    const files: WalkedFile[] = [];
    for (const entry of entries) {
      const absolute = join(dir, entry.name);
      const shownPath = shown === '' || shown === '.' ? entry.name : `${shown}/${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name === '.git' || isIgnored(levels, absolute, true)) continue;
        stack.push({ dir: absolute, shown: shownPath, levels });
      } else if (entry.isFile()) {
        if (isIgnored(levels, absolute, false)) continue;
        const info = await lstat(absolute).catch(() => undefined);
        if (info !== undefined) files.push({ absolute, display: shownPath, size: info.size });
      }
    }
    yield* files.reverse();
  }
}

/** Scans one file: whole when small, streamed when big; a PKCS#12 file is a finding by itself. */
export async function scanFilePath(
  scanner: Scanner,
  absolute: string,
  display: string,
  size?: number,
): Promise<StreamScanResult> {
  if (PKCS12.test(absolute)) return scanPkcs12(scanner, await readFile(absolute), display);
  const bytes = size ?? (await lstat(absolute)).size;
  if (bytes <= READ_WHOLE_LIMIT) return scanBytes(scanner, await readFile(absolute), display);
  const stream = createReadStream(absolute, { highWaterMark: 1024 * 1024 });
  try {
    return await scanStream(scanner, stream, display);
  } finally {
    stream.destroy();
  }
}

/** A PKCS#12 keystore (DER, starting with a SEQUENCE) holds a private key: reported as a whole. */
export function scanPkcs12(scanner: Scanner, bytes: Uint8Array, display: string): StreamScanResult {
  if (bytes.length < 64 || bytes[0] !== 0x30) return { findings: [], bytes: bytes.length, binary: true };
  return {
    findings: [
      {
        ruleId: 'pkcs12-file',
        ruleTitle: 'PKCS#12 keystore file',
        severity: 'high',
        kind: 'secret',
        path: display,
        line: 1,
        column: 1,
        preview: `(PKCS#12 file, ${bytes.length} bytes)`,
        fingerprint: fingerprintSecret(Buffer.from(bytes).toString('base64'), scanner.key),
      },
    ],
    bytes: bytes.length,
    binary: true,
  };
}
