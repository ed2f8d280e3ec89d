/**
 * Workload identities and just-in-time credentials: build, test and bot credentials each do only
 * their part; a pipeline publishes an approved release itself with a single-use credential bound to
 * package@version+digest; misuse is refused with its own code; the kill switch revokes and rejects.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGate, type TestGate, approveWithQuorum } from './support/gate.ts';
import { escapedName, packageTarball, publishDoc } from './support/publish-doc.ts';

describe('workloads, just-in-time credentials and lockdown', () => {
  let gate: TestGate;
  let clock = Date.now();
  let build: string;

  before(async () => {
    gate = await startTestGate({ now: () => new Date(clock), policy: { publishMode: 'jit' } });
    build = await gate.issueToken('github:acme/widgets@release.yml', ['@acme/*'], 'build');
  });
  after(() => gate?.stop());

  // The same name@version always gets the same bytes (tarballs embed times): a pipeline re-sends
  // exactly what was staged.
  const docs = new Map<string, string>();
  async function body(
    name: string,
    version: string,
    extra: Array<{ name: string; content: string }> = [],
  ): Promise<string> {
    const key = `${name}@${version}${extra.length === 0 ? '' : '+extra'}`;
    if (!docs.has(key))
      docs.set(key, JSON.stringify(publishDoc(name, version, await packageTarball(name, version, extra))));
    return docs.get(key)!;
  }

  async function call(
    method: string,
    path: string,
    token: string | undefined,
    payload?: string,
    contentType = 'application/json',
  ) {
    const response = await fetch(`${gate.url}${path}`, {
      method,
      headers: {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        'content-type': contentType,
      },
      ...(payload === undefined ? {} : { body: payload }),
    });
    const text = await response.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // empty bodies (RFC 7009)
    }
    return { status: response.status, body: json, text };
  }

  async function stageApproved(name: string, version: string): Promise<string> {
    const staged = await call(
      'POST',
      `/npm/-/stage/package/${escapedName(name)}`,
      build,
      await body(name, version),
    );
    assert.equal(staged.status, 201, staged.text);
    const id = String(staged.body['stageId']);
    const release = await gate.app.releases.get(id);
    assert.deepEqual(release.requester, { kind: 'workload', id: 'github:acme/widgets@release.yml' });
    await approveWithQuorum(gate.app, id);
    return id;
  }

  async function mint(id: string): Promise<string> {
    const minted = await call('POST', `/api/v1/releases/${id}/jit`, build);
    assert.equal(minted.status, 200, minted.text);
    return String(minted.body['token']);
  }

  it('keeps an approved jit-mode release waiting for its pipeline, then publishes it once for the single-use credential', async () => {
    const id = await stageApproved('@acme/widgets', '1.0.0');
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(
      (await gate.app.releases.get(id)).state,
      'approved',
      'the gate does not publish a jit-mode release on its own',
    );
    const jit = await mint(id);
    const introspected = await call(
      'POST',
      '/api/v1/tokens/introspect',
      build,
      `token=${jit}`,
      'application/x-www-form-urlencoded',
    );
    assert.equal(introspected.body['active'], true);
    assert.equal(introspected.body['kind'], 'jit');
    assert.deepEqual(introspected.body['binding'], {
      action: 'publish',
      package: '@acme/widgets',
      version: '1.0.0',
      integrity: (await gate.app.releases.get(id)).integrity,
      release: id,
    });
    assert.ok(Number(introspected.body['exp']) - Math.floor(clock / 1000) <= 300, 'lives at most 5 minutes');
    assert.ok(!introspected.text.includes(jit), 'introspection never returns the token');

    const doc = await body('@acme/widgets', '1.0.0');
    const results = await Promise.all(
      Array.from({ length: 50 }, () => call('PUT', `/npm/${escapedName('@acme/widgets')}`, jit, doc)),
    );
    const ok = results.filter((r) => r.status === 200);
    assert.equal(
      ok.length,
      1,
      `${results
        .map((r) => String(r.body['code']))
        .slice(0, 3)
        .join(',')} ${(await gate.app.releases.get(id)).reason ?? ''} ${String(results[0]?.body['error'])}`,
    );
    for (const r of results.filter((x) => x.status !== 200))
      assert.ok(
        ['ERR_TOKEN_USED', 'ERR_AUTH_REVOKED'].includes(String(r.body['code'])),
        String(r.body['code']),
      );
    assert.equal((await gate.app.releases.get(id)).state, 'published');
    assert.deepEqual(
      (await call('POST', '/api/v1/tokens/introspect', build, JSON.stringify({ token: jit }))).body,
      { active: false },
    );
  });

  it('refuses a just-in-time credential for another package, version or digest', async () => {
    const id = await stageApproved('@acme/gadget', '2.0.0');
    const jit = await mint(id);
    const otherVersion = await call(
      'PUT',
      `/npm/${escapedName('@acme/gadget')}`,
      jit,
      await body('@acme/gadget', '2.0.1'),
    );
    assert.equal(otherVersion.body['code'], 'ERR_TOKEN_BINDING_MISMATCH');
    const otherPackage = await call(
      'PUT',
      `/npm/${escapedName('@acme/other')}`,
      jit,
      await body('@acme/other', '2.0.0'),
    );
    assert.equal(otherPackage.body['code'], 'ERR_TOKEN_BINDING_MISMATCH');
    const otherDigest = await call(
      'PUT',
      `/npm/${escapedName('@acme/gadget')}`,
      jit,
      await body('@acme/gadget', '2.0.0', [{ name: 'package/evil.js', content: 'x' }]),
    );
    assert.equal(otherDigest.body['code'], 'ERR_TOKEN_BINDING_MISMATCH');
    assert.equal((await gate.app.releases.get(id)).state, 'approved', 'nothing was published');
    // The credential is still good for the approved bytes.
    assert.equal(
      (await call('PUT', `/npm/${escapedName('@acme/gadget')}`, jit, await body('@acme/gadget', '2.0.0')))
        .status,
      200,
    );
  });

  it('refuses a just-in-time credential after expiry and after revocation (RFC 7009)', async () => {
    const a = await stageApproved('@acme/late', '1.0.0');
    const jitA = await mint(a);
    clock += 301_000;
    assert.equal(
      (await call('PUT', `/npm/${escapedName('@acme/late')}`, jitA, await body('@acme/late', '1.0.0'))).body[
        'code'
      ],
      'ERR_AUTH_EXPIRED',
    );
    build = await gate.issueToken('github:acme/widgets@release.yml', ['@acme/*'], 'build');
    const b = await stageApproved('@acme/revoked', '1.0.0');
    const jitB = await mint(b);
    const revoked = await call(
      'POST',
      '/api/v1/tokens/revoke',
      undefined,
      `token=${jitB}`,
      'application/x-www-form-urlencoded',
    );
    assert.equal(revoked.status, 200);
    assert.equal(
      (await call('PUT', `/npm/${escapedName('@acme/revoked')}`, jitB, await body('@acme/revoked', '1.0.0')))
        .body['code'],
      'ERR_AUTH_REVOKED',
    );
  });

  it('never lets a build credential approve, publish by itself, mint for an unapproved release, or reach other packages', async () => {
    const staged = await call(
      'POST',
      `/npm/-/stage/package/${escapedName('@acme/pending')}`,
      build,
      await body('@acme/pending', '1.0.0'),
    );
    const id = String(staged.body['stageId']);
    assert.equal(
      (await call('POST', `/npm/-/stage/${id}/approve`, build)).body['code'],
      'ERR_APPROVAL_STEP_UP_REQUIRED',
    );
    assert.equal((await call('POST', `/api/v1/releases/${id}/jit`, build)).body['code'], 'ERR_RELEASE_STATE');
    const held = await call(
      'PUT',
      `/npm/${escapedName('@acme/pending2')}`,
      build,
      await body('@acme/pending2', '1.0.0'),
    );
    assert.equal(held.status, 401, 'a build credential only ever gets a release held');
    assert.equal(
      (
        await call(
          'POST',
          `/npm/-/stage/package/unscoped-thing`,
          build,
          await body('unscoped-thing', '1.0.0'),
        )
      ).body['code'],
      'ERR_AUTH_SCOPE',
    );
    const other = await gate.app.releases.submit({
      urlName: 'private-thing',
      body: Buffer.from(await body('private-thing', '1.0.0')),
      channel: 'stage',
      requester: { kind: 'token', id: 'alice' },
      authorize: () => {},
    });
    assert.equal(
      (await call('GET', `/npm/-/stage/${other.id}`, build)).status,
      404,
      "another package's pending release does not exist for it",
    );
    assert.equal(
      (await call('GET', `/npm/${escapedName('@acme/widgets')}/-/widgets-1.0.0.tgz`, build)).body['code'],
      'ERR_AUTH_INTENT',
      'a publish-side credential cannot install',
    );
  });

  it('lets a test identity attach evidence (scanning CI logs, revoking leaked credentials) but not stage or publish', async () => {
    const tester = await gate.issueToken('github:acme/widgets@test.yml', ['@acme/*'], 'test');
    const staged = await call(
      'POST',
      `/npm/-/stage/package/${escapedName('@acme/tested')}`,
      build,
      await body('@acme/tested', '1.0.0'),
    );
    const id = String(staged.body['stageId']);
    const leaked = await gate.issueToken('someone', ['*'], 'read');
    const log = `npm test\nok 1 - works\nexport NPM_CONFIG_TOKEN=${leaked}\n`;
    const evidence = await call(
      'POST',
      `/api/v1/releases/${id}/evidence`,
      tester,
      JSON.stringify({ kind: 'ci-log', name: 'test.log', content: log, passed: true }),
    );
    assert.equal(evidence.status, 201, evidence.text);
    assert.equal((evidence.body['secrets'] as unknown[]).length, 1);
    assert.ok(!evidence.text.includes(leaked));
    await assert.rejects(gate.app.credentials.authenticate(leaked), { code: 'ERR_AUTH_REVOKED' });
    assert.equal(
      (
        await call(
          'POST',
          `/npm/-/stage/package/${escapedName('@acme/x')}`,
          tester,
          await body('@acme/x', '1.0.0'),
        )
      ).body['code'],
      'ERR_AUTH_FORBIDDEN',
    );
    assert.equal(
      (await call('PUT', `/npm/${escapedName('@acme/x')}`, tester, await body('@acme/x', '1.0.0'))).body[
        'code'
      ],
      'ERR_AUTH_FORBIDDEN',
    );
  });

  it('lets a bot request and comment, never approve', async () => {
    const bot = await gate.issueToken('bot:release-helper', ['@acme/*'], 'bot');
    const staged = await call(
      'POST',
      `/npm/-/stage/package/${escapedName('@acme/bot-made')}`,
      bot,
      await body('@acme/bot-made', '1.0.0'),
    );
    assert.equal(staged.status, 201, staged.text);
    const id = String(staged.body['stageId']);
    assert.deepEqual((await gate.app.releases.get(id)).requester, { kind: 'bot', id: 'bot:release-helper' });
    assert.equal(
      (
        await call(
          'POST',
          `/api/v1/releases/${id}/comments`,
          bot,
          JSON.stringify({ text: 'changelog looks complete' }),
        )
      ).status,
      201,
    );
    assert.equal(
      (await call('POST', `/npm/-/stage/${id}/approve`, bot)).body['code'],
      'ERR_APPROVAL_STEP_UP_REQUIRED',
    );
    assert.equal(
      (await call('POST', `/ui/api/releases/${id}/options`, bot, JSON.stringify({ decision: 'approve' })))
        .body['code'],
      'ERR_CSRF',
    );
    assert.equal((await call('POST', `/api/v1/releases/${id}/jit`, bot)).body['code'], 'ERR_AUTH_FORBIDDEN');
  });

  it('locks a scope down: live credentials revoked, pending releases rejected, new requests refused until lifted', async () => {
    const staged = await call(
      'POST',
      `/npm/-/stage/package/${escapedName('@acme/frozen')}`,
      build,
      await body('@acme/frozen', '1.0.0'),
    );
    const pending = String(staged.body['stageId']);
    const outsider = await gate.issueToken('bob', ['left-pad']);
    const outcome = await gate.app.lockdown.lock('@acme/*', 'suspected token theft', 'test:admin');
    assert.ok(outcome.revokedCredentials >= 1);
    await assert.rejects(gate.app.credentials.authenticate(build), { code: 'ERR_AUTH_REVOKED' });
    assert.ok(
      (await gate.app.credentials.authenticate(outsider)).identity === 'bob',
      'out of scope stays live',
    );
    const release = await gate.app.releases.get(pending);
    assert.deepEqual([release.state, release.reason], ['rejected', 'lockdown: suspected token theft']);
    const fresh = await gate.issueToken('github:acme/widgets@release.yml', ['@acme/*'], 'build');
    assert.equal(
      (
        await call(
          'POST',
          `/npm/-/stage/package/${escapedName('@acme/frozen')}`,
          fresh,
          await body('@acme/frozen', '1.0.1'),
        )
      ).body['code'],
      'ERR_LOCKDOWN',
    );
    await gate.app.lockdown.lift(outcome.lockdown.id, 'test:admin');
    assert.equal(
      (
        await call(
          'POST',
          `/npm/-/stage/package/${escapedName('@acme/frozen')}`,
          fresh,
          await body('@acme/frozen', '1.0.1'),
        )
      ).status,
      201,
    );
  });
});
