/**
 * Verifies a CI workload's OIDC token against the trusted publishers of one package. Order: shape
 * and `alg` (before any key is fetched), issuer and package (only configured issuers are ever asked
 * for keys), signature, audience, time, `jti`, triggering event, pinned claims, runner, and last the
 * replay check, so only a token that passed everything consumes its `jti`. Every refusal is an
 * `OidcError` with its own code; nothing from the token appears in a message or detail.
 */
import { refuse } from './errors.ts';
import {
  DEFAULT_ALGORITHMS,
  assertAlgorithms,
  decodeUnverifiedJwt,
  verifyJwsSignature,
  type JwksProvider,
} from './jose-adapter.ts';
import type { JtiStore } from './jti-store.ts';
import {
  claimText,
  matchesClaim,
  publishersFor,
  type PublisherProvider,
  type TrustedPublisherConfig,
} from './trusted-publishers.ts';

/** Options of `verifyWorkloadToken`. */
export interface VerifyWorkloadTokenOptions {
  /** The package the workload wants to act for. */
  readonly packageName: string;
  readonly publishers: readonly TrustedPublisherConfig[];
  readonly keys: JwksProvider;
  readonly jti: JtiStore;
  readonly now?: () => Date;
  /** Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds (default 60, at most 300). */
  readonly maxSkewSeconds?: number;
  /** Longest accepted token lifetime `exp - iat`, in seconds (default 3600). */
  readonly maxLifetimeSeconds?: number;
  /** Allowed `alg` values (default RS256 and ES256); asymmetric only. */
  readonly algorithms?: readonly string[];
}

/** Defaults of `verifyWorkloadToken`; never mutated. */
export const VERIFY_WORKLOAD_DEFAULTS = Object.freeze({ maxSkewSeconds: 60, maxLifetimeSeconds: 3600 });

/** Who the verified workload is, normalised across providers. */
export interface WorkloadIdentity {
  readonly provider: PublisherProvider;
  readonly issuer: string;
  /** The token's `sub`, for display only: nothing is decided on it. */
  readonly subject: string | undefined;
  /** `owner/repo` (GitHub `repository`, GitLab `project_path`). */
  readonly repository: string | undefined;
  /** Immutable repository id (GitHub `repository_id`, GitLab `project_id`). */
  readonly repositoryId: string | undefined;
  /** Immutable owner id (GitHub `repository_owner_id`, GitLab `namespace_id`). */
  readonly ownerId: string | undefined;
  /** The pipeline definition (GitHub `workflow_ref`, GitLab `ci_config_ref_uri`). */
  readonly workflowRef: string | undefined;
  readonly ref: string | undefined;
  readonly environment: string | undefined;
  readonly runnerEnvironment: string | undefined;
  /** What triggered the run (GitHub `event_name`, GitLab `pipeline_source`). */
  readonly eventName: string | undefined;
  /** Who started the run (GitHub `actor`, GitLab `user_login`). */
  readonly actor: string | undefined;
  readonly sha: string | undefined;
  /** Known, non-personal claims of the token (no e-mail addresses), values at most 512 characters. */
  readonly claims: Readonly<Record<string, string>>;
  readonly jti: string;
  readonly expiresAt: Date;
  /** The trusted publisher that matched. */
  readonly publisher: TrustedPublisherConfig;
}

/** GitHub events that run code a pull request controls, or in a pull request's context. */
export const FORBIDDEN_GITHUB_EVENTS: readonly string[] = Object.freeze([
  'pull_request_target',
  'pull_request',
  'pull_request_review',
  'pull_request_review_comment',
]);

/** GitLab pipeline sources that run merge-request (possibly fork) code. */
export const FORBIDDEN_GITLAB_PIPELINE_SOURCES: readonly string[] = Object.freeze([
  'merge_request_event',
  'external_pull_request_event',
]);

/** Claims copied into `WorkloadIdentity.claims`: identity and provenance facts, nothing personal. */
const REPORTED_CLAIMS: readonly string[] = Object.freeze([
  'iss',
  'aud',
  'sub',
  // GitHub
  'repository',
  'repository_id',
  'repository_owner',
  'repository_owner_id',
  'repository_visibility',
  'enterprise',
  'enterprise_id',
  'workflow',
  'workflow_ref',
  'workflow_sha',
  'job_workflow_ref',
  'job_workflow_sha',
  'ref',
  'ref_type',
  'ref_protected',
  'sha',
  'environment',
  'event_name',
  'head_ref',
  'base_ref',
  'run_id',
  'run_number',
  'run_attempt',
  'runner_environment',
  'actor',
  'actor_id',
  'triggering_actor',
  // GitLab
  'namespace_id',
  'namespace_path',
  'project_id',
  'project_path',
  'project_visibility',
  'user_id',
  'user_login',
  'pipeline_id',
  'pipeline_source',
  'job_id',
  'ref_path',
  'environment_protected',
  'deployment_tier',
  'runner_id',
  'ci_config_ref_uri',
  'ci_config_sha',
]);

