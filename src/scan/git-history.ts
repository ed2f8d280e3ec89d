/**
 * Git history: every commit on every ref (or those after `since`), additions only. Commits are
 * split across parallel `git diff-tree --stdin` processes, which is where the time goes; each
 * commit's added lines are scanned per file, and a secret is reported once, at the oldest commit
 * that added it, even when a later commit deleted it.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { ScanInputError } from './errors.ts';
import type { Scanner } from './scanner.ts';
import { scanWithScanner } from './scanner.ts';
import type { ScanFinding } from './types.ts';

/** Options of {@link scanGitHistory}. */
export interface GitHistoryOptions {
  /** Only commits not reachable from this revision. */
  readonly since?: string;
  /** Parallel git processes (default: the number of cores). */
  readonly processes?: number;
  /** Called after each commit is scanned. */
  readonly onCommit?: (scanned: number, total: number) => void;
}

/** What scanning a repository's history produced. */
export interface GitHistoryResult {
  readonly findings: ScanFinding[];
  readonly commits: number;
  readonly bytes: number;
}

function run(cwd: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else
        reject(
          new Error(Buffer.concat(err).toString('utf8').trim().split('\n')[0] ?? `git exited with ${code}`),
        );
    });
  });
}

/** Lists commits oldest first. */
async function listCommits(repo: string, since: string | undefined): Promise<string[]> {
  try {
    await run(repo, ['rev-parse', '--git-dir']);
  } catch (cause) {
    throw new ScanInputError('ERR_SCAN_NOT_A_REPOSITORY', `${repo} is not a git repository`, { cause });
  }
  const args = ['rev-list', '--all', '--reverse', '--topo-order'];
  if (since !== undefined) {
    if (since.startsWith('-'))
      throw new ScanInputError('ERR_SCAN_BAD_REVISION', 'revision must not start with "-"');
    args.push('--not', since);
  }
  let out: string;
  try {
    out = await run(repo, args);
  } catch (cause) {
    throw new ScanInputError('ERR_SCAN_BAD_REVISION', 'git could not list commits (unknown revision?)', {
      cause,
    });
  }
  return out.split('\n').filter((line) => /^[0-9a-f]{40,64}$/.test(line));
}

/** Added lines of one file in one commit, with their line numbers in the new file. */
class FileAdditions {
  readonly lines: string[] = [];
  readonly numbers: number[] = [];
  constructor(readonly path: string) {}
}

function unquotePath(path: string): string {
  // git quotes paths with special characters C-style ("a\tb"); core.quotePath is turned off below.
  if (!path.startsWith('"')) return path;
  try {
    return JSON.parse(path) as string;
  } catch {
    return path.slice(1, -1);
  }
}

/** Parses `git diff-tree -p -U0 --stdin` output and scans each commit as it completes. */
class DiffParser {
  private commit: string | undefined;
  private files: FileAdditions[] = [];
  private current: FileAdditions | undefined;
  private nextLine = 0;
  private rest = '';
  bytes = 0;

  constructor(private readonly onCommitDone: (commit: string, files: FileAdditions[]) => void) {}

  push(chunk: string): void {
    this.bytes += chunk.length;
    const text = this.rest + chunk;
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      this.line(text.slice(start, end));
      start = end + 1;
    }
    this.rest = text.slice(start);
  }

  end(): void {
    if (this.rest.length > 0) this.line(this.rest);
    this.rest = '';
    this.finishCommit();
  }

  private finishCommit(): void {
    if (this.commit !== undefined) this.onCommitDone(this.commit, this.files);
    this.commit = undefined;
    this.files = [];
    this.current = undefined;
  }

  private line(line: string): void {
    const c = line.charCodeAt(0);
    if (c === 43 /* + */) {
      if (line.startsWith('+++ ')) {
        const target = line.slice(4);
        this.current =
          target === '/dev/null'
            ? undefined
            : new FileAdditions(
                Buffer.from(unquotePath(target), 'latin1').toString('utf8').replace(/^b\//, ''),
              );
        if (this.current !== undefined) this.files.push(this.current);
        return;
      }
      if (this.current !== undefined) {
        this.current.lines.push(line.slice(1));
        this.current.numbers.push(this.nextLine++);
      }
      return;
    }
    if (c === 64 /* @ */ && line.startsWith('@@ ')) {
      const match = /\+(\d+)/.exec(line);
      this.nextLine = match === null ? 1 : Number(match[1]);
      return;
    }
    if (line.length >= 40 && /^[0-9a-f]{40,64}$/.test(line)) {
      this.finishCommit();
      this.commit = line;
    }
  }
}

