/**
 * Trusted publishers: which CI workloads may act for which packages. A publisher names an issuer,
 * the audience its tokens must carry, and discrete claims that must match exactly. `sub` is never
 * used: its format differs per issuer and GitHub lets repositories customise it, so parsing it would
 * trust a string the repository shapes. Only immutable ids and exact claim values decide.
 */
import { createPublicKey } from 'node:crypto';
import { assertIssuerUrl } from './jose-adapter.ts';

/** The CI systems whose token shapes pubgate knows. */
export type PublisherProvider = 'github' | 'gitlab' | 'generic';

/** GitHub Actions' OIDC issuer (github.com). */
export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

/** The claims a trusted publisher may pin; values are compared as strings, exactly. */
export interface TrustedPublisherClaims {
  /** GitHub: immutable id of the repository (a re-created repository of the same name has another). */
  readonly repository_id?: string | number;
  /** GitHub: immutable id of the owning user or organisation. */
  readonly repository_owner_id?: string | number;
  /** GitHub: `owner/repo/.github/workflows/<file>@<ref>`; the ref part may end in `*`. */
  readonly workflow_ref?: string;
  /** GitHub: the reusable workflow that ran the job, same shape as `workflow_ref`. */
  readonly job_workflow_ref?: string;
  /** Git ref (`refs/tags/v1.2.3` on GitHub, the branch or tag name on GitLab); may end in `*`. */
  readonly ref?: string;
  /** Deployment environment of the job. */
  readonly environment?: string;
  /** `github-hosted` / `gitlab-hosted` / `self-hosted`. */
  readonly runner_environment?: string;
  /** GitLab: immutable id of the project. */
  readonly project_id?: string | number;
  /** GitLab: immutable id of the group or user namespace. */
  readonly namespace_id?: string | number;
  /** GitLab: `<host>/<project path>//<ci file>@<ref>`; the ref part may end in `*`. */
  readonly ci_config_ref_uri?: string;
  readonly [claim: string]: string | number | undefined;
}

/** One trusted publisher, as written in config and the admin API. */
export interface TrustedPublisherConfig {
  /** Package patterns: `name`, `@scope/name`, `@scope/*`, or `*`. */
  readonly packages: readonly string[];
  readonly provider: PublisherProvider;
  /** Exact `iss` of the tokens, e.g. `https://token.actions.githubusercontent.com` or `https://gitlab.com`. */
  readonly issuer: string;
  /** Exact `aud` the token must carry; npm requests `npm:<registry host>`. */
  readonly audience: string;
  readonly claims: TrustedPublisherClaims;
  /** Accept jobs on self-hosted runners (default false). */
  readonly allowSelfHosted?: boolean;
  /**
   * Public keys (PEM, EC P-256) with which this publisher's builds sign DSSE provenance statements,
   * as an alternative to npm's certificate-signed provenance.
   */
  readonly buildKeys?: readonly string[];
}

/** A problem in a list of trusted publishers, with the path of the bad field. */
export interface TrustedPublisherIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** Options of `validateTrustedPublishers`. */
export interface ValidateTrustedPublishersOptions {
  /** Accept `http://127.0.0.1` / `localhost` issuers (tests only). */
  readonly allowInsecureLoopbackIssuers?: boolean;
}

/** Claims whose value may end in `*`; for workflow references only after the `@` that starts the ref. */
export const PATTERN_CLAIMS: readonly string[] = Object.freeze([
  'ref',
  'workflow_ref',
  'job_workflow_ref',
  'ci_config_ref_uri',
]);

const WORKFLOW_REF_CLAIMS: ReadonlySet<string> = new Set([
  'workflow_ref',
  'job_workflow_ref',
  'ci_config_ref_uri',
]);

/** Claims a `github` publisher may pin. */
export const GITHUB_PINNABLE_CLAIMS: readonly string[] = Object.freeze([
  'repository_id',
  'repository_owner_id',
  'repository',
  'repository_owner',
  'repository_visibility',
  'workflow_ref',
  'job_workflow_ref',
  'ref',
  'ref_type',
  'environment',
  'runner_environment',
  'event_name',
  'enterprise_id',
]);