const MAX_JTI_LENGTH = 256;
const MAX_REPORTED_VALUE = 512;

/** Verifies `token` for `options.packageName`; returns the workload's identity or throws a coded `OidcError`. */
export async function verifyWorkloadToken(
  token: string,
  options: VerifyWorkloadTokenOptions,
): Promise<WorkloadIdentity> {
  const skew = options.maxSkewSeconds ?? VERIFY_WORKLOAD_DEFAULTS.maxSkewSeconds;
  const maxLifetime = options.maxLifetimeSeconds ?? VERIFY_WORKLOAD_DEFAULTS.maxLifetimeSeconds;
  if (!Number.isFinite(skew) || skew < 0 || skew > 300)
    throw new RangeError('maxSkewSeconds must be 0 to 300');
  if (!Number.isFinite(maxLifetime) || maxLifetime < 1 || maxLifetime > 86_400) {
    throw new RangeError('maxLifetimeSeconds must be 1 to 86400');
  }
  const algorithms = options.algorithms ?? DEFAULT_ALGORITHMS;
  assertAlgorithms(algorithms);

  // 1. Shape and header, before anything is fetched.
  const unverified = decodeUnverifiedJwt(token);
  const { alg, kid, typ, crit, b64 } = unverified.header;
  if (typeof alg !== 'string' || !algorithms.includes(alg)) {
    throw refuse('algNotAllowed', 'the token algorithm is not allowed');
  }
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > 256)) {
    throw refuse('malformed', 'the token kid is not a short string', { claim: 'kid' });
  }
  // RFC 8725 §3.11: another explicit type (e.g. `at+jwt`) is a different kind of token.
  if (typ !== undefined && (typeof typ !== 'string' || typ.toUpperCase() !== 'JWT')) {
    throw refuse('malformed', 'the token typ is not JWT', { claim: 'typ' });
  }
  // RFC 7515 §4.1.11: extensions we do not implement must be refused; RFC 7797 payloads are not JWTs.
  if (crit !== undefined || b64 !== undefined)
    throw refuse('malformed', 'the token uses JWS extensions', { claim: 'crit' });

  // 2. Which publishers could vouch for this token: only their issuers are ever asked for keys.
  const issuer = unverified.payload.iss;
  if (typeof issuer !== 'string' || issuer.length === 0)
    throw refuse('malformed', 'the token has no issuer', { claim: 'iss' });
  const forPackage = publishersFor(options.packageName, options.publishers);
  if (forPackage.length === 0) {
    throw refuse('noTrustedPublisher', 'the package has no trusted publisher', {
      packageName: options.packageName,
    });
  }
  const forIssuer = forPackage.filter((publisher) => publisher.issuer === issuer);
  if (forIssuer.length === 0)
    throw refuse('wrongIssuer', "the token's issuer is not trusted for this package");

  // 3. Signature, with the issuer's keys.
  const claims = await verifyJwsSignature(token, { issuer, keys: options.keys, algorithms });
  if (claims.iss !== issuer) throw refuse('malformed', 'the verified issuer differs', { claim: 'iss' });

  // 4. Audience (RFC 7519 §4.1.3: a string or an array of strings).
  const audiences = audienceList(claims.aud);
  const candidates = forIssuer.filter((publisher) => audiences.includes(publisher.audience));
  if (candidates.length === 0)
    throw refuse('wrongAudience', 'the token is not meant for this registry', { claim: 'aud' });

  // 5. Time, in whole seconds (RFC 7519 NumericDate), with bounded skew.
  const now = Math.floor((options.now?.() ?? new Date()).getTime() / 1000);
  const exp = numericDate(claims, 'exp', true);
  const iat = numericDate(claims, 'iat', true);
  const nbf = numericDate(claims, 'nbf', false);
  if (exp <= iat) throw refuse('malformed', 'the token expires before it was issued', { claim: 'exp' });
  if (exp - iat > maxLifetime)
    throw refuse('malformed', 'the token lifetime is longer than allowed', { claim: 'exp' });
  if (now >= exp + skew) throw refuse('expired', 'the token has expired', { claim: 'exp' });
  if (nbf !== undefined && now < nbf - skew)
    throw refuse('notYetValid', 'the token is not valid yet', { claim: 'nbf' });
  if (now < iat - skew) throw refuse('notYetValid', 'the token was issued in the future', { claim: 'iat' });

  // 6. A token id, so the token can be used once.
  const jti = claims.jti;
  if (jti === undefined || jti === '') throw refuse('noJti', 'the token has no jti', { claim: 'jti' });
  if (typeof jti !== 'string' || jti.length > MAX_JTI_LENGTH)
    throw refuse('malformed', 'the token jti is not a short string', { claim: 'jti' });

  // 7. Events that run code from a pull request or a fork never publish.
  assertTrustedEvent(claims);

  // 8. The pinned claims, then the runner.
  const publisher = choosePublisher(candidates, claims);

  // 9. Last: consume the jti, kept while the token could still be accepted (exp + skew).
  const expiresAt = new Date((exp + skew) * 1000);
  if (!(await options.jti.remember(issuer, jti, expiresAt)))
    throw refuse('replayed', 'the token was used before', { claim: 'jti' });

  return toIdentity(publisher, issuer, jti, new Date(exp * 1000), claims);
}

