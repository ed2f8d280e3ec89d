/**
 * GitHub Actions: workflows (`.github/workflows/*.yml`) and actions (`action.yml`). Walks triggers,
 * permissions, jobs and steps with positions, follows `run:` blocks and local composite actions
 * into scripts, and applies the workflow-level rules (permissions, triggers, injection, pinning).
 */
import { posix } from 'node:path';
import {
  analyzeScriptLiterals,
  analyzeShell,
  type Activity,
  type EnvBinding,
  type FollowContext,
} from './shell-analyzer.ts';
import { findExpressions, findSecretReferences, isRegistryCredentialName } from './credentials.ts';
import { evaluateJob, type HeldCredential, type RestoredCache } from './job-rules.ts';
import { matchesGlob } from './config.ts';
import { nodeLocation, scalarSource, type TextSource } from './text-source.ts';
import {
  forEachScalar,
  getEntry,
  getText,
  getValue,
  toList,
  toText,
  type MapEntry,
  type ScalarNode,
  type TreeNode,
  type YamlFile,
} from './yaml-tree.ts';
import type { AuditContext } from './audit-context.ts';
import type { Severity, SourceLocation } from './types.ts';

const PRIVILEGED_TRIGGERS = new Set(['pull_request_target', 'workflow_run']);
// Comment triggers run with secrets too; checking out the PR from them is the same "pwn request".
const CHECKOUT_SENSITIVE_TRIGGERS = new Set([
  'pull_request_target',
  'workflow_run',
  'issue_comment',
  'pull_request_review_comment',
  'pull_request_review',
]);
const UNTRUSTED_REF =
  /github\.event\.pull_request\.head\.(sha|ref|repo)|github\.head_ref|github\.event\.workflow_run\.(head_sha|head_branch|head_repository|pull_requests)|refs\/pull\/|github\.event\.(issue|pull_request)\.number|github\.event\.pull_request\.merge_commit_sha|steps\.[\w-]+\.outputs\.(head|pr|sha|ref)/;
const UNTRUSTED_CONTEXT = new RegExp(
  [
    String.raw`github\.event\.(issue|pull_request|discussion)\.(title|body)`,
    String.raw`github\.event\.(comment|review|review_comment|discussion_comment)\.body`,
    String.raw`github\.event\.pages\b.*\.page_name`,
    String.raw`github\.event\.commits\b.*\.(message|author\.(email|name))`,
    String.raw`github\.event\.head_commit\.(message|author\.(email|name))`,
    String.raw`github\.event\.pull_request\.head\.(ref|label|repo\.default_branch)`,
    String.raw`github\.head_ref`,
    String.raw`github\.event\.workflow_run\.(head_branch|display_title|head_commit\.(message|author\.(email|name))|pull_requests\b.*\.head\.ref)`,
    String.raw`github\.event\.release\.(name|body)`,
  ].join('|'),
);
const SHA = /^[0-9a-f]{40}$/;
const DIGEST = /@sha256:[0-9a-f]{64}$/;

/** One step of a job (or of a composite action inlined into it). */
interface StepView {
  readonly file: YamlFile;
  readonly node: TreeNode;
  readonly env: Map<string, EnvBinding>;
}

/** Reads an `env:` map into bindings, noting the secret each value references. */
function readEnv(node: TreeNode | undefined, into: Map<string, EnvBinding>): void {
  if (node?.kind !== 'map') return;
  for (const entry of node.entries) {
    const value = toText(entry.value) ?? '';
    const secret = findSecretReferences(value)[0]?.name;
    into.set(entry.key, { value, secret });
  }
}

/** Credentials an `env:` map hands out: credential-named keys bound to a secret, or credential-named secrets. */
function credentialsInEnv(file: YamlFile, node: TreeNode | undefined, ctx: AuditContext): HeldCredential[] {
  if (node?.kind !== 'map') return [];
  const out: HeldCredential[] = [];
  for (const entry of node.entries) {
    if (entry.value.kind !== 'scalar') continue;
    out.push(
      ...credentialsInScalar(
        file,
        entry.value,
        `env ${entry.key}`,
        isRegistryCredentialName(entry.key, ctx.config.credentialNames),
        ctx,
      ),
    );
  }
  return out;
}

