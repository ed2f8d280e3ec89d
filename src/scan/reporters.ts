/** Output: redacted human text (coloured on a TTY), JSON, and SARIF 2.1.0 for GitHub code scanning. */
import pc from 'picocolors';
import type { Log } from 'sarif';
import { toSarifLog, type SarifLevel } from '../sarif/index.ts';
import { listRules } from './catalog.ts';
import type { ScanReport } from './scan-paths.ts';
import type { ScanFinding, Severity } from './types.ts';

const LEVEL: Record<Severity, SarifLevel> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
};
const SECURITY_SEVERITY: Record<Severity, number> = { critical: 9.5, high: 8.0, medium: 5.5, low: 3.0 };

/** Options of {@link formatText}. */
export interface FormatTextOptions {
  readonly color?: boolean;
}

function describe(finding: ScanFinding): string {
  const extras = [
    finding.commit === undefined ? '' : `commit ${finding.commit.slice(0, 12)}`,
    finding.encoding === undefined ? '' : `decoded from ${finding.encoding}`,
    finding.note ?? '',
  ].filter((s) => s !== '');
  return extras.length === 0 ? '' : ` (${extras.join(', ')})`;
}

/** Human-readable report: one line per finding, then a summary. Shows previews only. */
export function formatText(report: ScanReport, options: FormatTextOptions = {}): string {
  const c = pc.createColors(options.color === true);
  const paint: Record<Severity, (s: string) => string> = {
    critical: c.red,
    high: c.red,
    medium: c.yellow,
    low: c.dim,
  };
  const lines = report.findings.map(
    (f) =>
      `${c.bold(`${f.path}:${f.line}:${f.column}`)}  ${paint[f.severity](f.severity.toUpperCase().padEnd(8))} ${c.cyan(f.ruleId)}  ${f.ruleTitle}  ${c.dim(f.preview)}${describe(f)}`,
  );
  const bySeverity = (['critical', 'high', 'medium', 'low'] as const)
    .map((s) => [s, report.findings.filter((f) => f.severity === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`);
  const scanned =
    report.commits === undefined
      ? `${report.files} file${report.files === 1 ? '' : 's'}`
      : `${report.commits} commit${report.commits === 1 ? '' : 's'}`;
  const mb = (report.bytes / 1e6).toFixed(1);
  const seconds = (report.durationMs / 1000).toFixed(2);
  const summary =
    report.findings.length === 0
      ? c.green(`No secrets found in ${scanned} (${mb} MB, ${seconds} s).`)
      : c.red(
          `${report.findings.length} finding${report.findings.length === 1 ? '' : 's'} (${bySeverity.join(', ')}) in ${scanned} (${mb} MB, ${seconds} s).`,
        );
  const skipped =
    report.binarySkipped > 0 ? `\n${c.dim(`${report.binarySkipped} binary file(s) skipped.`)}` : '';
  return `${lines.join('\n')}${lines.length > 0 ? '\n\n' : ''}${summary}${skipped}\n`;
}

/** Machine-readable report. */
export function toJsonReport(report: ScanReport): object {
  return {
    version: 1,
    findings: report.findings,
    summary: {
      findings: report.findings.length,
      files: report.files,
      bytes: report.bytes,
      binarySkipped: report.binarySkipped,
      ...(report.commits === undefined ? {} : { commits: report.commits }),
      durationMs: Math.round(report.durationMs),
    },
  };
}

/** SARIF 2.1.0 log (one run, every rule, 1-based regions, fingerprints in partialFingerprints). */
export function toSarifReport(report: ScanReport, toolVersion = '0.1.0'): Log {
  const rules = listRules();
  const known = new Set(rules.map((r) => r.id));
  const extra = [...new Set(report.findings.map((f) => f.ruleId))].filter((id) => !known.has(id));
  return toSarifLog({
    toolName: 'pubgate',
    toolVersion,
    informationUri: 'https://github.com/pubgate/pubgate/blob/main/docs/scan.md',
    rules: [
      ...rules.map((rule) => ({
        id: rule.id,
        name: rule.id.replace(/(^|-)([a-z0-9])/g, (_, __: string, ch: string) => ch.toUpperCase()),
        shortDescription: rule.title,
        fullDescription: rule.description,
        helpText: `${rule.description} Revoke the credential, then remove it from the file and its history.`,
        level: LEVEL[rule.severity],
        securitySeverity: SECURITY_SEVERITY[rule.severity],
        tags: ['security', 'secret'],
      })),
      ...extra.map((id) => ({
        id,
        name: id,
        shortDescription: id,
        level: 'error' as const,
        securitySeverity: 8,
        tags: ['security', 'secret'],
      })),
    ],
    results: report.findings.map((f) => ({
      ruleId: f.ruleId,
      level: LEVEL[f.severity],
      message: `${f.ruleTitle}: ${f.preview}${describe(f)}`,
      uri: f.path,
      startLine: f.line,
      startColumn: f.column,
      fingerprint: f.fingerprint,
    })),
  });
}

/** A one-line progress bar for stderr on a TTY. */
export function formatProgress(done: number, total: number, files: number, width = 30): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(ratio * width);
  return `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}%  ${(done / 1e6).toFixed(0)} MB  ${files} files`;
}
