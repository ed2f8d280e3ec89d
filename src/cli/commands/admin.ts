/** `pubgate log`, `pubgate token`, `pubgate upstream`, `pubgate config`. */
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UPSTREAM_TOKEN_SECRET } from '../../app.ts';
import { renderConfigReference } from '../../config/index.ts';
import { PubgateError } from '../../errors/index.ts';
import { signAuditCheckpoint, verifyAuditCheckpoint } from '../../signing/index.ts';
import type { CredentialKind } from '../../tokens/index.ts';
import type { Role } from '../../identity/index.ts';
import { EXIT } from '../exit-codes.ts';
import { parseDuration, resolveConfig, say, sayJson, withApp, withConfigOption } from '../context.ts';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

/** Registers the administrative commands. */
export function registerAdminCommands(program: Command): void {
  const log = program.command('log').description('The hash-chained audit log.');
  withConfigOption(
    log
      .command('verify')
      .description(
        'Walk the chain; exit 1 and name the first broken event if anything was edited or deleted.\n' +
          'With --checkpoint (files from `log checkpoint`, kept elsewhere) a chain cut short at its end is caught too.',
      )
      .option('--checkpoint <file...>', 'signed checkpoints the chain must still reach')
      .option('--json', 'print JSON'),
  ).action(async (options: { config?: string; json?: boolean; checkpoint?: string[] }) => {
    await withApp(options, async (app) => {
      const checkpoints = [];
      for (const file of options.checkpoint ?? [])
        checkpoints.push(await verifyAuditCheckpoint(readFileSync(file, 'utf8'), app.keyRing));
      const result = await app.audit.verify(checkpoints);
      if (options.json === true) sayJson(result);
      else if (result.ok) say(`audit chain intact: ${result.events} events, head ${result.headHash}`);
      else
        say(
          `audit chain BROKEN at event ${result.brokenAt}: ${result.problem} (${result.events} events verified before it)`,
        );
      process.exitCode = result.ok ? EXIT.ok : EXIT.negative;
    });
  });
  withConfigOption(
    log
      .command('checkpoint')
      .description(
        "Sign the chain's head (event count and hash) with the gate's key, after verifying the chain.\n" +
          'Keep the output outside the gate (a ticket, another system, WORM storage); `log verify --checkpoint`\n' +
          'then notices events removed from the end of the log, which the chain alone cannot show. Run it on a schedule.',
      )
      .option('-o, --output <file>', 'file to write (default: stdout)'),
  ).action(async (options: { config?: string; output?: string }) => {
    await withApp(options, async (app) => {
      const chain = await app.audit.verify();
      if (!chain.ok)
        throw new PubgateError(
          'ERR_AUDIT_BROKEN',
          `the audit chain is broken at event ${chain.brokenAt} (${chain.problem}); not signing it`,
        );
      const bundle = await signAuditCheckpoint(await app.keyRing.activeSigner(), {
        seq: chain.events,
        hash: chain.headHash,
        at: new Date().toISOString(),
      });
      const text = `${JSON.stringify(bundle)}\n`;
      if (options.output === undefined) process.stdout.write(text);
      else writeFileSync(options.output, text, { flag: 'wx' });
      await app.audit.append({
        actor: 'cli:admin',
        action: 'log.checkpoint',
        subject: `audit:${chain.events}`,
        data: { seq: chain.events, hash: chain.headHash },
      });
      if (options.output !== undefined)
        say(`signed checkpoint of event ${chain.events} written to ${options.output}`);
    });
  });
  withConfigOption(
    log
      .command('export')
      .description('Write every event as JSON lines.')
      .option('-o, --output <file>', 'file to write (default: stdout)'),
  ).action(async (options: { config?: string; output?: string }) => {
    await withApp(options, async (app) => {
      const out: NodeJS.WritableStream =
        options.output === undefined ? process.stdout : createWriteStream(options.output, { flags: 'wx' });
      for await (const event of app.audit.events()) {
        if (!out.write(JSON.stringify(event) + '\n'))
          await new Promise<void>((r) => out.once('drain', () => r()));
      }
      if (out !== process.stdout) await new Promise<void>((r) => out.end(() => r()));
    });
  });

  const token = program
    .command('token')
    .description('Credentials issued by this gate (shown once; stored as hashes).');
  withConfigOption(
    token
      .command('create')
      .description(
        'Issue a credential. `request` may ask for releases (never approve or publish); `read` may install; `agent` may report scan findings.',
      )
      .requiredOption('--identity <name>', 'who holds it (e.g. alice, ci:acme/web)')
      .option(
        '--kind <kind>',
        'request | read | agent | test | bot (build credentials come from OIDC exchanges only)',
        'request',
      )
      .option('--scope <patterns...>', 'packages it covers: name, @scope/name, @scope/*, or *', ['*'])
      .option('--ttl <duration>', 'lifetime (e.g. 12h, 30d)', '30d')
      .option('--json', 'print JSON'),
  ).action(
    async (options: {
      config?: string;
      identity: string;
      kind: string;
      scope: string[];
      ttl: string;
      json?: boolean;
    }) => {
      await withApp(options, async (app) => {
        const issued = await app.store.transaction(async (tx) => {
          const created = await app.credentials.issueIn(tx, {
            kind: options.kind as CredentialKind,
            identity: options.identity,
            scope: options.scope,
            ttlSeconds: parseDuration(options.ttl),
          });
          await app.audit.appendIn(tx, {
            actor: 'cli:admin',
            action: 'credential.issued',
            subject: `credential:${created.id}`,
            data: {
              kind: options.kind,
              identity: options.identity,
              scope: options.scope,
              expiresAt: created.expiresAt,
            },
          });
          return created;
        });
        if (options.json === true) sayJson(issued);
        else {
          say(issued.token);
          process.stderr.write(
            `credential ${issued.id} for ${options.identity} (${options.kind}, ${options.scope.join(' ')}) expires ${issued.expiresAt}; it is shown only once\n`,
          );
        }
      });
    },
  );
  withConfigOption(
    token.command('list').description('List credentials (never the tokens).').option('--json', 'print JSON'),
  ).action(async (options: { config?: string; json?: boolean }) => {
    await withApp(options, async (app) => {
      const list = await app.credentials.list();
      if (options.json === true) sayJson(list);
      else
        for (const c of list)
          say(
            `${c.id}  ${c.kind.padEnd(8)} ${c.identity}  [${c.scope.join(' ')}]  expires ${c.expiresAt}${c.revokedAt === null ? '' : `  REVOKED ${c.revokedAt}`}`,
          );
    });
  });
  withConfigOption(token.command('revoke').description('Revoke a credential by id.').argument('<id>')).action(
    async (id: string, options: { config?: string }) => {
      await withApp(options, async (app) => {
        const revoked = await app.store.transaction(async (tx) => {
          const done = await app.credentials.revokeIn(tx, id);
          if (done)
            await app.audit.appendIn(tx, {
              actor: 'cli:admin',
              action: 'credential.revoked',
              subject: `credential:${id}`,
              data: {},
            });
          return done;
        });
        if (!revoked) throw new PubgateError('ERR_TOKEN_NOT_FOUND', `no live credential ${id}`);
        say(`revoked ${id}`);
      });
    },
  );

  const upstream = program.command('upstream').description('The registry behind the gate.');
  withConfigOption(
    upstream
      .command('set-token')
      .description(
        'Seal the upstream publish credential into the store. Reads it from stdin, so it never appears in argv or shell history.',
      ),
  ).action(async (options: { config?: string }) => {
    const value = await readStdin();
    if (value === '')
      throw new PubgateError(
        'ERR_CLI_EMPTY_SECRET',
        'no credential on stdin; pipe it in, e.g. `pubgate upstream set-token < token.txt`',
      );
    await withApp(options, async (app) => {
      await app.vault.put(UPSTREAM_TOKEN_SECRET, Buffer.from(value, 'utf8'));
      await app.audit.append({
        actor: 'cli:admin',
        action: 'upstream.credential_set',
        subject: 'upstream',
        data: { url: app.config.upstream.url ?? null },
      });
      say('upstream credential sealed');
    });
  });

  const admin = program.command('admin').description('People and passkeys.');
  withConfigOption(
    admin
      .command('enroll')
      .description(
        'Create a one-time enrolment link (the first admin, or a recovery). The person registers a passkey there.',
      )
      .option('--roles <roles...>', 'admin, maintainer, approver, auditor', ['admin'])
      .option('--groups <groups...>', 'approver groups', [])
      .option('--name <name>', 'fix the account name'),
  ).action(async (options: { config?: string; roles: string[]; groups: string[]; name?: string }) => {
    await withApp(options, async (app) => {
      const created = await app.people.createEnrolment({
        roles: options.roles as Role[],
        groups: options.groups,
        createdBy: 'cli:admin',
        ...(options.name === undefined ? {} : { name: options.name }),
      });
      const base = app.config.server.publicUrl ?? `http://localhost:${app.config.server.port}`;
      say(`${base}/ui/enroll/${created.token}`);
      process.stderr.write(`works once, until ${created.expiresAt}\n`);
    });
  });
  withConfigOption(
    admin
      .command('people')
      .description('List people, their roles and groups.')
      .option('--json', 'print JSON'),
  ).action(async (options: { config?: string; json?: boolean }) => {
    await withApp(options, async (app) => {
      const people = await app.people.list();
      if (options.json === true) sayJson(people);
      else
        for (const p of people)
          say(
            `${p.name}  [${p.roles.join(', ')}]  groups: ${p.groups.join(', ') || '-'}  since ${p.createdAt}`,
          );
    });
  });

  const config = program.command('config').description('Configuration helpers.');
  config
    .command('reference')
    .description('Print the configuration reference (Markdown), generated from the schema.')
    .action(() => {
      process.stdout.write(renderConfigReference());
    });
  withConfigOption(
    config.command('check').description('Validate a config file and print the resolved values.'),
  ).action((options: { config?: string }) => {
    sayJson(resolveConfig(options));
  });
}