/** `${{ secrets.X }}` in a scalar: a credential when X is credential-named, or when the key/input says so. */
function credentialsInScalar(
  file: YamlFile,
  node: ScalarNode,
  how: string,
  keyIsCredential: boolean,
  ctx: AuditContext,
): HeldCredential[] {
  const text = toText(node) ?? '';
  const out: HeldCredential[] = [];
  for (const ref of findSecretReferences(text)) {
    if (ref.name.toUpperCase() === 'GITHUB_TOKEN') continue;
    if (!keyIsCredential && !isRegistryCredentialName(ref.name, ctx.config.credentialNames)) continue;
    const location = scalarSource(file, node).locate(ref.offset, ref.length);
    out.push({ name: ref.name, location, via: [], how });
  }
  return out;
}

/** `uses:` split into its parts. */
interface UsesRef {
  readonly raw: string;
  readonly kind: 'local' | 'docker' | 'remote';
  /** `owner/repo` (remote) */
  readonly repo: string;
  /** `owner/repo/path` without the ref. */
  readonly path: string;
  readonly ref: string | undefined;
  readonly major: number | undefined;
}

function parseUses(raw: string): UsesRef {
  if (raw.startsWith('./') || raw.startsWith('../'))
    return { raw, kind: 'local', repo: '', path: raw, ref: undefined, major: undefined };
  if (raw.startsWith('docker://'))
    return { raw, kind: 'docker', repo: '', path: raw.slice(9), ref: undefined, major: undefined };
  const at = raw.lastIndexOf('@');
  const path = at === -1 ? raw : raw.slice(0, at);
  const ref = at === -1 ? undefined : raw.slice(at + 1);
  const parts = path.split('/');
  const majorMatch = ref === undefined ? null : /^v?(\d+)/.exec(ref);
  return {
    raw,
    kind: 'remote',
    repo: parts.slice(0, 2).join('/').toLowerCase(),
    path: path.toLowerCase(),
    ref,
    major: majorMatch?.[1] === undefined ? undefined : Number(majorMatch[1]),
  };
}

/** A pin to check once we know whether the job is sensitive. */
interface PinCheck {
  readonly location: SourceLocation;
  readonly kind: 'action' | 'workflow' | 'image';
  readonly what: string;
}

/** Collected while walking a job's steps. */
interface JobWalk {
  readonly activities: Activity[];
  readonly credentials: HeldCredential[];
  readonly caches: RestoredCache[];
  readonly pins: PinCheck[];
  readonly untrustedCheckouts: { location: SourceLocation; index: number }[];
  npmUserRegistry: string | undefined;
}

/** Options of {@link auditGithubWorkflow}. */
export interface AuditGithubOptions {
  /** Root of the repository the workflow belongs to (directory holding `.github`). */
  readonly repoRoot: string;
}

