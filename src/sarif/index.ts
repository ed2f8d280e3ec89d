/**
 * SARIF 2.1.0 log building, shared by the secret scanner and the pipeline auditor so that both
 * produce logs GitHub code scanning accepts (one run, rules in tool.driver.rules, 1-based regions).
 */
import type { Log, ReportingDescriptor, Result } from 'sarif';

/** SARIF severity levels. */
export type SarifLevel = 'error' | 'warning' | 'note';

/** A rule as shown in `tool.driver.rules`. */
export interface SarifRule {
  readonly id: string;
  readonly name: string;
  readonly shortDescription: string;
  readonly fullDescription?: string;
  readonly helpText?: string;
  readonly level: SarifLevel;
  /** GitHub reads `security-severity` (0.0–10.0) to rank security alerts. */
  readonly securitySeverity?: number;
  readonly tags?: readonly string[];
}

/** One result, located in a file relative to the scanned root. */
export interface SarifResult {
  readonly ruleId: string;
  readonly level: SarifLevel;
  readonly message: string;
  readonly uri: string;
  readonly startLine: number;
  readonly startColumn?: number;
  readonly endLine?: number;
  readonly endColumn?: number;
  /** Stable identity across runs (GitHub de-duplicates alerts by it). Never a secret. */
  readonly fingerprint?: string;
}

/** Options of {@link toSarifLog}. */
export interface ToSarifLogOptions {
  readonly toolName: string;
  readonly toolVersion: string;
  readonly informationUri?: string;
  readonly rules: readonly SarifRule[];
  readonly results: readonly SarifResult[];
}

/** Builds a SARIF 2.1.0 log with one run. */
export function toSarifLog(options: ToSarifLogOptions): Log {
  const ruleIndex = new Map(options.rules.map((rule, index) => [rule.id, index]));
  const rules: ReportingDescriptor[] = options.rules.map((rule) => ({
    id: rule.id,
    name: rule.name,
    shortDescription: { text: rule.shortDescription },
    ...(rule.fullDescription === undefined ? {} : { fullDescription: { text: rule.fullDescription } }),
    ...(rule.helpText === undefined ? {} : { help: { text: rule.helpText } }),
    defaultConfiguration: { level: rule.level },
    properties: {
      tags: [...(rule.tags ?? [])],
      ...(rule.securitySeverity === undefined
        ? {}
        : { 'security-severity': rule.securitySeverity.toFixed(1) }),
    },
  }));
  const results: Result[] = options.results.map((result) => {
    const index = ruleIndex.get(result.ruleId);
    return {
      ruleId: result.ruleId,
      ...(index === undefined ? {} : { ruleIndex: index }),
      level: result.level,
      message: { text: result.message },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: toSarifUri(result.uri) },
            region: {
              startLine: Math.max(1, result.startLine),
              ...(result.startColumn === undefined ? {} : { startColumn: Math.max(1, result.startColumn) }),
              ...(result.endLine === undefined ? {} : { endLine: Math.max(1, result.endLine) }),
              ...(result.endColumn === undefined ? {} : { endColumn: Math.max(1, result.endColumn) }),
            },
          },
        },
      ],
      ...(result.fingerprint === undefined
        ? {}
        : { partialFingerprints: { 'pubgate/v1': result.fingerprint } }),
    };
  });
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: options.toolName,
            version: options.toolVersion,
            ...(options.informationUri === undefined ? {} : { informationUri: options.informationUri }),
            rules,
          },
        },
        results,
      },
    ],
  };
}

/** SARIF URIs are RFC 3986 references: forward slashes, each segment percent-encoded. */
function toSarifUri(path: string): string {
  return path
    .replaceAll('\\', '/')
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}
