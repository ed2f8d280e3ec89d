/**
 * The npm registry protocol under `/npm/`: reads proxied from the registry behind the gate,
 * publishes and staged publishes held for approval, and npm's web-auth handshake
 * (`401` + `www-authenticate: OTP` + `{authUrl, doneUrl}`, DESIGN.md flows).
 */
import type { Context } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import { AuthError, NotFoundError, PubgateError } from '../errors/index.ts';
import {
  FINAL_STATES,
  maxPublishBodyBytes,
  RELEASE_STATES,
  ReleaseService,
  sha512HexOf,
  validatePublishDocument,
  type Release,
} from '../release/index.ts';
import { principalCovers, REQUEST_KINDS, type Principal } from '../tokens/index.ts';
import { readBody } from './body.ts';
import { authenticate, requireKind } from './auth.ts';
import { handleOidcExchange } from './oidc-routes.ts';
import { toNpmAttestationsResponse, toNpmKeysResponse } from '../signing/index.ts';
import { errorBody, statusFor } from './error-map.ts';
import { parseNpmPath } from './npm-path.ts';
import type { WebDeps } from './deps.ts';

type Ctx = Context<{ Bindings: HttpBindings }>;

/** States a staged release can be listed in: every state that is not final. */
const PENDING_STATES = RELEASE_STATES.filter((state) => !FINAL_STATES.has(state));

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Answers an error as JSON with its mapped status. */
export function sendError(c: Ctx, error: unknown, deps: WebDeps): Response {
  const status = statusFor(error);
  if (status >= 500 && !(error instanceof PubgateError))
    deps.logger.error(
      {
        err:
          error instanceof Error
            ? { name: error.name, message: error.message, stack: error.stack }
            : String(error),
      },
      'internal error',
    );
  return c.json(errorBody(error), status as 400);
}

/** Who asks: a person's credential (`token`, who must also step up), a CI workload, or a bot. */
function requesterOf(principal: Principal): { kind: string; id: string } {
  const kind = principal.kind === 'build' ? 'workload' : principal.kind === 'bot' ? 'bot' : 'token';
  return { kind, id: principal.identity };
}

/**
 * Install and publish intent never mix: a credential that can request or publish reads only the
 * package documents of its own packages (npm publish checks existing versions) and never installs;
 * installing takes a `read` credential (or anonymous reads).
 */
function assertReadIntent(principal: Principal | undefined, name: string, tarball: boolean): void {
  if (principal === undefined || principal.kind === 'read') return;
  if (!tarball && REQUEST_KINDS.includes(principal.kind) && principalCovers(principal, name)) return;
  throw new AuthError(
    'ERR_AUTH_INTENT',
    `a ${principal.kind} credential cannot ${tarball ? 'install packages' : 'read this package'}; use a read credential for installs`,
  );
}

function originOf(c: Ctx): { ip: string; userAgent: string } {
  return {
    ip: c.env.incoming.socket.remoteAddress ?? 'unknown',
    userAgent: c.req.header('user-agent') ?? '',
  };
}

/** For a CI workload: its claims for approvers, and the people who may not approve (who triggered the run). */
function workloadOf(principal: Principal): {
  workload?: Readonly<Record<string, string>>;
  excluded?: string[];
} {
  if (principal.claims === null) return {};
  const excluded = [principal.claims['actor'], principal.claims['triggering_actor']].filter(
    (x): x is string => x !== undefined,
  );
  return { workload: principal.claims, excluded };
}

function authorizeFor(principal: Principal): (name: string) => void {
  return (name) => {
    if (!principalCovers(principal, name))
      throw new AuthError('ERR_AUTH_SCOPE', `this credential may not release ${name}`);
  };
}

/** The npm stage item shape (npm's `logStageItem`), plus the gate's state. */
function toStageItem(release: Release): Record<string, unknown> {
  return {
    id: release.id,
    packageName: release.package,
    version: release.version,
    tag: release.tag,
    createdAt: release.createdAt,
    actor: release.requester.id,
    actorType: release.requester.kind,
    shasum: release.shasum,
    integrity: release.integrity,
    state: release.state,
    ...(release.reason === null ? {} : { reason: release.reason }),
  };
}

async function visibleRelease(deps: WebDeps, principal: Principal, id: string): Promise<Release> {
  if (!UUID.test(id)) throw new NotFoundError('ERR_RELEASE_NOT_FOUND', 'no such release');
  const release = await deps.releases.get(id);
  // Releases of packages outside the caller's scope do not exist for it.
  if (!principalCovers(principal, release.package))
    throw new NotFoundError('ERR_RELEASE_NOT_FOUND', 'no such release');
  return release;
}