/** Claims a `gitlab` publisher may pin. */
export const GITLAB_PINNABLE_CLAIMS: readonly string[] = Object.freeze([
  'project_id',
  'namespace_id',
  'project_path',
  'namespace_path',
  'ci_config_ref_uri',
  'ref',
  'ref_type',
  'ref_protected',
  'environment',
  'environment_protected',
  'deployment_tier',
  'pipeline_source',
  'runner_environment',
  'project_visibility',
]);

/** What each provider needs pinned at least: an immutable id and the pipeline definition. */
const REQUIRED: Readonly<Record<PublisherProvider, readonly (readonly string[])[]>> = {
  github: [['repository_id'], ['workflow_ref', 'job_workflow_ref']],
  gitlab: [['project_id'], ['ci_config_ref_uri']],
  generic: [],
};

// Registered claims are checked by the verifier itself; `sub` is never matched (see the module comment).
const RESERVED_CLAIMS: ReadonlySet<string> = new Set([
  'iss',
  'sub',
  'aud',
  'exp',
  'nbf',
  'iat',
  'jti',
  'azp',
  'nonce',
]);
const UNSAFE_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
const CLAIM_NAME = /^[A-Za-z][A-Za-z0-9_.:/-]{0,63}$/;
const PACKAGE_NAME = /^(?:@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;
const SCOPE_PATTERN = /^@[a-z0-9-~][a-z0-9-._~]*\/\*$/;
const MAX_CLAIM_VALUE = 512;

/** Every problem in `value` as a list of trusted publishers; an empty list means it is valid. */
export function validateTrustedPublishers(
  value: unknown,
  options: ValidateTrustedPublishersOptions = {},
): TrustedPublisherIssue[] {
  const issues: TrustedPublisherIssue[] = [];
  if (!Array.isArray(value)) return [{ path: [], message: 'must be a list of trusted publishers' }];
  value.forEach((entry: unknown, index) => validatePublisher(entry, [index], options, issues));
  return issues;
}

function validatePublisher(
  entry: unknown,
  path: readonly (string | number)[],
  options: ValidateTrustedPublishersOptions,
  issues: TrustedPublisherIssue[],
): void {
  const add = (field: readonly (string | number)[], message: string): void => {
    issues.push({ path: [...path, ...field], message });
  };
  if (!isRecord(entry)) return add([], 'must be an object');
  for (const key of Object.keys(entry)) {
    if (
      !['packages', 'provider', 'issuer', 'audience', 'claims', 'allowSelfHosted', 'buildKeys'].includes(key)
    )
      add([key], 'unknown field');
  }
  const { packages, provider, issuer, audience, claims, allowSelfHosted, buildKeys } = entry;
  if (buildKeys !== undefined) {
    if (!Array.isArray(buildKeys)) add(['buildKeys'], 'must be a list of PEM public keys');
    else
      buildKeys.forEach((pem: unknown, i) => {
        if (!isP256PublicKeyPem(pem)) add(['buildKeys', i], 'must be an EC P-256 public key in PEM');
      });
  }

  if (!Array.isArray(packages) || packages.length === 0)
    add(['packages'], 'must list at least one package pattern');
  else {
    packages.forEach((pattern: unknown, i) => {
      if (typeof pattern !== 'string' || !isPackagePattern(pattern)) {
        add(['packages', i], 'must be a package name, @scope/name, @scope/* or *');
      }
    });
  }

  const knownProvider = provider === 'github' || provider === 'gitlab' || provider === 'generic';
  if (!knownProvider) add(['provider'], 'must be github, gitlab or generic');

  if (typeof issuer !== 'string') add(['issuer'], 'must be the issuer URL');
  else {
    try {
      assertIssuerUrl(issuer, options.allowInsecureLoopbackIssuers === true);
    } catch {
      add(['issuer'], 'must be an https URL without credentials, query or fragment');
    }
  }

  if (typeof audience !== 'string' || audience.length === 0 || audience.length > MAX_CLAIM_VALUE) {
    add(['audience'], 'must be the exact audience the tokens carry (npm asks for npm:<registry host>)');
  }
  if (allowSelfHosted !== undefined && typeof allowSelfHosted !== 'boolean')
    add(['allowSelfHosted'], 'must be true or false');

  if (!isRecord(claims)) return add(['claims'], 'must be an object of claim names to values');
  const names = Object.keys(claims);
  if (names.length === 0) add(['claims'], 'must pin at least one claim');
  const pinnable =
    provider === 'github'
      ? GITHUB_PINNABLE_CLAIMS
      : provider === 'gitlab'
        ? GITLAB_PINNABLE_CLAIMS
        : undefined;
  for (const name of names) {
    const claimPath = ['claims', name];
    if (UNSAFE_NAMES.has(name) || !CLAIM_NAME.test(name)) {
      add(claimPath, 'is not a valid claim name');
      continue;
    }
    if (RESERVED_CLAIMS.has(name)) {
      add(
        claimPath,
        name === 'sub'
          ? 'sub is never matched; pin the discrete claims instead'
          : 'is checked by the verifier itself',
      );
      continue;
    }
    if (pinnable !== undefined && !pinnable.includes(name))
      add(claimPath, `is not a claim a ${String(provider)} publisher may pin`);
    const problem = claimValueProblem(name, claims[name]);
    if (problem !== undefined) add(claimPath, problem);
  }
  if (knownProvider) {
    for (const group of REQUIRED[provider]) {
      if (!group.some((name) => claims[name] !== undefined))
        add(['claims'], `must pin ${group.join(' or ')}`);
    }
  }
}

function claimValueProblem(name: string, value: unknown): string | undefined {
  if (typeof value === 'number')
    return Number.isSafeInteger(value) && value >= 0
      ? undefined
      : 'must be a non-negative integer or a string';
  if (typeof value !== 'string') return 'must be a string or an integer';
  if (value.length === 0 || value.length > MAX_CLAIM_VALUE)
    return `must be 1 to ${MAX_CLAIM_VALUE} characters`;
  const star = value.indexOf('*');
  if (star === -1) return undefined;
  if (!PATTERN_CLAIMS.includes(name))
    return 'a wildcard is allowed only on ref, workflow_ref, job_workflow_ref and ci_config_ref_uri';
  if (star !== value.length - 1) return 'a wildcard may only be the last character';
  if (star === 0) return 'a lone * matches everything; leave the claim out instead';
  if (WORKFLOW_REF_CLAIMS.has(name)) {
    const at = value.indexOf('@');
    if (at <= 0 || at > star) return 'the wildcard may only stand in the ref part, after the @';
  }
  return undefined;
}

/** True when `pattern` is `name`, `@scope/name`, `@scope/*` or `*`. */
export function isPackagePattern(pattern: string): boolean {
  return (
    pattern === '*' || SCOPE_PATTERN.test(pattern) || (pattern.length <= 214 && PACKAGE_NAME.test(pattern))
  );
}

/** True when the package pattern covers `packageName`. */
export function matchesPackagePattern(pattern: string, packageName: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('/*'))
    return packageName.startsWith(pattern.slice(0, -1)) && packageName.length > pattern.length - 1;
  return pattern === packageName;
}

