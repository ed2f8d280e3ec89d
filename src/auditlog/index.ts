/** The hash-chained audit log. */
export { AuditLog, GENESIS_HASH, hashAuditEvent } from './audit-log.ts';
export type { AuditEvent, AuditEventInput, ChainVerification } from './audit-log.ts';
