/** The JSON API under /api/v1 for machines: scan agents today; tokens and evidence as they land. */
import type { Context, Hono } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, ValidationError } from '../errors/index.ts';
import { scanText } from '../scan/index.ts';
import { principalCovers } from '../tokens/index.ts';
import type { SightingInput } from '../sightings/index.ts';
import { authenticate, requireKind } from './auth.ts';
import { readBody } from './body.ts';
import type { WebDeps } from './deps.ts';
import { sendError } from './npm-routes.ts';

type Ctx = Context<{ Bindings: HttpBindings }>;

/** Parses a bounded JSON object body. */
export async function readJsonObject(c: Ctx, limit: number): Promise<Record<string, unknown>> {
  const body = await readBody(c.env.incoming, limit, 'ERR_REQUEST_TOO_LARGE');
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch {
    throw new ValidationError('ERR_REQUEST_BAD_JSON', 'the request body is not a JSON object');
  }
}

/** Adds the /api/v1 routes. */
export function registerApiRoutes(app: Hono<{ Bindings: HttpBindings }>, deps: WebDeps): void {
  const guarded =
    (handler: (c: Ctx) => Promise<Response>) =>
    async (c: Ctx): Promise<Response> => {
      try {
        return await handler(c);
      } catch (error) {
        return sendError(c, error, deps);
      }
    };

  /** A token from an RFC 7662/7009 request body (form-encoded or JSON). */
  async function tokenParameter(c: Ctx): Promise<string> {
    const body = await readBody(c.env.incoming, 16 * 1024, 'ERR_REQUEST_TOO_LARGE');
    const text = body.toString('utf8');
    const token = (c.req.header('content-type') ?? '').includes('json')
      ? String((JSON.parse(text || '{}') as { token?: unknown }).token ?? '')
      : (new URLSearchParams(text).get('token') ?? '');
    if (token === '')
      throw new ValidationError('ERR_REQUEST_NO_TOKEN', 'the request names no token (token=…)');
    return token;
  }

  // RFC 7662: any live pubgate credential may ask what a token is (never the token back).
  app.post(
    '/api/v1/tokens/introspect',
    guarded(async (c) => {
      await authenticate(c, deps, true);
      return c.json(await deps.credentials.introspect(await tokenParameter(c)));
    }),
  );
  // RFC 7009: holding a token is enough to revoke it; the answer is 200 whether or not it existed.
  app.post(
    '/api/v1/tokens/revoke',
    guarded(async (c) => {
      const outcome = await deps.credentials.revokeToken(await tokenParameter(c));
      if (outcome.revoked)
        await deps.audit.append({
          actor: 'token-holder',
          action: 'credential.revoked',
          subject: `credential:${outcome.id ?? ''}`,
          data: { via: 'rfc7009' },
        });
      return c.body(null, 200);
    }),
  );

  // A pipeline asks for its single-use publish credential for an approved release.
  app.post(
    '/api/v1/releases/:id/jit',
    guarded(async (c) => {
      const principal = requireKind(await authenticate(c, deps, true), ['build']);
      const release = await deps.releases.get(c.req.param('id') ?? '');
      if (!principalCovers(principal, release.package))
        throw new NotFoundError('ERR_RELEASE_NOT_FOUND', 'no such release');
      await deps.lockdown.assertOpen({ package: release.package, identity: principal.identity });
      if (release.state !== 'approved' || release.publishMode !== 'jit') {
        throw new ConflictError(
          'ERR_RELEASE_STATE',
          `release ${release.id} is ${release.state}${release.publishMode === 'jit' ? '' : ' and published by the gate itself'}; a just-in-time credential is minted only for an approved release that waits for its pipeline`,
        );
      }
      const issued = await deps.store.transaction(async (tx) => {
        const binding = {
          action: 'publish' as const,
          package: release.package,
          version: release.version,
          integrity: release.integrity,
          release: release.id,
        };
        const created = await deps.credentials.issueIn(tx, {
          kind: 'jit',
          identity: principal.identity,
          scope: [release.package],
          ttlSeconds: deps.jitTtlSeconds,
          binding,
          role: 'publish',
        });
        await deps.audit.appendIn(tx, {
          actor: `${principal.kind}:${principal.identity}`,
          action: 'credential.jit_minted',
          subject: `credential:${created.id}`,
          data: { ...binding, expiresAt: created.expiresAt },
        });
        return { ...created, binding };
      });
      return c.json({ token: issued.token, expiresAt: issued.expiresAt, binding: issued.binding });
    }),
  );

  // A test identity attaches evidence (test results, CI logs) to a staged release; logs are scanned.
  app.post(
    '/api/v1/releases/:id/evidence',
    guarded(async (c) => {
      const principal = requireKind(await authenticate(c, deps, true), ['test']);
      const release = await deps.releases.get(c.req.param('id') ?? '');
      if (!principalCovers(principal, release.package))
        throw new NotFoundError('ERR_RELEASE_NOT_FOUND', 'no such release');
      if (release.state !== 'awaiting_approval')
        throw new ConflictError('ERR_RELEASE_STATE', `release ${release.id} is ${release.state}`);
      const body = await readJsonObject(c, 5 * 1024 * 1024 + 4096);
      const kind = String(body['kind'] ?? '');
      if (kind !== 'test-results' && kind !== 'ci-log')
        throw new ValidationError('ERR_EVIDENCE_BAD_KIND', 'kind is test-results or ci-log');
      const name = String(body['name'] ?? kind).slice(0, 200);
      const content = String(body['content'] ?? '');
      const { key } = await deps.sightings.fingerprintKey();
      const findings = scanText(content, name, { fingerprintKey: key }).filter((f) => f.kind === 'secret');
      if (findings.length > 0) {
        await deps.sightings.report(`test:${principal.identity}`, {
          host: 'ci',
          context: 'ci-log',
          findings: findings.map((f) => ({
            ruleId: f.ruleId,
            fingerprint: f.fingerprint,
            path: `${release.id}/${name}`,
            line: f.line,
            pubgateTokenHash: f.pubgateTokenHash,
          })),
        });
      }
      const summary = {
        bytes: Buffer.byteLength(content),
        lines: content.split('\n').length,
        passed: body['passed'] === undefined ? null : Boolean(body['passed']),
        secrets: findings.map(({ ruleId, line, preview }) => ({ ruleId, line, preview })),
      };
      const id = randomUUID();
      await deps.store.transaction(async (tx) => {
        await tx
          .insertInto('release_evidence')
          .values({
            id,
            release_id: release.id,
            kind,
            name,
            identity: principal.identity,
            summary: JSON.stringify(summary),
            at: new Date().toISOString(),
          })
          .execute();
        await deps.audit.appendIn(tx, {
          actor: `test:${principal.identity}`,
          action: 'release.evidence',
          subject: `release:${release.id}`,
          data: { kind, name, ...summary },
        });
      });
      return c.json({ id, ...summary }, 201);
    }),
  );

  // Comments on a release (bots, chat-ops, AI agents, CI): visible to approvers; never a decision.
  app.post(
    '/api/v1/releases/:id/comments',
    guarded(async (c) => {
      const principal = requireKind(await authenticate(c, deps, true), ['bot', 'request', 'build', 'test']);
      const release = await deps.releases.get(c.req.param('id') ?? '');
      if (!principalCovers(principal, release.package))
        throw new NotFoundError('ERR_RELEASE_NOT_FOUND', 'no such release');
      const body = await readJsonObject(c, 16 * 1024);
      const text = typeof body['text'] === 'string' ? body['text'].trim().slice(0, 2000) : '';
      if (text === '') throw new ValidationError('ERR_REQUEST_EMPTY_COMMENT', 'a comment needs text');
      const id = randomUUID();
      await deps.store.transaction(async (tx) => {
        await tx
          .insertInto('release_evidence')
          .values({
            id,
            release_id: release.id,
            kind: 'comment',
            name: principal.kind,
            identity: principal.identity,
            summary: JSON.stringify({ text }),
            at: new Date().toISOString(),
          })
          .execute();
        await deps.audit.appendIn(tx, {
          actor: `${principal.kind}:${principal.identity}`,
          action: 'release.comment',
          subject: `release:${release.id}`,
          data: { length: text.length },
        });
      });
      return c.json({ id }, 201);
    }),
  );

  // Scan agents: the HMAC key they fingerprint with, and their reports (fingerprints, never secrets).
  app.get(
    '/api/v1/scan/key',
    guarded(async (c) => {
      requireKind(await authenticate(c, deps, true), ['agent']);
      const { keyId, key } = await deps.sightings.fingerprintKey();
      return c.json({ keyId, key: key.toString('base64') });
    }),
  );
  app.post(
    '/api/v1/scan/reports',
    guarded(async (c) => {
      const principal = requireKind(await authenticate(c, deps, true), ['agent']);
      const body = await readJsonObject(c, 8 * 1024 * 1024);
      const { keyId } = await deps.sightings.fingerprintKey();
      if (body['keyId'] !== keyId)
        throw new ValidationError(
          'ERR_SCAN_REPORT_STALE_KEY',
          'the report was fingerprinted with another key; fetch /api/v1/scan/key again',
        );
      if (!Array.isArray(body['findings']))
        throw new ValidationError('ERR_SCAN_REPORT_BAD_FINDING', 'findings must be a list');
      const findings = (body['findings'] as Array<Record<string, unknown>>).map((f): SightingInput => ({
        ruleId: String(f['ruleId'] ?? ''),
        fingerprint: String(f['fingerprint'] ?? ''),
        path: String(f['path'] ?? ''),
        line: Number(f['line']),
        pubgateTokenHash: typeof f['pubgateTokenHash'] === 'string' ? f['pubgateTokenHash'] : undefined,
      }));
      const outcome = await deps.sightings.report(`agent:${principal.identity}`, {
        host: String(body['host'] ?? ''),
        context: String(body['context'] ?? ''),
        findings,
      });
      return c.json(outcome);
    }),
  );
}
