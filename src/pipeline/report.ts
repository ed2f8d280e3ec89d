/** Renders an audit report as text (grouped by file, coloured on a TTY), JSON, or SARIF 2.1.0. */
import { createColors } from 'picocolors';
import { toSarifLog, type SarifLevel } from '../sarif/index.ts';
import { AUDIT_RULES, GATE_PLACEHOLDER, getAuditRule } from './rules.ts';
import type { AuditConfig } from './config.ts';
import { SEVERITIES, toSeverityRank, type AuditReport, type Finding, type Severity } from './types.ts';

/** Output formats of `pubgate audit`. */
export const AUDIT_FORMATS = Object.freeze(['text', 'json', 'sarif'] as const);

/** An output format. */
export type AuditFormat = (typeof AUDIT_FORMATS)[number];

/** The version written into JSON and SARIF output. */
export const AUDITOR_VERSION = '0.1.0';

/** The fix text of a rule with the configured gate URL filled in. */
export function toRuleFix(ruleId: string, config: AuditConfig): string {
  const fix = getAuditRule(ruleId).fix;
  const gate = config.gates[0];
  return gate === undefined ? fix : fix.replaceAll(GATE_PLACEHOLDER, gate.endsWith('/') ? gate : `${gate}/`);
}

/** Options of {@link formatAuditText}. */
export interface FormatAuditTextOptions {
  readonly color: boolean;
  readonly config: AuditConfig;
}

