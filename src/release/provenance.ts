/**
 * Build provenance at the gate (issue 6, point 2): a staged tarball may carry npm's provenance bundle
 * or a DSSE statement signed by a registered build key. When it does, the gate verifies it before
 * holding anything: the subject is the staged tarball's digest, and the signer is the trusted
 * publisher. When a CI workload staged the release, the provenance must name that very run (its
 * repository, workflow, ref and commit); otherwise one of the package's trusted publishers.
 */
import {
  AttestationVerificationError,
  computeKeyId,
  keySetFromRecords,
  SIGNING_ALGORITHM,
  verifyBuildProvenance,
  type BuildIdentityClaims,
  type KeyRecord,
  type TrustedPublisher,
  type VerifiedBuildProvenance,
} from '../signing/index.ts';
import { AuthError } from '../errors/index.ts';
import { GITHUB_ACTIONS_ISSUER, publishersFor, type TrustedPublisherConfig } from '../identity/oidc/index.ts';
import { jsonDepthExceeds } from './publish-document.ts';
import type { CheckResult } from './release-service.ts';

/** What the provenance check needs from the gate. */
export interface ProvenanceSettings {
  /** PEM certificates the provenance certificate must chain to (Fulcio's, or a private CA's). */
  readonly trustedCertificates: readonly string[];
  readonly requireCertificateChain: boolean;
  /** The trusted publishers in force (config and admin API). */
  readonly publishers: () => Promise<readonly TrustedPublisherConfig[]>;
  readonly now?: () => Date;
}

/** The release facts the check reads. */
export interface ProvenanceSubject {
  readonly name: string;
  readonly version: string;
  readonly sha512Hex: string;
  readonly bundle: unknown;
  /** The claims of the CI workload that staged it, when one did. */
  readonly workload: Readonly<Record<string, string>> | undefined;
}

/** Verifies attached build provenance; returns the `build-provenance` check or throws `ERR_PROVENANCE_*`. */
export async function checkBuildProvenance(
  subject: ProvenanceSubject,
  settings: ProvenanceSettings,
): Promise<CheckResult> {
  assertPayloadDepth(subject.bundle);
  const covering = publishersFor(subject.name, await settings.publishers());
  // Each candidate is checked with its own build keys only: one publisher's key never vouches for another.
  const candidates: Candidate[] =
    subject.workload !== undefined
      ? [workloadCandidate(subject.workload, covering)]
      : covering.map((p, i) => ({
          source: `trusted publisher ${i + 1}`,
          ...publisherFromConfig(p),
          keys: (p.buildKeys ?? []).map(buildKeyRecord),
        }));
  if (candidates.length === 0) {
    throw new AuthError(
      'ERR_PROVENANCE_NO_PUBLISHER',
      `build provenance came with ${subject.name}, but no trusted publisher is configured for it, so its signer cannot be checked; add one (trustedPublishers in the config, or the Publishers page of the web UI)`,
    );
  }
  let first: AuthError | undefined;
  for (const candidate of candidates) {
    if (candidate.uncheckable.length > 0) {
      first ??= new AuthError(
        'ERR_PROVENANCE_UNCHECKABLE_CLAIM',
        `${candidate.source} pins ${candidate.uncheckable.join(', ')}, which build provenance does not carry; stage from that CI with trusted publishing, where the gate checks them on its OIDC token`,
        { details: { claims: candidate.uncheckable } },
      );
      continue;
    }
    try {
      const verified = await verifyBuildProvenance(subject.bundle, {
        sha512: subject.sha512Hex,
        expected: { name: subject.name, version: subject.version },
        publisher: candidate.publisher,
        buildKeys: keySetFromRecords(candidate.keys),
        trustedCertificates: settings.trustedCertificates,
        requireCertificateChain: settings.requireCertificateChain,
        ...(settings.now === undefined ? {} : { now: settings.now() }),
      });
      return { name: 'build-provenance', ok: true, details: { ...describe(verified, candidate.source) } };
    } catch (error) {
      if (!(error instanceof AttestationVerificationError)) throw error;
      first ??= new AuthError(
        error.code.replace(/^ERR_VERIFY_/, 'ERR_PROVENANCE_'),
        `the build provenance of ${subject.name}@${subject.version} does not verify: ${error.message}`,
        { details: { ...error.details } },
      );
    }
  }
  throw first!;
}
/** What the `build-provenance` check records when provenance came with a release and verified. */
export interface BuildProvenanceDetails {
  readonly present: true;
  readonly kind: VerifiedBuildProvenance['kind'];
  /** `workload` (the CI run that staged it) or `trusted publisher <n>`. */
  readonly matched: string;
  readonly predicateType: string;
  readonly identity: BuildIdentityClaims;
  readonly keyId?: string;
  readonly certificateChainVerified: boolean;
  readonly transparencyLogVerified: false;
}

