/** `pubgate scan` (files, directories, stdin, tarballs, git history, endpoint places) and `pubgate agent`. */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { CommanderError, Option, type Command } from 'commander';
import { isPubgateError } from '../../errors/index.ts';
import {
  ScanAgentError,
  ScanInputError,
  baselineKey,
  filterBaseline,
  formatProgress,
  formatText,
  loadScanConfig,
  readBaseline,
  readBaselineOrNew,
  runAgent,
  scanEndpoint,
  scanPaths,
  toJsonReport,
  toSarifReport,
  writeBaseline,
  type ScanReport,
} from '../../scan/index.ts';

interface ScanFlags {
  git?: boolean;
  since?: string;
  endpoint?: boolean;
  home?: string;
  runnerDir?: string[];
  ignore: boolean;
  format: 'text' | 'json' | 'sarif';
  output?: string;
  baseline?: string;
  writeBaseline?: string;
  config?: string;
  workers?: string;
  color?: boolean;
  progress: boolean;
}

/** Usage mistakes exit with 2 like every other scan error (1 means "findings"). */
function exitWithTwo(error: CommanderError): never {
  if (error.exitCode === 0) throw error;
  throw new CommanderError(2, error.code, error.message);
}

function positiveInteger(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1024)
    throw new ScanInputError('ERR_SCAN_BAD_OPTION', `${name} must be a whole number from 1 to 1024`);
  return n;
}

async function runScan(paths: string[], flags: ScanFlags): Promise<void> {
  const config = flags.config === undefined ? undefined : loadScanConfig(flags.config);
  const baseline = flags.baseline === undefined ? undefined : await readBaseline(flags.baseline);
  const target = flags.writeBaseline === undefined ? undefined : await readBaselineOrNew(flags.writeBaseline);
  // A baseline fixes the fingerprint key to its salt, so that fingerprints match across runs.
  const keySource = target ?? baseline;
  const envKey = process.env['PUBGATE_SCAN_KEY'];
  const fingerprintKey =
    keySource !== undefined
      ? baselineKey(keySource)
      : envKey !== undefined && envKey.length > 0
        ? Buffer.from(envKey, 'base64')
        : undefined;
  const tty = process.stderr.isTTY === true;
  const color =
    flags.color ??
    (process.stdout.isTTY === true && flags.output === undefined && process.env['NO_COLOR'] === undefined);
  const started = Date.now();
  let drew = false;
  const onProgress = (p: { files: number; bytes: number; totalBytes: number }): void => {
    // Only long scans on a terminal get a bar, and only the text format (JSON/SARIF go to pipes).
    if (!flags.progress || !tty || flags.format !== 'text' || Date.now() - started < 1000) return;
    process.stderr.write(formatProgress(p.bytes, p.totalBytes, p.files));
    drew = true;
  };
  const common = {
    ...(fingerprintKey === undefined ? {} : { fingerprintKey }),
    ...(config === undefined ? {} : { customRules: config.rules, disabledRules: config.disable }),
  };
  let report: ScanReport;
  try {
    if (flags.endpoint === true) {
      report = await scanEndpoint({
        ...common,
        ...(flags.home === undefined ? {} : { home: flags.home }),
        ...(flags.runnerDir === undefined ? {} : { runnerDirs: flags.runnerDir }),
      });
    } else {
      const workers = positiveInteger(flags.workers, '--workers');
      report = await scanPaths(paths, {
        ...common,
        noIgnore: !flags.ignore,
        ...(config === undefined ? {} : { allowPaths: config.allowPaths }),
        ...(workers === undefined ? {} : { workers }),
        ...(flags.git === true ? { git: true } : {}),
        ...(flags.since === undefined ? {} : { since: flags.since }),
        onProgress,
      });
    }
  } catch (error) {
    if (isPubgateError(error)) throw error;
    throw new ScanInputError('ERR_SCAN_FAILED', error instanceof Error ? error.message : 'scan failed', {
      cause: error,
    });
  } finally {
    if (drew) process.stderr.write('\r\x1b[K');
  }
  if (target !== undefined && flags.writeBaseline !== undefined) {
    await writeBaseline(flags.writeBaseline, target, report.findings);
    process.stderr.write(
      `pubgate: wrote ${report.findings.length} finding(s) to baseline ${flags.writeBaseline}\n`,
    );
    process.exitCode = 0;
    return;
  }
  const findings = baseline === undefined ? report.findings : filterBaseline(report.findings, baseline);
  const shown: ScanReport = { ...report, findings };
  const out =
    flags.format === 'json'
      ? `${JSON.stringify(toJsonReport(shown), null, 2)}\n`
      : flags.format === 'sarif'
        ? `${JSON.stringify(toSarifReport(shown), null, 2)}\n`
        : formatText(shown, { color });
  if (flags.output === undefined) process.stdout.write(out);
  else await writeFile(flags.output, out);
  process.exitCode = findings.length > 0 ? 1 : 0;
}

