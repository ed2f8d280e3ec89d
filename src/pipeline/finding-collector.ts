/** Collects findings: applies per-rule config (off / severity), de-duplicates, fingerprints. */
import { createHash } from 'node:crypto';
import { getAuditRule } from './rules.ts';
import type { AuditConfig } from './config.ts';
import type { RepoFiles } from './repo-files.ts';
import {
  toSeverityRank,
  type Finding,
  type Severity,
  type SourceLocation,
  type ViaLocation,
} from './types.ts';

/** Options of {@link FindingCollector.add}. */
export interface AddFindingOptions {
  readonly severity?: Severity;
  readonly via?: readonly ViaLocation[];
}

/** Accumulates findings of one audit. */
export class FindingCollector {
  private readonly byKey = new Map<string, Finding>();
  private readonly lines = new Map<string, readonly string[]>();

  constructor(
    private readonly config: AuditConfig,
    private readonly repo: RepoFiles,
  ) {}

  /** Adds a finding of `ruleId` at `location`; the same rule at the same place is kept once (highest severity). */
  add(ruleId: string, location: SourceLocation, message: string, options: AddFindingOptions = {}): void {
    const rule = getAuditRule(ruleId);
    const override = this.config.rules[ruleId];
    if (override === 'off') return;
    const severity = override ?? options.severity ?? rule.severity;
    const key = `${ruleId}\u0000${location.file}\u0000${location.line}\u0000${location.column}`;
    const existing = this.byKey.get(key);
    if (existing !== undefined && toSeverityRank(existing.severity) >= toSeverityRank(severity)) return;
    this.byKey.set(key, {
      ruleId,
      severity,
      message,
      location,
      via: options.via ?? [],
      fingerprint: this.fingerprint(ruleId, location),
    });
  }

  /** All findings, sorted by file, line, column, rule. */
  list(): Finding[] {
    return [...this.byKey.values()].sort(
      (a, b) =>
        a.location.file.localeCompare(b.location.file) ||
        a.location.line - b.location.line ||
        a.location.column - b.location.column ||
        a.ruleId.localeCompare(b.ruleId),
    );
  }

  /** Rule + file + the trimmed text of the line: stable when lines move; never the value of a secret (only names are written in workflows). */
  private fingerprint(ruleId: string, location: SourceLocation): string {
    let lines = this.lines.get(location.file);
    if (lines === undefined) {
      try {
        lines = (this.repo.readText(location.file) ?? '').split('\n');
      } catch {
        lines = [];
      }
      this.lines.set(location.file, lines);
    }
    const lineText = lines[location.line - 1]?.trim() ?? '';
    return createHash('sha256')
      .update(`${ruleId}\u0000${location.file}\u0000${lineText}`)
      .digest('hex')
      .slice(0, 32);
  }
}