/** Audits one workflow file. */
export function auditGithubWorkflow(file: YamlFile, ctx: AuditContext, options: AuditGithubOptions): void {
  const root = file.root;
  if (root?.kind !== 'map') return;
  const triggers = readTriggers(root);
  const triggerNames = new Set(triggers.map((t) => t.name));
  for (const t of triggers) {
    if (PRIVILEGED_TRIGGERS.has(t.name)) {
      ctx.findings.add(
        'dangerous-trigger',
        nodeLocation(file, t.start, t.start + t.name.length),
        `workflow runs on ${t.name}, with secrets and a write token even for events from forks`,
      );
    }
  }
  checkToJsonSecrets(file, ctx);
  const jobsNode = getValue(root, 'jobs');
  const jobEntries = jobsNode?.kind === 'map' ? jobsNode.entries : [];
  const workflowPermissions = getEntry(root, 'permissions');
  if (workflowPermissions !== undefined)
    checkWorkflowPermissions(file, workflowPermissions, jobEntries.length, ctx);
  const workflowIdToken = idTokenIn(file, workflowPermissions?.value);
  const onlyCalled = triggerNames.size > 0 && [...triggerNames].every((n) => n === 'workflow_call');
  const workflowEnv = new Map<string, EnvBinding>();
  readEnv(getValue(root, 'env'), workflowEnv);
  const workflowEnvCredentials = credentialsInEnv(file, getValue(root, 'env'), ctx);
  const checkoutSensitive = [...triggerNames].some((n) => CHECKOUT_SENSITIVE_TRIGGERS.has(n));

  for (const jobEntry of jobEntries) {
    const job = jobEntry.value;
    if (job.kind !== 'map') continue;
    const jobLocation = nodeLocation(file, jobEntry.keyStart, jobEntry.keyStart + jobEntry.key.length);
    const jobPermissions = getEntry(job, 'permissions');
    if (jobPermissions !== undefined && toText(jobPermissions.value) === 'write-all') {
      ctx.findings.add(
        'permissions-write-all',
        nodeLocation(file, jobPermissions.value.start, jobPermissions.value.end),
        `job "${jobEntry.key}" grants write-all`,
      );
    }
    const idToken = jobPermissions !== undefined ? idTokenIn(file, jobPermissions.value) : workflowIdToken;
    const env = new Map(workflowEnv);
    readEnv(getValue(job, 'env'), env);
    const walk: JobWalk = {
      activities: [],
      credentials: [...workflowEnvCredentials, ...credentialsInEnv(file, getValue(job, 'env'), ctx)],
      caches: [],
      pins: [],
      untrustedCheckouts: [],
      npmUserRegistry: undefined,
    };

    const reusable = getValue(job, 'uses');
    if (reusable?.kind === 'scalar' && typeof reusable.value === 'string') {
      const ref = parseUses(reusable.value);
      if (ref.kind === 'remote') walk.pins.push(...pinOf(file, reusable, ref, 'workflow', ctx));
      for (const secretsEntry of toList(getValue(job, 'secrets'))) {
        if (secretsEntry.kind === 'map')
          for (const e of secretsEntry.entries)
            if (e.value.kind === 'scalar')
              walk.credentials.push(
                ...credentialsInScalar(
                  file,
                  e.value,
                  `secret ${e.key} passed to ${reusable.value}`,
                  isRegistryCredentialName(e.key, ctx.config.credentialNames),
                  ctx,
                ),
              );
      }
    }
    for (const image of containerImages(job)) walk.pins.push(...imagePin(file, image));

    const steps = toList(getValue(job, 'steps'));
    const followBase = (cwd: string, stepEnv: ReadonlyMap<string, EnvBinding>): FollowContext => ({
      repo: ctx.repo,
      config: ctx.config,
      repoRoot: options.repoRoot,
      cwd,
      env: stepEnv,
      npmUserRegistry: walk.npmUserRegistry,
      via: [],
      depth: 0,
      visited: new Set(),
      reached: ctx.reached,
      platform: 'github',
      lifecycle: false,
    });
    walkSteps(
      steps.map((node) => ({ file, node, env })),
      walk,
      ctx,
      options,
      followBase,
      checkoutSensitive,
      0,
    );

    const verdict = evaluateJob(
      {
        platform: 'github',
        name: jobEntry.key,
        location: jobLocation,
        idToken,
        credentials: walk.credentials,
        activities: walk.activities,
        caches: walk.caches,
      },
      ctx,
    );
    const sensitive = verdict.sensitive || idToken !== undefined;
    for (const pin of walk.pins) {
      const severity: Severity =
        pin.kind === 'image' ? (sensitive ? 'medium' : 'low') : sensitive ? 'high' : 'medium';
      const rule = pin.kind === 'image' ? 'unpinned-container-image' : 'unpinned-action';
      ctx.findings.add(
        rule,
        pin.location,
        `${pin.what}${sensitive ? ` in job "${jobEntry.key}", which holds the release identity` : ''}`,
        { severity },
      );
    }
    for (const checkout of walk.untrustedCheckouts) {
      const runsAfter =
        walk.activities.some(
          (a) =>
            (a.kind === 'install' || a.kind === 'build' || a.kind === 'test') &&
            a.location.line > checkout.location.line &&
            a.location.file === file.path,
        ) || checkout.index < steps.length - 1;
      ctx.findings.add(
        'untrusted-code-checkout',
        checkout.location,
        `job "${jobEntry.key}" checks out pull-request code in a ${[...triggerNames].filter((n) => CHECKOUT_SENSITIVE_TRIGGERS.has(n)).join('/')} workflow${runsAfter ? ' and runs steps on it' : ''}`,
        {
          severity: runsAfter ? 'critical' : 'high',
        },
      );
    }
    if (workflowPermissions === undefined && jobPermissions === undefined && !onlyCalled) {
      ctx.findings.add(
        'permissions-default',
        jobLocation,
        `job "${jobEntry.key}" runs with the repository's default token permissions`,
        { severity: verdict.sensitive ? 'medium' : 'low' },
      );
    }
    for (const cred of walk.credentials) {
      ctx.credentialUses.push({
        name: cred.name,
        file: file.path,
        repoRoot: options.repoRoot,
        location: cred.location,
      });
    }
    for (const a of walk.activities) {
      if (a.kind === 'credential-ref')
        ctx.credentialUses.push({
          name: a.name,
          file: file.path,
          repoRoot: options.repoRoot,
          location: a.location,
        });
    }
  }
}

