/** Digest-bound step-up approvals and the quorum. */
export { ApprovalService } from './approval-service.ts';
export type { ApprovalServiceOptions, ApprovalRecord, QuorumStatus } from './approval-service.ts';
