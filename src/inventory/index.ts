/** Identity inventory, findings (toxic combinations, reuse, stale, orphans), compliance report and webhook. */
export { InventoryError, INVENTORY_ERROR_CODES } from './errors.ts';
export { CAPABILITIES, EXTERNAL_KINDS, NON_HUMAN_KINDS, SEVERITIES } from './types.ts';
export type {
  Capability,
  ItemKind,
  InventoryItem,
  Inventory,
  KnownPerson,
  Sighting,
  CredentialFacts,
  Finding,
  FindingKind,
  Severity,
} from './types.ts';
export { DEFAULT_INVENTORY_OPTIONS, parseInventoryDuration, formatDuration } from './options.ts';
export type { InventoryOptions } from './options.ts';
export { parseExternalIdentities, readExternalIdentities, MAX_IMPORT_BYTES } from './external.ts';
export type { ExternalImport } from './external.ts';
export {
  collectInventory,
  capabilitiesOfRoles,
  toSigningKeyFacts,
  CREDENTIAL_CAPABILITIES,
} from './collect.ts';
export type { InventorySource, CollectInventoryOptions, SigningKeyFacts, KeyRecordLike } from './collect.ts';
export {
  detectFindings,
  FINDING_CATALOG,
  isHighSeverity,
  isLive,
  isNonHuman,
  principalOf,
  patternsOverlap,
} from './findings.ts';
export { FRAMEWORKS, FRAMEWORK_IDS, isValidControlId, titleOfControlId } from './frameworks.ts';
export type { Framework, FrameworkId } from './frameworks.ts';
export { CONTROLS, assertValidControlMappings } from './controls.ts';
export type { Control, ControlKind, ControlMapping } from './controls.ts';
export { buildComplianceReport, generateComplianceReport } from './report.ts';
export type {
  ComplianceReport,
  ControlResult,
  ControlStatus,
  Evidence,
  MappingRow,
  ReportCharts,
  GenerateReportOptions,
} from './report.ts';
export {
  renderReport,
  renderReportHtml,
  renderReportMarkdown,
  renderReportJson,
  renderInventoryHtml,
  renderInventoryTable,
  inventoryToJson,
  assertReportFormat,
  REPORT_CSS,
  REPORT_CSS_HASH,
} from './render.ts';
export type { ReportFormat, RenderOptions } from './render.ts';
export { buildWebhookPayload, sendFindingsWebhook, assertWebhookUrl } from './webhook.ts';
export type { WebhookPayload, WebhookOutcome, SendFindingsWebhookOptions } from './webhook.ts';
