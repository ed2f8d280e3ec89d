import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  GITHUB_ACTIONS_ISSUER,
  matchesClaim,
  matchesPackagePattern,
  publishersFor,
  validateTrustedPublishers,
  type TrustedPublisherConfig,
} from './trusted-publishers.ts';

const github: TrustedPublisherConfig = {
  packages: ['@acme/*', 'widget-cli'],
  provider: 'github',
  issuer: GITHUB_ACTIONS_ISSUER,
  audience: 'npm:registry.example.com',
  claims: {
    repository_id: '123456789',
    repository_owner_id: 987654,
    workflow_ref: 'acme/widget/.github/workflows/release.yml@refs/tags/v*',
    ref: 'refs/tags/v*',
    environment: 'release',
  },
};

const gitlab: TrustedPublisherConfig = {
  packages: ['gitlab-widget'],
  provider: 'gitlab',
  issuer: 'https://gitlab.com',
  audience: 'npm:registry.example.com',
  claims: {
    project_id: 4242,
    namespace_id: '72',
    ci_config_ref_uri: 'gitlab.com/acme/widget//.gitlab-ci.yml@refs/tags/*',
  },
  allowSelfHosted: false,
};

/** The paths of the issues found in one publisher edited by `edit`. */
function issuesOf(base: TrustedPublisherConfig, edit: (copy: Record<string, unknown>) => void): string[] {
  const copy = structuredClone(base) as unknown as Record<string, unknown>;
  edit(copy);
  return validateTrustedPublishers([copy]).map((issue) => issue.path.join('.'));
}

const claimsOf = (copy: Record<string, unknown>) => copy.claims as Record<string, unknown>;

