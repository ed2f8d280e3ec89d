/** `pubgate serve` and `pubgate init`. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { buildApp, createLogger, startGate } from '../../app.ts';
import { loadConfig, renderConfigTemplate } from '../../config/index.ts';
import { ConfigError } from '../../errors/index.ts';
import { writeNewMasterKey } from '../../vault/index.ts';
import { resolveConfig, say, withConfigOption } from '../context.ts';

/** Registers `init` and `serve`. */
export function registerServeCommands(program: Command): void {
  program
    .command('init')
    .description('Write a commented config (pubgate.yaml) and a new master key into a folder.')
    .option('-d, --dir <dir>', 'folder to initialise', '.')
    .action(async (options: { dir: string }) => {
      const dir = resolve(options.dir);
      const file = resolve(dir, 'pubgate.yaml');
      if (existsSync(file))
        throw new ConfigError('ERR_CONFIG_EXISTS', `${file} already exists; refusing to overwrite it`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, renderConfigTemplate(), { flag: 'wx' });
      const keyFile = resolve(dir, 'pubgate-data', 'master.key');
      mkdirSync(dirname(keyFile), { recursive: true, mode: 0o700 });
      writeNewMasterKey(keyFile);
      // The store and the gate's signing key (sealed under the master key) are created now too.
      const app = await buildApp(loadConfig({ file }), { logger: createLogger('silent') });
      const key = await app.keyRing.activeKey();
      await app.close();
      say(`wrote ${file}`);
      say(`created signing key ${key?.keyId ?? '?'} (sealed under the master key; public at /keys)`);
      say(`wrote ${keyFile} (mode 0600; back it up: without it sealed secrets cannot be opened)`);
      say(`next: pubgate serve --config ${file}`);
    });

  withConfigOption(
    program
      .command('serve')
      .description(
        'Start the gate: npm protocol under /npm/, health at /healthz and /readyz, metrics at /metrics.',
      )
      .option('-p, --port <port>', 'override server.port')
      .option('--host <host>', 'override server.host'),
  ).action(async (options: { config?: string; port?: string; host?: string }) => {
    if (options.port !== undefined) process.env['PUBGATE_PORT'] = options.port;
    if (options.host !== undefined) process.env['PUBGATE_HOST'] = options.host;
    const config = resolveConfig(options);
    if (!existsSync(config.masterKeyFile) && config.configFile === undefined) {
      // First start on the embedded default: create the data folder and its master key.
      mkdirSync(dirname(config.masterKeyFile), { recursive: true, mode: 0o700 });
      writeNewMasterKey(config.masterKeyFile);
      process.stderr.write(`pubgate: created a master key at ${config.masterKeyFile}; back it up\n`);
    }
    const app = await buildApp(config);
    const gate = await startGate(app);
    process.stderr.write(
      `pubgate listening on ${gate.url}\n` +
        `  npm registry: ${gate.url}/npm/\n` +
        `  store: ${config.store.driver}${config.store.driver === 'sqlite' ? ` (${config.store.sqlitePath})` : ''}\n` +
        `  upstream: ${config.upstream.url ?? "none (released packages are served from pubgate's own storage)"}\n`,
    );
    if ((await app.people.count()) === 0) {
      // Bootstrap: the first admin enrols with a passkey through a one-time link (15 min by default).
      const { token, expiresAt } = await app.people.createEnrolment({
        roles: ['admin'],
        createdBy: 'bootstrap',
      });
      process.stderr.write(
        `\nNo one is enrolled yet. The first admin enrols here (works once, until ${expiresAt}):\n  ${gate.url}/ui/enroll/${token}\n(or later: pubgate admin enroll)\n\n`,
      );
    }
    await new Promise<void>((resolveStop) => {
      const shutdown = (signal: string): void => {
        process.stderr.write(`pubgate: ${signal}, finishing in-flight work\n`);
        gate.stop().then(resolveStop, resolveStop);
      };
      process.once('SIGINT', () => shutdown('SIGINT'));
      process.once('SIGTERM', () => shutdown('SIGTERM'));
    });
  });
}
