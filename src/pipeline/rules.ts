/**
 * The rule catalog: id, default severity, the one-paragraph explanation and the concrete fix of
 * every rule. Ids are stable (used by suppressions, config and SARIF); docs/audit.md mirrors this.
 */
import type { Severity } from './types.ts';

/** A rule's metadata. */
export interface AuditRule {
  readonly id: string;
  /** PascalCase name for SARIF `rules[].name`. */
  readonly name: string;
  readonly title: string;
  /** The item of issue #8 it implements (1–11), 0 for meta rules. */
  readonly category: number;
  readonly severity: Severity;
  readonly explanation: string;
  readonly fix: string;
}

/** Placeholder used in fix snippets when the config names no gate. */
export const GATE_PLACEHOLDER = 'https://<gate>/npm/';

/** The workflow that publishes through pubgate: build without credentials, publish with OIDC in a job of its own, then wait. */
export function toGateWorkflowSnippet(gateUrl: string = GATE_PLACEHOLDER): string {
  return `jobs:
  build:                      # no publish credential, no id-token
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@<full-commit-sha>       # v4
      - uses: actions/setup-node@<full-commit-sha>     # v4, no cache in release builds
        with:
          node-version: 20
      - run: npm ci
      - run: npm test
      - run: npm pack                                   # lifecycle scripts run here, not in publish
      - uses: actions/upload-artifact@<full-commit-sha> # v4
        with:
          name: package
          path: '*.tgz'
  publish:                    # only job with id-token; installs, builds and tests nothing
    needs: build
    runs-on: ubuntu-latest
    environment: release
    permissions:
      contents: read
      id-token: write         # npm exchanges its OIDC token at the gate: no NPM_TOKEN
    outputs:
      stage-id: \${{ steps.stage.outputs.id }}
    steps:
      - uses: actions/download-artifact@<full-commit-sha> # v4
        with:
          name: package
      - uses: actions/setup-node@<full-commit-sha>
        with:
          node-version: 20
      - id: stage
        run: npm stage publish ./*.tgz --registry ${gateUrl}
  wait:                       # blocks until approvers release it, or it is rejected
    needs: publish
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - run: npx pubgate release wait "\${{ needs.publish.outputs.stage-id }}"`;
}

const GATE_FIX = (extra: string): string =>
  `${extra} Publish through pubgate with trusted publishing (OIDC) from a job of its own that holds id-token: write and nothing else, and remove the long-lived token from the repository and organisation secrets:\n\n${toGateWorkflowSnippet()}`;