/** Audits an action definition (`action.yml`): composite steps and docker images on their own. */
export function auditGithubAction(file: YamlFile, ctx: AuditContext, options: AuditGithubOptions): void {
  const runs = getValue(file.root, 'runs');
  if (runs?.kind !== 'map') return;
  checkToJsonSecrets(file, ctx);
  const image = getValue(runs, 'image');
  if (image?.kind === 'scalar' && typeof image.value === 'string' && image.value.startsWith('docker://')) {
    for (const pin of imagePin(file, { node: image, value: image.value.slice(9) }))
      ctx.findings.add('unpinned-container-image', pin.location, pin.what);
  }
  if (getText(runs, 'using') !== 'composite') return;
  const env = new Map<string, EnvBinding>();
  const walk: JobWalk = {
    activities: [],
    credentials: [],
    caches: [],
    pins: [],
    untrustedCheckouts: [],
    npmUserRegistry: undefined,
  };
  const followBase = (cwd: string, stepEnv: ReadonlyMap<string, EnvBinding>): FollowContext => ({
    repo: ctx.repo,
    config: ctx.config,
    repoRoot: options.repoRoot,
    cwd,
    env: stepEnv,
    npmUserRegistry: walk.npmUserRegistry,
    via: [],
    depth: 0,
    visited: new Set(),
    reached: ctx.reached,
    platform: 'github',
    lifecycle: false,
  });
  walkSteps(
    toList(getValue(runs, 'steps')).map((node) => ({ file, node, env })),
    walk,
    ctx,
    options,
    followBase,
    false,
    0,
  );
  for (const pin of walk.pins)
    ctx.findings.add(
      pin.kind === 'image' ? 'unpinned-container-image' : 'unpinned-action',
      pin.location,
      pin.what,
    );
  for (const a of walk.activities) {
    if (a.kind === 'remote-exec')
      ctx.findings.add('download-and-execute', a.location, a.detail, { via: a.via });
    if (a.kind === 'secret-sink')
      ctx.findings.add('secret-exposure', a.location, `secret ${a.name} is written to ${a.sink}`, {
        via: a.via,
      });
    if (a.kind === 'publish' && a.target === 'protected') {
      ctx.findings.add(
        'publish-bypasses-gate',
        a.location,
        `${a.tool} in this action publishes to ${a.registry.url ?? 'the registry'} without going through the gate`,
        { via: a.via },
      );
    }
  }
}

