/** The kill switch: lock a package, scope, identity or everything down. */
export { LockdownService, assertLockTarget } from './lockdown.ts';
export type { Lockdown, LockOutcome } from './lockdown.ts';
