/**
 * The web UI and its JSON API under /ui. Sessions are HttpOnly, SameSite=Strict cookies (Secure
 * behind https); every state change needs the session's CSRF token in `x-csrf-token` and a
 * same-origin `Origin`; sign-in, enrolment and step-ups are rate limited; every decision is a fresh
 * passkey assertion, never the session alone.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Context, Hono } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import type { HttpBindings } from '@hono/node-server';
import { AuthError, NotFoundError, PubgateError, ValidationError } from '../errors/index.ts';
import type { Person, Role } from '../identity/index.ts';
import { ReleaseService } from '../release/index.ts';
import type { WebDeps } from './deps.ts';
import { sendError } from './npm-routes.ts';
import { RateLimiter } from './rate-limit.ts';
import {
  accountPage,
  adminPage,
  auditPage,
  enrolPage,
  loginPage,
  peoplePage,
  releasePage,
  releasesPage,
} from './ui/pages.ts';
import { assertLockTarget } from '../lockdown/index.ts';

type Ctx = Context<{ Bindings: HttpBindings }>;
type App = Hono<{ Bindings: HttpBindings }>;

const COOKIE = 'pubgate_session';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const require = createRequire(import.meta.url);
/** The UMD bundle of @simplewebauthn/browser (not in its exports map, so found from its main entry). */
function browserBundlePath(): string {
  const main = require.resolve('@simplewebauthn/browser');
  const marker = `${join('@simplewebauthn', 'browser')}`;
  return join(main.slice(0, main.lastIndexOf(marker) + marker.length), 'dist', 'bundle', 'index.umd.min.js');
}
const ASSETS: Readonly<Record<string, { type: string; body: string }>> = {
  'app.js': {
    type: 'text/javascript; charset=utf-8',
    body: readFileSync(new URL('./ui/app.js', import.meta.url), 'utf8'),
  },
  'app.css': {
    type: 'text/css; charset=utf-8',
    body: readFileSync(new URL('./ui/app.css', import.meta.url), 'utf8'),
  },
  'webauthn.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(browserBundlePath(), 'utf8') },
};
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** A path parameter (always present on the routes that read it). */
function param(c: Ctx, name: string): string {
  const value = c.req.param(name);
  if (value === undefined) throw new NotFoundError('ERR_NOT_FOUND', 'not found');
  return value;
}

interface Signed {
  readonly person: Person;
  readonly csrf: string;
}

