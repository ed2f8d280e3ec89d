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
  type KeyRecord,
  type TrustedPublisher,
  type VerifiedBuildProvenance,
} from '../signing/index.ts';
import { AuthError } from '../errors/index.ts';
import { GITHUB_ACTIONS_ISSUER, publishersFor, type TrustedPublisherConfig } from '../identity/oidc/index.ts';
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
  const covering = publishersFor(subject.name, await settings.publishers());
  const candidates: Array<{ source: string; publisher: TrustedPublisher }> =
    subject.workload !== undefined
      ? [{ source: 'workload', publisher: publisherFromWorkload(subject.workload) }]
      : covering.map((p, i) => ({ source: `trusted publisher ${i + 1}`, publisher: publisherFromConfig(p) }));
  if (candidates.length === 0) {
    throw new AuthError(
      'ERR_PROVENANCE_NO_PUBLISHER',
      `build provenance came with ${subject.name}, but no trusted publisher is configured for it, so its signer cannot be checked; add one (trustedPublishers, or \`pubgate publishers add\`)`,
    );
  }
  const buildKeys = keySetFromRecords(covering.flatMap((p) => (p.buildKeys ?? []).map(buildKeyRecord)));
  let first: AttestationVerificationError | undefined;
  for (const { source, publisher } of candidates) {
    try {
      const verified = await verifyBuildProvenance(subject.bundle, {
        sha512: subject.sha512Hex,
        expected: { name: subject.name, version: subject.version },
        publisher,
        buildKeys,
        trustedCertificates: settings.trustedCertificates,
        requireCertificateChain: settings.requireCertificateChain,
        ...(settings.now === undefined ? {} : { now: settings.now() }),
      });
      return { name: 'build-provenance', ok: true, details: describe(verified, source) };
    } catch (error) {
      if (!(error instanceof AttestationVerificationError)) throw error;
      first ??= error;
    }
  }
  const code = first!.code.replace(/^ERR_VERIFY_/, 'ERR_PROVENANCE_');
  throw new AuthError(
    code,
    `the build provenance of ${subject.name}@${subject.version} does not verify: ${first!.message}`,
    { details: { ...first!.details } },
  );
}

function describe(verified: VerifiedBuildProvenance, source: string): Record<string, unknown> {
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
  if (issuer === GITHUB_ACTIONS_ISSUER) return 'https://github.com';
  try {
    return new URL(issuer).origin;
  } catch {
    return undefined;
  }
}

/** Git refs a GitLab `ref` claim (a bare branch or tag name) may appear as in a certificate. */
function gitlabRefs(ref: string): string[] {
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

/** The exact run that holds the build credential: its provenance must name this run. */
export function publisherFromWorkload(claims: Readonly<Record<string, string>>): TrustedPublisher {
  const host = sourceHost(claims['issuer']);
  const repository =
    claims['repository'] === undefined || host === undefined ? undefined : `${host}/${claims['repository']}`;
  const gitlab = claims['provider'] === 'gitlab';
  const ref = claims['ref'];
  return compact({
    issuer: claims['issuer'] ?? '',
    repository,
    repositoryId: claims['repository_id'],
    repositoryOwnerId: claims['owner_id'],
    workflowPath: gitlab ? undefined : workflowPath(claims['workflow_ref']).path,
    refs: ref === undefined ? undefined : gitlab ? gitlabRefs(ref) : [ref],
    runnerEnvironment: claims['runner_environment'],
    commit: claims['sha'],
  });
}

/** What a configured trusted publisher pins, in the terms of a provenance certificate. */
export function publisherFromConfig(p: TrustedPublisherConfig): TrustedPublisher {
  const text = (name: string): string | undefined =>
    p.claims[name] === undefined ? undefined : String(p.claims[name]);
  const host = sourceHost(p.issuer);
  if (p.provider === 'github') {
    const wf = workflowPath(text('workflow_ref'));
    const repo = text('repository') ?? wf.repo;
    const ref = text('ref') ?? wf.ref;
    return compact({
      issuer: p.issuer,
      repository: repo === undefined || host === undefined ? undefined : `${host}/${repo}`,
      repositoryId: text('repository_id'),
      repositoryOwnerId: text('repository_owner_id'),
      workflowPath: wf.path,
      refs: ref === undefined ? undefined : [ref],
      environment: text('environment'),
      runnerEnvironment:
        text('runner_environment') ?? (p.allowSelfHosted === true ? undefined : 'github-hosted'),
    });
  }
  if (p.provider === 'gitlab') {
    const path = text('project_path');
    const ref = text('ref');
    return compact({
      issuer: p.issuer,
      repository: path === undefined || host === undefined ? undefined : `${host}/${path}`,
      repositoryId: text('project_id'),
      repositoryOwnerId: text('namespace_id'),
      refs: ref === undefined ? undefined : gitlabRefs(ref),
      environment: text('environment'),
    });
  }
  return { issuer: p.issuer };
}

function compact(fields: {
  issuer: string;
  [field: string]: string | readonly string[] | undefined;
}): TrustedPublisher {
  return Object.fromEntries(
    Object.entries(fields).filter(([, v]) => v !== undefined),
  ) as unknown as TrustedPublisher;
}
