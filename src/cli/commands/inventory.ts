/** `pubgate identities` and `pubgate report`: the identity inventory, its findings, and the compliance report. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { App } from '../../app.ts';
import {
  assertReportFormat,
  collectInventory,
  DEFAULT_INVENTORY_OPTIONS,
  detectFindings,
  formatDuration,
  generateComplianceReport,
  inventoryToJson,
  parseInventoryDuration,
  readExternalIdentities,
  renderReport,
  sendFindingsWebhook,
  toSigningKeyFacts,
  type InventoryOptions,
  type InventorySource,
} from '../../inventory/index.ts';
import { say, sayJson, withApp, withConfigOption } from '../context.ts';

/** What the inventory reads from the app, including the gate's signing keys. */
function inventorySourceOf(app: App): InventorySource {
  return {
    store: app.store,
    people: app.people,
    publishers: app.publishers,
    audit: app.audit,
    policy: app.config.policy,
    signingKeys: async () => toSigningKeyFacts(await app.keyRing.listKeys()),
  };
}

function collectImports(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function thresholds(options: { maxLifetime?: string; staleAfter?: string }): InventoryOptions {
  return {
    maxLifetimeSeconds:
      options.maxLifetime === undefined
        ? DEFAULT_INVENTORY_OPTIONS.maxLifetimeSeconds
        : parseInventoryDuration(options.maxLifetime),
    staleAfterSeconds:
      options.staleAfter === undefined
        ? DEFAULT_INVENTORY_OPTIONS.staleAfterSeconds
        : parseInventoryDuration(options.staleAfter),
  };
}

function withThresholds(command: Command): Command {
  return command
    .option(
      '--import <file>',
      'external identities (YAML/JSON, or `npm token list --json` output); repeatable',
      collectImports,
      [],
    )
    .option(
      '--max-lifetime <duration>',
      `policy maximum credential lifetime (default ${formatDuration(DEFAULT_INVENTORY_OPTIONS.maxLifetimeSeconds)})`,
    )
    .option(
      '--stale-after <duration>',
      `a credential unused this long is stale (default ${formatDuration(DEFAULT_INVENTORY_OPTIONS.staleAfterSeconds)})`,
    );
}

interface CommonOptions {
  config?: string;
  import: string[];
  maxLifetime?: string;
  staleAfter?: string;
}

/** Registers `identities` and `report`. */
export function registerInventoryCommands(program: Command): void {
  withConfigOption(
    withThresholds(
      program
        .command('identities')
        .description(
          'Every identity and credential that touches releases, what each can do, where each was seen, and the findings.',
        )
        .option('--json', 'print JSON'),
    ),
  ).action(async (options: CommonOptions & { json?: boolean }) => {
    const limits = thresholds(options);
    const imports = options.import.map(readExternalIdentities);
    await withApp(options, async (app) => {
      const inventory = await collectInventory(inventorySourceOf(app), { imports });
      const findings = detectFindings(inventory, limits);
      if (options.json === true) {
        sayJson(inventoryToJson(inventory, findings));
        return;
      }
      for (const i of inventory.items) {
        const c = i.credential;
        const life =
          c === null
            ? ''
            : `  created ${c.createdAt?.slice(0, 10) ?? '?'} expires ${c.expiresAt?.slice(0, 10) ?? 'never'} last used ${c.lastUsedAt?.slice(0, 10) ?? 'never'}${c.revokedAt === null ? '' : ' REVOKED'}`;
        say(
          `${i.kind.padEnd(18)} ${i.name}  [${i.capabilities.join(', ') || '-'}]${i.person === null ? '' : `  person ${i.person}`}${life}`,
        );
      }
      say('');
      if (findings.length === 0) say('no findings');
      for (const f of findings)
        say(`${f.severity.toUpperCase().padEnd(8)} ${f.kind}: ${f.detail}\n         fix: ${f.fix}`);
      for (const note of inventory.notes) say(`note: ${note}`);
    });
  });

  withConfigOption(
    withThresholds(
      program
        .command('report')
        .description(
          'Compliance report: controls enforced per package and overall, with evidence from the audit log, mapped to OWASP NHI Top 10, NIST CSF 2.0, SSDF, SLSA and the AI RMF.',
        )
        .option('--format <format>', 'html | md | json', 'html')
        .option('-o, --output <file>', 'write to a file (default: stdout)')
        .option('--webhook <url>', 'POST high-severity findings to this Slack-compatible webhook'),
    ),
  ).action(async (options: CommonOptions & { format: string; output?: string; webhook?: string }) => {
    assertReportFormat(options.format);
    const format = options.format;
    const limits = thresholds(options);
    const imports = options.import.map(readExternalIdentities);
    await withApp(options, async (app) => {
      const report = await generateComplianceReport(inventorySourceOf(app), { imports, options: limits });
      const text = renderReport(report, format, { baseUrl: app.publicUrl() });
      if (options.output === undefined) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
      else {
        writeFileSync(options.output, text);
        process.stderr.write(
          `report written to ${options.output}: ${report.findings.length} finding(s), ${report.summary.controlsEnforced} of ${report.summary.controls} controls enforced\n`,
        );
      }
      if (options.webhook !== undefined) {
        const outcome = await sendFindingsWebhook(options.webhook, report.findings);
        process.stderr.write(
          outcome.sent
            ? `webhook: sent ${outcome.findings} high-severity finding(s)\n`
            : 'webhook: no high-severity finding, nothing sent\n',
        );
      }
    });
  });
}
