import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { auditRepository, loadAuditConfig, type AuditReport, type Finding } from './index.ts';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/pipeline/', import.meta.url));
const cache = new Map<string, AuditReport>();

// Malformed YAML and an alias bomb are written at test time (committed, they would break formatters).
const BROKEN = mkdtempSync(join(tmpdir(), 'pubgate-audit-broken-'));
cpSync(`${FIXTURES}broken`, BROKEN, { recursive: true });
writeFileSync(
  join(BROKEN, '.github/workflows/malformed.yml'),
  'name: Broken\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo "unterminated\n       - uses: [actions/checkout@v4\n',
);
const bombLevels = 'abcdefg'.split('').map((k, i) =>
  i === 0
    ? `${k}: &${k} [${Array(10).fill('"x"').join(', ')}]`
    : `${k}: &${k} [${Array(10)
        .fill(`*${'abcdefg'[i - 1] ?? ''}`)
        .join(', ')}]`,
);
writeFileSync(
  join(BROKEN, '.github/workflows/alias-bomb.yml'),
  `name: bomb\n${bombLevels.join('\n')}\non: push\njobs: {}\n`,
);
after(() => rmSync(BROKEN, { recursive: true, force: true }));

function audit(name: string): AuditReport {
  let report = cache.get(name);
  if (report === undefined) {
    const root = name === 'broken' ? BROKEN : `${FIXTURES}${name}`;
    report = auditRepository(root, { config: loadAuditConfig(root) });
    cache.set(name, report);
  }
  return report;
}

function findings(name: string, ruleId: string, file?: string): Finding[] {
  return audit(name).findings.filter(
    (f) => f.ruleId === ruleId && (file === undefined || f.location.file === file),
  );
}

function at(name: string, ruleId: string, file: string, line: number): Finding {
  const found = findings(name, ruleId, file).find((f) => f.location.line === line);
  assert.ok(
    found,
    `${ruleId} expected at ${file}:${line}; got ${JSON.stringify(findings(name, ruleId).map((f) => `${f.location.file}:${f.location.line}`))}`,
  );
  return found;
}

const RELEASE = '.github/workflows/release.yml';

