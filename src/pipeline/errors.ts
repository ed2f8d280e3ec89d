/** Coded errors of the pipeline auditor. Messages name files and positions, never file contents. */
import { PubgateError } from '../errors/index.ts';

/** One input file could not be audited (malformed, binary, too large, alias bomb); the scan goes on. */
export class AuditFileError extends PubgateError {}

/** The audit as a whole cannot run: bad config file, missing root. Maps to CLI exit code 2. */
export class AuditError extends PubgateError {}

/** Error codes of the auditor, in one place so tests and docs name the same strings. */
export const AUDIT_ERROR_CODES = Object.freeze({
  yamlInvalid: 'ERR_AUDIT_YAML_INVALID',
  yamlAliasLimit: 'ERR_AUDIT_YAML_ALIAS_LIMIT',
  yamlTooDeep: 'ERR_AUDIT_YAML_TOO_DEEP',
  jsonInvalid: 'ERR_AUDIT_JSON_INVALID',
  fileTooLarge: 'ERR_AUDIT_FILE_TOO_LARGE',
  fileBinary: 'ERR_AUDIT_FILE_BINARY',
  fileUnreadable: 'ERR_AUDIT_FILE_UNREADABLE',
  configInvalid: 'ERR_AUDIT_CONFIG_INVALID',
  rootNotFound: 'ERR_AUDIT_ROOT_NOT_FOUND',
  outputUnwritable: 'ERR_AUDIT_OUTPUT_UNWRITABLE',
});