/** Registers `pubgate lockdown` (the kill switch). */
export function registerLockdownCommand(program: Command): void {
  withConfigOption(
    program
      .command('lockdown')
      .description(
        'The kill switch. `pubgate lockdown <package|@scope/*|identity:<name>|all> --reason …` revokes every live credential in scope,\n' +
          'rejects pending releases, and refuses new exchanges, requests and publishes until `pubgate lockdown lift <id>`.\n' +
          '`pubgate lockdown list` shows the active ones.',
      )
      .argument('<target>', 'package, @scope/*, identity:<name>, all — or `lift` / `list`')
      .argument('[id]', 'with `lift`: the lockdown id')
      .option('-r, --reason <text>', 'why (recorded in the audit log)')
      .option('--json', 'print JSON'),
  ).action(
    async (
      target: string,
      id: string | undefined,
      options: { config?: string; reason?: string; json?: boolean },
    ) => {
      await withApp(options, async (app) => {
        if (target === 'list') {
          const active = await app.lockdown.active();
          if (options.json === true) sayJson(active);
          else if (active.length === 0) say('no active lockdown');
          else
            for (const l of active)
              say(`${l.id}  ${l.target}  since ${l.createdAt} by ${l.createdBy}: ${l.reason}`);
          return;
        }
        if (target === 'lift') {
          if (id === undefined)
            throw new RangeError(
              'name the lockdown to lift: pubgate lockdown lift <id> (see pubgate lockdown list)',
            );
          await app.lockdown.lift(id, 'cli:admin');
          say(`lifted ${id}`);
          return;
        }
        if (options.reason === undefined || options.reason.trim() === '')
          throw new RangeError('a lockdown needs --reason');
        const outcome = await app.lockdown.lock(target, options.reason, 'cli:admin');
        if (options.json === true) sayJson(outcome);
        else
          say(
            `lockdown ${outcome.lockdown.id} on ${target}: ${outcome.revokedCredentials} credential(s) revoked, ${outcome.rejectedReleases} release(s) rejected`,
          );
      });
    },
  );
}