function walkSteps(
  steps: readonly StepView[],
  walk: JobWalk,
  ctx: AuditContext,
  options: AuditGithubOptions,
  followBase: (cwd: string, env: ReadonlyMap<string, EnvBinding>) => FollowContext,
  checkoutSensitive: boolean,
  depth: number,
): void {
  steps.forEach((step, index) => {
    const { file, node } = step;
    if (node.kind !== 'map') return;
    const env = new Map(step.env);
    readEnv(getValue(node, 'env'), env);
    walk.credentials.push(...credentialsInEnv(file, getValue(node, 'env'), ctx));
    const cwd =
      ctx.repo.resolve(
        options.repoRoot,
        (getText(node, 'working-directory') ?? '').replace(/^\$\{\{\s*github\.workspace\s*\}\}\/?/, ''),
      ) ?? options.repoRoot;
    const usesNode = getValue(node, 'uses');
    const withNode = getValue(node, 'with');
    const run = getValue(node, 'run');
    if (usesNode?.kind === 'scalar' && typeof usesNode.value === 'string') {
      const ref = parseUses(usesNode.value);
      if (ref.kind === 'remote') walk.pins.push(...pinOf(file, usesNode, ref, 'action', ctx));
      if (ref.kind === 'docker') walk.pins.push(...imagePin(file, { node: usesNode, value: ref.path }));
      // Credentials handed to any action through `with:`.
      if (withNode?.kind === 'map') {
        for (const input of withNode.entries) {
          if (input.value.kind !== 'scalar') continue;
          const inputIsCredential = ref.kind === 'remote' && isPublishCredentialInput(ref.path, input.key);
          walk.credentials.push(
            ...credentialsInScalar(
              file,
              input.value,
              `input ${input.key} of ${ref.raw}`,
              inputIsCredential,
              ctx,
            ),
          );
        }
      }
      const base = followBase(cwd, env);
      if (ref.kind === 'local' && depth < 4) {
        inlineLocalAction(file, usesNode, ref, walk, ctx, options, followBase, checkoutSensitive, depth, env);
      } else if (ref.kind === 'remote') {
        applyKnownAction(
          file,
          usesNode,
          ref,
          withNode,
          walk,
          { ...base, npmUserRegistry: walk.npmUserRegistry },
          ctx,
          checkoutSensitive,
          index,
        );
      }
    }
    if (run?.kind === 'scalar' && run.value !== null) {
      const source = scalarSource(file, run);
      checkTemplateInjection(source, ctx);
      if (checkoutSensitive) {
        const m = /\b(git\s+(checkout|fetch|pull|switch|clone)|gh\s+pr\s+checkout)\b[^\n]*/.exec(source.text);
        if (m !== null && UNTRUSTED_REF.test(m[0]))
          walk.untrustedCheckouts.push({ location: source.locate(m.index, m[0].length), index });
      }
      const shell = getText(node, 'shell') ?? '';
      const follow = { ...followBase(cwd, env), npmUserRegistry: walk.npmUserRegistry };
      walk.activities.push(
        ...(/^python/.test(shell) ? analyzeScriptLiterals(source, follow) : analyzeShell(source, follow)),
      );
    }
  });
}

/** Follows `uses: ./path/to/action` into its composite steps (the publish may hide there). */
function inlineLocalAction(
  file: YamlFile,
  usesNode: ScalarNode,
  ref: UsesRef,
  walk: JobWalk,
  ctx: AuditContext,
  options: AuditGithubOptions,
  followBase: (cwd: string, env: ReadonlyMap<string, EnvBinding>) => FollowContext,
  checkoutSensitive: boolean,
  depth: number,
  env: Map<string, EnvBinding>,
): void {
  const dir = ctx.repo.resolve(options.repoRoot, ref.path);
  if (dir === undefined) return;
  for (const name of ['action.yml', 'action.yaml']) {
    const path = dir === '' ? name : `${dir}/${name}`;
    if (!ctx.repo.isFile(path)) continue;
    const action = ctx.repo.parseYaml(path);
    const runs = getValue(action?.root, 'runs');
    if (action === undefined || getText(runs, 'using') !== 'composite') return;
    const inner = toList(getValue(runs, 'steps')).map((node) => ({ file: action, node, env }));
    const before = walk.activities.length;
    walkSteps(inner, walk, ctx, options, followBase, checkoutSensitive, depth + 1);
    // Tell the reader how the job got into the action.
    const at = nodeLocation(file, usesNode.start, usesNode.end);
    for (let i = before; i < walk.activities.length; i++) {
      const a = walk.activities[i];
      if (a !== undefined) walk.activities[i] = { ...a, via: [{ ...at, note: `uses ${ref.raw}` }, ...a.via] };
    }
    return;
  }
}

