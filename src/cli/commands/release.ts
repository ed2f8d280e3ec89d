/** `pubgate release list | show | reject | wait`. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { PubgateError } from '../../errors/index.ts';
import { RELEASE_STATES, ReleaseService, type Release, type ReleaseState } from '../../release/index.ts';
import { EXIT } from '../exit-codes.ts';
import { parseDuration, say, sayJson, withApp, withConfigOption } from '../context.ts';

function line(release: Release): string {
  return `${release.id}  ${release.state.padEnd(17)}  ${release.package}@${release.version}  by ${release.requester.kind}:${release.requester.id}  ${release.createdAt}`;
}

function readToken(options: { tokenFile?: string }): string {
  if (options.tokenFile !== undefined) return readFileSync(options.tokenFile, 'utf8').trim();
  const token = process.env['PUBGATE_TOKEN'];
  if (token === undefined || token === '') {
    throw new PubgateError(
      'ERR_CLI_NO_TOKEN',
      'set PUBGATE_TOKEN or pass --token-file to talk to a remote gate',
    );
  }
  return token;
}

/** Reads a release's state from a remote gate through npm's stage endpoint. */
async function fetchRemoteState(
  server: string,
  id: string,
  token: string,
): Promise<{ state: ReleaseState; reason?: string; package?: string; version?: string }> {
  const response = await fetch(`${server.replace(/\/+$/, '')}/npm/-/stage/${encodeURIComponent(id)}`, {
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    throw new PubgateError(
      typeof body['code'] === 'string' ? body['code'] : 'ERR_CLI_REMOTE',
      `the gate answered ${response.status}: ${String(body['error'] ?? '')}`,
    );
  }
  return body as { state: ReleaseState; reason?: string; package?: string; version?: string };
}

/** Registers `release`. */
export function registerReleaseCommands(program: Command): void {
  const release = program.command('release').description('Inspect and decide on releases held by the gate.');

  withConfigOption(
    release
      .command('list')
      .description('List releases, newest first.')
      .option('--state <state>', `only this state (${RELEASE_STATES.join(', ')})`)
      .option('--package <name>', 'only this package')
      .option('--json', 'print JSON'),
  ).action(async (options: { config?: string; state?: string; package?: string; json?: boolean }) => {
    if (options.state !== undefined && !(RELEASE_STATES as readonly string[]).includes(options.state)) {
      throw new RangeError(`unknown state ${options.state}; one of ${RELEASE_STATES.join(', ')}`);
    }
    await withApp(options, async (app) => {
      const releases = await app.releases.list({
        ...(options.state === undefined ? {} : { state: options.state as ReleaseState }),
        ...(options.package === undefined ? {} : { package: options.package }),
      });
      if (options.json === true) sayJson(releases);
      else if (releases.length === 0) say('no releases');
      else releases.forEach((r) => say(line(r)));
    });
  });

  withConfigOption(
    release
      .command('show')
      .description('Show one release with its history.')
      .argument('<id>')
      .option('--json', 'print JSON'),
  ).action(async (id: string, options: { config?: string; json?: boolean }) => {
    await withApp(options, async (app) => {
      const found = await app.releases.get(id);
      const history = [];
      for await (const event of app.audit.events({ subject: `release:${id}` }))
        history.push({
          at: event.at,
          action: event.action,
          actor: event.actor,
          ...(event.data['reason'] === undefined ? {} : { reason: event.data['reason'] }),
        });
      if (options.json === true) {
        sayJson({ ...found, history });
        return;
      }
      say(`release   ${found.id}`);
      say(`package   ${found.package}@${found.version} (tag ${found.tag}, via ${found.channel})`);
      say(`state     ${found.state}${found.reason === null ? '' : ` (${found.reason})`}`);
      say(`digest    ${found.integrity}`);
      say(`size      ${found.size} bytes`);
      say(`requester ${found.requester.kind}:${found.requester.id}`);
      say(
        `created   ${found.createdAt}; expires ${found.expiresAt}${found.publishedAt === null ? '' : `; published ${found.publishedAt}`}`,
      );
      say('checks    ' + found.checks.map((c) => `${c.name}:${c.ok ? 'ok' : 'FAILED'}`).join(' '));
      say('history');
      for (const h of history)
        say(`  ${h.at}  ${h.action.padEnd(26)} ${h.actor}${'reason' in h ? `  (${String(h.reason)})` : ''}`);
    });
  });

  withConfigOption(
    release
      .command('reject')
      .description('Reject a release that is not yet published.')
      .argument('<id>')
      .requiredOption('-r, --reason <text>', 'why (recorded in the audit log)'),
  ).action(async (id: string, options: { config?: string; reason: string }) => {
    await withApp(options, async (app) => {
      const rejected = await app.releases.reject(id, 'cli:admin', options.reason);
      say(line(rejected));
    });
  });

  withConfigOption(
    release
      .command('wait')
      .description(
        'Block until the release is final. Exit 0 only when it was published; 1 when rejected, expired or failed; 124 on timeout.\n' +
          'Local (reads the store via --config) or remote (--server, credential from $PUBGATE_TOKEN or --token-file).',
      )
      .argument('<id>')
      .option('-s, --server <url>', 'the gate to ask (e.g. https://gate.example.com)')
      .option('--token-file <path>', 'file holding the pubgate credential (remote mode)')
      .option('-t, --timeout <duration>', 'give up after this long (e.g. 30m, 2h)', '1h')
      .option('-i, --interval <duration>', 'poll interval', '2s'),
  ).action(
    async (
      id: string,
      options: { config?: string; server?: string; tokenFile?: string; timeout: string; interval: string },
    ) => {
      const deadline = Date.now() + parseDuration(options.timeout) * 1000;
      const interval = Math.max(1, parseDuration(options.interval)) * 1000;
      const poll =
        options.server === undefined
          ? async () => withApp(options, (app) => app.releases.get(id))
          : (() => {
              const token = readToken(options);
              return () => fetchRemoteState(options.server!, id, token);
            })();
      let last = '';
      for (;;) {
        const current = await poll();
        if (current.state !== last) {
          process.stderr.write(`release ${id}: ${current.state}\n`);
          last = current.state;
        }
        if (current.state === 'published') {
          say(`published ${'package' in current ? `${current.package}@${current.version}` : id}`);
          process.exitCode = EXIT.ok;
          return;
        }
        if (ReleaseService.isFinal(current as Release)) {
          process.stderr.write(
            `release ${id} was ${current.state}${current.reason == null ? '' : `: ${current.reason}`}\n`,
          );
          process.exitCode = EXIT.negative;
          return;
        }
        if (Date.now() + interval > deadline) {
          process.stderr.write(
            `release ${id} is still ${current.state} after ${options.timeout}; giving up (the release itself is unchanged)\n`,
          );
          process.exitCode = EXIT.timeout;
          return;
        }
        await new Promise((r) => setTimeout(r, interval));
      }
    },
  );
}