/** Human-readable report: findings grouped by file, then the fix of each rule that fired, then per-file errors. */
export function formatAuditText(report: AuditReport, options: FormatAuditTextOptions): string {
  const c = createColors(options.color);
  const paint = (severity: Severity, text: string): string => {
    switch (severity) {
      case 'critical':
        return c.bold(c.red(text));
      case 'high':
        return c.red(text);
      case 'medium':
        return c.yellow(text);
      case 'low':
        return c.cyan(text);
      default:
        return c.dim(text);
    }
  };
  const lines: string[] = [];
  const byFile = new Map<string, Finding[]>();
  for (const f of report.findings) byFile.set(f.location.file, [...(byFile.get(f.location.file) ?? []), f]);
  for (const [file, list] of byFile) {
    lines.push(c.underline(c.bold(file)));
    for (const f of list) {
      lines.push(
        `  ${c.dim(`${f.location.line}:${f.location.column}`.padEnd(8))} ${paint(f.severity, f.severity.padEnd(8))} ${f.message}  ${c.dim(f.ruleId)}`,
      );
      if (f.via.length > 0)
        lines.push(`           ${c.dim(`via ${f.via.map((v) => `${v.file}:${v.line}`).join(' → ')}`)}`);
    }
    lines.push('');
  }
  const fired = [...new Set(report.findings.map((f) => f.ruleId))];
  if (fired.length > 0) {
    lines.push(c.bold('Why and how to fix'));
    for (const id of fired) {
      const rule = getAuditRule(id);
      lines.push(
        '',
        `${c.bold(rule.id)} — ${rule.title}`,
        indent(rule.explanation, 2),
        '',
        indent(`Fix: ${toRuleFix(id, options.config)}`, 2),
      );
    }
    lines.push('');
  }
  for (const e of report.errors) lines.push(c.magenta(`error ${e.code}: ${e.message}`));
  const counts = SEVERITIES.slice()
    .reverse()
    .map((s) => [s, report.findings.filter((f) => f.severity === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => paint(s, `${n} ${s}`));
  lines.push(
    `${report.findings.length === 0 ? c.green('No findings') : `${report.findings.length} finding${report.findings.length === 1 ? '' : 's'} (${counts.join(', ')})`} in ${report.filesScanned} files` +
      `${report.suppressed.length > 0 ? `, ${report.suppressed.length} suppressed` : ''}${report.errors.length > 0 ? `, ${report.errors.length} file error${report.errors.length === 1 ? '' : 's'}` : ''}`,
  );
  return `${lines.join('\n')}\n`;
}

function indent(text: string, n: number): string {
  return text
    .split('\n')
    .map((l) => (l === '' ? l : ' '.repeat(n) + l))
    .join('\n');
}

/** JSON report: every finding with its rule's explanation and fix. */
export function formatAuditJson(report: AuditReport, config: AuditConfig): string {
  const withRule = (f: Finding): Record<string, unknown> => {
    const rule = getAuditRule(f.ruleId);
    return { ...f, title: rule.title, explanation: rule.explanation, fix: toRuleFix(f.ruleId, config) };
  };
  const summary = Object.fromEntries(
    SEVERITIES.map((s) => [s, report.findings.filter((f) => f.severity === s).length]),
  );
  return `${JSON.stringify(
    {
      tool: { name: 'pubgate audit', version: AUDITOR_VERSION },
      root: report.root,
      filesScanned: report.filesScanned,
      summary: {
        findings: report.findings.length,
        bySeverity: summary,
        suppressed: report.suppressed.length,
        errors: report.errors.length,
      },
      findings: report.findings.map(withRule),
      suppressed: report.suppressed,
      errors: report.errors,
    },
    null,
    2,
  )}\n`;
}

const LEVEL: Readonly<Record<Severity, SarifLevel>> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};
const SECURITY_SEVERITY: Readonly<Record<Severity, number>> = {
  critical: 9.5,
  high: 8.0,
  medium: 5.5,
  low: 3.0,
  info: 1.0,
};

/** SARIF 2.1.0 log (one run; per-file errors as tool execution notifications). */
export function formatAuditSarif(report: AuditReport, config: AuditConfig): string {
  const log = toSarifLog({
    toolName: 'pubgate-audit',
    toolVersion: AUDITOR_VERSION,
    informationUri: 'https://github.com/pubgate/pubgate/blob/main/docs/audit.md',
    rules: AUDIT_RULES.map((r) => ({
      id: r.id,
      name: r.name,
      shortDescription: r.title,
      fullDescription: r.explanation,
      helpText: toRuleFix(r.id, config),
      level: LEVEL[r.severity],
      securitySeverity: SECURITY_SEVERITY[r.severity],
      tags: ['security', 'supply-chain', `pubgate-category-${r.category}`],
    })),
    results: report.findings.map((f) => ({
      ruleId: f.ruleId,
      level: LEVEL[f.severity],
      message: `${f.message}${f.via.length > 0 ? ` (via ${f.via.map((v) => `${v.file}:${v.line}`).join(' → ')})` : ''}`,
      uri: f.location.file,
      startLine: f.location.line,
      startColumn: f.location.column,
      ...(f.location.endLine === undefined ? {} : { endLine: f.location.endLine }),
      ...(f.location.endColumn === undefined || f.location.endLine === undefined
        ? {}
        : {
            endColumn: Math.max(
              f.location.endColumn,
              f.location.endLine === f.location.line ? f.location.column + 1 : 1,
            ),
          }),
      fingerprint: f.fingerprint,
    })),
  });
  const run = log.runs[0];
  if (run !== undefined) {
    run.invocations = [
      {
        executionSuccessful: report.errors.length === 0,
        toolExecutionNotifications: report.errors.map((e) => ({
          level: 'error' as const,
          message: { text: e.message },
          descriptor: { id: e.code },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: e.file.split('/').map(encodeURIComponent).join('/') },
              },
            },
          ],
        })),
      },
    ];
    if (run.results !== undefined) {
      // Per-result security severity helps GitHub rank alerts when a finding is weighted up or down.
      run.results.forEach((result, i) => {
        const f = report.findings[i];
        if (f !== undefined)
          result.properties = {
            severity: f.severity,
            'security-severity': SECURITY_SEVERITY[f.severity].toFixed(1),
          };
      });
    }
  }
  return `${JSON.stringify(log, null, 2)}\n`;
}

/** True when any finding is at or above `threshold`. */
export function hasFindingAtOrAbove(report: AuditReport, threshold: Severity): boolean {
  return report.findings.some((f) => toSeverityRank(f.severity) >= toSeverityRank(threshold));
}
