/**
 * npm trusted publishing against the gate with the stock npm CLI: it fetches its ID token from a
 * local Actions-shaped endpoint, exchanges it at the gate for a build credential of one package, and
 * stages with no stored secret. The exchange refuses replays, forged and mismatched tokens.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGate, type TestGate } from './support/gate.ts';
import { startActionsTokenEndpoint, startOidcIssuer, type LocalOidcIssuer } from './support/oidc-issuer.ts';
import { makePackage, runNpm, writeNpmrc } from './support/npm.ts';

describe('trusted publishing (OIDC) with the npm CLI', () => {
  let issuer: LocalOidcIssuer;
  let gate: TestGate;

  before(async () => {
    issuer = await startOidcIssuer();
    gate = await startTestGate({
      trustedPublishers: [
        {
          packages: ['@acme/widget'],
          provider: 'github',
          issuer: issuer.url,
          audience: 'npm:localhost',
          claims: {
            repository_id: '123456789',
            repository_owner_id: '987654',
            workflow_ref: 'acme/widget/.github/workflows/release.yml@refs/tags/*',
            environment: 'release',
          },
        },
      ],
      oidc: { allowInsecureLoopbackIssuers: true },
    });
  });
  after(async () => {
    await gate?.stop();
    await issuer?.close();
  });

  async function exchange(
    token: string,
    pkg = '@acme%2fwidget',
  ): Promise<{ status: number; code: string | undefined; hasToken: boolean }> {
    const response = await fetch(`${gate.url}/-/npm/v1/oidc/token/exchange/package/${pkg}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await response.json()) as { code?: string; token?: string };
    return { status: response.status, code: body.code, hasToken: typeof body.token === 'string' };
  }

  it('stages a package from a GitHub Actions-shaped job with no stored secret, as a workload whose actor cannot approve', async () => {
    const endpoint = await startActionsTokenEndpoint(issuer);
    try {
      const dir = makePackage('@acme/widget', '1.2.3');
      const npmrc = writeNpmrc(`${gate.url}/`, undefined);
      const result = await runNpm(['stage', 'publish', '--registry', `${gate.url}/`], {
        cwd: dir,
        userconfig: npmrc,
        env: { ...endpoint.env, CI: 'true' },
      });
      assert.equal(result.code, 0, (result.stdout + result.stderr).slice(-2000));
      assert.deepEqual(endpoint.audiences, ['npm:localhost']);
      const [release] = await gate.app.releases.list({ package: '@acme/widget' });
      assert.ok(release !== undefined);
      assert.deepEqual(release.requester, { kind: 'workload', id: 'github:acme/widget' });
      const request = release.checks.find((c) => c.name === 'request')?.details as {
        workload: Record<string, string>;
      };
      assert.equal(
        request.workload['workflow_ref'],
        'acme/widget/.github/workflows/release.yml@refs/tags/v1.2.3',
      );
      assert.equal(request.workload['sha']?.length, 40);
      assert.deepEqual(release.policy.excluded, ['alice'], 'the person who triggered the run cannot approve');
      const creds = (await gate.app.credentials.list()).filter((c) => c.kind === 'build');
      assert.equal(creds.length, 1);
      assert.ok(
        Date.parse(creds[0]!.expiresAt) - Date.parse(creds[0]!.createdAt) <= 15 * 60_000,
        'at most 15 minutes',
      );
      assert.deepEqual(creds[0]!.scope, ['@acme/widget']);
    } finally {
      await endpoint.close();
    }
  });

  it('refuses a replayed ID token at the exchange (ERR_OIDC_REPLAYED)', async () => {
    const token = await issuer.mint({}, { audience: 'npm:localhost' });
    assert.deepEqual(await exchange(token), { status: 200, code: undefined, hasToken: true });
    assert.equal((await exchange(token)).code, 'ERR_OIDC_REPLAYED');
  });

  it('refuses forged, unsigned, mismatched and pull_request_target tokens at the exchange', async () => {
    const cases: Array<[string, Promise<string>, string]> = [
      [
        'forged signature',
        issuer.mint({}, { audience: 'npm:localhost', attack: 'forged' }),
        'ERR_OIDC_BAD_SIGNATURE',
      ],
      [
        'alg none',
        issuer.mint({}, { audience: 'npm:localhost', attack: 'none' }),
        'ERR_OIDC_ALG_NOT_ALLOWED',
      ],
      [
        'HS256 with the public key',
        issuer.mint({}, { audience: 'npm:localhost', attack: 'hs256-public-key' }),
        'ERR_OIDC_ALG_NOT_ALLOWED',
      ],
      ['wrong audience', issuer.mint({}, { audience: 'npm:registry.npmjs.org' }), 'ERR_OIDC_WRONG_AUDIENCE'],
      [
        'same name, other repository_id',
        issuer.mint({ repository_id: '999' }, { audience: 'npm:localhost' }),
        'ERR_OIDC_CLAIM_MISMATCH',
      ],
      [
        'another workflow',
        issuer.mint(
          { workflow_ref: 'acme/widget/.github/workflows/ci.yml@refs/tags/v1.2.3' },
          { audience: 'npm:localhost' },
        ),
        'ERR_OIDC_CLAIM_MISMATCH',
      ],
      [
        'pull_request_target',
        issuer.mint({ event_name: 'pull_request_target' }, { audience: 'npm:localhost' }),
        'ERR_OIDC_FORBIDDEN_EVENT',
      ],
      [
        'self-hosted runner',
        issuer.mint({ runner_environment: 'self-hosted' }, { audience: 'npm:localhost' }),
        'ERR_OIDC_SELF_HOSTED',
      ],
    ];
    for (const [what, token, code] of cases) {
      const result = await exchange(await token);
      assert.equal(result.code, code, what);
      assert.equal(result.hasToken, false, what);
      assert.ok(result.status === 401 || result.status === 403, `${what}: ${result.status}`);
    }
    assert.equal(
      (await exchange(await issuer.mint({}, { audience: 'npm:localhost' }), 'left-pad')).code,
      'ERR_OIDC_NO_TRUSTED_PUBLISHER',
    );
  });

  it('refuses the exchange while the package is locked down (ERR_LOCKDOWN)', async () => {
    const { lockdown } = await gate.app.lockdown.lock('@acme/widget', 'drill', 'test:admin');
    try {
      assert.equal(
        (await exchange(await issuer.mint({}, { audience: 'npm:localhost' }))).code,
        'ERR_LOCKDOWN',
      );
    } finally {
      await gate.app.lockdown.lift(lockdown.id, 'test:admin');
    }
  });
});