function audienceList(aud: unknown): string[] {
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud)) return aud.filter((entry): entry is string => typeof entry === 'string');
  return [];
}

function numericDate(claims: Readonly<Record<string, unknown>>, name: string, required: true): number;
function numericDate(
  claims: Readonly<Record<string, unknown>>,
  name: string,
  required: false,
): number | undefined;
function numericDate(
  claims: Readonly<Record<string, unknown>>,
  name: string,
  required: boolean,
): number | undefined {
  const value = claims[name];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw refuse('malformed', `the token ${name} is not a NumericDate`, { claim: name });
  }
  return value;
}

function assertTrustedEvent(claims: Readonly<Record<string, unknown>>): void {
  // Applied whatever the provider: a claim means the same wherever GitHub's or GitLab's names appear.
  const event = claimText(claims, 'event_name');
  if (event !== undefined && FORBIDDEN_GITHUB_EVENTS.includes(event)) {
    throw refuse('forbiddenEvent', 'the workflow was triggered by a pull request event', {
      claim: 'event_name',
    });
  }
  // GitHub sets head_ref only for pull request runs; a fork's branch arrives this way.
  const headRef = claimText(claims, 'head_ref');
  if (headRef !== undefined && headRef !== '') {
    throw refuse('forbiddenEvent', 'the workflow runs for a pull request', { claim: 'head_ref' });
  }
  const source = claimText(claims, 'pipeline_source');
  if (source !== undefined && FORBIDDEN_GITLAB_PIPELINE_SOURCES.includes(source)) {
    throw refuse('forbiddenEvent', 'the pipeline was triggered by a merge request', {
      claim: 'pipeline_source',
    });
  }
}

/** The first candidate whose pinned claims all match and whose runner is allowed. */
function choosePublisher(
  candidates: readonly TrustedPublisherConfig[],
  claims: Readonly<Record<string, unknown>>,
): TrustedPublisherConfig {
  const mismatched = new Set<string>();
  let selfHosted = false;
  for (const publisher of candidates) {
    const mismatch = Object.entries(publisher.claims).find(
      ([name, expected]) => expected !== undefined && !matchesClaim(name, expected, claimText(claims, name)),
    );
    if (mismatch !== undefined) {
      mismatched.add(mismatch[0]);
      continue;
    }
    if (
      publisher.allowSelfHosted !== true &&
      !isHostedRunner(publisher.provider, claimText(claims, 'runner_environment'))
    ) {
      selfHosted = true;
      continue;
    }
    return publisher;
  }
  // A runner refusal is reported only for a token that is otherwise this publisher's.
  if (selfHosted)
    throw refuse('selfHosted', 'the job ran on a self-hosted runner', { claim: 'runner_environment' });
  const names = [...mismatched];
  throw refuse('claimMismatch', `the token does not match the trusted publisher (${names.join(', ')})`, {
    claim: names[0],
    claims: names,
  });
}

function isHostedRunner(provider: PublisherProvider, runner: string | undefined): boolean {
  // GitHub and GitLab always state the runner, so anything but their hosted value is refused; a
  // generic issuer may not know the concept, so only an explicit `self-hosted` is.
  if (provider === 'github') return runner === 'github-hosted';
  if (provider === 'gitlab') return runner === 'gitlab-hosted';
  return runner !== 'self-hosted';
}

function toIdentity(
  publisher: TrustedPublisherConfig,
  issuer: string,
  jti: string,
  expiresAt: Date,
  claims: Readonly<Record<string, unknown>>,
): WorkloadIdentity {
  const text = (name: string): string | undefined => claimText(claims, name);
  const gitlab = publisher.provider === 'gitlab';
  const reported: Record<string, string> = {};
  for (const name of REPORTED_CLAIMS) {
    const value = name === 'aud' ? audienceList(claims.aud).join(' ') : text(name);
    if (value !== undefined && value !== '') reported[name] = value.slice(0, MAX_REPORTED_VALUE);
  }
  return Object.freeze({
    provider: publisher.provider,
    issuer,
    subject: text('sub'),
    repository: gitlab ? text('project_path') : text('repository'),
    repositoryId: gitlab ? text('project_id') : text('repository_id'),
    ownerId: gitlab ? text('namespace_id') : text('repository_owner_id'),
    workflowRef: gitlab ? text('ci_config_ref_uri') : (text('workflow_ref') ?? text('job_workflow_ref')),
    ref: text('ref'),
    environment: text('environment'),
    runnerEnvironment: text('runner_environment'),
    eventName: gitlab ? text('pipeline_source') : text('event_name'),
    actor: gitlab ? text('user_login') : text('actor'),
    sha: text('sha'),
    claims: Object.freeze(reported),
    jti,
    expiresAt,
    publisher,
  });
}
