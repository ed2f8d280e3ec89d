/**
 * Rules that judge a CI job as a whole (GitHub Actions or GitLab CI): long-lived credentials in a
 * publish path, publishes that bypass the gate, identity separation, caches in publish jobs,
 * secret sinks, download-and-execute, and provenance.
 */
import { toDisplayRegistry } from './registry.ts';
import type { Activity } from './shell-analyzer.ts';
import type { AuditContext } from './audit-context.ts';
import type { Severity, SourceLocation, ViaLocation } from './types.ts';

/** A credential the job holds. */
export interface HeldCredential {
  readonly name: string;
  readonly location: SourceLocation;
  readonly via: readonly ViaLocation[];
  /** How it got there: `env NODE_AUTH_TOKEN`, `input password`, `script`. */
  readonly how: string;
}

/** A cache the job restores. */
export interface RestoredCache {
  readonly location: SourceLocation;
  readonly detail: string;
}

/** What the analysers learned about one job. */
export interface JobFacts {
  readonly platform: 'github' | 'gitlab';
  readonly name: string;
  readonly location: SourceLocation;
  /** Where the job gets an OIDC identity (`id-token: write`, `id_tokens:`), if it does. */
  readonly idToken: SourceLocation | undefined;
  readonly credentials: readonly HeldCredential[];
  readonly activities: readonly Activity[];
  readonly caches: readonly RestoredCache[];
}

/** The verdict other rules weigh with. */
export interface JobVerdict {
  /** The job publishes to the gate, a protected registry, or a registry it cannot resolve. */
  readonly publishes: boolean;
  /** It publishes or holds a registry credential: its identity is the release identity. */
  readonly sensitive: boolean;
}

const RELEASE_NAME = /(^|[^a-z])(release|publish|deploy|npm|pypi|rubygems|crates)([^a-z]|$)/i;

/** Applies the job-level rules and returns the verdict. */
export function evaluateJob(job: JobFacts, ctx: AuditContext): JobVerdict {
  const { findings } = ctx;
  const publishes = job.activities.filter(
    (a): a is Extract<Activity, { kind: 'publish' }> => a.kind === 'publish' && a.target !== 'other',
  );
  const otherPublishes = job.activities.some((a) => a.kind === 'publish' && a.target === 'other');
  const credentials: HeldCredential[] = [
    ...job.credentials,
    ...job.activities.flatMap((a) =>
      a.kind === 'credential-ref' ? [{ name: a.name, location: a.location, via: a.via, how: 'script' }] : [],
    ),
  ];
  const isPublishJob = publishes.length > 0;
  // A job named "release" that holds an npm/PyPI token publishes through something we cannot see (a custom action, a binary).
  const likelyPublish =
    !isPublishJob && !otherPublishes && credentials.length > 0 && RELEASE_NAME.test(job.name);
  const sensitive = isPublishJob || likelyPublish;
  const where = `job "${job.name}"`;

  if (sensitive) {
    for (const cred of credentials) {
      const hybrid = job.idToken !== undefined;
      const message = hybrid
        ? `${where} keeps the long-lived credential ${cred.name} (${cred.how}) alongside its OIDC identity: anyone running code in the job can publish with it; trusted publishing needs no token`
        : isPublishJob
          ? `${where} publishes with the long-lived credential ${cred.name} (${cred.how})`
          : `${where} holds the long-lived registry credential ${cred.name} (${cred.how}) and looks like a release job`;
      findings.add('long-lived-registry-credential', cred.location, message, { via: cred.via });
    }
  }

  for (const p of publishes) {
    if (p.target === 'protected') {
      findings.add(
        'publish-bypasses-gate',
        p.location,
        `${p.tool} publishes to ${toDisplayRegistry(p.registry.url)} (${p.registry.source}) without going through the gate`,
        { via: p.via },
      );
    }
  }

  if (sensitive) {
    const risky = job.activities.filter(
      (a) => a.kind === 'install' || a.kind === 'build' || a.kind === 'test',
    );
    const first = risky[0];
    if (first !== undefined) {
      const kinds = [
        ...new Set(
          risky.map((a) =>
            a.kind === 'install'
              ? 'installs dependencies with lifecycle scripts'
              : a.kind === 'build'
                ? 'builds'
                : 'tests',
          ),
        ),
      ];
      const viaHook = risky.some((a) =>
        a.via.some((v) =>
          /script "(prepublishOnly|prepack|prepare|prepublish|preversion|version|postversion)"/.test(v.note),
        ),
      );
      const oidc = job.platform === 'github' ? 'id-token: write' : 'an OIDC ID token';
      const identity =
        job.idToken !== undefined && credentials.length > 0
          ? `${oidc} and a registry credential`
          : job.idToken !== undefined
            ? oidc
            : credentials.length > 0
              ? `the credential ${credentials[0]?.name ?? ''}`
              : 'the publish identity';
      const severity: Severity = risky.some((a) => a.kind === 'install') || viaHook ? 'high' : 'medium';
      const detail =
        first.kind === 'install' || first.kind === 'build' || first.kind === 'test' ? first.detail : '';
      findings.add(
        'publish-identity-not-separated',
        first.location,
        `${where} holds ${identity} and also ${kinds.join(', ')}${viaHook ? ' (through a lifecycle hook)' : ''}: ${detail}`,
        { severity, via: first.via },
      );
    }
    for (const cache of job.caches) {
      findings.add(
        'cache-in-publish-job',
        cache.location,
        `${where} publishes but restores a cache (${cache.detail})`,
      );
    }
  }

  for (const a of job.activities) {
    if (a.kind === 'remote-exec') {
      const severity: Severity = a.lifecycle || sensitive || job.idToken !== undefined ? 'high' : 'medium';
      findings.add(
        'download-and-execute',
        a.location,
        `${a.detail}${a.lifecycle ? ' (install-time lifecycle script)' : ''} in ${where}`,
        { severity, via: a.via },
      );
    } else if (a.kind === 'secret-sink') {
      findings.add('secret-exposure', a.location, toSinkMessage(a.name, a.sink), {
        severity: a.sink === 'file' || a.sink === 'github-output' ? 'medium' : 'high',
        via: a.via,
      });
    }
  }

  const gatedOrProtected = publishes.filter((p) => p.target === 'protected' || p.target === 'gate');
  const firstPublish = gatedOrProtected[0];
  if (firstPublish !== undefined) {
    if (job.idToken === undefined) {
      const how = job.platform === 'github' ? 'no `id-token: write`' : 'no `id_tokens:`';
      findings.add(
        'publish-without-provenance',
        firstPublish.location,
        `${where} publishes with ${how}: no trusted publishing and no provenance`,
        { via: firstPublish.via },
      );
    } else {
      for (const p of gatedOrProtected) {
        if (p.provenance === false)
          findings.add('publish-without-provenance', p.location, `${p.tool} turns provenance off`, {
            via: p.via,
          });
      }
    }
  }
  return { publishes: isPublishJob, sensitive };
}

/** The message for a secret written somewhere it should not be. */
export function toSinkMessage(name: string, sink: 'log' | 'file' | 'github-env' | 'github-output'): string {
  switch (sink) {
    case 'log':
      return `secret ${name} is printed to the job log`;
    case 'file':
      return `secret ${name} is written to a file`;
    case 'github-env':
      return `secret ${name} is exported through GITHUB_ENV to every later step`;
    case 'github-output':
      return `secret ${name} is written to GITHUB_OUTPUT`;
  }
}
