/**
 * Spawns `pubgate serve` as a child process like `spawnGate` in `gate.ts`, but keeps its log: the
 * JSON lines at `level` and above are appended to `logFile`, so a harness can show why an instance
 * failed. (`spawnGate` discards stdout; this is the minimal part of it with a log.)
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildGate } from './gate.ts';
import { freePort, waitForHttp } from './net.ts';

const root = new URL('../..', import.meta.url).pathname;

/** Options of {@link spawnLoggedGate}. */
export interface SpawnLoggedGateOptions {
  readonly port?: number;
  readonly logFile: string;
  /** pino level, e.g. `warn`. */
  readonly level: string;
}

/** Spawns the gate with its log appended to a file and waits until it is ready. */
export async function spawnLoggedGate(file: string, options: SpawnLoggedGateOptions): Promise<ChildGate> {
  const chosen = options.port ?? (await freePort());
  const out = openSync(options.logFile, 'a');
  const child = spawn(
    process.execPath,
    [join(root, 'bin/pubgate.js'), 'serve', '--config', file, '--port', String(chosen)],
    {
      stdio: ['ignore', out, out],
      env: { ...process.env, PUBGATE_LOG_LEVEL: options.level },
    },
  );
  closeSync(out);
  const url = `http://127.0.0.1:${chosen}`;
  try {
    await waitForHttp(`${url}/readyz`, 30_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`gate did not start: ${readFileSync(options.logFile, 'utf8').slice(-2000)}`, {
      cause: error,
    });
  }
  return {
    url,
    process: child,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
  };
}

/** The distinct log messages (with error names and messages) at `minLevel` or above in a gate log, with counts. */
export function summarizeGateLog(logFile: string, minLevel = 40): Map<string, number> {
  const counts = new Map<string, number>();
  let text = '';
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return counts;
  }
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) {
      // Outside pino: keep the headline of a crash (Node prints it to stderr), not the banner or stack.
      if (/^\w*Error\b|Unhandled/.test(line.trim()))
        counts.set(
          `stderr: ${line.trim().slice(0, 200)}`,
          (counts.get(`stderr: ${line.trim().slice(0, 200)}`) ?? 0) + 1,
        );
      continue;
    }
    try {
      const entry = JSON.parse(line) as {
        level?: number;
        msg?: string;
        err?: { name?: string; message?: string } | string;
        code?: string;
      };
      if ((entry.level ?? 0) < minLevel) continue;
      const err =
        typeof entry.err === 'string'
          ? entry.err
          : entry.err === undefined
            ? ''
            : `${entry.err.name ?? ''}: ${entry.err.message ?? ''}`;
      const key = `${entry.msg ?? ''}${entry.code === undefined ? '' : ` ${entry.code}`}${err === '' ? '' : ` (${err.slice(0, 200)})`}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    } catch {
      // a line cut by SIGKILL
    }
  }
  return counts;
}
