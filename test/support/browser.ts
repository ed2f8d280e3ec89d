/**
 * Real Chromium (Debian's) driven by playwright-core, with a CDP virtual authenticator that
 * verifies the user: one browser profile and one authenticator per person.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type CDPSession, type Page } from 'playwright-core';

/** A person at a browser with a passkey authenticator. */
export interface BrowserPerson {
  readonly name: string;
  readonly page: Page;
  readonly context: BrowserContext;
  readonly cdp: CDPSession;
  readonly authenticatorId: string;
  /** Whether the authenticator verifies the user (PIN/biometrics) from now on. */
  setUserVerified(verified: boolean): Promise<void>;
  /** POSTs JSON from the page (same origin, with the page's CSRF token unless `csrf` is given). */
  post(
    path: string,
    body?: unknown,
    options?: { csrf?: string | null },
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Runs a passkey assertion in the page for options fetched from `optionsPath`, returning the response JSON. */
  assertion(optionsPath: string, body?: unknown, mutate?: 'downgrade-uv'): Promise<unknown>;
  close(): Promise<void>;
}

/** Path of the Chromium binary (Debian package `chromium`). */
export const CHROMIUM = process.env['PUBGATE_CHROMIUM'] ?? '/usr/bin/chromium';

/** Opens Chromium for `name` with a fresh profile and a user-verifying virtual authenticator. */
export async function openBrowser(name: string): Promise<BrowserPerson> {
  const dir = mkdtempSync(join(tmpdir(), `pubgate-chromium-${name}-`));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 1000 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  const post: BrowserPerson['post'] = (path, body, options) =>
    page.evaluate(
      async ({ path, body, csrf }) => {
        // Runs in the page: `document` is the page's (typed loosely: this project has no DOM lib).
        const doc = (
          globalThis as unknown as {
            document: { querySelector(s: string): { getAttribute(n: string): string | null } | null };
          }
        ).document;
        const token =
          csrf === undefined
            ? (doc.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '')
            : csrf;
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (token !== null) headers['x-csrf-token'] = token;
        const response = await fetch(path, {
          method: 'POST',
          credentials: 'same-origin',
          headers,
          body: JSON.stringify(body ?? {}),
        });
        return {
          status: response.status,
          body: (await response.json().catch(() => ({}))) as Record<string, unknown>,
        };
      },
      { path, body, csrf: options?.csrf },
    );
  return {
    name,
    page,
    context,
    cdp,
    authenticatorId,
    async setUserVerified(verified) {
      await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: verified });
    },
    post,
    async assertion(optionsPath, body, mutate) {
      const options = await post(optionsPath, body);
      if (options.status !== 200)
        throw Object.assign(new Error(`options refused: ${JSON.stringify(options.body)}`), {
          code: options.body['code'],
        });
      return page.evaluate(
        async ({ optionsJSON, mutate }) => {
          // A hostile client may ask its authenticator for less than the server asked for.
          const json =
            mutate === 'downgrade-uv' ? { ...optionsJSON, userVerification: 'discouraged' } : optionsJSON;
          const lib = (
            globalThis as unknown as {
              SimpleWebAuthnBrowser: { startAuthentication(o: { optionsJSON: unknown }): Promise<unknown> };
            }
          ).SimpleWebAuthnBrowser;
          return lib.startAuthentication({ optionsJSON: json });
        },
        { optionsJSON: options.body, mutate },
      );
    },
    async close() {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Enrols `person` through a one-time link in the browser; resolves when signed in. */
export async function enrolInBrowser(person: BrowserPerson, link: string): Promise<void> {
  await person.page.goto(link);
  const name = person.page.locator('#name');
  if ((await name.getAttribute('readonly')) === null) await name.fill(person.name);
  await person.page.click('[data-action="enrol"]');
  await person.page.waitForURL(/\/ui\/releases$/, { timeout: 20_000 });
}

/** Signs in with the person's passkey. */
export async function signInInBrowser(person: BrowserPerson, base: string): Promise<void> {
  await person.page.goto(`${base}/ui/login`);
  await person.page.click('[data-action="login"]');
  await person.page.waitForURL(/\/ui\/releases$/, { timeout: 20_000 });
}