/** Inputs that carry the registry credential of well-known publishing actions. */
function isPublishCredentialInput(path: string, input: string): boolean {
  if (path.startsWith('pypa/gh-action-pypi-publish')) return input === 'password';
  if (path.startsWith('js-devtools/npm-publish')) return input === 'token';
  if (path.startsWith('katyo/publish-crates')) return input === 'registry-token';
  if (path.startsWith('rubygems/')) return input === 'api-key' || input === 'api_key';
  return false;
}

/** What well-known actions do: publish, set the npm registry, restore caches, install, check out. */
function applyKnownAction(
  file: YamlFile,
  usesNode: ScalarNode,
  ref: UsesRef,
  withNode: TreeNode | undefined,
  walk: JobWalk,
  follow: FollowContext,
  ctx: AuditContext,
  checkoutSensitive: boolean,
  index: number,
): void {
  const input = (name: string): string | undefined => getText(withNode, name);
  const at = nodeLocation(file, usesNode.start, usesNode.end);
  const synthetic = (command: string): TextSource => ({ file: file.path, text: command, locate: () => at });
  const step = { ...at, note: `uses ${ref.raw}` };
  const viaStep = { ...follow, via: [step] };
  const p = ref.path;
  if (p === 'actions/setup-node') {
    const registry = input('registry-url');
    if (registry !== undefined) walk.npmUserRegistry = registry;
    const cache = input('cache');
    if (cache !== undefined && cache !== '')
      walk.caches.push({ location: at, detail: `actions/setup-node cache: ${cache}` });
    else if ((ref.major ?? 0) >= 5 && input('package-manager-cache') !== 'false') {
      // setup-node v5 caches automatically when package.json names a packageManager.
      const pkg = ctx.repo.packageJson(follow.repoRoot);
      if (pkg?.hasPackageManagerField === true)
        walk.caches.push({ location: at, detail: 'actions/setup-node v5+ automatic package-manager cache' });
    }
    return;
  }
  if (p === 'actions/cache' || p === 'actions/cache/restore') {
    walk.caches.push({ location: at, detail: ref.path });
    return;
  }
  if (/^actions\/setup-(python|java|dotnet)$/.test(p)) {
    const cache = input('cache');
    if (cache !== undefined && cache !== '' && cache !== 'false')
      walk.caches.push({ location: at, detail: `${ref.path} cache: ${cache}` });
    return;
  }
  if (p === 'actions/setup-go') {
    // setup-go v4+ restores the module cache unless `cache: false`.
    if (input('cache') === 'true' || ((ref.major ?? 0) >= 4 && input('cache') !== 'false'))
      walk.caches.push({ location: at, detail: 'actions/setup-go module cache' });
    return;
  }
  if (p === 'ruby/setup-ruby') {
    if (input('bundler-cache') === 'true') {
      walk.caches.push({ location: at, detail: 'ruby/setup-ruby bundler-cache' });
      walk.activities.push({
        kind: 'install',
        detail: 'ruby/setup-ruby bundler-cache runs bundle install',
        location: at,
        via: [],
      });
    }
    return;
  }
  if (p === 'swatinem/rust-cache' || (p === 'astral-sh/setup-uv' && input('enable-cache') === 'true')) {
    walk.caches.push({ location: at, detail: ref.path });
    return;
  }
  if (p === 'pnpm/action-setup' && input('run_install') !== undefined && input('run_install') !== 'false') {
    walk.activities.push({ kind: 'install', detail: 'pnpm/action-setup run_install', location: at, via: [] });
    return;
  }
  if (p === 'bahmutov/npm-install') {
    walk.activities.push({ kind: 'install', detail: 'bahmutov/npm-install', location: at, via: [] });
    return;
  }
  if (p === 'actions/checkout') {
    const refInput = input('ref') ?? '';
    const repoInput = input('repository') ?? '';
    if (checkoutSensitive && (UNTRUSTED_REF.test(refInput) || /head\.repo|head_repository/.test(repoInput))) {
      const refNode = getValue(withNode, 'ref') ?? getValue(withNode, 'repository');
      walk.untrustedCheckouts.push({
        location: refNode === undefined ? at : nodeLocation(file, refNode.start, refNode.end),
        index,
      });
    }
    return;
  }
  if (p === 'actions/github-script') {
    const script = getValue(withNode, 'script');
    if (script?.kind === 'scalar') {
      const source = scalarSource(file, script);
      checkTemplateInjection(source, ctx);
      walk.activities.push(...analyzeScriptLiterals(source, follow));
    }
    return;
  }
  if (p === 'pypa/gh-action-pypi-publish') {
    const url = input('repository-url') ?? input('repository_url');
    const provenance = input('attestations') === 'false' ? false : undefined;
    walk.activities.push(
      ...withProvenance(
        analyzeShell(synthetic(`twine upload${url !== undefined ? ` --repository-url ${url}` : ''}`), follow),
        provenance,
        ref.raw,
      ),
    );
    return;
  }
  if (p === 'js-devtools/npm-publish') {
    const registry = input('registry');
    const dir = input('package');
    const provenance = input('provenance') === 'false' ? false : undefined;
    const command = `npm publish ${dir !== undefined && !dir.endsWith('package.json') ? dir : ''}${registry !== undefined ? ` --registry ${registry}` : ''}`;
    walk.activities.push(...withProvenance(analyzeShell(synthetic(command), follow), provenance, ref.raw));
    return;
  }
  if (p === 'changesets/action') {
    // Its `publish:` input is a command the action runs (e.g. `pnpm release`): follow it.
    const publish = getValue(withNode, 'publish');
    if (publish?.kind === 'scalar' && typeof publish.value === 'string')
      walk.activities.push(...analyzeShell(scalarSource(file, publish), viaStep));
    return;
  }
  if (
    p === 'cycjimmy/semantic-release-action' ||
    p === 'codfish/semantic-release-action' ||
    p === 'docker://ghcr.io/codfish/semantic-release-action'
  ) {
    walk.activities.push(
      ...withProvenance(
        analyzeShell(
          synthetic(input('dry_run') === 'true' ? 'semantic-release --dry-run' : 'semantic-release'),
          follow,
        ),
        undefined,
        ref.raw,
      ),
    );
    return;
  }
  if (p === 'katyo/publish-crates') {
    if (input('dry-run') !== 'true')
      walk.activities.push(
        ...withProvenance(analyzeShell(synthetic('cargo publish'), follow), undefined, ref.raw),
      );
    return;
  }
  if (p === 'rubygems/release-gem') {
    walk.activities.push(
      ...withProvenance(analyzeShell(synthetic('rake release'), follow), undefined, ref.raw),
    );
    return;
  }
}

