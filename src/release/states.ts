/** The release state machine: which transitions exist. */

/** Every state a release can be in. */
export const RELEASE_STATES = Object.freeze([
  'received',
  'checked',
  'awaiting_approval',
  'approved',
  'publishing',
  'published',
  'rejected',
  'expired',
  'failed',
] as const);

/** A release state. */
export type ReleaseState = (typeof RELEASE_STATES)[number];

/** States a release never leaves. */
export const FINAL_STATES: ReadonlySet<ReleaseState> = new Set([
  'published',
  'rejected',
  'expired',
  'failed',
]);

/** Allowed transitions, from → to. */
export const TRANSITIONS: Readonly<Record<ReleaseState, readonly ReleaseState[]>> = Object.freeze({
  received: ['checked', 'rejected'],
  checked: ['awaiting_approval', 'rejected'],
  awaiting_approval: ['approved', 'rejected', 'expired'],
  approved: ['publishing', 'rejected', 'failed'],
  // publishing → approved: a failed attempt waits for its retry.
  publishing: ['published', 'approved', 'failed'],
  published: [],
  rejected: [],
  expired: [],
  failed: [],
});

/** The states from which `to` can be reached. */
export function statesLeadingTo(to: ReleaseState): ReleaseState[] {
  return RELEASE_STATES.filter((from) => TRANSITIONS[from].includes(to));
}
