/**
 * GitLab CI: `.gitlab-ci.yml` with its local includes (followed), `extends:`, `default:`,
 * `!reference` tags, and pinning of project/remote/component includes and images. Each job's
 * scripts go through the same publish-path follower and job rules as GitHub jobs.
 */
import { posix } from 'node:path';
import { analyzeShell, type Activity, type EnvBinding, type FollowContext } from './shell-analyzer.ts';
import { isRegistryCredentialName } from './credentials.ts';
import { evaluateJob, type HeldCredential, type RestoredCache } from './job-rules.ts';
import { nodeLocation, scalarSource } from './text-source.ts';
import {
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
import type { Severity } from './types.ts';

// Top-level keys that are not jobs (docs.gitlab.com/ci/yaml, "Global keywords").
const RESERVED = new Set([
  'stages',
  'variables',
  'default',
  'include',
  'workflow',
  'image',
  'services',
  'cache',
  'before_script',
  'after_script',
  'spec',
  'pages:deploy',
]);
const SHA = /^[0-9a-f]{40}$/;
const DIGEST = /@sha256:[0-9a-f]{64}$/;

interface JobDef {
  readonly name: string;
  readonly file: YamlFile;
  readonly entry: MapEntry;
}

interface Pipeline {
  readonly jobs: Map<string, JobDef>;
  /** `default:` then top-level global keys, latest file wins. */
  readonly globals: Map<string, { file: YamlFile; node: TreeNode }>;
  readonly variables: Map<string, EnvBinding>;
  readonly variableCredentials: HeldCredential[];
}

/** Options of {@link auditGitlabPipeline}. */
export interface AuditGitlabOptions {
  readonly repoRoot: string;
}

/** Audits a root `.gitlab-ci.yml` and the local files it includes; returns the paths of the files it read. */
export function auditGitlabPipeline(
  file: YamlFile,
  ctx: AuditContext,
  options: AuditGitlabOptions,
): string[] {
  const pipeline: Pipeline = {
    jobs: new Map(),
    globals: new Map(),
    variables: new Map(),
    variableCredentials: [],
  };
  const read: string[] = [];
  loadFile(file, pipeline, ctx, options, read, new Set([file.path]));
  for (const [name, def] of pipeline.jobs) {
    if (name.startsWith('.')) continue;
    auditJob(def, pipeline, ctx, options);
  }
  return read;
}

function loadFile(
  file: YamlFile,
  pipeline: Pipeline,
  ctx: AuditContext,
  options: AuditGitlabOptions,
  read: string[],
  seen: Set<string>,
): void {
  read.push(file.path);
  const root = file.root;
  if (root?.kind !== 'map') return;
  for (const include of toList(getValue(root, 'include'))) {
    const local = checkInclude(file, include, ctx);
    for (const path of local === undefined ? [] : expandLocal(local, ctx, options)) {
      if (seen.has(path) || seen.size > 200) continue;
      seen.add(path);
      const included = ctx.repo.parseYaml(path);
      if (included !== undefined) loadFile(included, pipeline, ctx, options, read, seen);
    }
  }
  for (const entry of root.entries) {
    if (entry.key === 'variables') {
      readVariables(file, entry.value, pipeline.variables, pipeline.variableCredentials, ctx);
      continue;
    }
    if (entry.key === 'default' && entry.value.kind === 'map') {
      for (const d of entry.value.entries) pipeline.globals.set(d.key, { file, node: d.value });
      continue;
    }
    if (
      entry.key === 'image' ||
      entry.key === 'cache' ||
      entry.key === 'before_script' ||
      entry.key === 'after_script' ||
      entry.key === 'services'
    ) {
      if (!pipeline.globals.has(entry.key)) pipeline.globals.set(entry.key, { file, node: entry.value });
      continue;
    }
    if (RESERVED.has(entry.key) || entry.value.kind !== 'map') continue;
    pipeline.jobs.set(entry.key, { name: entry.key, file, entry });
  }
}

/** Checks one `include:` item's pinning; returns a local path to follow, if it is local. */
function checkInclude(file: YamlFile, include: TreeNode, ctx: AuditContext): string | undefined {
  if (include.kind === 'scalar' && typeof include.value === 'string') {
    const v = include.value;
    if (/^https?:\/\//.test(v)) {
      ctx.findings.add(
        'unpinned-include',
        nodeLocation(file, include.start, include.end),
        `remote include ${v} has no integrity hash`,
      );
      return undefined;
    }
    return v;
  }
  if (include.kind !== 'map') return undefined;
  const local = getText(include, 'local');
  if (local !== undefined) return local;
  const project = getEntry(include, 'project');
  if (project !== undefined) {
    const ref = getText(include, 'ref');
    if (ref === undefined || !SHA.test(ref)) {
      const at = getValue(include, 'ref') ?? project.value;
      ctx.findings.add(
        'unpinned-include',
        nodeLocation(file, at.start, at.end),
        `include of project ${toText(project.value) ?? ''} ${ref === undefined ? 'follows its default branch' : `at ${ref}`}, not a commit SHA`,
      );
    }
    return undefined;
  }
  const remote = getEntry(include, 'remote');
  if (remote !== undefined) {
    if (getValue(include, 'integrity') === undefined) {
      ctx.findings.add(
        'unpinned-include',
        nodeLocation(file, remote.value.start, remote.value.end),
        `remote include ${toText(remote.value) ?? ''} has no integrity hash`,
      );
    }
    return undefined;
  }
  const component = getEntry(include, 'component');
  if (component !== undefined) {
    const v = toText(component.value) ?? '';
    const version = v.includes('@') ? v.slice(v.lastIndexOf('@') + 1) : '';
    if (!SHA.test(version))
      ctx.findings.add(
        'unpinned-include',
        nodeLocation(file, component.value.start, component.value.end),
        `component ${v} is not pinned to a commit SHA`,
      );
    return undefined;
  }
  // `template:` includes are GitLab's own, shipped with the instance: trusted like the runner.
  return undefined;
}

/** Local include paths (leading `/` is the repository root; `*` and `**` globs as GitLab expands them). */
function expandLocal(path: string, ctx: AuditContext, options: AuditGitlabOptions): string[] {
  if (path.includes('$')) return [];
  const rel = ctx.repo.resolve(options.repoRoot, path.replace(/^\//, ''));
  if (rel === undefined) return [];
  if (!rel.includes('*')) return [rel];
  const dir = rel.slice(0, rel.lastIndexOf('/', rel.indexOf('*')));
  const pattern = new RegExp(
    `^${rel
      .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
      .replace(/\*\*\//g, '(?:.*/)?')
      .replace(/\*/g, '[^/]*')}$`,
  );
  return ctx.repo.listFiles(dir).filter((f) => pattern.test(f));
}

function readVariables(
  file: YamlFile,
  node: TreeNode | undefined,
  into: Map<string, EnvBinding>,
  credentials: HeldCredential[],
  ctx: AuditContext,
): void {
  if (node?.kind !== 'map') return;
  for (const entry of node.entries) {
    const valueNode = entry.value.kind === 'map' ? getValue(entry.value, 'value') : entry.value;
    const value = toText(valueNode) ?? '';
    into.set(entry.key, { value, secret: undefined });
    // `NPM_TOKEN: $NPM_PUBLISH_TOKEN` hands a stored credential to the job under a credential name.
    if (
      value !== '' &&
      isRegistryCredentialName(entry.key, ctx.config.credentialNames) &&
      valueNode?.kind === 'scalar'
    ) {
      credentials.push({
        name: value.startsWith('$') ? value.replace(/^\$\{?|\}$/g, '') : entry.key,
        location: nodeLocation(file, entry.keyStart, valueNode.end),
        via: [],
        how: `variable ${entry.key}`,
      });
    }
  }
}

/** Looks a key up on the job, then along `extends:`, then in `default:`/globals. */
function lookup(
  def: JobDef,
  key: string,
  pipeline: Pipeline,
  useGlobals = true,
): { file: YamlFile; node: TreeNode } | undefined {
  const seen = new Set<string>();
  const visit = (d: JobDef): { file: YamlFile; node: TreeNode } | undefined => {
    if (seen.has(d.name) || seen.size > 32) return undefined;
    seen.add(d.name);
    const own = getValue(d.entry.value, key);
    if (own !== undefined) return { file: d.file, node: own };
    // Later parents win (GitLab merges `extends` in order, the last overriding).
    const parents = toList(getValue(d.entry.value, 'extends'))
      .flatMap((p) => (p.kind === 'scalar' && typeof p.value === 'string' ? [p.value] : []))
      .reverse();
    for (const p of parents) {
      const parent = pipeline.jobs.get(p);
      const found = parent === undefined ? undefined : visit(parent);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return visit(def) ?? (useGlobals ? pipeline.globals.get(key) : undefined);
}

/** Script lines of a key, with `!reference [job, key]` resolved. */
function scriptLines(
  found: { file: YamlFile; node: TreeNode } | undefined,
  pipeline: Pipeline,
  depth = 0,
): { file: YamlFile; node: ScalarNode }[] {
  if (found === undefined || depth > 8) return [];
  const { file, node } = found;
  if (node.kind === 'scalar') return typeof node.value === 'string' ? [{ file, node }] : [];
  if (node.kind !== 'seq') return [];
  if (node.tag === '!reference') {
    const [jobName, key] = node.items.map((i) => toText(i));
    const job = jobName === undefined ? undefined : pipeline.jobs.get(jobName);
    if (job === undefined || key === undefined) return [];
    return scriptLines(lookup(job, key, pipeline, false), pipeline, depth + 1);
  }
  return node.items.flatMap((item) => scriptLines({ file, node: item }, pipeline, depth + 1));
}

function auditJob(def: JobDef, pipeline: Pipeline, ctx: AuditContext, options: AuditGitlabOptions): void {
  const { file, entry } = def;
  const jobLocation = nodeLocation(file, entry.keyStart, entry.keyStart + entry.key.length);
  const env = new Map(pipeline.variables);
  const credentials: HeldCredential[] = [];
  const jobVariables = lookup(def, 'variables', pipeline, false);
  if (jobVariables !== undefined) readVariables(jobVariables.file, jobVariables.node, env, credentials, ctx);
  const idTokens = lookup(def, 'id_tokens', pipeline);
  const idToken =
    idTokens?.node.kind === 'map' && idTokens.node.entries.length > 0
      ? nodeLocation(idTokens.file, idTokens.node.start, idTokens.node.start)
      : undefined;
  const follow: FollowContext = {
    repo: ctx.repo,
    config: ctx.config,
    repoRoot: options.repoRoot,
    cwd: options.repoRoot,
    env,
    npmUserRegistry: undefined,
    via: [],
    depth: 0,
    visited: new Set(),
    reached: ctx.reached,
    platform: 'gitlab',
    lifecycle: false,
  };
  // Variables named in `id_tokens:` hold short-lived OIDC tokens, not registry credentials.
  const idTokenNames = new Set(
    idTokens?.node.kind === 'map' ? idTokens.node.entries.map((e) => e.key.toUpperCase()) : [],
  );
  const activities: Activity[] = [];
  for (const key of ['before_script', 'script', 'after_script']) {
    for (const line of scriptLines(lookup(def, key, pipeline), pipeline)) {
      activities.push(
        ...analyzeShell(scalarSource(line.file, line.node), follow).filter(
          (a) => a.kind !== 'credential-ref' || !idTokenNames.has(a.name.toUpperCase()),
        ),
      );
    }
  }
  const caches: RestoredCache[] = [];
  const cache = lookup(def, 'cache', pipeline);
  if (cache !== undefined) {
    const items = cache.node.kind === 'seq' ? cache.node.items : [cache.node];
    for (const item of items) {
      if (item.kind !== 'map' || item.entries.length === 0) continue;
      if (getText(item, 'policy') === 'push') continue;
      caches.push({
        location: nodeLocation(cache.file, item.start, item.start),
        detail: `cache${getText(item, 'key') !== undefined ? ` key ${getText(item, 'key') ?? ''}` : ''}`,
      });
    }
  }
  const verdict = evaluateJob(
    {
      platform: 'gitlab',
      name: def.name,
      location: jobLocation,
      idToken,
      credentials: [...pipeline.variableCredentials, ...credentials],
      activities,
      caches,
    },
    ctx,
  );
  const sensitive = verdict.sensitive || idToken !== undefined;
  const images: { file: YamlFile; node: ScalarNode }[] = [];
  const image = lookup(def, 'image', pipeline);
  const imageNode = image?.node.kind === 'map' ? getValue(image.node, 'name') : image?.node;
  if (image !== undefined && imageNode?.kind === 'scalar') images.push({ file: image.file, node: imageNode });
  const services = lookup(def, 'services', pipeline);
  for (const s of toList(services?.node)) {
    const n = s.kind === 'map' ? getValue(s, 'name') : s;
    if (services !== undefined && n?.kind === 'scalar') images.push({ file: services.file, node: n });
  }
  for (const img of images) {
    const v = toText(img.node) ?? '';
    if (v === '' || DIGEST.test(v) || v.includes('$')) continue;
    const severity: Severity = sensitive ? 'medium' : 'low';
    ctx.findings.add(
      'unpinned-container-image',
      nodeLocation(img.file, img.node.start, img.node.end),
      `image ${v} of job "${def.name}" is not pinned to a digest`,
      { severity },
    );
  }
  for (const c of [...pipeline.variableCredentials, ...credentials])
    ctx.credentialUses.push({
      name: c.name,
      file: file.path,
      repoRoot: options.repoRoot,
      location: c.location,
    });
  for (const a of activities) {
    if (a.kind === 'credential-ref')
      ctx.credentialUses.push({
        name: a.name,
        file: a.location.file,
        repoRoot: options.repoRoot,
        location: a.location,
      });
  }
}

/** The repository root of a `.gitlab-ci.yml` path. */
export function toRepoRootOfGitlab(path: string): string {
  const dir = posix.dirname(path);
  return dir === '.' ? '' : dir;
}