/** Registers `pubgate scan`, and `pubgate agent` beside it (so the command index needs no edit). */
export function registerScanCommand(program: Command): void {
  registerAgentCommand(program);
  program
    .command('scan')
    .description(
      'Find secrets in files, directories, stdin (-), package tarballs, git history (--git) or this machine (--endpoint).\nExit codes: 0 clean, 1 findings, 2 error.',
    )
    .argument('[paths...]', 'files, directories, .tgz tarballs, or - for stdin (default: .)')
    .option('--git', 'scan the git history of each path (every commit on every ref, additions only)')
    .option('--since <rev>', 'with --git: only commits after <rev>')
    .option('--endpoint', 'scan the places where this machine keeps publishing credentials')
    .addOption(new Option('--home <dir>', 'with --endpoint: home folder to scan').hideHelp())
    .addOption(new Option('--runner-dir <dir...>', 'with --endpoint: CI runner work folders').hideHelp())
    .option('--no-ignore', 'do not respect .gitignore files')
    .addOption(
      new Option('--format <format>', 'output format').choices(['text', 'json', 'sarif']).default('text'),
    )
    .option('-o, --output <file>', 'write the report to a file')
    .option('--baseline <file>', 'hide findings listed in this baseline')
    .option('--write-baseline <file>', 'write all current findings to this baseline and exit 0')
    .option('--config <file>', 'scanner config (YAML/JSON): custom rules, disabled rules, allowPaths')
    .option('--workers <n>', 'worker threads (default: all cores)')
    .option('--color', 'force colour')
    .option('--no-color', 'no colour')
    .option('--no-progress', 'no progress bar')
    .exitOverride(exitWithTwo)
    .action(async (paths: string[], flags: ScanFlags) => runScan(paths, flags));
}

interface AgentFlags {
  server: string;
  tokenFile?: string;
  watch?: string[];
  interval: string;
  once?: boolean;
  context?: 'laptop' | 'ci-runner';
  home?: string;
  runnerDir?: string[];
  endpoint: boolean;
}

function readAgentToken(flags: AgentFlags): string {
  // The token comes from a file or the environment, never from a flag value that `ps` would show.
  if (flags.tokenFile !== undefined) {
    try {
      const token = readFileSync(flags.tokenFile, 'utf8').trim();
      if (token.length > 0) return token;
    } catch (cause) {
      throw new ScanAgentError('ERR_SCAN_AGENT_NO_TOKEN', `cannot read the token file ${flags.tokenFile}`, {
        cause,
      });
    }
  }
  const fromEnv = process.env['PUBGATE_AGENT_TOKEN']?.trim();
  if (fromEnv !== undefined && fromEnv.length > 0) return fromEnv;
  throw new ScanAgentError(
    'ERR_SCAN_AGENT_NO_TOKEN',
    'no agent token: pass --token-file <path> or set PUBGATE_AGENT_TOKEN',
  );
}

/** Registers `pubgate agent`. */
export function registerAgentCommand(program: Command): void {
  program
    .command('agent')
    .description(
      'Watch credential places and repositories, rescan changed files, report fingerprints (never secrets) to the gate.',
    )
    .requiredOption('--server <url>', 'gate base URL')
    .option('--token-file <path>', 'file holding the agent token (or set PUBGATE_AGENT_TOKEN)')
    .option('--watch <path...>', 'repositories to watch (repeatable)')
    .option('--interval <seconds>', 'seconds between scans', '300')
    .option('--once', 'scan once, report, exit')
    .addOption(
      new Option('--context <context>', 'context of the endpoint places').choices(['laptop', 'ci-runner']),
    )
    .option('--no-endpoint', 'only watch the given repositories')
    .addOption(new Option('--home <dir>', 'home folder to scan').hideHelp())
    .addOption(new Option('--runner-dir <dir...>', 'CI runner work folders').hideHelp())
    .exitOverride(exitWithTwo)
    .action(async (flags: AgentFlags) => {
      const token = readAgentToken(flags);
      const interval = positiveInteger(flags.interval, '--interval') ?? 300;
      const controller = new AbortController();
      const stop = (): void => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        const result = await runAgent({
          server: flags.server,
          token,
          intervalSeconds: interval,
          signal: controller.signal,
          log: (line) => process.stderr.write(`pubgate agent: ${line}\n`),
          ...(flags.watch === undefined ? {} : { watch: flags.watch }),
          ...(flags.once === true ? { once: true } : {}),
          ...(flags.context === undefined ? {} : { context: flags.context }),
          ...(flags.home === undefined ? {} : { home: flags.home }),
          ...(flags.runnerDir === undefined ? {} : { runnerDirs: flags.runnerDir }),
          ...(flags.endpoint ? {} : { noEndpoint: true }),
        });
        process.stdout.write(`${JSON.stringify(result)}\n`);
        process.exitCode = 0;
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