/** The publishers whose package patterns cover `packageName`, in configuration order. */
export function publishersFor(
  packageName: string,
  publishers: readonly TrustedPublisherConfig[],
): TrustedPublisherConfig[] {
  return publishers.filter((publisher) =>
    publisher.packages.some((pattern) => matchesPackagePattern(pattern, packageName)),
  );
}

/** The token claim as text, or undefined when it is absent or not a string, safe integer or boolean. */
export function claimText(claims: Readonly<Record<string, unknown>>, name: string): string | undefined {
  if (!Object.hasOwn(claims, name)) return undefined;
  const value = claims[name];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return undefined;
}

/**
 * True when the token's claim satisfies the pinned value: exact equality, or for a pattern claim a
 * value ending in `*`, the same prefix. For workflow references the rest may not contain another `@`,
 * so `a.yml@*` cannot be met by a workflow file named `a.yml@other.yml`.
 */
export function matchesClaim(name: string, expected: string | number, actual: string | undefined): boolean {
  if (actual === undefined) return false;
  const pinned = String(expected);
  if (!PATTERN_CLAIMS.includes(name) || !pinned.endsWith('*')) return actual === pinned;
  const prefix = pinned.slice(0, -1);
  if (!actual.startsWith(prefix)) return false;
  return !WORKFLOW_REF_CLAIMS.has(name) || !actual.slice(prefix.length).includes('@');
}

function isP256PublicKeyPem(value: unknown): boolean {
  if (typeof value !== 'string' || value.length > 4096 || !value.includes('-----BEGIN PUBLIC KEY-----'))
    return false;
  try {
    const key = createPublicKey(value);
    return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
  } catch {
    return false;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