describe('trusted publishers', () => {
  describe('validateTrustedPublishers', () => {
    it('accepts GitHub, GitLab and generic publishers', () => {
      const generic: TrustedPublisherConfig = {
        packages: ['*'],
        provider: 'generic',
        issuer: 'https://ci.example.com/oidc',
        audience: 'pubgate',
        claims: { pipeline: 'release' },
      };
      assert.deepEqual(validateTrustedPublishers([github, gitlab, generic]), []);
    });

    it('refuses a publisher that pins sub', () => {
      assert.deepEqual(
        issuesOf(github, (c) => (claimsOf(c).sub = 'repo:acme/widget:ref:refs/tags/v1')),
        ['0.claims.sub'],
      );
    });

    it('refuses a GitHub publisher without repository_id or a workflow', () => {
      assert.deepEqual(
        issuesOf(github, (c) => delete claimsOf(c).repository_id),
        ['0.claims'],
      );
      assert.deepEqual(
        issuesOf(github, (c) => delete claimsOf(c).workflow_ref),
        ['0.claims'],
      );
    });

    it('refuses a GitLab publisher without project_id or ci_config_ref_uri', () => {
      assert.deepEqual(
        issuesOf(gitlab, (c) => delete claimsOf(c).project_id),
        ['0.claims'],
      );
      assert.deepEqual(
        issuesOf(gitlab, (c) => delete claimsOf(c).ci_config_ref_uri),
        ['0.claims'],
      );
    });

    it('refuses wildcards outside the ref part of a workflow and on id claims', () => {
      assert.deepEqual(
        issuesOf(github, (c) => (claimsOf(c).workflow_ref = 'acme/widget/.github/workflows/*')),
        ['0.claims.workflow_ref'],
      );
      assert.deepEqual(
        issuesOf(github, (c) => (claimsOf(c).workflow_ref = 'acme/*@refs/heads/main')),
        ['0.claims.workflow_ref'],
      );
      assert.deepEqual(
        issuesOf(github, (c) => (claimsOf(c).repository_id = '12*')),
        ['0.claims.repository_id'],
      );
      assert.deepEqual(
        issuesOf(github, (c) => (claimsOf(c).ref = '*')),
        ['0.claims.ref'],
      );
      assert.deepEqual(
        issuesOf(github, (c) => (claimsOf(c).ref = 'refs/*/main')),
        ['0.claims.ref'],
      );
    });

    it('refuses claims a provider does not issue, reserved claims and prototype names', () => {
      const parsed = JSON.parse('{"__proto__": "x", "jti": "1", "project_id": "1"}') as Record<
        string,
        unknown
      >;
      assert.deepEqual(
        issuesOf(github, (c) => {
          // defineProperty, as JSON.parse does: assignment would hit the __proto__ setter instead.
          for (const [name, value] of Object.entries(parsed)) {
            Object.defineProperty(claimsOf(c), name, {
              value,
              enumerable: true,
              configurable: true,
              writable: true,
            });
          }
        }).sort(),
        ['0.claims.__proto__', '0.claims.jti', '0.claims.project_id'],
      );
    });

    it('refuses a non-https issuer unless loopback issuers are allowed for tests', () => {
      assert.deepEqual(
        issuesOf(github, (c) => (c.issuer = 'http://127.0.0.1:8080')),
        ['0.issuer'],
      );
      assert.deepEqual(
        issuesOf(github, (c) => (c.issuer = 'https://user:pw@issuer.example')),
        ['0.issuer'],
      );
      const local = { ...github, issuer: 'http://127.0.0.1:8080' };
      assert.deepEqual(validateTrustedPublishers([local], { allowInsecureLoopbackIssuers: true }), []);
      assert.deepEqual(
        validateTrustedPublishers([{ ...github, issuer: 'http://ci.example.com' }], {
          allowInsecureLoopbackIssuers: true,
        }).map((i) => i.path.join('.')),
        ['0.issuer'],
      );
    });

    it('lists every bad field with its path', () => {
      const issues = validateTrustedPublishers([
        {
          packages: ['Bad Name', '@acme/*'],
          provider: 'jenkins',
          issuer: 'ftp://x',
          audience: '',
          claims: { x: 1.5 },
          extra: true,
        },
        'nope',
      ]);
      assert.deepEqual(
        issues.map((issue) => issue.path.join('.')),
        ['0.extra', '0.packages.0', '0.provider', '0.issuer', '0.audience', '0.claims.x', '1'],
      );
      assert.ok(issues.every((issue) => issue.message.length > 0));
      assert.deepEqual(
        validateTrustedPublishers({}).map((i) => i.message),
        ['must be a list of trusted publishers'],
      );
    });
  });

  describe('package patterns', () => {
    it('matches a name, a scope and everything', () => {
      assert.equal(matchesPackagePattern('widget-cli', 'widget-cli'), true);
      assert.equal(matchesPackagePattern('widget-cli', 'widget-cli2'), false);
      assert.equal(matchesPackagePattern('@acme/*', '@acme/widget'), true);
      assert.equal(matchesPackagePattern('@acme/*', '@acme-evil/widget'), false);
      assert.equal(matchesPackagePattern('@acme/*', '@acme/'), false);
      assert.equal(matchesPackagePattern('*', '@any/thing'), true);
    });

    it('selects the publishers of a package in configuration order', () => {
      assert.deepEqual(publishersFor('@acme/widget', [gitlab, github]), [github]);
      assert.deepEqual(publishersFor('left-pad', [gitlab, github]), []);
    });
  });

  describe('claim matching', () => {
    it('compares ids as strings, exactly', () => {
      assert.equal(matchesClaim('repository_id', 123456789, '123456789'), true);
      assert.equal(matchesClaim('repository_id', '123456789', '1234567890'), false);
      assert.equal(matchesClaim('repository_id', '123456789', undefined), false);
      assert.equal(matchesClaim('environment', 'release', 'Release'), false);
    });

    it('lets a workflow pattern vary only the ref after the @', () => {
      const pinned = 'acme/widget/.github/workflows/release.yml@refs/tags/*';
      assert.equal(
        matchesClaim('workflow_ref', pinned, 'acme/widget/.github/workflows/release.yml@refs/tags/v1.2.3'),
        true,
      );
      assert.equal(
        matchesClaim('workflow_ref', pinned, 'acme/widget/.github/workflows/release.yml@refs/heads/main'),
        false,
      );
      assert.equal(
        matchesClaim('workflow_ref', pinned, 'acme/widget/.github/workflows/release.yml.evil@refs/tags/v1'),
        false,
      );
      assert.equal(
        matchesClaim(
          'workflow_ref',
          'acme/widget/.github/workflows/a.yml@*',
          'acme/widget/.github/workflows/a.yml@b.yml@refs/heads/x',
        ),
        false,
      );
    });

    it('treats a star as a literal on claims that take no pattern', () => {
      assert.equal(matchesClaim('environment', 'rel*', 'release'), false);
      assert.equal(matchesClaim('environment', 'rel*', 'rel*'), true);
    });
  });
});
