/**
 * The release predicate (`https://pubgate.dev/attestation/release/v1`): what the gate attests when a
 * release is approved, how it is validated when read back, and the quorum rule it must satisfy.
 */
/** The predicate type of a pubgate release attestation; a new major shape gets a new URI. */
export const RELEASE_PREDICATE_TYPE = 'https://pubgate.dev/attestation/release/v1';

/** The policy that applied to the release. */
export interface ReleasePolicyRef {
  readonly id: string;
  readonly version: string;
  /** M: distinct approvers required, never counting the requester. */
  readonly requiredApprovals: number;
}

/** One human approval: who, with which passkey, and a hash of the WebAuthn assertion they gave. */
export interface ReleaseApproval {
  readonly identity: string;
  /** The WebAuthn credential id (base64url). */
  readonly credentialId: string;
  /** SHA-256 (hex) of the assertion (authenticatorData ‖ clientDataJSON ‖ signature) as received. */
  readonly assertionSha256: string;
  /** When the assertion was verified (ISO 8601). */
  readonly at: string;
}

/** The build identity that staged the artifact, with the OIDC claims the gate matched. */
export interface ReleaseBuild {
  readonly identity: string;
  readonly issuer: string;
  readonly claims: Readonly<Record<string, string | number | boolean>>;
}

/** Outcome of one check the policy asked for. */
export type ReleaseCheckResult = 'pass' | 'fail' | 'warn' | 'skipped';

/** One check and its result. */
export interface ReleaseCheck {
  readonly name: string;
  readonly result: ReleaseCheckResult;
  readonly details?: string;
}

/** The times of the release (ISO 8601, UTC). */
export interface ReleaseTimes {
  readonly requestedAt: string;
  readonly approvedAt: string;
  /** When the gate signed this attestation; the key must have been valid at this instant. */
  readonly attestedAt: string;
}

/** The typed predicate of a pubgate release attestation. */
export interface ReleasePredicate {
  /** The gate's release id (for the audit log). */
  readonly releaseId: string;
  readonly policy: ReleasePolicyRef;
  readonly requester: { readonly identity: string };
  readonly approvers: readonly ReleaseApproval[];
  /** Null when a maintainer published from a laptop rather than a build identity. */
  readonly build: ReleaseBuild | null;
  readonly checks: readonly ReleaseCheck[];
  readonly times: ReleaseTimes;
}

const CHECK_RESULTS: ReadonlySet<string> = new Set(['pass', 'fail', 'warn', 'skipped']);
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;

/** Lists every way `value` fails to be a release predicate (empty when it is one). */
export function findReleasePredicateProblems(value: unknown): string[] {
  const problems: string[] = [];
  const at = (path: string, ok: boolean): void => {
    if (!ok) problems.push(path);
  };
  if (!isPlainObject(value)) return ['predicate'];
  at('predicate.releaseId', isNonEmptyString(value.releaseId));
  const policy = value.policy;
  if (isPlainObject(policy)) {
    at('predicate.policy.id', isNonEmptyString(policy.id));
    at('predicate.policy.version', isNonEmptyString(policy.version));
    at(
      'predicate.policy.requiredApprovals',
      Number.isSafeInteger(policy.requiredApprovals) && (policy.requiredApprovals as number) >= 0,
    );
  } else at('predicate.policy', false);
  at(
    'predicate.requester.identity',
    isPlainObject(value.requester) && isNonEmptyString(value.requester.identity),
  );
  if (Array.isArray(value.approvers)) {
    value.approvers.forEach((a: unknown, i) => {
      const p = `predicate.approvers[${i}]`;
      if (!isPlainObject(a)) return at(p, false);
      at(`${p}.identity`, isNonEmptyString(a.identity));
      at(`${p}.credentialId`, typeof a.credentialId === 'string' && /^[A-Za-z0-9_-]+$/.test(a.credentialId));
      at(
        `${p}.assertionSha256`,
        typeof a.assertionSha256 === 'string' && /^[0-9a-f]{64}$/.test(a.assertionSha256),
      );
      at(`${p}.at`, isIsoTime(a.at));
    });
  } else at('predicate.approvers', false);
  if (value.build !== null) {
    const build = value.build;
    if (isPlainObject(build)) {
      at('predicate.build.identity', isNonEmptyString(build.identity));
      at('predicate.build.issuer', isNonEmptyString(build.issuer));
      at(
        'predicate.build.claims',
        isPlainObject(build.claims) &&
          Object.values(build.claims).every((c) => ['string', 'number', 'boolean'].includes(typeof c)),
      );
    } else at('predicate.build', false);
  }
  if (Array.isArray(value.checks)) {
    value.checks.forEach((c: unknown, i) => {
      const p = `predicate.checks[${i}]`;
      if (!isPlainObject(c)) return at(p, false);
      at(`${p}.name`, isNonEmptyString(c.name));
      at(`${p}.result`, typeof c.result === 'string' && CHECK_RESULTS.has(c.result));
      at(`${p}.details`, c.details === undefined || typeof c.details === 'string');
    });
  } else at('predicate.checks', false);
  const times = value.times;
  if (isPlainObject(times)) {
    for (const k of ['requestedAt', 'approvedAt', 'attestedAt'] as const)
      at(`predicate.times.${k}`, isIsoTime(times[k]));
  } else at('predicate.times', false);
  return problems;
}

/** Why a recorded approval set does not meet its policy, as short reasons; empty when it does. */
export function findQuorumProblems(predicate: ReleasePredicate): string[] {
  const reasons: string[] = [];
  const requester = predicate.requester.identity;
  const identities = new Set<string>();
  const credentials = new Set<string>();
  const assertions = new Set<string>();
  for (const approval of predicate.approvers) {
    if (approval.identity === requester) reasons.push('the requester is among the approvers');
    if (identities.has(approval.identity))
      reasons.push(`approver ${approval.identity} appears more than once`);
    // One passkey approving twice under two names is one human, not two (DESIGN.md: M distinct humans).
    if (credentials.has(approval.credentialId))
      reasons.push('one credential id appears in more than one approval');
    if (assertions.has(approval.assertionSha256)) reasons.push('one assertion is counted more than once');
    identities.add(approval.identity);
    credentials.add(approval.credentialId);
    assertions.add(approval.assertionSha256);
    if (Date.parse(approval.at) > Date.parse(predicate.times.attestedAt)) {
      reasons.push(`approval by ${approval.identity} is dated after the attestation`);
    }
  }
  const distinct = [...identities].filter((id) => id !== requester).length;
  if (distinct < predicate.policy.requiredApprovals) {
    reasons.push(
      `${distinct} distinct approvals, policy ${predicate.policy.id}@${predicate.policy.version} requires ${predicate.policy.requiredApprovals}`,
    );
  }
  for (const check of predicate.checks) {
    if (check.result === 'fail') reasons.push(`check ${check.name} failed`);
  }
  return reasons;
}

/** True for a plain JSON object (not null, not an array). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 1024;
}

function isIsoTime(value: unknown): value is string {
  return typeof value === 'string' && ISO_UTC.test(value) && Number.isFinite(Date.parse(value));
}
