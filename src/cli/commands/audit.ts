/** `pubgate audit [path]`: audits CI workflows and release scripts for publishes that bypass the gate. */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import {
  AUDIT_ERROR_CODES,
  AUDIT_FORMATS,
  AuditError,
  auditRepository,
  formatAuditJson,
  formatAuditSarif,
  formatAuditText,
  hasFindingAtOrAbove,
  isSeverity,
  loadAuditConfig,
  SEVERITIES,
  type AuditFormat,
} from '../../pipeline/index.ts';
import { EXIT } from '../exit-codes.ts';

/** Options of `pubgate audit`, as commander parses them. */
interface AuditCommandOptions {
  readonly format: AuditFormat;
  readonly failOn: string;
  readonly config?: string;
  readonly output?: string;
  readonly color: boolean;
}

const HELP_AFTER = `
What it finds (rule ids; see docs/audit.md):
  long-lived-registry-credential  NPM_TOKEN, NODE_AUTH_TOKEN, TWINE_PASSWORD, … in a publish path (also hybrid with id-token)
  publish-bypasses-gate           npm/pnpm/yarn publish, twine/uv upload, gem push, cargo publish not aimed at the gate
  publish-identity-not-separated  the publish job also installs, builds or tests (also via prepublishOnly/prepack)
  permissions-write-all, permissions-workflow-write, permissions-default
  dangerous-trigger, untrusted-code-checkout, template-injection
  unpinned-action, unpinned-container-image, unpinned-include
  cache-in-publish-job, secret-exposure, download-and-execute,
  publish-without-provenance, shared-registry-credential, invalid-suppression

Formats:
  text   grouped by file, coloured on a terminal, then why and how to fix each rule
  json   every finding with rule, severity, location, via-path, explanation and fix
  sarif  SARIF 2.1.0 for GitHub code scanning (upload with github/codeql-action/upload-sarif)

Exit codes:
  0  no finding at or above --fail-on
  1  findings at or above --fail-on
  2  error: bad config or path, or a file could not be audited (listed in the output)

Suppress one finding with a reason, on its line or the line above:
  # pubgate-audit-ignore <rule-id>: <reason>

Config file (.pubgate-audit.yml at <path>, or --config):
  gates: [https://gate.example.com/npm/]       publishes to these go through the gate
  protectedRegistries: [registry.npmjs.org, upload.pypi.org, rubygems.org, crates.io]
  allowUnpinned: ['actions/*', 'github/*']     owners allowed without a SHA pin (default shown)
  ignore: [{rule, path, reason}]               rules: {<rule-id>: off|<severity>}

Examples:
  pubgate audit
  pubgate audit ../service --format sarif --output audit.sarif
  pubgate audit --fail-on high --config ci/pubgate-audit.yml`;

/** Registers `pubgate audit`. */
export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description(
      'Audit CI workflows (GitHub Actions, GitLab CI) and release scripts for publishes that bypass the gate, long-lived tokens and risky pipeline setups.',
    )
    .argument('[path]', 'repository (or folder of repositories) to audit', '.')
    .addOption(
      new Option('-f, --format <format>', 'output format').choices([...AUDIT_FORMATS]).default('text'),
    )
    .addOption(
      new Option(
        '--fail-on <severity>',
        'exit 1 when a finding is at or above this severity ("none" never fails)',
      )
        .choices([...SEVERITIES, 'none'])
        .default('medium'),
    )
    .option('-c, --config <file>', 'config file (default: .pubgate-audit.yml|.yaml|.json in <path>)')
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .option('--no-color', 'never colour the text output')
    .addHelpText('after', HELP_AFTER)
    .action((path: string, options: AuditCommandOptions) => {
      process.exitCode = runAudit(path, options);
    });
}

function runAudit(path: string, options: AuditCommandOptions): number {
  const root = resolve(path);
  const config = loadAuditConfig(root, options.config === undefined ? undefined : resolve(options.config));
  const report = auditRepository(root, { config });
  const color =
    options.color &&
    options.output === undefined &&
    process.stdout.isTTY &&
    process.env.NO_COLOR === undefined;
  const text =
    options.format === 'json'
      ? formatAuditJson(report, config)
      : options.format === 'sarif'
        ? formatAuditSarif(report, config)
        : formatAuditText(report, { color, config });
  if (options.output === undefined) process.stdout.write(text);
  else {
    try {
      writeFileSync(options.output, text);
    } catch (cause) {
      throw new AuditError(AUDIT_ERROR_CODES.outputUnwritable, `${options.output}: cannot write the report`, {
        cause,
      });
    }
  }
  for (const e of report.errors) process.stderr.write(`pubgate: ${e.code}: ${e.message}\n`);
  if (options.failOn !== 'none' && isSeverity(options.failOn) && hasFindingAtOrAbove(report, options.failOn))
    return EXIT.negative;
  // Some files could not be audited: the answer is incomplete, so it is not "clean".
  if (report.errors.length > 0) return EXIT.usage;
  return EXIT.ok;
}