/** The verified build provenance of a release, or undefined when none came with it. */
export function buildProvenanceOf(release: {
  readonly checks: readonly CheckResult[];
}): BuildProvenanceDetails | undefined {
  const details = release.checks.find((c) => c.name === 'build-provenance')?.details as
    Partial<BuildProvenanceDetails> | undefined;
  return details?.present === true ? (details as BuildProvenanceDetails) : undefined;
}

function describe(verified: VerifiedBuildProvenance, source: string): BuildProvenanceDetails {
  return {
    present: true,
    kind: verified.kind,
    matched: source,
    predicateType: verified.statement.predicateType,
    identity: { ...verified.identity },
    ...(verified.keyId === undefined ? {} : { keyId: verified.keyId }),
    certificateChainVerified: verified.certificateChainVerified,
    transparencyLogVerified: verified.transparencyLogVerified,
  };
}

/** A registered build key as a key record valid from the epoch (its publisher entry bounds it). */
function buildKeyRecord(pem: string): KeyRecord {
  return {
    keyId: computeKeyId(pem),
    algorithm: SIGNING_ALGORITHM,
    publicKeyPem: pem,
    notBefore: new Date(0).toISOString(),
    notAfter: null,
  };
}

/** The web origin of a CI system from its OIDC issuer (github.com for GitHub Actions). */
function sourceHost(issuer: string | undefined): string | undefined {
  if (issuer === undefined) return undefined;
  // github.com, also with an enterprise's custom issuer path (`…githubusercontent.com/<enterprise>`).
  if (issuer === GITHUB_ACTIONS_ISSUER || issuer.startsWith(`${GITHUB_ACTIONS_ISSUER}/`))
    return 'https://github.com';
  try {
    return new URL(issuer).origin;
  } catch {
    return undefined;
  }
}

/** Git refs a GitLab `ref` claim (a bare branch or tag name) may appear as in a certificate. */
function gitlabRefs(ref: string, refType: string | undefined): string[] {
  if (refType === 'tag') return [`refs/tags/${ref}`];
  if (refType === 'branch') return [`refs/heads/${ref}`];
  return [`refs/heads/${ref}`, `refs/tags/${ref}`];
}

/** `.github/workflows/x.yml` from `owner/repo/.github/workflows/x.yml@ref`. */
function workflowPath(workflowRef: string | undefined): { repo?: string; path?: string; ref?: string } {
  if (workflowRef === undefined) return {};
  const at = workflowRef.indexOf('@');
  const file = at === -1 ? workflowRef : workflowRef.slice(0, at);
  const parts = file.split('/');
  if (parts.length < 3) return {};
  return {
    repo: parts.slice(0, 2).join('/'),
    path: parts.slice(2).join('/'),
    ...(at === -1 ? {} : { ref: workflowRef.slice(at + 1) }),
  };
}

/** One way provenance may be vouched for: the publisher it must name, the keys that may sign it. */
interface Candidate {
  readonly source: string;
  readonly publisher: TrustedPublisher;
  /** Claims the publisher pins that provenance cannot show; such a candidate never matches. */
  readonly uncheckable: readonly string[];
  readonly keys: readonly KeyRecord[];
}

/**
 * The CI run that staged the release: its provenance must name this run, and only the build keys
 * of the trusted publisher its token matched (recorded at the exchange as `build_keys`) may sign it.
 */
function workloadCandidate(
  claims: Readonly<Record<string, string>>,
  covering: readonly TrustedPublisherConfig[],
): Candidate {
  const allowed = new Set((claims['build_keys'] ?? '').split(',').filter((k) => k !== ''));
  const keys = covering
    .flatMap((p) => (p.buildKeys ?? []).map(buildKeyRecord))
    .filter((k) => allowed.has(k.keyId));
  return { source: 'workload', publisher: publisherFromWorkload(claims), uncheckable: [], keys };
}

/** The key ids of a publisher's build keys, as the exchange records them in the build credential. */
export function buildKeyIds(publisher: TrustedPublisherConfig): string {
  return (publisher.buildKeys ?? []).map((pem) => computeKeyId(pem)).join(',');
}

/** The exact run that holds the build credential: its provenance must name this run. */
export function publisherFromWorkload(claims: Readonly<Record<string, string>>): TrustedPublisher {
  const host = sourceHost(claims['issuer']);
  const repository =
    claims['repository'] === undefined || host === undefined ? undefined : `${host}/${claims['repository']}`;
  const gitlab = claims['provider'] === 'gitlab';
  const ref = claims['ref'];
  const workflowRef = claims['workflow_ref'];
  return compact({
    issuer: claims['issuer'] ?? '',
    repository,
    repositoryId: claims['repository_id'],
    repositoryOwnerId: claims['owner_id'],
    workflowPath: gitlab ? undefined : workflowPath(workflowRef).path,
    // GitLab's pipeline definition is ci_config_ref_uri (host/path//file@ref), Fulcio's Build Config URI.
    buildConfigUri: gitlab && workflowRef !== undefined ? `https://${workflowRef}` : undefined,
    refs: ref === undefined ? undefined : gitlab ? gitlabRefs(ref, undefined) : [ref],
    runnerEnvironment: claims['runner_environment'],
    commit: claims['sha'],
  });
}