/** Handles every request below `/npm/`. */
export async function handleNpm(c: Ctx, deps: WebDeps): Promise<Response> {
  const rawPath = new URL(c.req.url).pathname.replace(/^\/npm(?=\/|$)/, '');
  const method = c.req.method;
  try {
    const path = parseNpmPath(rawPath);
    if (path === undefined) throw new NotFoundError('ERR_NOT_FOUND', 'not found');
    if (path.kind === 'special') return await handleSpecial(c, deps, path.segments, method);
    const { name, rest } = path;
    if (method === 'GET' || method === 'HEAD') {
      const principal = await authenticate(c, deps, false);
      const tarball = rest.length === 2 && rest[0] === '-';
      assertReadIntent(principal, name, tarball);
      if (rest.length === 0) return await sendPackument(c, deps, name);
      if (tarball) return await sendTarball(c, deps, name, rest[1]!);
      throw new NotFoundError('ERR_NOT_FOUND', 'not found');
    }
    if (method === 'PUT' && rest.length === 0) return await handlePublish(c, deps, name);
    if (method === 'PUT' || method === 'DELETE') {
      throw new PubgateError(
        'ERR_METHOD_NOT_ALLOWED',
        'the gate accepts publishes only; unpublish, deprecate and dist-tag changes are not supported through it',
      );
    }
    throw new NotFoundError('ERR_NOT_FOUND', 'not found');
  } catch (error) {
    return sendError(c, error, deps);
  }
}

async function sendPackument(c: Ctx, deps: WebDeps, name: string): Promise<Response> {
  const packument = await deps.registry.getPackument(name, deps.baseUrl());
  if (packument === undefined) return c.json({ error: 'Not found', code: 'ERR_NOT_FOUND' }, 404);
  await deps.attestations.addRegistrySignatures(name, packument);
  return c.json(packument);
}

async function sendTarball(c: Ctx, deps: WebDeps, name: string, file: string): Promise<Response> {
  if (!file.endsWith('.tgz') || file.includes('/')) throw new NotFoundError('ERR_NOT_FOUND', 'not found');
  const tarball = await deps.registry.getTarball(name, file);
  if (tarball === undefined) return c.json({ error: 'Not found', code: 'ERR_NOT_FOUND' }, 404);
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
  if (tarball.size !== undefined) headers['content-length'] = String(tarball.size);
  return new Response(tarball.body as ConstructorParameters<typeof Response>[0], { status: 200, headers });
}

async function handlePublish(c: Ctx, deps: WebDeps, name: string): Promise<Response> {
  const principal = requireKind(await authenticate(c, deps, true), [...REQUEST_KINDS, 'jit']);
  const body = await readBody(c.env.incoming, maxPublishBodyBytes(deps.limits));
  if (principal.kind === 'jit') return publishWithJit(c, deps, name, body);
  const otp = c.req.header('npm-otp');
  if (otp !== undefined) {
    // npm's retry after the web-auth poll returned our completion token: succeed only if that
    // exact digest was really published.
    const validated = await validatePublishDocument(body, { urlName: name, limits: deps.limits });
    const release = await deps.releases.consumeCompletionToken(otp, validated.integrity);
    if (release === undefined)
      throw new AuthError(
        'ERR_PUBLISH_OTP_INVALID',
        'this one-time token does not belong to a finished release with these bytes',
      );
    if (release.state !== 'published') {
      throw new AuthError(
        `ERR_RELEASE_${release.state.toUpperCase()}`,
        `${release.package}@${release.version} was not published: release ${release.id} was ${release.state}${release.reason === null ? '' : ` (${release.reason})`}`,
      );
    }
    return c.json({ ok: true, id: release.package, release: release.id }, 200);
  }
  const release = await deps.releases.submit({
    urlName: name,
    body,
    channel: 'publish',
    requester: requesterOf(principal),
    authorize: authorizeFor(principal),
    origin: originOf(c),
    ...workloadOf(principal),
  });
  const base = deps.baseUrl();
  // 401 + OTP: npm (on a TTY) prints authUrl and polls doneUrl; never a 2xx before the publish happened.
  c.header('www-authenticate', 'OTP');
  return c.json(
    {
      error: `[ERR_RELEASE_HELD] ${release.package}@${release.version} is held for approval as release ${release.id}. It is published when approved; follow the link, or run \`pubgate release wait ${release.id}\`.`,
      code: 'ERR_RELEASE_HELD',
      release: release.id,
      authUrl: `${base}/npm/-/pubgate/auth/${release.id}`,
      doneUrl: `${base}/npm/-/pubgate/done/${release.id}`,
    },
    401,
  );
}

