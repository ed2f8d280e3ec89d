import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  startActionsTokenEndpoint,
  startOidcIssuer,
  type LocalOidcIssuer,
  type MintOptions,
} from '../../../test/support/oidc-issuer.ts';
import { RemoteJwksProvider } from './jose-adapter.ts';
import { MemoryJtiStore } from './jti-store.ts';
import { validateTrustedPublishers, type TrustedPublisherConfig } from './trusted-publishers.ts';
import { verifyWorkloadToken, type VerifyWorkloadTokenOptions } from './verify-workload.ts';

const START = Date.parse('2026-03-01T12:00:00Z');
const AUDIENCE = 'npm:127.0.0.1';

describe('verifyWorkloadToken', () => {
  let github: LocalOidcIssuer;
  let gitlab: LocalOidcIssuer;
  let es256: LocalOidcIssuer;
  let nowMs: number;
  let keys: RemoteJwksProvider;
  let jti: MemoryJtiStore;
  const now = () => new Date(nowMs);

  const githubPublisher = (overrides: Partial<TrustedPublisherConfig> = {}): TrustedPublisherConfig => ({
    packages: ['@acme/*'],
    provider: 'github',
    issuer: github.url,
    audience: AUDIENCE,
    claims: {
      repository_id: '123456789',
      repository_owner_id: 987654,
      workflow_ref: 'acme/widget/.github/workflows/release.yml@refs/tags/v*',
      ref: 'refs/tags/v*',
      environment: 'release',
    },
    ...overrides,
  });
  const gitlabPublisher = (): TrustedPublisherConfig => ({
    packages: ['gitlab-widget'],
    provider: 'gitlab',
    issuer: gitlab.url,
    audience: AUDIENCE,
    claims: {
      project_id: 4242,
      namespace_id: '72',
      ci_config_ref_uri: `${new URL(gitlab.url).host}/acme/widget//.gitlab-ci.yml@refs/tags/*`,
      ref_protected: 'true',
    },
  });

  const verify = (token: string, overrides: Partial<VerifyWorkloadTokenOptions> = {}) =>
    verifyWorkloadToken(token, {
      packageName: '@acme/widget',
      publishers: [githubPublisher(), gitlabPublisher()],
      keys,
      jti,
      now,
      ...overrides,
    });
  const mint = (claims: Record<string, unknown> = {}, options: MintOptions = {}) =>
    github.mint(claims, { now: now(), ...options });

  /** Asserts the refusal's code, and that neither the token nor its signature leaks into the error. */
  async function refused(token: string, code: string, overrides: Partial<VerifyWorkloadTokenOptions> = {}) {
    let caught: unknown;
    await assert.rejects(verify(token, overrides), (error: unknown) => {
      caught = error;
      return true;
    });
    const error = caught as {
      code?: string;
      message: string;
      details?: Record<string, unknown>;
      cause?: unknown;
    };
    assert.equal(error.code, code);
    const visible = JSON.stringify({
      message: error.message,
      details: error.details,
      cause: String(error.cause),
    });
    const signature = token.split('.')[2] ?? '';
    assert.ok(!visible.includes(token), 'the token leaked into the error');
    if (signature.length > 8) assert.ok(!visible.includes(signature), 'the signature leaked into the error');
    return error;
  }

  before(async () => {
    github = await startOidcIssuer();
    gitlab = await startOidcIssuer({ jwksPath: '/oauth/discovery/keys' });
    es256 = await startOidcIssuer({ algorithm: 'ES256' });
    assert.deepEqual(
      validateTrustedPublishers([githubPublisher(), gitlabPublisher()], {
        allowInsecureLoopbackIssuers: true,
      }),
      [],
    );
  });
  after(async () => {
    await Promise.all([github.close(), gitlab.close(), es256.close()]);
  });
  beforeEach(() => {
    nowMs = START;
    keys = new RemoteJwksProvider({ allowInsecureLoopbackIssuers: true, now });
    jti = new MemoryJtiStore({ now });
  });

  describe('when a GitHub release job presents its token', () => {
    it('returns the identity read from discrete claims', async () => {
      const token = await mint();
      const identity = await verify(token);
      assert.equal(identity.provider, 'github');
      assert.equal(identity.issuer, github.url);
      assert.equal(identity.repository, 'acme/widget');
      assert.equal(identity.repositoryId, '123456789');
      assert.equal(identity.ownerId, '987654');
      assert.equal(identity.workflowRef, 'acme/widget/.github/workflows/release.yml@refs/tags/v1.2.3');
      assert.equal(identity.ref, 'refs/tags/v1.2.3');
      assert.equal(identity.environment, 'release');
      assert.equal(identity.runnerEnvironment, 'github-hosted');
      assert.equal(identity.eventName, 'push');
      assert.equal(identity.actor, 'alice');
      assert.equal(identity.subject, 'repo:acme/widget:environment:release');
      assert.equal(identity.expiresAt.getTime(), START + 300_000);
      assert.equal(identity.publisher.provider, 'github');
      assert.equal(
        identity.claims.job_workflow_ref,
        'acme/widget/.github/workflows/release.yml@refs/tags/v1.2.3',
      );
      assert.ok(!Object.values(identity.claims).includes(token));
      assert.ok(Object.isFrozen(identity));
    });

    it('accepts a token from an ES256 issuer', async () => {
      const publishers = [githubPublisher({ issuer: es256.url })];
      await verify(await es256.mint({}, { now: now() }), { publishers });
    });

    it('accepts an expired token still within the allowed skew', async () => {
      const token = await mint();
      nowMs = START + 300_000 + 59_000;
      await verify(token);
    });

    it('does not consume the jti of a refused token', async () => {
      const token = await mint({ runner_environment: 'self-hosted' });
      await refused(token, 'ERR_OIDC_SELF_HOSTED');
      await verify(token, { publishers: [githubPublisher({ allowSelfHosted: true })] });
    });
  });

  describe('when a GitLab tag pipeline presents its token', () => {
    it('returns project, namespace and pipeline definition, without personal claims', async () => {
      const token = await gitlab.mint({}, { shape: 'gitlab', now: now() });
      const identity = await verify(token, { packageName: 'gitlab-widget' });
      assert.equal(identity.provider, 'gitlab');
      assert.equal(identity.repository, 'acme/widget');
      assert.equal(identity.repositoryId, '4242');
      assert.equal(identity.ownerId, '72');
      assert.equal(
        identity.workflowRef,
        `${new URL(gitlab.url).host}/acme/widget//.gitlab-ci.yml@refs/tags/v1.2.3`,
      );
      assert.equal(identity.ref, 'v1.2.3');
      assert.equal(identity.eventName, 'push');
      assert.equal(identity.actor, 'alice');
      assert.equal(identity.claims.user_email, undefined);
      assert.equal(identity.claims.runner_id, '17');
    });

    it('refuses a merge request pipeline with ERR_OIDC_FORBIDDEN_EVENT', async () => {
      const token = await gitlab.mint(
        { pipeline_source: 'merge_request_event' },
        { shape: 'gitlab', now: now() },
      );
      await refused(token, 'ERR_OIDC_FORBIDDEN_EVENT', { packageName: 'gitlab-widget' });
    });

    it('refuses another project with the same path with ERR_OIDC_CLAIM_MISMATCH', async () => {
      const token = await gitlab.mint({ project_id: '5555' }, { shape: 'gitlab', now: now() });
      const error = await refused(token, 'ERR_OIDC_CLAIM_MISMATCH', { packageName: 'gitlab-widget' });
      assert.equal(error.details?.claim, 'project_id');
    });

    it('refuses a self-hosted runner with ERR_OIDC_SELF_HOSTED', async () => {
      const token = await gitlab.mint({ runner_environment: 'self-hosted' }, { shape: 'gitlab', now: now() });
      await refused(token, 'ERR_OIDC_SELF_HOSTED', { packageName: 'gitlab-widget' });
    });
  });

  describe('when the signature cannot be trusted', () => {
    it('refuses a token signed by another key under the issuer kid with ERR_OIDC_BAD_SIGNATURE', async () => {
      await refused(await mint({}, { attack: 'forged' }), 'ERR_OIDC_BAD_SIGNATURE');
    });

    it('refuses a token whose claims were swapped after signing with ERR_OIDC_BAD_SIGNATURE', async () => {
      const [header, , signature] = (await mint()).split('.');
      const [, payload] = (await mint({ repository_id: '1' })).split('.');
      await refused(`${header}.${payload}.${signature}`, 'ERR_OIDC_BAD_SIGNATURE');
    });

    it('refuses alg none with ERR_OIDC_ALG_NOT_ALLOWED without fetching keys', async () => {
      const before = { ...github.requests };
      await refused(await mint({}, { attack: 'none' }), 'ERR_OIDC_ALG_NOT_ALLOWED');
      assert.deepEqual(github.requests, before);
    });

    it('refuses HS256 keyed with the public key with ERR_OIDC_ALG_NOT_ALLOWED', async () => {
      await refused(await mint({}, { attack: 'hs256-public-key' }), 'ERR_OIDC_ALG_NOT_ALLOWED');
    });

    it('refuses RS256 when only ES256 is allowed with ERR_OIDC_ALG_NOT_ALLOWED', async () => {
      await refused(await mint(), 'ERR_OIDC_ALG_NOT_ALLOWED', { algorithms: ['ES256'] });
    });

    it('refuses an unknown kid with ERR_OIDC_UNKNOWN_KID', async () => {
      await refused(await mint({}, { kid: 'not-a-published-kid' }), 'ERR_OIDC_UNKNOWN_KID');
    });

    it('accepts a token signed with a rotated-in key after one refetch', async () => {
      await verify(await mint());
      await github.rotate();
      const before = { ...github.requests };
      await verify(await mint());
      assert.deepEqual(github.requests, { discovery: before.discovery, jwks: before.jwks + 1 });
    });
  });

  describe('when the token is not meant for this gate', () => {
    it('refuses another audience with ERR_OIDC_WRONG_AUDIENCE', async () => {
      await refused(await mint({}, { audience: 'sts.amazonaws.com' }), 'ERR_OIDC_WRONG_AUDIENCE');
    });

    it('accepts an audience list that names this gate', async () => {
      await verify(await mint({}, { audience: ['other', AUDIENCE] }));
    });

    it('refuses an issuer the package does not trust with ERR_OIDC_WRONG_ISSUER', async () => {
      await refused(
        await mint({}, { issuer: 'https://token.actions.githubusercontent.com' }),
        'ERR_OIDC_WRONG_ISSUER',
      );
      await refused(await gitlab.mint({}, { shape: 'gitlab', now: now() }), 'ERR_OIDC_WRONG_ISSUER');
    });

    it('refuses a package without trusted publisher with ERR_OIDC_NO_TRUSTED_PUBLISHER', async () => {
      await refused(await mint(), 'ERR_OIDC_NO_TRUSTED_PUBLISHER', { packageName: 'left-pad' });
    });
  });

  describe('when the token is outside its validity window', () => {
    it('refuses an expired token with ERR_OIDC_EXPIRED', async () => {
      const token = await mint();
      nowMs = START + 300_000 + 60_000;
      await refused(token, 'ERR_OIDC_EXPIRED');
    });

    it('refuses a token not valid yet with ERR_OIDC_NOT_YET_VALID', async () => {
      const seconds = START / 1000;
      await refused(await mint({}, { nbf: seconds + 61 }), 'ERR_OIDC_NOT_YET_VALID');
      await refused(
        await mint({}, { iat: seconds + 120, nbf: seconds, exp: seconds + 400 }),
        'ERR_OIDC_NOT_YET_VALID',
      );
    });

    it('refuses a token whose lifetime exceeds the maximum with ERR_OIDC_MALFORMED', async () => {
      const seconds = START / 1000;
      await refused(await mint({}, { exp: seconds + 3601 }), 'ERR_OIDC_MALFORMED');
      await refused(await mint({ exp: undefined }), 'ERR_OIDC_MALFORMED');
      await refused(await mint({ iat: '2026-03-01' }), 'ERR_OIDC_MALFORMED');
    });
  });

  describe('when the token could be replayed', () => {
    it('refuses a token without jti with ERR_OIDC_NO_JTI', async () => {
      await refused(await mint({ jti: undefined }), 'ERR_OIDC_NO_JTI');
      await refused(await mint({ jti: '' }), 'ERR_OIDC_NO_JTI');
    });

    it('refuses the second use of a jti with ERR_OIDC_REPLAYED', async () => {
      const token = await mint();
      await verify(token);
      await refused(token, 'ERR_OIDC_REPLAYED');
    });

    it('accepts exactly one of concurrent uses of the same token', async () => {
      const token = await mint();
      const results = await Promise.allSettled(Array.from({ length: 10 }, () => verify(token)));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of results)
        if (r.status === 'rejected') assert.equal((r.reason as { code: string }).code, 'ERR_OIDC_REPLAYED');
    });
  });

  describe('when the workflow was triggered by untrusted code', () => {
    it('refuses pull_request_target with ERR_OIDC_FORBIDDEN_EVENT', async () => {
      await refused(await mint({ event_name: 'pull_request_target' }), 'ERR_OIDC_FORBIDDEN_EVENT');
    });

    it('refuses a pull request from a fork with ERR_OIDC_FORBIDDEN_EVENT', async () => {
      await refused(
        await mint({ event_name: 'pull_request', head_ref: 'fork-branch', base_ref: 'main' }),
        'ERR_OIDC_FORBIDDEN_EVENT',
      );
      await refused(
        await mint({ event_name: 'workflow_dispatch', head_ref: 'fork-branch' }),
        'ERR_OIDC_FORBIDDEN_EVENT',
      );
    });
  });

  describe('when the claims are not the trusted publisher', () => {
    it('refuses a repository of the same name with another repository_id with ERR_OIDC_CLAIM_MISMATCH', async () => {
      // Deleted and re-created (or transferred) under the same name: the name and sub look right.
      const error = await refused(await mint({ repository_id: '555000111' }), 'ERR_OIDC_CLAIM_MISMATCH');
      assert.equal(error.details?.claim, 'repository_id');
    });

    it('refuses the wrong workflow with ERR_OIDC_CLAIM_MISMATCH', async () => {
      const workflow = 'acme/widget/.github/workflows/ci.yml@refs/tags/v1.2.3';
      const error = await refused(
        await mint({ workflow_ref: workflow, job_workflow_ref: workflow }),
        'ERR_OIDC_CLAIM_MISMATCH',
      );
      assert.equal(error.details?.claim, 'workflow_ref');
    });

    it('refuses a branch where the publisher pins tags with ERR_OIDC_CLAIM_MISMATCH', async () => {
      const ref = 'refs/heads/main';
      await refused(
        await mint({ ref, workflow_ref: `acme/widget/.github/workflows/release.yml@${ref}` }),
        'ERR_OIDC_CLAIM_MISMATCH',
      );
    });

    it('refuses a token whose sub names the repository but whose claims do not', async () => {
      await refused(
        await mint({ sub: 'repo:acme/widget:environment:release', repository_owner_id: '1' }),
        'ERR_OIDC_CLAIM_MISMATCH',
      );
    });

    it('refuses a self-hosted runner where the publisher forbids it with ERR_OIDC_SELF_HOSTED', async () => {
      await refused(await mint({ runner_environment: 'self-hosted' }), 'ERR_OIDC_SELF_HOSTED');
      await refused(await mint({ runner_environment: undefined }), 'ERR_OIDC_SELF_HOSTED');
    });

    it('picks the publisher whose claims match among several for one issuer', async () => {
      const other = githubPublisher({
        claims: { repository_id: '1', workflow_ref: 'x/y/.github/workflows/a.yml@refs/heads/main' },
      });
      const identity = await verify(await mint(), { publishers: [other, githubPublisher()] });
      assert.equal(identity.publisher.claims.repository_id, '123456789');
    });
  });

  describe('when the token is malformed', () => {
    it('refuses garbage, oversize tokens and foreign JWT types with ERR_OIDC_MALFORMED', async () => {
      await refused('not-a-token', 'ERR_OIDC_MALFORMED');
      await refused(`${'a'.repeat(20_000)}.b.c`, 'ERR_OIDC_MALFORMED');
      await refused(await mint({}, { header: { typ: 'at+jwt' } }), 'ERR_OIDC_MALFORMED');
      // A header with an extension we do not implement is refused before the signature is looked at.
      const [, payload, signature] = (await mint()).split('.');
      const header = Buffer.from(
        JSON.stringify({ alg: 'RS256', kid: github.currentKid, crit: ['b64'], b64: false }),
      ).toString('base64url');
      await refused(`${header}.${payload}.${signature}`, 'ERR_OIDC_MALFORMED');
      await refused(await mint({ iss: undefined }), 'ERR_OIDC_MALFORMED');
    });
  });

  describe("the Actions ID-token endpoint npm's CLI calls", () => {
    it('answers the audience npm appends with a token the gate accepts', async () => {
      const endpoint = await startActionsTokenEndpoint(github, {}, { now: now() });
      try {
        const url = new URL(endpoint.url);
        url.searchParams.append('audience', AUDIENCE);
        const denied = await fetch(url, { headers: { accept: 'application/json' } });
        assert.equal(denied.status, 401);
        const response = await fetch(url, {
          headers: { accept: 'application/json', authorization: `Bearer ${endpoint.requestToken}` },
        });
        const { value } = (await response.json()) as { value: string };
        assert.deepEqual(endpoint.audiences, [AUDIENCE]);
        const identity = await verify(value);
        assert.equal(identity.claims.aud, AUDIENCE);
        assert.equal(endpoint.env.ACTIONS_ID_TOKEN_REQUEST_URL, endpoint.url);
      } finally {
        await endpoint.close();
      }
    });
  });
});
