/** The shared vocabulary of the auditor: severities, locations, findings, the report. */

/** Severities, lowest first. */
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;

/** How bad a finding is. */
export type Severity = (typeof SEVERITIES)[number];

/** True when `value` names a severity. */
export function isSeverity(value: string): value is Severity {
  return (SEVERITIES as readonly string[]).includes(value);
}

/** Numeric rank of a severity (info 0 … critical 4). */
export function toSeverityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/** A place in a file, relative to the audited root, 1-based. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly endLine?: number;
  readonly endColumn?: number;
}

/** A step on the way to a finding (workflow step → Makefile target → script line). */
export interface ViaLocation extends SourceLocation {
  readonly note: string;
}

/** One problem found. */
export interface Finding {
  readonly ruleId: string;
  readonly severity: Severity;
  /** One sentence, specific to this occurrence. */
  readonly message: string;
  readonly location: SourceLocation;
  /** How the auditor got here from a workflow or package.json, outermost first. */
  readonly via: readonly ViaLocation[];
  /** Stable across runs and line moves; never contains a secret. */
  readonly fingerprint: string;
}

/** A finding silenced by an inline comment or the config file, with the reason given. */
export interface SuppressedFinding extends Finding {
  readonly suppression: { readonly reason: string; readonly source: SourceLocation | 'config' };
}

/** A file that could not be audited; the rest of the scan went on. */
export interface FileError {
  readonly file: string;
  readonly code: string;
  readonly message: string;
}

/** The result of one audit. */
export interface AuditReport {
  readonly root: string;
  readonly filesScanned: number;
  readonly findings: readonly Finding[];
  readonly suppressed: readonly SuppressedFinding[];
  readonly errors: readonly FileError[];
}
