/** Release policy: required approvals, groups, exposure tiers, install-script rules. */
export { evaluatePolicy, policyVersionOf } from './policy.ts';
export type { PolicyConfig, PolicyInput, Decision, InstallScriptsMode } from './policy.ts';
