/** The `pubgate scan` driver: expands paths, picks a source for each, and runs files on worker threads. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { ScanInputError } from './errors.ts';
import { scanFilePath, walkFiles, type WalkedFile } from './file-source.ts';
import { defaultFingerprintKey } from './fingerprint.ts';
import { scanGitHistory } from './git-history.ts';
import { createScanner, type Scanner } from './scanner.ts';
import { scanStream, type StreamScanResult } from './stream-scan.ts';
import { scanTarballStream } from './tarball.ts';
import type { ScanFinding, ScanOptions } from './types.ts';
import { ScanWorkerPool } from './worker-pool.ts';

/** Progress of a long scan. */
export interface ScanProgress {
  readonly files: number;
  readonly bytes: number;
  readonly totalBytes: number;
}

/** Options of {@link scanPaths}. */
export interface ScanPathsOptions extends ScanOptions {
  /** Ignore .gitignore files. */
  readonly noIgnore?: boolean;
  /** Gitignore-style patterns of paths never scanned. */
  readonly allowPaths?: readonly string[];
  /** Worker threads (default: all cores; 1 scans in this thread). */
  readonly workers?: number;
  /** Scan the git history of each path instead of its files. */
  readonly git?: boolean;
  /** With `git`: only commits after this revision. */
  readonly since?: string;
  /** Standard input, for the path `-`. */
  readonly stdin?: AsyncIterable<Uint8Array>;
  readonly onProgress?: (progress: ScanProgress) => void;
}

/** What a scan found and how much it read. */
export interface ScanReport {
  readonly findings: ScanFinding[];
  readonly files: number;
  readonly bytes: number;
  readonly binarySkipped: number;
  readonly commits?: number;
  readonly durationMs: number;
}

const TARBALL = /\.(?:tgz|tar\.gz|tar)$/i;
/** Below this much work, worker start-up costs more than it saves. */
const WORKER_THRESHOLD_BYTES = 4 * 1024 * 1024;

/** Scans files, directories, tarballs, standard input (`-`) or, with `git`, repositories' history. */
export async function scanPaths(
  paths: readonly string[],
  options: ScanPathsOptions = {},
): Promise<ScanReport> {
  const started = performance.now();
  const key = options.fingerprintKey ?? defaultFingerprintKey();
  const scanner = createScanner({ ...options, fingerprintKey: key });
  const findings: ScanFinding[] = [];
  let files = 0;
  let bytes = 0;
  let binarySkipped = 0;
  if (options.git === true) {
    let commits = 0;
    for (const path of paths.length === 0 ? ['.'] : paths) {
      const result = await scanGitHistory(scanner, resolve(path), {
        ...(options.since === undefined ? {} : { since: options.since }),
        ...(options.workers === undefined ? {} : { processes: options.workers }),
        onCommit: (done, total) => options.onProgress?.({ files: done, bytes: 0, totalBytes: total }),
      });
      findings.push(...result.findings);
      commits += result.commits;
      bytes += result.bytes;
    }
    return { findings, files: 0, bytes, binarySkipped: 0, commits, durationMs: performance.now() - started };
  }
  const queue: WalkedFile[] = [];
  for (const path of paths.length === 0 ? ['.'] : paths) {
    if (path === '-') {
      const result = await scanStream(scanner, options.stdin ?? process.stdin, '<stdin>');
      findings.push(...result.findings);
      files++;
      bytes += result.bytes;
      continue;
    }
    const info = await stat(path).catch((cause: unknown) => {
      throw new ScanInputError('ERR_SCAN_PATH_UNREADABLE', `cannot read ${path}`, { cause });
    });
    if (info.isDirectory()) {
      for await (const file of walkFiles(resolve(path), path.replace(/\/+$/, ''), options)) queue.push(file);
    } else if (TARBALL.test(path)) {
      const stream = createReadStream(path);
      try {
        const result = await scanTarballStream(scanner, stream, { prefix: `${path}!` });
        findings.push(...result.findings);
        files += result.entries;
        bytes += result.bytes;
      } finally {
        stream.destroy();
      }
    } else {
      queue.push({ absolute: resolve(path), display: path, size: info.size });
    }
  }
  const totalBytes = queue.reduce((sum, file) => sum + file.size, 0);
  const collect = (result: StreamScanResult): void => {
    findings.push(...result.findings);
    files++;
    bytes += result.bytes;
    if (result.binary) binarySkipped++;
    options.onProgress?.({ files, bytes, totalBytes });
  };
  const workers = Math.max(1, options.workers ?? availableParallelism());
  if (workers > 1 && queue.length > 1 && totalBytes >= WORKER_THRESHOLD_BYTES) {
    await scanWithPool(queue, workers, key, options, collect);
  } else {
    await scanInline(scanner, queue, collect);
  }
  findings.sort((a, b) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : a.line - b.line || a.column - b.column,
  );
  return { findings, files, bytes, binarySkipped, durationMs: performance.now() - started };
}

async function scanInline(
  scanner: Scanner,
  queue: readonly WalkedFile[],
  collect: (result: StreamScanResult) => void,
): Promise<void> {
  for (const file of queue) {
    collect(
      await scanFilePath(scanner, file.absolute, file.display, file.size).catch(() => ({
        findings: [],
        bytes: 0,
        binary: false,
      })),
    );
  }
}

async function scanWithPool(
  queue: readonly WalkedFile[],
  workers: number,
  key: Uint8Array | string,
  options: ScanPathsOptions,
  collect: (result: StreamScanResult) => void,
): Promise<void> {
  const pool = new ScanWorkerPool(Math.min(workers, queue.length), {
    key,
    ...(options.customRules === undefined ? {} : { customRules: options.customRules }),
    ...(options.disabledRules === undefined ? {} : { disabledRules: options.disabledRules }),
  });
  try {
    await Promise.all(
      queue.map((file) =>
        pool.scanFile(file.absolute, file.display, file.size).then(collect, (error: unknown) => {
          // A vanished or unreadable file is skipped; a dead worker fails the scan.
          if (error instanceof Error && /worker|terminated/i.test(error.message)) throw error;
          collect({ findings: [], bytes: 0, binary: false });
        }),
      ),
    );
  } finally {
    await pool.close();
  }
}
