/**
 * npm trusted publishing against the gate: `POST /-/npm/v1/oidc/token/exchange/package/:pkg`. The
 * stock npm CLI sends its CI ID token there (at the origin root, dropping any registry path) and
 * receives a build credential: at most 15 minutes, scoped to that one package, able to stage it and
 * nothing else.
 */
import type { Context } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import { AuthError } from '../errors/index.ts';
import { verifyWorkloadToken, type WorkloadIdentity } from '../identity/index.ts';
import { assertValidPackageName, buildKeyIds } from '../release/index.ts';
import type { WebDeps } from './deps.ts';

type Ctx = Context<{ Bindings: HttpBindings }>;

/** The claims a build credential keeps (shown to approvers; the actor is excluded from approving). */
function workloadClaims(identity: WorkloadIdentity): Record<string, string> {
  const pick: Record<string, string | undefined> = {
    provider: identity.provider,
    issuer: identity.issuer,
    repository: identity.repository,
    repository_id: identity.repositoryId,
    owner_id: identity.ownerId,
    workflow_ref: identity.workflowRef,
    ref: identity.ref,
    environment: identity.environment,
    runner_environment: identity.runnerEnvironment,
    event_name: identity.eventName,
    actor: identity.actor,
    triggering_actor: identity.claims['triggering_actor'],
    sha: identity.sha,
    // The build keys of the publisher this token matched: only they may sign the run's provenance.
    build_keys: buildKeyIds(identity.publisher) || undefined,
  };
  return Object.fromEntries(Object.entries(pick).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Exchanges a CI ID token for a build credential of one package. */
export async function handleOidcExchange(c: Ctx, deps: WebDeps, escapedName: string): Promise<Response> {
  const match = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '');
  if (match === null)
    throw new AuthError('ERR_AUTH_MISSING', 'the exchange needs the CI ID token as a Bearer credential');
  let name: string;
  try {
    name = decodeURIComponent(escapedName);
  } catch {
    throw new AuthError('ERR_OIDC_MALFORMED', 'the package name in the URL is not valid');
  }
  assertValidPackageName(name);
  const identity = await verifyWorkloadToken(match[1]!, {
    packageName: name,
    publishers: await deps.publishers.active(),
    keys: deps.jwks,
    jti: deps.jtiStore,
    maxLifetimeSeconds: deps.oidcMaxLifetimeSeconds,
  });
  const who = `${identity.provider}:${identity.repository ?? identity.subject ?? 'workload'}`;
  await deps.lockdown.assertOpen({ package: name, identity: who });
  const ttl = Math.max(
    30,
    Math.min(deps.buildCredentialTtlSeconds, Math.floor((identity.expiresAt.getTime() - Date.now()) / 1000)),
  );
  const claims = workloadClaims(identity);
  const issued = await deps.store.transaction(async (tx) => {
    const created = await deps.credentials.issueIn(tx, {
      kind: 'build',
      identity: who,
      scope: [name],
      ttlSeconds: ttl,
      role: 'build',
      claims,
    });
    await deps.audit.appendIn(tx, {
      actor: `oidc:${who}`,
      action: 'oidc.exchanged',
      subject: `credential:${created.id}`,
      data: { package: name, expiresAt: created.expiresAt, ...claims },
    });
    return created;
  });
  return c.json({ token: issued.token, expires: issued.expiresAt });
}