function withProvenance(activities: Activity[], provenance: boolean | undefined, tool?: string): Activity[] {
  return activities.map((a) =>
    a.kind === 'publish' ? { ...a, provenance: provenance ?? a.provenance, tool: tool ?? a.tool } : a,
  );
}

function pinOf(
  file: YamlFile,
  node: ScalarNode,
  ref: UsesRef,
  kind: 'action' | 'workflow',
  ctx: AuditContext,
): PinCheck[] {
  if (ref.ref !== undefined && SHA.test(ref.ref)) return [];
  if (isAllowedUnpinned(ref.repo, ctx)) return [];
  const what =
    kind === 'workflow'
      ? `reusable workflow ${ref.raw} is not pinned to a commit SHA`
      : `action ${ref.raw} is not pinned to a commit SHA`;
  return [{ location: nodeLocation(file, node.start, node.end), kind, what }];
}

function isAllowedUnpinned(repo: string, ctx: AuditContext): boolean {
  return ctx.config.allowUnpinned.some((p) => matchesGlob(repo, p.toLowerCase()));
}

function containerImages(job: TreeNode): { node: ScalarNode; value: string }[] {
  const out: { node: ScalarNode; value: string }[] = [];
  const container = getValue(job, 'container');
  const image = container?.kind === 'map' ? getValue(container, 'image') : container;
  if (image?.kind === 'scalar' && typeof image.value === 'string')
    out.push({ node: image, value: image.value });
  const services = getValue(job, 'services');
  if (services?.kind === 'map') {
    for (const s of services.entries) {
      const img = s.value.kind === 'map' ? getValue(s.value, 'image') : s.value;
      if (img?.kind === 'scalar' && typeof img.value === 'string') out.push({ node: img, value: img.value });
    }
  }
  return out;
}

