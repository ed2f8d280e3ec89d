/** Runs the real npm CLI against a registry, with a throwaway userconfig and cache. */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The result of an npm run; output is checked by tests, never printed whole. */
export interface NpmResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Writes a minimal package into a new folder and returns the folder. */
export function makePackage(
  name: string,
  version: string,
  extra: Record<string, unknown> = {},
  files: Record<string, string> = {},
): string {
  const dir = mkdtempSync(join(tmpdir(), 'pubgate-pkg-'));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify(
      { name, version, description: `test package ${name}`, main: 'index.js', license: 'MIT', ...extra },
      null,
      2,
    ),
  );
  writeFileSync(join(dir, 'index.js'), `module.exports = ${JSON.stringify(`${name}@${version}`)};\n`);
  for (const [path, content] of Object.entries(files)) writeFileSync(join(dir, path), content);
  return dir;
}

/** An .npmrc for `registry` with `token` keyed to its exact path (DESIGN.md: tokens are path-keyed). */
export function writeNpmrc(registry: string, token: string | undefined): string {
  const dir = mkdtempSync(join(tmpdir(), 'pubgate-npmrc-'));
  const file = join(dir, '.npmrc');
  const keyed = registry.replace(/^https?:/, '').replace(/\/?$/, '/');
  const lines = [
    `registry=${registry.replace(/\/?$/, '/')}`,
    'audit=false',
    'fund=false',
    'update-notifier=false',
    'provenance=false',
  ];
  if (token !== undefined) lines.push(`${keyed}:_authToken=${token}`);
  writeFileSync(file, lines.join('\n') + '\n', { mode: 0o600 });
  mkdirSync(join(dir, 'cache'));
  return file;
}

/** Runs `npm <args>` in `cwd` with the given userconfig. */
export function runNpm(
  args: readonly string[],
  options: { cwd: string; userconfig: string; timeoutMs?: number; env?: Record<string, string> },
): Promise<NpmResult> {
  return new Promise((resolve) => {
    execFile(
      'npm',
      [...args],
      {
        cwd: options.cwd,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 16 * 1024 * 1024,
        env: {
          PATH: process.env['PATH'] ?? '',
          HOME: join(options.userconfig, '..'),
          npm_config_userconfig: options.userconfig,
          npm_config_cache: join(options.userconfig, '..', 'cache'),
          npm_config_loglevel: 'notice',
          ...options.env,
        },
      },
      (error, stdout, stderr) => {
        const code =
          error === null
            ? 0
            : typeof (error as { code?: unknown }).code === 'number'
              ? (error as { code: number }).code
              : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A running npm under a pseudo-terminal (`script`), as a maintainer at a terminal runs it. */
export interface NpmTty {
  output(): string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number>;
  kill(): void;
}

/** Runs `npm <args>` under `script -qec`, so npm sees a TTY (its web-auth flow needs one). */
export function runNpmTty(args: readonly string[], options: { cwd: string; userconfig: string }): NpmTty {
  const quoted = ['npm', ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qec', quoted, '/dev/null'], {
    cwd: options.cwd,
    // stdin stays open: npm waits at its "Press ENTER" prompt while it polls doneUrl.
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: join(options.userconfig, '..'),
      TERM: 'dumb',
      npm_config_userconfig: options.userconfig,
      npm_config_cache: join(options.userconfig, '..', 'cache'),
      npm_config_browser: 'false',
    },
  });
  let text = '';
  child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  return {
    output: () => text,
    exited,
    kill: () => {
      child.kill('SIGKILL');
    },
  };
}
