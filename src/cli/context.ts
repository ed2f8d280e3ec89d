/** Shared CLI plumbing: finding the config, building the app for local commands, printing. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { buildApp, type App } from '../app.ts';
import { loadConfig, type Config } from '../config/index.ts';

/** Adds `--config` to a command. */
export function withConfigOption(command: Command): Command {
  return command.option(
    '-c, --config <file>',
    'config file (default: $PUBGATE_CONFIG, else ./pubgate.yaml when present, else built-in defaults)',
  );
}

/** Loads the config named by `--config`, `PUBGATE_CONFIG`, or `./pubgate.yaml`. */
export function resolveConfig(options: { config?: string }): Config {
  const explicit = options.config ?? process.env['PUBGATE_CONFIG'];
  const file = explicit ?? (existsSync(resolve('pubgate.yaml')) ? 'pubgate.yaml' : undefined);
  return loadConfig({ file });
}

/** Runs `fn` with a built app (store open, migrated), closing it afterwards. */
export async function withApp<T>(options: { config?: string }, fn: (app: App) => Promise<T>): Promise<T> {
  const config = resolveConfig(options);
  const app = await buildApp(config, { logger: (await import('../app.ts')).createLogger('silent') });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

/** Writes a line to stdout. */
export function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Writes JSON to stdout. */
export function sayJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Parses a duration like `90s`, `15m`, `12h`, `30d` into seconds; throws RangeError. */
export function parseDuration(text: string): number {
  const match = /^(\d+)(s|m|h|d)?$/.exec(text.trim());
  if (match === null)
    throw new RangeError(`invalid duration ${JSON.stringify(text)}: use e.g. 90s, 15m, 12h, 30d`);
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[(match[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}