function imagePin(file: YamlFile, image: { node: ScalarNode; value: string }): PinCheck[] {
  if (DIGEST.test(image.value) || image.value.includes('${{') || image.value === '') return [];
  return [
    {
      location: nodeLocation(file, image.node.start, image.node.end),
      kind: 'image',
      what: `container image ${image.value} is not pinned to a digest`,
    },
  ];
}

function readTriggers(root: TreeNode): { name: string; start: number }[] {
  const on = getEntry(root, 'on') ?? getEntry(root, 'true');
  if (on === undefined) return [];
  const v = on.value;
  if (v.kind === 'scalar') return typeof v.value === 'string' ? [{ name: v.value, start: v.start }] : [];
  if (v.kind === 'seq')
    return v.items.flatMap((i) =>
      i.kind === 'scalar' && typeof i.value === 'string' ? [{ name: i.value, start: i.start }] : [],
    );
  return v.entries.map((e) => ({ name: e.key, start: e.keyStart }));
}

function idTokenIn(file: YamlFile, permissions: TreeNode | undefined): SourceLocation | undefined {
  if (permissions === undefined) return undefined;
  if (permissions.kind === 'scalar')
    return toText(permissions) === 'write-all'
      ? nodeLocation(file, permissions.start, permissions.end)
      : undefined;
  const entry = getEntry(permissions, 'id-token');
  if (entry !== undefined && toText(entry.value) === 'write')
    return nodeLocation(file, entry.keyStart, entry.value.end);
  return undefined;
}

function checkWorkflowPermissions(
  file: YamlFile,
  entry: MapEntry,
  jobCount: number,
  ctx: AuditContext,
): void {
  const value = entry.value;
  if (value.kind === 'scalar') {
    if (toText(value) === 'write-all')
      ctx.findings.add(
        'permissions-write-all',
        nodeLocation(file, value.start, value.end),
        'the workflow grants write-all to every job',
      );
    return;
  }
  if (value.kind !== 'map') return;
  const writes = value.entries.filter((e) => toText(e.value) === 'write');
  const first = writes[0];
  if (first === undefined) return;
  const idToken = writes.some((e) => e.key === 'id-token');
  // With one job, workflow level and job level mean the same today; only id-token is worth a note,
  // because the next job added to the file would silently inherit the publish identity.
  if (jobCount <= 1 && !idToken) return;
  const severity: Severity = jobCount <= 1 ? 'low' : idToken ? 'high' : 'medium';
  const target = writes.find((e) => e.key === 'id-token') ?? first;
  ctx.findings.add(
    'permissions-workflow-write',
    nodeLocation(file, target.keyStart, target.value.end),
    `workflow-level permissions grant ${writes.map((e) => `${e.key}: write`).join(', ')} to all ${jobCount} job${jobCount === 1 ? '' : 's'}`,
    { severity },
  );
}

function checkToJsonSecrets(file: YamlFile, ctx: AuditContext): void {
  forEachScalar(file.root, (scalar) => {
    if (typeof scalar.value !== 'string' || !scalar.value.includes('secrets')) return;
    for (const expr of findExpressions(scalar.value)) {
      const m = /toJSON\s*\(\s*secrets\s*\)/i.exec(expr.inner);
      if (m === null) continue;
      ctx.findings.add(
        'secret-exposure',
        scalarSource(file, scalar).locate(expr.innerOffset + m.index, m[0].length),
        'toJSON(secrets) serialises every secret of the repository into one value',
      );
    }
  });
}

function checkTemplateInjection(source: TextSource, ctx: AuditContext): void {
  for (const expr of findExpressions(source.text)) {
    const m = UNTRUSTED_CONTEXT.exec(expr.inner);
    if (m === null) continue;
    ctx.findings.add(
      'template-injection',
      source.locate(expr.offset, expr.length),
      `\${{ ${m[0]} }} is attacker-controlled and is pasted into the script before it runs`,
    );
  }
}

/** The directory holding `.github` for a workflow path (`a/b/.github/workflows/x.yml` → `a/b`). */
export function toRepoRootOfWorkflow(path: string): string {
  const i = path.indexOf('.github/');
  if (i <= 0) return '';
  return posix.normalize(path.slice(0, i)).replace(/\/$/, '');
}
