/**
 * Release policy: how many distinct approvals a release needs, from which group, and what install
 * scripts or exposure change. Evaluation returns a Decision value; it never throws on input.
 */
import { createHash } from 'node:crypto';
import { scopeCovers } from '../tokens/index.ts';

/** How install scripts appearing or changing are treated. */
export type InstallScriptsMode = 'allow' | 'require-extra' | 'block';

/** The policy section of the config. */
export interface PolicyConfig {
  readonly approvers: number;
  readonly group: string;
  readonly installScripts: InstallScriptsMode;
  readonly adminsMayApprove: boolean;
  /** After approval the gate publishes, or waits for the pipeline's just-in-time credential. */
  readonly publishMode?: 'gate' | 'jit';
  /** Secrets found in a tarball: block the release, or warn the approvers. */
  readonly secrets?: 'block' | 'warn';
  /** Build provenance: verified whenever present; `require` refuses releases without it. */
  readonly provenance?: 'optional' | 'require';
  readonly rules: ReadonlyArray<{
    readonly packages: readonly string[];
    readonly approvers?: number | undefined;
    readonly group?: string | undefined;
    readonly installScripts?: InstallScriptsMode | undefined;
    readonly publishMode?: 'gate' | 'jit' | undefined;
    readonly provenance?: 'optional' | 'require' | undefined;
    readonly exposure: ReadonlyArray<{ readonly weeklyDownloadsAbove: number; readonly approvers: number }>;
  }>;
  readonly weeklyDownloads: Readonly<Record<string, number>>;
}

/** What the policy knows about a release. */
export interface PolicyInput {
  readonly package: string;
  /** Weekly downloads, when known. */
  readonly weeklyDownloads: number | undefined;
  /** Install scripts added or changed against the previous published version. */
  readonly installScriptsChanged: boolean;
}

/** The outcome: allow or not, with M, the group and the reasons, recorded on the release. */
export interface Decision {
  readonly allow: boolean;
  readonly reasons: readonly string[];
  readonly requiredApprovals: number;
  readonly group: string;
  readonly rule: number | 'default';
  readonly exposureTier: string;
  readonly policyVersion: string;
  readonly publishMode: 'gate' | 'jit';
  /** Whether the release must carry verified build provenance. */
  readonly provenance: 'optional' | 'require';
}

/** A stable version id of the policy: sha256 of its canonical JSON, 16 hex. */
export function policyVersionOf(policy: PolicyConfig): string {
  return createHash('sha256').update(canonicalJson(policy)).digest('hex').slice(0, 16);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Evaluates the policy for one release. */
export function evaluatePolicy(policy: PolicyConfig, input: PolicyInput): Decision {
  const index = policy.rules.findIndex((rule) => scopeCovers(rule.packages, input.package));
  const rule = index === -1 ? undefined : policy.rules[index];
  let required = rule?.approvers ?? policy.approvers;
  const group = rule?.group ?? policy.group;
  const reasons: string[] = [
    `${index === -1 ? 'default policy' : `rule ${index}`}: ${required} approval(s) from group ${group}`,
  ];
  let tier = 'base';
  const downloads = input.weeklyDownloads ?? policy.weeklyDownloads[input.package];
  if (rule !== undefined && downloads !== undefined) {
    // The highest tier whose threshold the package exceeds wins.
    const tiers = [...rule.exposure].sort((a, b) => b.weeklyDownloadsAbove - a.weeklyDownloadsAbove);
    const hit = tiers.find((t) => downloads > t.weeklyDownloadsAbove);
    if (hit !== undefined && hit.approvers > required) {
      required = hit.approvers;
      tier = `>${hit.weeklyDownloadsAbove}/week`;
      reasons.push(
        `exposure ${downloads} weekly downloads > ${hit.weeklyDownloadsAbove}: ${required} approval(s)`,
      );
    }
  }
  const mode = rule?.installScripts ?? policy.installScripts;
  let allow = true;
  if (input.installScriptsChanged) {
    if (mode === 'block') {
      allow = false;
      reasons.push('install scripts added or changed: blocked by policy');
    } else if (mode === 'require-extra') {
      required += 1;
      reasons.push(`install scripts added or changed: one more approval (${required})`);
    } else reasons.push('install scripts added or changed: allowed by policy');
  }
  const publishMode = rule?.publishMode ?? policy.publishMode ?? 'gate';
  return {
    allow,
    reasons,
    requiredApprovals: required,
    group,
    rule: index === -1 ? 'default' : index,
    exposureTier: tier,
    policyVersion: policyVersionOf(policy),
    publishMode,
    provenance: rule?.provenance ?? policy.provenance ?? 'optional',
  };
}
