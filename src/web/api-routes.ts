/** The JSON API under /api/v1 for machines: scan agents today; tokens and evidence as they land. */
import type { Context, Hono } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import { ValidationError } from '../errors/index.ts';
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
      if (body['keyId'] !== keyId) throw new ValidationError('ERR_SCAN_REPORT_STALE_KEY', 'the report was fingerprinted with another key; fetch /api/v1/scan/key again');
      if (!Array.isArray(body['findings'])) throw new ValidationError('ERR_SCAN_REPORT_BAD_FINDING', 'findings must be a list');
      const findings = (body['findings'] as Array<Record<string, unknown>>).map(
        (f): SightingInput => ({
          ruleId: String(f['ruleId'] ?? ''),
          fingerprint: String(f['fingerprint'] ?? ''),
          path: String(f['path'] ?? ''),
          line: Number(f['line']),
          pubgateTokenHash: typeof f['pubgateTokenHash'] === 'string' ? f['pubgateTokenHash'] : undefined,
        }),
      );
      const outcome = await deps.sightings.report(`agent:${principal.identity}`, { host: String(body['host'] ?? ''), context: String(body['context'] ?? ''), findings });
      return c.json(outcome);
    }),
  );
}