/**
 * A pipeline publishing an approved release itself with its just-in-time credential: the bytes
 * must be the approved ones, the credential is used once (atomically), and the answer is a 2xx only
 * once the package is really published.
 */
async function publishWithJit(c: Ctx, deps: WebDeps, name: string, body: Buffer): Promise<Response> {
  const validated = await validatePublishDocument(body, { urlName: name, limits: deps.limits });
  const token = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
  await deps.lockdown.assertOpen({ package: validated.name });
  const principal = await deps.credentials.consumeJit(token, {
    package: validated.name,
    version: validated.version,
    integrity: validated.integrity,
  });
  const releaseId = principal.binding?.release ?? '';
  const release = await deps.releases.publishForJit(releaseId, `jit:${principal.identity}`);
  if (release.state !== 'published')
    throw new PubgateError(
      'ERR_UPSTREAM_PUBLISH_FAILED',
      `the publish of release ${release.id} ${release.state}: ${release.reason ?? ''}`,
    );
  return c.json({ ok: true, id: release.package, release: release.id }, 200);
}

async function handleSpecial(
  c: Ctx,
  deps: WebDeps,
  segments: readonly string[],
  method: string,
): Promise<Response> {
  const [head, ...rest] = segments;
  if (head === 'ping' && method === 'GET') return c.json({});
  if (head === 'whoami' && method === 'GET') {
    const principal = requireKind(await authenticate(c, deps, true), ['request', 'read']);
    return c.json({ username: principal.identity });
  }
  if (head === 'stage') return handleStage(c, deps, rest, method);
  // npm's OIDC trusted-publishing exchange and the visibility read that follows it.
  if (
    head === 'npm' &&
    rest[0] === 'v1' &&
    rest[1] === 'oidc' &&
    rest[2] === 'token' &&
    rest[3] === 'exchange' &&
    rest[4] === 'package' &&
    method === 'POST'
  ) {
    const name = rest.length === 6 ? rest[5]! : rest.length === 7 ? `${rest[5]}/${rest[6]}` : undefined;
    if (name === undefined) throw new NotFoundError('ERR_NOT_FOUND', 'not found');
    return handleOidcExchange(c, deps, encodeURIComponent(name));
  }
  // npm's registry keys and attestations, in npm's shapes.
  if (head === 'npm' && rest[0] === 'v1' && rest[1] === 'keys' && rest.length === 2 && method === 'GET') {
    const own = toNpmKeysResponse(await deps.attestations.keys.listKeys());
    // The upstream's keys too, so signatures it made (npmjs signs every version) verify through the gate.
    const ids = new Set(own.keys.map((k) => k.keyid));
    const upstream = ((await deps.registry.npmSigningKeys?.()) ?? []).filter(
      (k) => !ids.has(String(k['keyid'])),
    );
    return c.json({ keys: [...own.keys, ...upstream] });
  }
  if (
    head === 'npm' &&
    rest[0] === 'v1' &&
    rest[1] === 'attestations' &&
    (rest.length === 3 || rest.length === 4) &&
    method === 'GET'
  ) {
    const spec = rest.slice(2).join('/');
    const at = spec.lastIndexOf('@');
    if (at <= 0) throw new NotFoundError('ERR_NOT_FOUND', 'use /-/npm/v1/attestations/<name>@<version>');
    const found = await deps.attestations.forVersion(spec.slice(0, at), spec.slice(at + 1));
    if (found === undefined)
      throw new NotFoundError('ERR_ATTESTATION_NOT_FOUND', `no attestation for ${spec}`);
    // The gate's release attestation first, then the build's provenance as it arrived.
    return c.json(
      toNpmAttestationsResponse(
        found.buildProvenance === undefined ? [found.bundle] : [found.bundle, found.buildProvenance],
      ),
    );
  }
  if (head === 'package' && rest.at(-1) === 'visibility' && method === 'GET') {
    // Provenance is the gate's own signed attestation; npm's Sigstore provenance needs the public-good
    // services, which an offline gate does not reach, so the gate reports packages as not public here.
    return c.json({ public: false });
  }
  if (head === 'pubgate' && rest[0] === 'done' && rest.length === 2 && method === 'GET')
    return handleDone(c, deps, rest[1]!);
  if (head === 'pubgate' && rest[0] === 'auth' && rest.length === 2 && method === 'GET')
    return handleAuthPage(c, deps, rest[1]!);
  throw new NotFoundError('ERR_NOT_FOUND', 'not found');
}

