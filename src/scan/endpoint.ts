/**
 * Endpoint mode: the places where developer machines and CI runners keep publishing credentials,
 * plus a hygiene finding for each long-lived publish token kept in a plain file.
 */
import { lstat, readdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { builtinRules } from './engine.ts';
import { scanFilePath, type WalkedFile } from './file-source.ts';
import { defaultFingerprintKey } from './fingerprint.ts';
import type { ScanReport } from './scan-paths.ts';
import { createScanner, type Scanner } from './scanner.ts';
import type { ScanFinding, ScanOptions } from './types.ts';

/** Where a finding was seen, as the gate records it. */
export type ScanContext = 'laptop' | 'ci-runner' | 'repository';

/** Options of {@link scanEndpoint}. */
export interface EndpointScanOptions extends ScanOptions {
  /** Home folder (default: the user's). Tests pass a fake one. */
  readonly home?: string;
  /** CI runner work folders (default: the usual GitHub Actions, GitLab and Azure Pipelines places). */
  readonly runnerDirs?: readonly string[];
  /** How deep to look for .env files under home (default 4). */
  readonly envDepth?: number;
  /** Environment (default process.env), for the runner folders it names. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Credential files relative to home. */
const HOME_FILES = [
  '.npmrc',
  '.yarnrc.yml',
  '.yarnrc',
  '.pypirc',
  '.gem/credentials',
  '.cargo/credentials.toml',
  '.cargo/credentials',
  '.docker/config.json',
  '.git-credentials',
  '.config/git/credentials',
  '.config/gh/hosts.yml',
  '.aws/credentials',
  '.aws/config',
  '.nuget/NuGet/NuGet.Config',
  '.config/NuGet/NuGet.Config',
  '.netrc',
  '.terraform.d/credentials.tfrc.json',
  '.vault-token',
  '.kube/config',
];

/** Shell and REPL histories relative to home. */
const HISTORIES = [
  '.bash_history',
  '.zsh_history',
  '.zhistory',
  '.sh_history',
  '.history',
  '.local/share/fish/fish_history',
  '.python_history',
  '.node_repl_history',
  '.psql_history',
  '.mysql_history',
  '.local/share/powershell/PSReadLine/ConsoleHost_history.txt',
];

/** Folders never descended into while looking for .env files. */
const SKIP_DIRS = new Set([
  'node_modules',
  '.git',
  '.cache',
  '.npm',
  '.pnpm-store',
  '.yarn',
  '.rustup',
  '.cargo',
  'go',
  'Library',
  '.local',
  'snap',
  '.vscode-server',
  '.Trash',
  'venv',
  '.venv',
  '__pycache__',
  'target',
  'dist',
  'build',
]);
const ENV_FILE = /^\.env(?:\..+)?$|\.env$/;
/** Credential-like file names looked for inside CI runner work folders. */
const RUNNER_FILE =
  /^(?:\.npmrc|\.yarnrc\.yml|\.pypirc|\.git-credentials|\.netrc|credentials(?:\.toml)?|config\.json|\.env(?:\..+)?|.*\.env)$/;

/** The usual CI runner work folders. */
export function defaultRunnerDirs(home: string, env: Readonly<Record<string, string | undefined>>): string[] {
  return [
    join(home, 'actions-runner', '_work'),
    join(home, 'runner', '_work'),
    join(home, 'work'),
    join(home, 'builds'),
    join(home, 'agent', '_work'),
    '/home/runner/work',
    '/builds',
    env['RUNNER_WORKSPACE'],
    env['RUNNER_TEMP'],
    env['CI_BUILDS_DIR'],
    env['AGENT_WORKFOLDER'],
  ].filter((dir): dir is string => dir !== undefined && dir.length > 0);
}

async function isFile(path: string): Promise<number | undefined> {
  const info = await lstat(path).catch(() => undefined);
  return info?.isFile() === true ? info.size : undefined;
}

async function findFiles(
  root: string,
  depth: number,
  wanted: RegExp,
  found: Map<string, number>,
): Promise<void> {
  if (depth < 0) return;
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const path = join(root, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) await findFiles(path, depth - 1, wanted, found);
    } else if (entry.isFile() && wanted.test(entry.name)) {
      const size = await isFile(path);
      if (size !== undefined) found.set(path, size);
    }
  }
}

/** Every file endpoint mode looks at, shown as `~/…` under home. */
export async function endpointLocations(options: EndpointScanOptions = {}): Promise<WalkedFile[]> {
  const home = options.home ?? homedir();
  const env = options.env ?? process.env;
  const found = new Map<string, number>();
  for (const name of [...HOME_FILES, ...HISTORIES]) {
    const path = join(home, name);
    const size = await isFile(path);
    if (size !== undefined) found.set(path, size);
  }
  await findFiles(home, options.envDepth ?? 4, ENV_FILE, found);
  for (const dir of options.runnerDirs ?? defaultRunnerDirs(home, env))
    await findFiles(dir, 6, RUNNER_FILE, found);
  const display = (path: string): string => {
    const rel = relative(home, path);
    return rel.startsWith('..') ? path : `~/${rel.split(sep).join('/')}`;
  };
  return [...found]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([absolute, size]) => ({ absolute, display: display(absolute), size }));
}

/** Adds a hygiene finding for each publish-capable credential found in a plain file. */
export function withHygieneFindings(findings: readonly ScanFinding[]): ScanFinding[] {
  const rules = builtinRules().byId;
  const out: ScanFinding[] = [];
  for (const finding of findings) {
    out.push(finding);
    if (
      finding.kind === 'secret' &&
      rules.get(finding.ruleId)?.publishToken === true &&
      finding.commit === undefined
    ) {
      out.push({
        ...finding,
        ruleId: 'endpoint-plaintext-publish-token',
        ruleTitle: 'Long-lived publish token in a plain file',
        severity: 'medium',
        kind: 'hygiene',
        note: `${finding.ruleId} stored unencrypted; prefer OIDC trusted publishing or pubgate just-in-time credentials`,
      });
    }
  }
  return out;
}

/** Scans the files of `targets` with `scanner`. */
export async function scanTargets(
  scanner: Scanner,
  targets: readonly WalkedFile[],
): Promise<{ findings: ScanFinding[]; bytes: number; binary: number }> {
  const findings: ScanFinding[] = [];
  let bytes = 0;
  let binary = 0;
  for (const target of targets) {
    const result = await scanFilePath(scanner, target.absolute, target.display, target.size).catch(
      () => undefined,
    );
    if (result === undefined) continue;
    findings.push(...result.findings);
    bytes += result.bytes;
    if (result.binary) binary++;
  }
  return { findings, bytes, binary };
}

/** Scans the credential places of this machine (or of `options.home`). */
export async function scanEndpoint(options: EndpointScanOptions = {}): Promise<ScanReport> {
  const started = performance.now();
  const scanner = createScanner({
    ...options,
    fingerprintKey: options.fingerprintKey ?? defaultFingerprintKey(),
  });
  const targets = await endpointLocations(options);
  const { findings, bytes, binary } = await scanTargets(scanner, targets);
  return {
    findings: withHygieneFindings(findings),
    files: targets.length,
    bytes,
    binarySkipped: binary,
    durationMs: performance.now() - started,
  };
}