/** Claims each provider's certificates can show, and how; any other pinned claim is uncheckable. */
const CHECKABLE: Readonly<Record<string, ReadonlySet<string>>> = {
  github: new Set([
    'repository_id',
    'repository_owner_id',
    'repository',
    'repository_owner',
    'workflow_ref',
    'job_workflow_ref',
    'ref',
    'ref_type',
    'environment',
    'runner_environment',
    'event_name',
  ]),
  gitlab: new Set([
    'project_id',
    'namespace_id',
    'project_path',
    'namespace_path',
    'ci_config_ref_uri',
    'ref',
    'ref_type',
    'environment',
    'runner_environment',
    'pipeline_source',
  ]),
  generic: new Set(),
};

/** What a configured trusted publisher pins, in the terms of a provenance certificate. */
export function publisherFromConfig(p: TrustedPublisherConfig): {
  publisher: TrustedPublisher;
  uncheckable: string[];
} {
  const text = (name: string): string | undefined =>
    p.claims[name] === undefined ? undefined : String(p.claims[name]);
  const host = sourceHost(p.issuer);
  const uncheckable = Object.keys(p.claims).filter(
    (name) => p.claims[name] !== undefined && CHECKABLE[p.provider]?.has(name) !== true,
  );
  const at = (path: string | undefined): string | undefined =>
    path === undefined || host === undefined ? undefined : `${host}/${path}`;
  if (p.provider === 'github') {
    const wf = workflowPath(text('workflow_ref'));
    const repo = text('repository') ?? wf.repo;
    const ref = text('ref') ?? wf.ref;
    const refType = text('ref_type');
    const owner = text('repository_owner');
    const signer = text('job_workflow_ref');
    return {
      uncheckable,
      publisher: compact({
        issuer: p.issuer,
        repository: at(repo),
        repositoryPrefix: owner === undefined ? undefined : at(`${owner}/`),
        repositoryId: text('repository_id'),
        repositoryOwnerId: text('repository_owner_id'),
        workflowPath: wf.path,
        buildSignerUri: at(signer),
        refs: ref === undefined ? undefined : [ref],
        refPrefix: refType === 'tag' ? 'refs/tags/' : refType === 'branch' ? 'refs/heads/' : undefined,
        environment: text('environment'),
        runnerEnvironment:
          text('runner_environment') ?? (p.allowSelfHosted === true ? undefined : 'github-hosted'),
        trigger: text('event_name'),
      }),
    };
  }
  if (p.provider === 'gitlab') {
    const ref = text('ref');
    const refType = text('ref_type');
    const config = text('ci_config_ref_uri');
    const namespace = text('namespace_path');
    return {
      uncheckable,
      publisher: compact({
        issuer: p.issuer,
        repository: at(text('project_path')),
        repositoryPrefix: namespace === undefined ? undefined : at(`${namespace}/`),
        repositoryId: text('project_id'),
        repositoryOwnerId: text('namespace_id'),
        buildConfigUri: config === undefined ? undefined : `https://${config}`,
        refs: ref === undefined ? undefined : gitlabRefs(ref, refType),
        refPrefix: refType === 'tag' ? 'refs/tags/' : refType === 'branch' ? 'refs/heads/' : undefined,
        environment: text('environment'),
        runnerEnvironment:
          text('runner_environment') ?? (p.allowSelfHosted === true ? undefined : 'gitlab-hosted'),
        trigger: text('pipeline_source'),
      }),
    };
  }
  return { uncheckable, publisher: { issuer: p.issuer } };
}

/** Refuses a provenance statement nested deeper than any honest one, before anything parses or stores it. */
function assertPayloadDepth(bundle: unknown): void {
  const envelope =
    typeof bundle === 'object' && bundle !== null
      ? ((bundle as Record<string, unknown>)['dsseEnvelope'] ?? bundle)
      : undefined;
  const payload = (envelope as Record<string, unknown> | undefined)?.['payload'];
  if (typeof payload !== 'string') return;
  if (jsonDepthExceeds(Buffer.from(payload, 'base64').toString('utf8'), MAX_PROVENANCE_DEPTH)) {
    throw new AuthError(
      'ERR_PROVENANCE_MALFORMED_STATEMENT',
      `the provenance statement nests deeper than ${MAX_PROVENANCE_DEPTH} levels`,
    );
  }
}

/** SLSA provenance nests about 8 levels; 32 leaves room for any honest builder. */
const MAX_PROVENANCE_DEPTH = 32;

function compact(fields: {
  issuer: string;
  [field: string]: string | readonly string[] | undefined;
}): TrustedPublisher {
  return Object.fromEntries(
    Object.entries(fields).filter(([, v]) => v !== undefined),
  ) as unknown as TrustedPublisher;
}