async function handleStage(
  c: Ctx,
  deps: WebDeps,
  rest: readonly string[],
  method: string,
): Promise<Response> {
  if (rest[0] === 'package' && method === 'POST') {
    const name =
      rest.length === 2
        ? rest[1]!
        : rest.length === 3 && rest[1]!.startsWith('@')
          ? `${rest[1]}/${rest[2]}`
          : undefined;
    if (name === undefined) throw new NotFoundError('ERR_NOT_FOUND', 'not found');
    const principal = requireKind(await authenticate(c, deps, true), REQUEST_KINDS);
    const body = await readBody(c.env.incoming, maxPublishBodyBytes(deps.limits));
    const release = await deps.releases.submit({
      urlName: name,
      body,
      channel: 'stage',
      requester: requesterOf(principal),
      authorize: authorizeFor(principal),
      origin: originOf(c),
      ...workloadOf(principal),
    });
    // Staging did happen (nothing was published), so a 2xx is honest here; npm prints the stage id.
    return c.json({ stageId: release.id, state: release.state }, 201);
  }
  const principal = requireKind(await authenticate(c, deps, true), [...REQUEST_KINDS, 'test']);
  if (rest.length === 0 && method === 'GET') {
    const page = Math.max(0, Number(c.req.query('page') ?? 0) || 0);
    const perPage = Math.min(100, Math.max(1, Number(c.req.query('perPage') ?? 100) || 100));
    const pkg = c.req.query('package');
    const all = (
      await deps.releases.list({
        ...(pkg === undefined ? {} : { package: pkg }),
        states: PENDING_STATES,
        limit: 1000,
      })
    ).filter((r) => principalCovers(principal, r.package));
    return c.json({
      items: all.slice(page * perPage, (page + 1) * perPage).map(toStageItem),
      total: all.length,
    });
  }
  const id = rest[0]!;
  if (rest.length === 1 && method === 'GET')
    return c.json(toStageItem(await visibleRelease(deps, principal, id)));
  if (rest.length === 2 && rest[1] === 'tarball' && method === 'GET') {
    const release = await visibleRelease(deps, principal, id);
    const bytes = await deps.blobs.get(sha512HexOf(release.integrity));
    return new Response(new Uint8Array(bytes), {
      status: 200,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
    });
  }
  if (rest.length === 2 && rest[1] === 'approve' && method === 'POST') {
    await visibleRelease(deps, principal, id);
    throw new AuthError(
      'ERR_APPROVAL_STEP_UP_REQUIRED',
      'releases are approved by a quorum of approvers with a passkey step-up in the pubgate web UI; a token cannot approve',
    );
  }
  if (rest.length === 1 && method === 'DELETE') {
    const release = await visibleRelease(deps, principal, id);
    const withdrawn = await deps.releases.withdraw(release.id, requesterOf(principal));
    return c.json(toStageItem(withdrawn));
  }
  throw new NotFoundError('ERR_NOT_FOUND', 'not found');
}

async function handleDone(c: Ctx, deps: WebDeps, id: string): Promise<Response> {
  const principal = requireKind(await authenticate(c, deps, true), REQUEST_KINDS);
  const release = await visibleRelease(deps, principal, id);
  if (release.requester.id !== principal.identity)
    throw new AuthError('ERR_AUTH_FORBIDDEN', 'only the requester polls its release');
  if (ReleaseService.isFinal(release)) {
    const token = await deps.releases.issueCompletionToken(release.id);
    if (token !== undefined) return c.json({ token });
  }
  c.header('retry-after', '2');
  return c.json({ state: release.state }, 202);
}

async function handleAuthPage(c: Ctx, deps: WebDeps, id: string): Promise<Response> {
  if (!UUID.test(id)) throw new NotFoundError('ERR_RELEASE_NOT_FOUND', 'no such release');
  const release = await deps.releases.get(id);
  // npm's authUrl: the requester signs in and authenticates its request with a passkey there.
  return c.redirect(`/ui/releases/${release.id}`, 302);
}