const rules: readonly AuditRule[] = [
  {
    id: 'long-lived-registry-credential',
    name: 'LongLivedRegistryCredential',
    title: 'Long-lived registry credential in a publish path',
    category: 1,
    severity: 'high',
    explanation:
      'A long-lived registry token (NPM_TOKEN, NODE_AUTH_TOKEN, TWINE_PASSWORD, a PyPI, RubyGems or crates.io token, a `password:` input) is handed to a job or script that publishes. Anyone who can run code in that job — a compromised dependency, a poisoned cache, an injected expression — can copy the token and publish any version of any package it covers, from anywhere, for as long as it lives; nobody has to approve anything. A token kept "alongside" `id-token: write` (hybrid setup) keeps that risk even though OIDC would work without it.',
    fix: GATE_FIX('Delete the token from the job and from the secret store.'),
  },
  {
    id: 'publish-bypasses-gate',
    name: 'PublishBypassesGate',
    title: 'Publish that does not go through the gate',
    category: 2,
    severity: 'high',
    explanation:
      'This command publishes straight to a registry the gate protects (npmjs, PyPI, RubyGems, crates.io), so the release is not checked, not approved by humans with passkeys and not signed by the gate. Whoever controls this pipeline or script controls what users install.',
    fix: GATE_FIX(
      'Point the publish at the gate (`--registry`, `publishConfig.registry` or `.npmrc` set to the gate URL named in `.pubgate-audit.yml` `gates:`).',
    ),
  },
  {
    id: 'publish-identity-not-separated',
    name: 'PublishIdentityNotSeparated',
    title: 'Publish job also installs, builds or tests',
    category: 3,
    severity: 'high',
    explanation:
      'The job that holds the publish credential or `id-token: write` also runs third-party code: it installs dependencies with lifecycle scripts, builds or tests, directly or through `prepublishOnly`/`prepack`/`prepare`. Any of that code can read the token or request an OIDC token and publish with it. The identity that builds must not be the identity that publishes.',
    fix: GATE_FIX(
      'Build, test and `npm pack` in a job without credentials; hand the tarball over as an artifact; publish the tarball (npm runs no lifecycle scripts for a tarball) in a job that installs nothing.',
    ),
  },
  {
    id: 'permissions-write-all',
    name: 'PermissionsWriteAll',
    title: '`permissions: write-all`',
    category: 4,
    severity: 'high',
    explanation:
      '`write-all` gives the GITHUB_TOKEN every write scope, `id-token: write` included: every step can push code, create releases, change packages and mint OIDC tokens that trusted publishing accepts.',
    fix: 'Grant the least each job needs, at job level:\n\npermissions: {}          # workflow level: nothing\njobs:\n  build:\n    permissions:\n      contents: read\n  publish:\n    permissions:\n      contents: read\n      id-token: write',
  },
  {
    id: 'permissions-workflow-write',
    name: 'PermissionsWorkflowWrite',
    title: 'Write scopes granted at workflow level',
    category: 4,
    severity: 'medium',
    explanation:
      'Write scopes (and `id-token: write` above all) set under the workflow-level `permissions:` apply to every job, including the ones that install and run untrusted code. Only the one job that needs a scope should hold it.',
    fix: 'Set `permissions: {}` (or `contents: read`) at workflow level and grant write scopes, `id-token: write` included, only on the job that needs them:\n\npermissions:\n  contents: read\njobs:\n  publish:\n    permissions:\n      contents: read\n      id-token: write',
  },
  {
    id: 'permissions-default',
    name: 'PermissionsDefault',
    title: 'Job left on default token permissions',
    category: 4,
    severity: 'low',
    explanation:
      'Neither the workflow nor the job sets `permissions:`, so the GITHUB_TOKEN gets the repository or organisation default, which is read-write on many repositories (and on every repository created before February 2023). The job cannot be reviewed for least privilege.',
    fix: 'Declare the permissions explicitly, least first:\n\npermissions:\n  contents: read',
  },
  {
    id: 'dangerous-trigger',
    name: 'DangerousTrigger',
    title: 'Privileged trigger (`pull_request_target`, `workflow_run`)',
    category: 5,
    severity: 'low',
    explanation:
      "`pull_request_target` and `workflow_run` run with the base repository's secrets and a write token even when the event comes from a fork. They are safe only while no step touches code, artifacts or text from the pull request; the next edit to this workflow can silently break that.",
    fix: "Use `pull_request` unless the workflow must write to the repository; when it must, keep it to metadata (labels, comments), never check out or run the pull request's code, and pass event text through `env:`.",
  },
  {
    id: 'untrusted-code-checkout',
    name: 'UntrustedCodeCheckout',
    title: 'Privileged workflow checks out or runs untrusted code',
    category: 5,
    severity: 'critical',
    explanation:
      "A `pull_request_target`, `workflow_run` or comment-triggered workflow checks out the pull request's head (or the triggering run's branch) and so runs code an outsider wrote — install scripts, build files, tests — with the base repository's secrets and write token (\"pwn request\").",
    fix: 'Run untrusted code only under `pull_request` (no secrets, read-only token). If a privileged follow-up is needed, split it: `pull_request` builds and uploads an artifact; `workflow_run` downloads it as data only and never executes it:\n\non:\n  pull_request:\njobs:\n  test:\n    permissions:\n      contents: read\n    steps:\n      - uses: actions/checkout@<full-commit-sha>\n      - run: npm ci && npm test',
  },
  {
    id: 'template-injection',
    name: 'TemplateInjection',
    title: 'Attacker-controlled expression expanded into a script',
    category: 5,
    severity: 'high',
    explanation:
      'An expression such as `${{ github.event.pull_request.title }}` or `${{ github.head_ref }}` is pasted into the script text before the shell runs it, so anyone who can open an issue, a pull request or a branch can inject shell commands into this step and read its secrets and token.',
    fix: 'Pass the value through an environment variable and quote it in the shell:\n\n- env:\n    TITLE: ${{ github.event.pull_request.title }}\n  run: echo "$TITLE"',
  },
  {
    id: 'unpinned-action',
    name: 'UnpinnedAction',
    title: 'Third-party action or reusable workflow not pinned to a commit',
    category: 6,
    severity: 'medium',
    explanation:
      "A tag or branch (`@v3`, `@main`) can be moved by whoever controls the action's repository, so the code this step runs can change without a change here; in a publish job that code holds the release identity. Only a full 40-character commit SHA is immutable.",
    fix: 'Pin to the full commit SHA and keep the tag as a comment (Dependabot and Renovate update both):\n\n- uses: owner/action@<full-40-char-commit-sha> # v3.1.0\n\nor allow the owner explicitly in `.pubgate-audit.yml` `allowUnpinned:`.',
  },
  {
    id: 'unpinned-container-image',
    name: 'UnpinnedContainerImage',
    title: 'Container image not pinned to a digest',
    category: 6,
    severity: 'low',
    explanation:
      'A job container, service or `docker://` action referenced by tag can be replaced by whoever can push to that tag; the job then runs a different image with the same secrets.',
    fix: 'Pin the image by digest:\n\ncontainer: node:20@sha256:<digest>',
  },
  {
    id: 'unpinned-include',
    name: 'UnpinnedInclude',
    title: 'GitLab include not pinned',
    category: 6,
    severity: 'medium',
    explanation:
      "A GitLab `include:` of another project at a branch or tag, a remote URL without `integrity:`, or a component at a moving version pulls CI configuration that someone else can change; it runs with this project's variables and can publish with them.",
    fix: 'Pin it:\n\ninclude:\n  - project: group/ci-templates\n    ref: <full-commit-sha>\n    file: /publish.yml\n  - remote: https://example.com/ci.yml\n    integrity: sha256-<base64>',
  },
  {
    id: 'cache-in-publish-job',
    name: 'CacheInPublishJob',
    title: 'Cache restored in a release or publish job',
    category: 7,
    severity: 'high',
    explanation:
      'The publish job restores a cache. Caches are shared with other workflows of the repository, including ones that run pull-request code, so a poisoned cache entry (a patched dependency, a tampered build tool) ends up inside the release and runs with the publish identity.',
    fix: 'Do not restore caches where you publish: drop `cache:` from setup-* actions and remove actions/cache from the publish job (or set `package-manager-cache: false` on setup-node v5+). Cache only in jobs that neither release nor hold credentials.',
  },
  {
    id: 'secret-exposure',
    name: 'SecretExposure',
    title: 'Secret written to the log, a file or GITHUB_ENV',
    category: 8,
    severity: 'high',
    explanation:
      'A secret is echoed to the job log, written to a file, or exported through GITHUB_ENV/GITHUB_OUTPUT (where every later step — including third-party actions — sees it), or all secrets are serialised with `toJSON(secrets)`. Log masking misses transformed values, files end up in artifacts and caches, and exported values leak to every later step.',
    fix: 'Hand the secret to the one step that needs it through `env:` and pass it on stdin, never through echo, files or GITHUB_ENV:\n\n- env:\n    PASSWORD: ${{ secrets.REGISTRY_PASSWORD }}\n  run: printf \'%s\' "$PASSWORD" | docker login --username ci --password-stdin registry.example.com\n\nFor publishing, remove the token altogether and use the gate with OIDC.',
  },
  {
    id: 'download-and-execute',
    name: 'DownloadAndExecute',
    title: 'Code downloaded and executed without verification',
    category: 9,
    severity: 'medium',
    explanation:
      "`curl | sh` and download-then-run execute whatever the server (or anyone on the path, or whoever took over the domain) returns at that moment, with the job's secrets; in a package's `preinstall`/`install`/`postinstall` it runs on every machine that installs the package.",
    fix: 'Download a pinned version, verify it, then run it:\n\ncurl -fsSLo tool.tar.gz https://example.com/tool-1.2.3.tar.gz\necho "<sha256>  tool.tar.gz" | sha256sum -c -\n\nor use a pinned action or package. Packages should never fetch code at install time.',
  },
  {
    id: 'publish-without-provenance',
    name: 'PublishWithoutProvenance',
    title: 'Publish without provenance or trusted publishing',
    category: 10,
    severity: 'medium',
    explanation:
      'The publishing job has no OIDC identity (`id-token: write` on GitHub, `id_tokens:` on GitLab) or turns provenance off, so the registry and the gate cannot tie the package to this repository, workflow and commit; users cannot verify where it was built.',
    fix: GATE_FIX(
      'Give the publish job `id-token: write` (GitLab: `id_tokens:` with the registry audience) and let the client publish with trusted publishing and provenance.',
    ),
  },
  {
    id: 'shared-registry-credential',
    name: 'SharedRegistryCredential',
    title: 'One registry credential shared across many workflows or repositories',
    category: 11,
    severity: 'medium',
    explanation:
      "The same registry credential name appears in many workflows or repositories: typically one maintainer's token stored as an organisation secret. It usually carries that maintainer's rights over every package they own, so one leak anywhere publishes everywhere, and it cannot be rotated without breaking all of them.",
    fix: GATE_FIX('Replace the shared token with one trusted publisher per package and repository.'),
  },
  {
    id: 'invalid-suppression',
    name: 'InvalidSuppression',
    title: 'Suppression comment without a reason',
    category: 0,
    severity: 'low',
    explanation:
      'A `pubgate-audit-ignore` comment must name the rule and give a reason; one without a reason is not honoured, so the finding it meant to silence is still reported.',
    fix: 'Write the reason after a colon:\n\n# pubgate-audit-ignore unpinned-action: vendored fork, reviewed 2025-05',
  },
];

/** Every rule, in catalog order. */
export const AUDIT_RULES: readonly AuditRule[] = Object.freeze(rules.map((r) => Object.freeze(r)));

const byId = new Map(AUDIT_RULES.map((r) => [r.id, r]));

/** The rule with this id; throws TypeError for an unknown id (a programming mistake). */
export function getAuditRule(id: string): AuditRule {
  const rule = byId.get(id);
  if (rule === undefined) throw new TypeError(`unknown audit rule ${id}`);
  return rule;
}

/** True when `id` names a rule. */
export function isAuditRuleId(id: string): boolean {
  return byId.has(id);
}