/** Adds the /ui routes to the app. */
export function registerUiRoutes(app: App, deps: WebDeps): void {
  const ceremonies = new RateLimiter(30, 60_000);
  const secure = (): boolean => deps.baseUrl().startsWith('https://');

  const clientKey = (c: Ctx): string => c.env.incoming.socket.remoteAddress ?? 'unknown';

  async function signedIn(c: Ctx): Promise<Signed | undefined> {
    const session = await deps.sessions.resolve(getCookie(c, COOKIE));
    if (session === undefined) return undefined;
    const person = await deps.people.get(session.userId).catch(() => undefined);
    if (person === undefined || person.disabledAt !== null) return undefined;
    return { person, csrf: session.csrf };
  }

  /** For state changes: a session, its CSRF token, and a same-origin request. */
  async function requireSigned(c: Ctx): Promise<Signed> {
    assertSameOrigin(c);
    const signed = await signedIn(c);
    if (signed === undefined) throw new AuthError('ERR_AUTH_SESSION', 'sign in first');
    if (c.req.header('x-csrf-token') !== signed.csrf)
      throw new AuthError('ERR_CSRF', 'missing or wrong CSRF token');
    return signed;
  }

  function assertSameOrigin(c: Ctx): void {
    const origin = c.req.header('origin');
    if (origin !== deps.people.rp.origin) throw new AuthError('ERR_CSRF', 'cross-origin request refused');
  }

  function requireRole(person: Person, roles: readonly Role[]): void {
    if (!person.roles.some((r) => roles.includes(r)))
      throw new AuthError('ERR_AUTH_FORBIDDEN', `needs one of: ${roles.join(', ')}`);
  }

  async function json(c: Ctx): Promise<Record<string, unknown>> {
    const text = await c.req.text();
    if (text.length > 64 * 1024) throw new ValidationError('ERR_REQUEST_TOO_LARGE', 'request too large');
    if (text === '') return {};
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw new Error('not an object');
      return value as Record<string, unknown>;
    } catch {
      throw new ValidationError('ERR_REQUEST_BAD_JSON', 'the request body is not a JSON object');
    }
  }

  async function startSession(c: Ctx, person: Person): Promise<void> {
    const { cookie } = await deps.sessions.create(person.id);
    setCookie(c, COOKIE, cookie, { httpOnly: true, sameSite: 'Strict', secure: secure(), path: '/' });
    await deps.audit.append({
      actor: `user:${person.name}`,
      action: 'auth.signed_in',
      subject: `user:${person.id}`,
      data: { ip: clientKey(c) },
    });
  }

  const page = (c: Ctx, html: string, status = 200): Response => {
    c.header('content-security-policy', CSP);
    c.header('x-frame-options', 'DENY');
    c.header('referrer-policy', 'no-referrer');
    c.header('cache-control', 'no-store');
    return c.html(html, status as 200);
  };

  const guarded =
    (handler: (c: Ctx) => Promise<Response>) =>
    async (c: Ctx): Promise<Response> => {
      try {
        return await handler(c);
      } catch (error) {
        if (
          error instanceof PubgateError &&
          (error.code.startsWith('ERR_AUTH_') ||
            error.code.startsWith('ERR_WEBAUTHN_') ||
            error.code.startsWith('ERR_APPROVAL_') ||
            error.code === 'ERR_CSRF')
        ) {
          await deps.audit
            .append({
              actor: 'web',
              action: 'auth.refused',
              subject: `ip:${clientKey(c)}`,
              data: { code: error.code, path: new URL(c.req.url).pathname },
            })
            .catch(() => undefined);
        }
        return sendError(c, error, deps);
      }
    };

  app.get('/ui/assets/:file', (c) => {
    const asset = ASSETS[param(c, 'file')];
    if (asset === undefined) return c.notFound();
    return c.body(asset.body, 200, {
      'content-type': asset.type,
      'cache-control': 'public, max-age=300',
      'x-content-type-options': 'nosniff',
    });
  });
  app.get('/ui', (c) => c.redirect('/ui/releases'));
  app.get('/ui/login', (c) => page(c, loginPage()));
  app.get(
    '/ui/enroll/:token',
    guarded(async (c) => {
      const token = param(c, 'token');
      const row = await deps.people.describeEnrolment(token);
      return page(c, enrolPage(token, row.name, row.roles));
    }),
  );

  const withPage =
    (render: (c: Ctx, signed: Signed) => Promise<string>) =>
    async (c: Ctx): Promise<Response> => {
      const signed = await signedIn(c);
      if (signed === undefined)
        return c.redirect(`/ui/login?next=${encodeURIComponent(new URL(c.req.url).pathname)}`);
      try {
        return page(c, await render(c, signed));
      } catch (error) {
        return sendError(c, error, deps);
      }
    };

  app.get(
    '/ui/releases',
    withPage(async (_c, s) => {
      const pending = await deps.releases.list({ state: 'awaiting_approval', limit: 200 });
      const recent = (await deps.releases.list({ limit: 50 })).filter(
        (r) => ReleaseService.isFinal(r) || r.state !== 'awaiting_approval',
      );
      return releasesPage(s.person, s.csrf, pending, recent);
    }),
  );
  app.get(
    '/ui/releases/:id',
    withPage(async (c, s) => {
      const id = param(c, 'id');
      if (!UUID.test(id)) throw new NotFoundError('ERR_RELEASE_NOT_FOUND', 'no such release');
      const status = await deps.approvals.status(id);
      let mayApprove: string | undefined;
      try {
        deps.approvals.assertMayApprove(s.person, status.release);
      } catch (error) {
        mayApprove = error instanceof PubgateError ? error.message : 'not allowed';
      }
      let mayReject = true;
      try {
        deps.approvals.assertMayReject(s.person, status.release);
      } catch {
        mayReject = false;
      }
      const evidence = await deps.store.db
        .selectFrom('release_evidence')
        .selectAll()
        .where('release_id', '=', id)
        .orderBy('at')
        .execute();
      return releasePage(s.person, s.csrf, status, {
        mayApprove,
        mayReject,
        isRequester: status.release.requester.id === s.person.name,
        evidence: evidence.map((e) => ({
          kind: e.kind,
          name: e.name,
          identity: e.identity,
          at: e.at,
          summary: JSON.parse(e.summary) as Record<string, unknown>,
        })),
      });
    }),
  );
  app.get(
    '/ui/account',
    withPage(async (_c, s) => accountPage(s.person, s.csrf, await deps.people.listPasskeys(s.person.id))),
  );
  app.get(
    '/ui/people',
    withPage(async (_c, s) => {
      requireRole(s.person, ['admin']);
      return peoplePage(s.person, s.csrf, await deps.people.list());
    }),
  );
  app.get(
    '/ui/audit',
    withPage(async (_c, s) => {
      requireRole(s.person, ['admin', 'auditor']);
      return auditPage(s.person, s.csrf, await deps.audit.recent(200));
    }),
  );

  // --- JSON API ---------------------------------------------------------------------------
  app.post(
    '/ui/api/login/options',
    guarded(async (c) => {
      assertSameOrigin(c);
      ceremonies.hit(`login:${clientKey(c)}`);
      return c.json(await deps.people.loginOptions());
    }),
  );
  app.post(
    '/ui/api/login/verify',
    guarded(async (c) => {
      assertSameOrigin(c);
      ceremonies.hit(`login:${clientKey(c)}`);
      const body = await json(c);
      const { person } = await deps.people.verifyAssertion(body['response'], ['login']);
      await startSession(c, person);
      return c.json({ ok: true, name: person.name });
    }),
  );
  app.post(
    '/ui/api/logout',
    guarded(async (c) => {
      await requireSigned(c);
      await deps.sessions.destroy(getCookie(c, COOKIE));
      deleteCookie(c, COOKIE, { path: '/' });
      return c.json({ ok: true });
    }),
  );
  app.post(
    '/ui/api/enroll/:token/options',
    guarded(async (c) => {
      assertSameOrigin(c);
      ceremonies.hit(`enrol:${clientKey(c)}`);
      const body = await json(c);
      return c.json(await deps.people.enrolmentOptions(param(c, 'token'), String(body['name'] ?? '')));
    }),
  );
  app.post(
    '/ui/api/enroll/:token/verify',
    guarded(async (c) => {
      assertSameOrigin(c);
      ceremonies.hit(`enrol:${clientKey(c)}`);
      const body = await json(c);
      const person = await deps.people.completeEnrolment(
        param(c, 'token'),
        body['response'],
        String(body['label'] ?? 'passkey'),
      );
      await startSession(c, person);
      return c.json({ ok: true, name: person.name });
    }),
  );
  app.post(
    '/ui/api/releases/:id/options',
    guarded(async (c) => {
      const s = await requireSigned(c);
      ceremonies.hit(`stepup:${s.person.id}`);
      const body = await json(c);
      const decision =
        body['decision'] === 'reject' ? 'reject' : body['decision'] === 'approve' ? 'approve' : undefined;
      if (decision === undefined)
        throw new ValidationError('ERR_REQUEST_BAD_DECISION', 'decision must be approve or reject');
      return c.json(await deps.approvals.options(s.person, param(c, 'id'), decision));
    }),
  );
  app.post(
    '/ui/api/releases/:id/decide',
    guarded(async (c) => {
      const s = await requireSigned(c);
      ceremonies.hit(`stepup:${s.person.id}`);
      const body = await json(c);
      const status = await deps.approvals.decide(
        s.person,
        param(c, 'id'),
        body['response'],
        typeof body['reason'] === 'string' ? body['reason'].slice(0, 300) : undefined,
      );
      return c.json({
        state: status.release.state,
        approvals: status.approvals.length,
        required: status.required,
        requesterVerified: status.requesterVerified,
      });
    }),
  );
  app.post(
    '/ui/api/releases/:id/request/options',
    guarded(async (c) => {
      const s = await requireSigned(c);
      ceremonies.hit(`stepup:${s.person.id}`);
      return c.json(await deps.approvals.requesterOptions(s.person, param(c, 'id')));
    }),
  );
  app.post(
    '/ui/api/releases/:id/request/verify',
    guarded(async (c) => {
      const s = await requireSigned(c);
      ceremonies.hit(`stepup:${s.person.id}`);
      const body = await json(c);
      const status = await deps.approvals.verifyRequester(s.person, param(c, 'id'), body['response']);
      return c.json({ state: status.release.state, requesterVerified: status.requesterVerified });
    }),
  );
  app.post(
    '/ui/api/passkeys/options',
    guarded(async (c) => {
      const s = await requireSigned(c);
      return c.json(await deps.people.addPasskeyOptions(s.person));
    }),
  );
  app.post(
    '/ui/api/passkeys/verify',
    guarded(async (c) => {
      const s = await requireSigned(c);
      const body = await json(c);
      return c.json(
        await deps.people.addPasskey(s.person, body['response'], String(body['label'] ?? 'passkey')),
      );
    }),
  );
  app.post(
    '/ui/api/passkeys/remove/options',
    guarded(async (c) => {
      const s = await requireSigned(c);
      const body = await json(c);
      return c.json(
        await deps.people.stepUpOptions(s.person, 'remove-passkey', `passkey:${String(body['id'])}`, {
          passkey: String(body['id']),
        }),
      );
    }),
  );
  app.post(
    '/ui/api/passkeys/remove/verify',
    guarded(async (c) => {
      const s = await requireSigned(c);
      const body = await json(c);
      const verified = await deps.people.verifyAssertion(body['response'], ['remove-passkey']);
      if (verified.person.id !== s.person.id || verified.binding['passkey'] !== body['id'])
        throw new AuthError('ERR_WEBAUTHN_WRONG_USER', 'this step-up was made for something else');
      await deps.people.removePasskey(s.person, String(body['id']), verified.credentialId);
      return c.json({ ok: true });
    }),
  );
  app.post(
    '/ui/api/people/:id/roles/options',
    guarded(async (c) => {
      const s = await requireSigned(c);
      requireRole(s.person, ['admin']);
      const body = await json(c);
      const target = await deps.people.get(param(c, 'id'));
      const roles = Array.isArray(body['roles']) ? (body['roles'] as unknown[]).map(String).sort() : [];
      const groups = Array.isArray(body['groups']) ? (body['groups'] as unknown[]).map(String).sort() : [];
      // A role change is a privileged action: a step-up bound to exactly this change.
      return c.json(
        await deps.people.stepUpOptions(s.person, 'admin', `user:${target.id}`, {
          target: target.id,
          roles: roles.join(','),
          groups: groups.join(','),
        }),
      );
    }),
  );
  app.post(
    '/ui/api/people/:id/roles/verify',
    guarded(async (c) => {
      const s = await requireSigned(c);
      requireRole(s.person, ['admin']);
      const body = await json(c);
      const verified = await deps.people.verifyAssertion(body['response'], ['admin']);
      if (verified.person.id !== s.person.id || verified.binding['target'] !== param(c, 'id'))
        throw new AuthError('ERR_WEBAUTHN_WRONG_USER', 'this step-up was made for something else');
      const roles = String(verified.binding['roles'])
        .split(',')
        .filter((r) => r !== '') as Role[];
      const groups = String(verified.binding['groups'])
        .split(',')
        .filter((g) => g !== '');
      const person = await deps.people.setRoles(s.person, param(c, 'id'), roles, groups);
      await deps.sessions.destroyAllFor(person.id);
      return c.json({ name: person.name, roles: person.roles, groups: person.groups });
    }),
  );
  // Privileged admin actions (trusted publishers, the kill switch): each one a step-up bound to
  // exactly this action and payload (sha256 of its canonical JSON).
  const ADMIN_ACTIONS = new Set(['add-publisher', 'remove-publisher', 'lockdown', 'lift-lockdown']);
  const payloadDigest = (action: string, payload: unknown): string =>
    createHash('sha256')
      .update(`${action}\0${JSON.stringify(payload ?? null)}`)
      .digest('hex');
  const checkAdminPayload = (action: string, payload: unknown): void => {
    const p = (payload ?? {}) as Record<string, unknown>;
    if (action === 'add-publisher') deps.publishers.validate(p['publisher']);
    else if (action === 'lockdown') {
      if (typeof p['target'] !== 'string' || typeof p['reason'] !== 'string' || p['reason'].trim() === '')
        throw new ValidationError('ERR_REQUEST_BAD_LOCKDOWN', 'a lockdown needs a target and a reason');
      try {
        assertLockTarget(p['target']);
      } catch (error) {
        throw new ValidationError(
          'ERR_REQUEST_BAD_LOCKDOWN',
          error instanceof Error ? error.message : 'invalid target',
        );
      }
    } else if (typeof p['id'] !== 'string')
      throw new ValidationError('ERR_REQUEST_BAD_ID', 'name the record by id');
  };
  app.post(
    '/ui/api/admin/options',
    guarded(async (c) => {
      const s = await requireSigned(c);
      requireRole(s.person, ['admin']);
      ceremonies.hit(`stepup:${s.person.id}`);
      const body = await json(c);
      const action = String(body['action'] ?? '');
      if (!ADMIN_ACTIONS.has(action))
        throw new ValidationError('ERR_REQUEST_BAD_ACTION', `unknown admin action ${action.slice(0, 40)}`);
      checkAdminPayload(action, body['payload']);
      return c.json(
        await deps.people.stepUpOptions(s.person, 'admin', `admin:${action}`, {
          action,
          payloadSha256: payloadDigest(action, body['payload']),
        }),
      );
    }),
  );
  app.post(
    '/ui/api/admin/verify',
    guarded(async (c) => {
      const s = await requireSigned(c);
      requireRole(s.person, ['admin']);
      const body = await json(c);
      const action = String(body['action'] ?? '');
      const verified = await deps.people.verifyAssertion(body['response'], ['admin']);
      if (
        verified.person.id !== s.person.id ||
        verified.binding['action'] !== action ||
        verified.binding['payloadSha256'] !== payloadDigest(action, body['payload'])
      ) {
        throw new AuthError('ERR_WEBAUTHN_WRONG_USER', 'this step-up was made for another action');
      }
      const p = (body['payload'] ?? {}) as Record<string, unknown>;
      const actor = `user:${s.person.name}`;
      if (action === 'add-publisher') return c.json({ id: await deps.publishers.add(p['publisher'], actor) });
      if (action === 'remove-publisher') {
        await deps.publishers.remove(String(p['id']), actor);
        return c.json({ ok: true });
      }
      if (action === 'lockdown')
        return c.json(await deps.lockdown.lock(String(p['target']), String(p['reason']), actor));
      if (action === 'lift-lockdown') {
        await deps.lockdown.lift(String(p['id']), actor);
        return c.json({ ok: true });
      }
      throw new ValidationError('ERR_REQUEST_BAD_ACTION', 'unknown admin action');
    }),
  );
  app.get(
    '/ui/admin',
    withPage(async (_c, s) => {
      requireRole(s.person, ['admin']);
      return adminPage(s.person, s.csrf, await deps.publishers.list(), await deps.lockdown.active());
    }),
  );
  app.post(
    '/ui/api/invitations',
    guarded(async (c) => {
      const s = await requireSigned(c);
      requireRole(s.person, ['admin']);
      const body = await json(c);
      const roles = Array.isArray(body['roles']) ? (body['roles'] as unknown[]).map(String) : [];
      const groups = Array.isArray(body['groups'])
        ? (body['groups'] as unknown[]).map(String).filter((g) => /^[a-z0-9._-]{1,64}$/.test(g))
        : [];
      let created;
      try {
        created = await deps.people.createEnrolment({
          roles: roles as Role[],
          groups,
          createdBy: `user:${s.person.name}`,
        });
      } catch (error) {
        if (error instanceof RangeError) throw new ValidationError('ERR_REQUEST_BAD_ROLE', error.message);
        throw error;
      }
      return c.json({ url: `${deps.baseUrl()}/ui/enroll/${created.token}`, expiresAt: created.expiresAt });
    }),
  );
}
