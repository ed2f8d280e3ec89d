/**
 * The identity inventory and the compliance report on the web: pages `/ui/identities` and
 * `/ui/report`, JSON `/api/v1/inventory` and `/api/v1/report`. All are reads for signed-in admins
 * and auditors (the passkey session cookie, SameSite=Strict, so another site cannot make the
 * browser send it); pubgate credentials (tokens) are refused here: no token is an auditor.
 */
import type { Context, Hono } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import { AuthError } from '../errors/index.ts';
import {
  assertReportFormat,
  collectInventory,
  detectFindings,
  generateComplianceReport,
  inventoryToJson,
  readExternalIdentities,
  renderInventoryHtml,
  renderReport,
  REPORT_CSS_HASH,
  toSigningKeyFacts,
  type InventoryOptions,
  type InventorySource,
  type SigningKeyFacts,
} from '../inventory/index.ts';
import type { PolicyConfig } from '../policy/index.ts';
import type { WebDeps } from './deps.ts';
import { sendError } from './npm-routes.ts';
import { assertHasRole, resolveSignedIn, type SignedInPerson } from './session-helpers.ts';

type Ctx = Context<{ Bindings: HttpBindings }>;

/** Optional settings of {@link registerInventoryRoutes} (the lead passes config-derived values). */
export interface InventoryRouteOptions {
  /** The policy (admins-may-approve and the packages of its rules); without it admins never approve and rule packages are not listed. */
  readonly policy?: Pick<PolicyConfig, 'adminsMayApprove' | 'rules'>;
  /** External identity files to import on every request. */
  readonly imports?: readonly string[];
  readonly thresholds?: Partial<InventoryOptions>;
  readonly signingKeys?: () => Promise<readonly SigningKeyFacts[]>;
}

// The pages are self-contained: one inline style (allowed by its hash), SVG, no script at all.
const PAGE_CSP = `default-src 'none'; style-src ${REPORT_CSS_HASH}; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

/** Adds the inventory and report routes. */
export function registerInventoryRoutes(
  app: Hono<{ Bindings: HttpBindings }>,
  deps: WebDeps,
  options: InventoryRouteOptions = {},
): void {
  // The gate's signing keys come from the attestation service's key ring when deps has one.
  const fromKeyRing =
    deps.attestations === undefined
      ? undefined
      : async () => toSigningKeyFacts(await deps.attestations.keys.listKeys());
  const source: InventorySource = {
    store: deps.store,
    people: deps.people,
    publishers: deps.publishers,
    audit: deps.audit,
    policy: options.policy,
    signingKeys: options.signingKeys ?? fromKeyRing,
  };
  const imports = () => (options.imports ?? []).map(readExternalIdentities);

  async function auditor(c: Ctx, page: boolean): Promise<SignedInPerson | Response> {
    const signed = await resolveSignedIn(c, deps);
    if (signed === undefined) {
      if (page) return c.redirect(`/ui/login?next=${encodeURIComponent(new URL(c.req.url).pathname)}`);
      throw new AuthError('ERR_AUTH_SESSION', 'sign in with a passkey as an admin or auditor first');
    }
    assertHasRole(signed.person, ['admin', 'auditor']);
    return signed;
  }

  const guarded =
    (handler: (c: Ctx) => Promise<Response>) =>
    async (c: Ctx): Promise<Response> => {
      try {
        return await handler(c);
      } catch (error) {
        return sendError(c, error, deps);
      }
    };

  const html = (c: Ctx, body: string): Response => {
    c.header('content-security-policy', PAGE_CSP);
    c.header('x-frame-options', 'DENY');
    c.header('referrer-policy', 'no-referrer');
    c.header('cache-control', 'no-store');
    c.header('x-content-type-options', 'nosniff');
    return c.html(body);
  };

  async function inventoryNow() {
    const inventory = await collectInventory(source, { imports: imports() });
    return { inventory, findings: detectFindings(inventory, options.thresholds ?? {}) };
  }

  app.get(
    '/ui/identities',
    guarded(async (c) => {
      const who = await auditor(c, true);
      if (who instanceof Response) return who;
      const { inventory, findings } = await inventoryNow();
      return html(c, renderInventoryHtml(inventory, findings));
    }),
  );
  app.get(
    '/ui/report',
    guarded(async (c) => {
      const who = await auditor(c, true);
      if (who instanceof Response) return who;
      const report = await generateComplianceReport(source, {
        imports: imports(),
        options: options.thresholds ?? {},
      });
      await deps.audit.append({
        actor: `user:${who.person.name}`,
        action: 'report.viewed',
        subject: 'report:compliance',
        data: { format: 'html', findings: report.findings.length },
      });
      return html(c, renderReport(report, 'html'));
    }),
  );
  app.get(
    '/api/v1/inventory',
    guarded(async (c) => {
      await auditor(c, false);
      const { inventory, findings } = await inventoryNow();
      c.header('cache-control', 'no-store');
      return c.json(inventoryToJson(inventory, findings));
    }),
  );
  app.get(
    '/api/v1/report',
    guarded(async (c) => {
      const who = await auditor(c, false);
      if (who instanceof Response) return who;
      const format = c.req.query('format') ?? 'json';
      assertReportFormat(format);
      const report = await generateComplianceReport(source, {
        imports: imports(),
        options: options.thresholds ?? {},
      });
      await deps.audit.append({
        actor: `user:${who.person.name}`,
        action: 'report.exported',
        subject: 'report:compliance',
        data: { format, findings: report.findings.length },
      });
      c.header('cache-control', 'no-store');
      if (format === 'json') return c.json(report);
      if (format === 'md')
        return c.body(renderReport(report, 'md'), 200, { 'content-type': 'text/markdown; charset=utf-8' });
      return html(c, renderReport(report, 'html'));
    }),
  );
}
