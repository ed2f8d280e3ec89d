/** The CI / release-script auditor (`pubgate audit`). The only door into src/pipeline. */
export { auditRepository, classifyAuditedFile, discoverAuditedFiles } from './audit.ts';
export type { AuditRepositoryOptions, AuditedFileKind } from './audit.ts';
export { CONFIG_FILE_NAMES, DEFAULT_AUDIT_CONFIG, loadAuditConfig, toAuditConfig } from './config.ts';
export type { AuditConfig, ConfigIgnore } from './config.ts';
export { AUDIT_ERROR_CODES, AuditError, AuditFileError } from './errors.ts';
export {
  AUDIT_FORMATS,
  AUDITOR_VERSION,
  formatAuditJson,
  formatAuditSarif,
  formatAuditText,
  hasFindingAtOrAbove,
  toRuleFix,
} from './report.ts';
export type { AuditFormat, FormatAuditTextOptions } from './report.ts';
export { AUDIT_RULES, getAuditRule, isAuditRuleId, toGateWorkflowSnippet } from './rules.ts';
export type { AuditRule } from './rules.ts';
export { SEVERITIES, isSeverity, toSeverityRank } from './types.ts';
export type {
  AuditReport,
  FileError,
  Finding,
  Severity,
  SourceLocation,
  SuppressedFinding,
  ViaLocation,
} from './types.ts';