function scanCommit(
  scanner: Scanner,
  commit: string,
  files: FileAdditions[],
  out: Map<string, ScanFinding>,
  order: Map<string, number>,
): void {
  for (const file of files) {
    if (file.lines.length === 0) continue;
    const text = file.lines.join('\n');
    for (const finding of scanWithScanner(scanner, text, file.path, { latin1: true, commit })) {
      const line = file.numbers[finding.line - 1] ?? finding.line;
      const key = `${finding.ruleId}\0${finding.path}\0${finding.fingerprint}`;
      const previous = out.get(key);
      // Keep the oldest commit that added this secret to this file: that is where it was introduced.
      if (previous === undefined || (order.get(commit) ?? 0) < (order.get(previous.commit ?? '') ?? 0)) {
        out.set(key, { ...finding, line });
      }
    }
  }
}

/** Scans every commit of `repo` (all refs), reporting each secret at the commit that added it. */
export async function scanGitHistory(
  scanner: Scanner,
  repo: string,
  options: GitHistoryOptions = {},
): Promise<GitHistoryResult> {
  const commits = await listCommits(repo, options.since);
  const order = new Map(commits.map((commit, index) => [commit, index]));
  const found = new Map<string, ScanFinding>();
  const processes = Math.max(
    1,
    Math.min(options.processes ?? availableParallelism(), Math.ceil(commits.length / 50)),
  );
  // Contiguous slices keep each process's diffs local in the object store.
  const size = Math.ceil(commits.length / processes);
  let scanned = 0;
  let bytes = 0;
  const shards = Array.from({ length: processes }, (_, i) => commits.slice(i * size, (i + 1) * size)).filter(
    (s) => s.length > 0,
  );
  await Promise.all(
    shards.map(
      (shard) =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(
            'git',
            [
              '-c',
              'core.quotePath=false',
              'diff-tree',
              '--stdin',
              '-p',
              '-U0',
              '--root',
              '-r',
              '--no-renames',
              '--no-color',
              '--no-ext-diff',
              '--no-textconv',
            ],
            { cwd: repo, stdio: ['pipe', 'pipe', 'ignore'] },
          );
          const parser = new DiffParser((commit, files) => {
            scanCommit(scanner, commit, files, found, order);
            scanned++;
            options.onCommit?.(scanned, commits.length);
          });
          child.stdout.setEncoding('latin1');
          child.stdout.on('data', (chunk: string) => parser.push(chunk));
          child.on('error', reject);
          child.on('close', (code) => {
            parser.end();
            bytes += parser.bytes;
            if (code === 0) resolve();
            else reject(new ScanInputError('ERR_SCAN_GIT_FAILED', `git diff-tree exited with ${code}`));
          });
          child.stdin.on('error', () => undefined);
          child.stdin.end(`${shard.join('\n')}\n`);
        }),
    ),
  );
  const findings = [...found.values()].sort(
    (a, b) =>
      (order.get(a.commit ?? '') ?? 0) - (order.get(b.commit ?? '') ?? 0) ||
      a.path.localeCompare(b.path) ||
      a.line - b.line,
  );
  return { findings, commits: commits.length, bytes };
}