describe('pipeline audit', () => {
  describe('long-lived-registry-credential (1)', () => {
    it('reports NODE_AUTH_TOKEN from secrets.NPM_TOKEN in a publish job, at the secret reference', () => {
      const f = at('npm-token-publish', 'long-lived-registry-credential', RELEASE, 23);
      assert.equal(f.location.column, 32);
      assert.equal(f.severity, 'high');
    });
    it('names the hybrid setup when the token sits next to id-token: write', () => {
      const f = at('hybrid-token', 'long-lived-registry-credential', '.github/workflows/publish.yml', 24);
      assert.match(f.message, /alongside its OIDC identity/);
    });
    it('reports the password: input of pypa/gh-action-pypi-publish', () => {
      at('pypi-password', 'long-lived-registry-credential', '.github/workflows/pypi.yml', 26);
    });
    it('reports a token handed to a job whose publish hides in a script (TWINE_PASSWORD → scripts/release.sh)', () => {
      at('hidden-publish', 'long-lived-registry-credential', RELEASE, 34);
    });
    it('reports $NPM_TOKEN in a GitLab publish job', () => {
      at('gitlab', 'long-lived-registry-credential', 'ci/publish.yml', 9);
    });
    it('stays silent for trusted publishing, GITHUB_TOKEN, OIDC ID tokens and preview registries', () => {
      assert.deepEqual(findings('gated-oidc', 'long-lived-registry-credential'), []);
      assert.deepEqual(findings('pypi-trusted', 'long-lived-registry-credential'), []);
      assert.deepEqual(findings('unpinned', 'long-lived-registry-credential'), []);
      assert.deepEqual(findings('lookalikes', 'long-lived-registry-credential'), []);
      assert.deepEqual(findings('gitlab', 'long-lived-registry-credential', 'scripts/upload.sh'), []);
    });
  });

  describe('publish-bypasses-gate (2)', () => {
    it('reports npm publish to the default registry through setup-node registry-url', () => {
      const f = at('npm-token-publish', 'publish-bypasses-gate', RELEASE, 21);
      assert.equal(f.location.column, 14);
      assert.match(f.message, /registry\.npmjs\.org \(actions\/setup-node registry-url\)/);
    });
    it('follows run: make publish into the Makefile target and its $(NPM) variable', () => {
      const f = at('hidden-publish', 'publish-bypasses-gate', 'Makefile', 11);
      assert.equal(f.via[0]?.file, RELEASE);
      assert.equal(f.via[0]?.line, 30);
    });
    it('follows run: ./scripts/release.sh into twine upload', () => {
      at('hidden-publish', 'publish-bypasses-gate', 'scripts/release.sh', 8);
    });
    it('follows npm version → postversion → npm run release → npm publish', () => {
      const f = at('hidden-publish', 'publish-bypasses-gate', 'package.json', 10);
      assert.ok(f.via.some((v) => v.note.includes('postversion')));
    });
    it('follows changesets/action publish: into package.json and changeset publish', () => {
      at('changesets', 'publish-bypasses-gate', 'package.json', 7);
    });
    it('reports GitLab publishes, including through !reference and local includes', () => {
      at('gitlab', 'publish-bypasses-gate', 'ci/publish.yml', 25);
      at('gitlab', 'publish-bypasses-gate', 'scripts/upload.sh', 6);
    });
    it('stays silent for the gate, preview registries, pkg.pr.new, --dry-run and printed help text', () => {
      assert.deepEqual(findings('gated-oidc', 'publish-bypasses-gate'), []);
      assert.deepEqual(findings('lookalikes', 'publish-bypasses-gate'), []);
      assert.deepEqual(findings('unpinned', 'publish-bypasses-gate'), []);
    });
  });

  describe('publish-identity-not-separated (3)', () => {
    it('reports npm ci in the job that publishes with the token', () => {
      const f = at('npm-token-publish', 'publish-identity-not-separated', RELEASE, 19);
      assert.equal(f.severity, 'high');
    });
    it('reports a GitLab job with id_tokens that also builds', () => {
      at('gitlab', 'publish-identity-not-separated', 'ci/publish.yml', 20);
    });
    it('reports pnpm install in the changesets publish job', () => {
      at('changesets', 'publish-identity-not-separated', RELEASE, 30);
    });
    it('stays silent when the build job has no identity and id-token is used only to attest', () => {
      assert.deepEqual(findings('gated-oidc', 'publish-identity-not-separated'), []);
      assert.deepEqual(findings('pypi-trusted', 'publish-identity-not-separated'), []);
      assert.deepEqual(findings('lookalikes', 'publish-identity-not-separated'), []);
    });
  });

  describe('permissions (4)', () => {
    it('reports write-all', () => {
      at('permissions', 'permissions-write-all', '.github/workflows/ci.yml', 3);
    });
    it('reports workflow-level id-token: write shared by several jobs as high', () => {
      const f = at('permissions', 'permissions-workflow-write', '.github/workflows/docs.yml', 8);
      assert.equal(f.severity, 'high');
    });
    it('reports a job left on default permissions, and not its siblings that declare them', () => {
      const list = findings('permissions', 'permissions-default', '.github/workflows/lint.yml');
      assert.deepEqual(
        list.map((f) => f.location.line),
        [4],
      );
    });
    it('stays silent for read-only workflow permissions and single-job write scopes', () => {
      assert.deepEqual(findings('permissions', 'permissions-default', '.github/workflows/least.yml'), []);
      assert.deepEqual(findings('lookalikes', 'permissions-workflow-write'), []);
      assert.deepEqual(findings('unpinned', 'permissions-default'), []);
    });
  });

  describe('triggers and injection (5)', () => {
    it('reports pull_request_target and workflow_run as dangerous triggers', () => {
      at('triggers', 'dangerous-trigger', '.github/workflows/labeler.yml', 3);
      at('triggers', 'dangerous-trigger', '.github/workflows/coverage-comment.yml', 3);
    });
    it('reports checking out the PR head in pull_request_target as critical, at the ref', () => {
      const f = at('triggers', 'untrusted-code-checkout', '.github/workflows/pr-preview-build.yml', 14);
      assert.equal(f.severity, 'critical');
    });
    it('reports git checkout of the workflow_run head', () => {
      at('triggers', 'untrusted-code-checkout', '.github/workflows/coverage-comment.yml', 16);
    });
    it('does not report a labeler on pull_request_target or a head checkout under pull_request', () => {
      assert.deepEqual(findings('triggers', 'untrusted-code-checkout', '.github/workflows/labeler.yml'), []);
      assert.deepEqual(findings('triggers', 'untrusted-code-checkout', '.github/workflows/ci.yml'), []);
      assert.deepEqual(findings('triggers', 'dangerous-trigger', '.github/workflows/ci.yml'), []);
    });
    it('reports attacker-controlled expressions in run: and github-script at their column', () => {
      const title = at('injection', 'template-injection', '.github/workflows/triage.yml', 17);
      assert.equal(title.location.column, 17);
      at('injection', 'template-injection', '.github/workflows/triage.yml', 19);
      at('injection', 'template-injection', '.github/workflows/triage.yml', 23);
    });
    it('does not report values passed through env: or safe contexts such as issue.number', () => {
      const lines = findings('injection', 'template-injection').map((f) => f.location.line);
      assert.ok(!lines.includes(26) && !lines.includes(31), String(lines));
    });
  });

  describe('pinning (6)', () => {
    it('reports a tag-pinned third-party action as medium in CI', () => {
      assert.equal(at('unpinned', 'unpinned-action', '.github/workflows/ci.yml', 14).severity, 'medium');
    });
    it('weights an unpinned action up to high in a job with the release identity', () => {
      assert.equal(at('unpinned', 'unpinned-action', RELEASE, 15).severity, 'high');
    });
    it('reports unpinned reusable workflows, job containers and docker:// actions', () => {
      at('unpinned', 'unpinned-action', '.github/workflows/ci.yml', 24);
      at('unpinned', 'unpinned-container-image', '.github/workflows/ci.yml', 8);
      at('unpinned', 'unpinned-container-image', '.github/workflows/ci.yml', 20);
    });
    it('allows SHA pins, digests, local actions and GitHub-owned actions/* by default', () => {
      const lines = findings('unpinned', 'unpinned-action', '.github/workflows/ci.yml').map(
        (f) => f.location.line,
      );
      assert.deepEqual(
        lines.sort((a, b) => a - b),
        [14, 24],
      );
      assert.deepEqual(
        findings('unpinned', 'unpinned-container-image', '.github/workflows/ci.yml').map(
          (f) => f.location.line,
        ),
        [8, 20],
      );
    });
    it('reports GitLab project includes at a branch, remote includes without integrity and components at a tag', () => {
      at('gitlab', 'unpinned-include', '.gitlab-ci.yml', 4);
      at('gitlab', 'unpinned-include', '.gitlab-ci.yml', 9);
      at('gitlab', 'unpinned-include', '.gitlab-ci.yml', 13);
      assert.equal(findings('gitlab', 'unpinned-include').length, 3);
    });
  });

  describe('cache-in-publish-job (7)', () => {
    it('reports setup-node cache and GitLab cache in publish jobs', () => {
      at('npm-token-publish', 'cache-in-publish-job', RELEASE, 14);
      at('pypi-password', 'cache-in-publish-job', '.github/workflows/pypi.yml', 12);
      at('gitlab', 'cache-in-publish-job', '.gitlab-ci.yml', 27);
    });
    it('does not report caches in jobs that do not publish', () => {
      assert.equal(findings('gitlab', 'cache-in-publish-job').length, 1);
      assert.deepEqual(findings('gated-oidc', 'cache-in-publish-job'), []);
    });
  });

  describe('secret-exposure (8)', () => {
    it('reports a secret echoed to the log, exported to GITHUB_ENV, written to a file, and toJSON(secrets)', () => {
      assert.equal(at('secrets', 'secret-exposure', '.github/workflows/deploy.yml', 15).location.column, 31);
      assert.match(
        at('secrets', 'secret-exposure', '.github/workflows/deploy.yml', 17).message,
        /GITHUB_ENV/,
      );
      assert.match(at('secrets', 'secret-exposure', '.github/workflows/deploy.yml', 21).message, /file/);
      assert.match(at('secrets', 'secret-exposure', '.github/workflows/deploy.yml', 24).message, /toJSON/);
    });
    it('stays silent for docker login --password-stdin, ::add-mask:: and mentioning a name', () => {
      const lines = findings('secrets', 'secret-exposure').map((f) => f.location.line);
      assert.deepEqual(lines, [15, 17, 21, 24]);
      assert.deepEqual(findings('lookalikes', 'secret-exposure'), []);
    });
  });

  describe('download-and-execute (9)', () => {
    it('reports curl | bash, download-then-run and bash -c "$(curl …)" in workflows', () => {
      at('curl-sh', 'download-and-execute', '.github/workflows/ci.yml', 11);
      at('curl-sh', 'download-and-execute', '.github/workflows/ci.yml', 16);
      at('curl-sh', 'download-and-execute', '.github/workflows/ci.yml', 24);
    });
    it('reports install-time lifecycle scripts that fetch and execute, as high', () => {
      assert.equal(
        at('curl-sh', 'download-and-execute', 'packages/native-addon/package.json', 5).severity,
        'high',
      );
      assert.equal(
        at('curl-sh', 'download-and-execute', 'packages/native-addon/scripts/postinstall.js', 7).severity,
        'high',
      );
      at('curl-sh', 'download-and-execute', 'scripts/bootstrap.sh', 4);
    });
    it('stays silent for verified downloads, data downloads and a postinstall that only prints', () => {
      const lines = findings('curl-sh', 'download-and-execute', '.github/workflows/ci.yml').map(
        (f) => f.location.line,
      );
      assert.deepEqual(lines, [11, 16, 24]);
      assert.deepEqual(findings('curl-sh', 'download-and-execute', 'packages/friendly/package.json'), []);
      assert.deepEqual(findings('lookalikes', 'download-and-execute'), []);
    });
  });

  describe('publish-without-provenance (10)', () => {
    it('reports a publish job without id-token: write (GitHub) or id_tokens (GitLab)', () => {
      at('npm-token-publish', 'publish-without-provenance', RELEASE, 21);
      at('gitlab', 'publish-without-provenance', 'ci/publish.yml', 25);
    });
    it('stays silent for trusted publishing jobs', () => {
      assert.deepEqual(findings('gated-oidc', 'publish-without-provenance'), []);
      assert.deepEqual(findings('pypi-trusted', 'publish-without-provenance'), []);
      assert.deepEqual(findings('hybrid-token', 'publish-without-provenance'), []);
    });
  });

  describe('shared-registry-credential (11)', () => {
    it('reports one credential name used across several repositories, once per file', () => {
      const list = findings('shared-token', 'shared-registry-credential');
      assert.deepEqual(list.map((f) => f.location.file).sort(), [
        'repo-a/.github/workflows/release.yml',
        'repo-b/.github/workflows/publish.yml',
        'repo-c/.gitlab-ci.yml',
      ]);
      assert.match(list[0]?.message ?? '', /ORG_NPM_TOKEN is shared across 3 repositories/);
    });
    it('does not report a credential used in one workflow only', () => {
      assert.ok(
        !findings('shared-token', 'shared-registry-credential').some((f) => f.message.includes('CANARY')),
      );
      assert.deepEqual(findings('npm-token-publish', 'shared-registry-credential'), []);
    });
  });

  describe('look-alikes', () => {
    it('reports nothing for attest-only id-token, docker login, preview publishing and a printing postinstall', () => {
      assert.deepEqual(audit('lookalikes').findings, []);
    });
    it('reports nothing for the recommended gated workflow', () => {
      assert.deepEqual(audit('gated-oidc').findings, []);
      assert.deepEqual(audit('gated-oidc').errors, []);
    });
  });

  describe('suppression', () => {
    it('honours an inline comment with a reason on the line above or the same line', () => {
      const suppressed = audit('suppression').suppressed;
      assert.ok(
        suppressed.some(
          (s) =>
            s.ruleId === 'unpinned-action' &&
            s.location.line === 10 &&
            s.suppression.reason.startsWith('internal org action'),
        ),
      );
      assert.ok(suppressed.some((s) => s.ruleId === 'download-and-execute' && s.location.line === 12));
    });
    it('does not honour a comment without a reason and reports it', () => {
      at('suppression', 'unpinned-action', '.github/workflows/ci.yml', 11);
      at('suppression', 'invalid-suppression', '.github/workflows/ci.yml', 11);
      at('suppression', 'unpinned-action', '.github/workflows/ci.yml', 13);
    });
    it('honours a config-file ignore with its reason', () => {
      const s = audit('suppression').suppressed.find(
        (x) => x.location.file === '.github/workflows/vendored.yml',
      );
      assert.equal(s?.suppression.source, 'config');
    });
  });

  describe('hostile and broken input', () => {
    it('gives malformed YAML and alias bombs a per-file error and audits the rest', () => {
      const report = audit('broken');
      assert.deepEqual(
        report.errors.map((e) => [e.file, e.code]),
        [
          ['.github/workflows/alias-bomb.yml', 'ERR_AUDIT_YAML_ALIAS_LIMIT'],
          ['.github/workflows/malformed.yml', 'ERR_AUDIT_YAML_INVALID'],
        ],
      );
      at('broken', 'download-and-execute', '.github/workflows/fine.yml', 9);
    });
    it('resolves anchors and aliases, reporting at the anchor', () => {
      at('broken', 'long-lived-registry-credential', '.github/workflows/anchors.yml', 11);
      at('broken', 'publish-bypasses-gate', '.github/workflows/anchors.yml', 15);
      at('broken', 'publish-bypasses-gate', '.github/workflows/anchors.yml', 22);
    });
  });

  it('gives every finding a rule, a severity, a 1-based position and a fingerprint', () => {
    for (const name of ['npm-token-publish', 'hidden-publish', 'gitlab', 'triggers', 'secrets']) {
      for (const f of audit(name).findings) {
        assert.ok(f.location.line >= 1 && f.location.column >= 1, JSON.stringify(f));
        assert.match(f.fingerprint, /^[0-9a-f]{32}$/);
      }
    }
  });
});
