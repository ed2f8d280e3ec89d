/** The HTTP application: npm protocol, health, metrics. */
import { Hono } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import type { WebDeps } from './deps.ts';
import { handleNpm, sendError } from './npm-routes.ts';
import { NotFoundError } from '../errors/index.ts';
import { toPublicKeySet } from '../signing/index.ts';
import { registerUiRoutes } from './ui-routes.ts';
import { registerApiRoutes } from './api-routes.ts';
import { registerInventoryRoutes } from './inventory-routes.ts';

/** Builds the Hono app for the given dependencies. */
export function createWebApp(deps: WebDeps): Hono<{ Bindings: HttpBindings }> {
  const app = new Hono<{ Bindings: HttpBindings }>();
  if (deps.logger.isLevelEnabled('debug')) {
    app.use(async (c, next) => {
      const started = performance.now();
      await next();
      // Access log: method, path without query (queries may hold tokens), status, time. Never headers.
      deps.logger.debug(
        {
          method: c.req.method,
          path: new URL(c.req.url).pathname,
          status: c.res.status,
          ms: Math.round(performance.now() - started),
        },
        'request',
      );
    });
  }
  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/readyz', async (c) => {
    try {
      await deps.store.ping();
      return c.json({ ok: true });
    } catch {
      return c.json({ ok: false }, 503);
    }
  });
  // The gate's public signing keys with their validity windows (what `pubgate verify` trusts).
  app.get('/keys', async (c) => c.json(toPublicKeySet(await deps.attestations.keys.listKeys())));
  app.get('/metrics', async (c) =>
    c.text(await deps.metrics(), 200, { 'content-type': 'text/plain; version=0.0.4' }),
  );
  registerUiRoutes(app, deps);
  registerApiRoutes(app, deps);
  registerInventoryRoutes(app, deps, { policy: deps.policy });
  app.all('/npm', (c) => c.json({ db_name: 'pubgate' }));
  app.all('/npm/*', (c) => handleNpm(c, deps));
  // The npm protocol at the root too: npm sends its OIDC exchange to the origin root (dropping the
  // registry path), and a registry configured at the root is the only way its credential then matches.
  // Paths of the gate's own (ui, api, health, metrics) are never package names here.
  app.all('*', (c) => {
    const first = new URL(c.req.url).pathname.split('/')[1] ?? '';
    if (['ui', 'api', 'healthz', 'readyz', 'metrics', 'keys', ''].includes(first))
      return sendError(c, new NotFoundError('ERR_NOT_FOUND', 'not found'), deps);
    return handleNpm(c, deps);
  });
  app.notFound((c) => sendError(c, new NotFoundError('ERR_NOT_FOUND', 'not found'), deps));
  app.onError((error, c) => sendError(c, error, deps));
  return app;
}
