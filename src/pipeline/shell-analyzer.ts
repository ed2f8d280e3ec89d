/**
 * Follows the publish path through shell text: `run:` blocks, GitLab `script:` lines, shell
 * scripts, Makefile recipes, package.json scripts and lifecycle hooks, and string literals of
 * JS/Python release scripts. Produces activities (publish, install, build, test, download-and-run,
 * secret sinks, credential references) located in the file where the text is written.
 */
import { posix } from 'node:path';
import { lexShell, type ShellCommand, type ShellWord } from './shell-lexer.ts';
import {
  classifyCommand,
  unwrapCommand,
  type CommandIntent,
  type CommandView,
  type Ecosystem,
} from './shell-commands.ts';
import {
  classifyRegistry,
  DEFAULT_REGISTRY_URLS,
  isUnresolved,
  NAMED_REGISTRIES,
  type RegistryTarget,
  type ResolvedRegistry,
} from './registry.ts';
import { findSecretReferences, findVariableReferences, isRegistryCredentialName } from './credentials.ts';
import { fileSource, scalarSource, shiftedSource, sliceSource, type TextSource } from './text-source.ts';
import type { AuditConfig } from './config.ts';
import type { MakefileInfo, PackageJsonInfo, RepoFiles } from './repo-files.ts';
import type { SourceLocation, ViaLocation } from './types.ts';

/** An environment variable visible to a command, and the secret it carries (if any). */
export interface EnvBinding {
  readonly value: string;
  /** Name of the secret the value references (`secrets.NPM_TOKEN` → `NPM_TOKEN`). */
  readonly secret: string | undefined;
}

/** Where the analysed text runs. */
export type Platform = 'github' | 'gitlab' | 'script';

/** Everything the follower needs to know about the place a command runs in. */
export interface FollowContext {
  readonly repo: RepoFiles;
  readonly config: AuditConfig;
  /** Root of the repository the text belongs to (relative to the audited root). */
  readonly repoRoot: string;
  /** Working directory, relative to the audited root. */
  readonly cwd: string;
  readonly env: ReadonlyMap<string, EnvBinding>;
  /** Registry written to the user `.npmrc` by `actions/setup-node` `registry-url`. */
  readonly npmUserRegistry: string | undefined;
  readonly via: readonly ViaLocation[];
  readonly depth: number;
  /** Units (`file#script`) on the current path: cycle guard. */
  readonly visited: ReadonlySet<string>;
  /** Units reached from CI, shared across the audit: standalone analysis skips them. */
  readonly reached: Set<string>;
  readonly platform: Platform;
  /** The text runs as an install-time lifecycle script of a package (`preinstall`/`install`/`postinstall`). */
  readonly lifecycle: boolean;
  readonly makefile?: MakefileInfo | undefined;
}

interface ActivityBase {
  readonly location: SourceLocation;
  readonly via: readonly ViaLocation[];
}

/** Something the analysed text does. */
export type Activity =
  | (ActivityBase & {
      readonly kind: 'publish';
      readonly ecosystem: Ecosystem;
      readonly tool: string;
      readonly registry: ResolvedRegistry;
      readonly target: RegistryTarget;
      readonly provenance: boolean | undefined;
    })
  | (ActivityBase & { readonly kind: 'install' | 'build' | 'test'; readonly detail: string })
  | (ActivityBase & { readonly kind: 'remote-exec'; readonly detail: string; readonly lifecycle: boolean })
  | (ActivityBase & {
      readonly kind: 'secret-sink';
      readonly sink: 'log' | 'file' | 'github-env' | 'github-output';
      readonly name: string;
    })
  | (ActivityBase & { readonly kind: 'credential-ref'; readonly name: string });

const MAX_DEPTH = 10;
const DOWNLOADERS = /(?:\$\(|<\(|`)\s*(?:sudo\s+)?(curl|wget|iwr|Invoke-WebRequest|irm|Invoke-RestMethod)\b/;
const PS_REMOTE =
  /\b(iex|Invoke-Expression)\b[^\n]*\b(iwr|irm|Invoke-WebRequest|Invoke-RestMethod|DownloadString)\b/i;

/** Analyses shell text (lexes it, then follows every command). */
export function analyzeShell(source: TextSource, ctx: FollowContext): Activity[] {
  return analyzeCommands(lexShell(source.text), source, ctx);
}

/** Analyses already-lexed commands. */
export function analyzeCommands(
  commands: readonly ShellCommand[],
  source: TextSource,
  ctx: FollowContext,
): Activity[] {
  const out: Activity[] = [];
  const downloads: { file: string; location: SourceLocation }[] = [];
  let verified = false;
  const expand = ctx.makefile === undefined ? undefined : makeExpander(ctx.makefile);
  if (PS_REMOTE.test(source.text)) {
    const m = PS_REMOTE.exec(source.text);
    if (m !== null)
      out.push({
        kind: 'remote-exec',
        detail: 'downloads a script and runs it with Invoke-Expression',
        lifecycle: ctx.lifecycle,
        location: source.locate(m.index, m[0].length),
        via: ctx.via,
      });
  }
  for (let k = 0; k < commands.length; k++) {
    const cmd = commands[k];
    if (cmd === undefined) continue;
    collectCredentialRefs(cmd, source, ctx, out);
    const view = unwrapCommand(cmd.words, expand);
    if (view === undefined) continue;
    const last = view.words[view.words.length - 1] ?? view.binWord;
    const here = source.locate(
      view.binWord.start,
      last.end - view.binWord.start,
      source.text.slice(view.binWord.start, last.end),
    );
    const stepVia: ViaLocation = {
      ...here,
      note: source.text
        .slice(view.binWord.start, Math.min(last.end, view.binWord.start + 80))
        .replace(/\s+/g, ' '),
    };
    collectSecretSinks(cmd, view, source, ctx, out);
    if (isInterpreterWord(view.bin) && view.words.some((w) => DOWNLOADERS.test(w.value))) {
      out.push({
        kind: 'remote-exec',
        detail: `runs downloaded code through ${view.bin}`,
        lifecycle: ctx.lifecycle,
        location: here,
        via: ctx.via,
      });
      continue;
    }
    const intents = classifyCommand(view, (dir) => scriptNamesAt(ctx, dir));
    for (const intent of intents) {
      switch (intent.kind) {
        case 'publish':
          out.push(...publishActivities(intent, view, here, stepVia, ctx));
          break;
        case 'install':
          if (intent.runsScripts)
            out.push({
              kind: 'install',
              detail: `${intent.tool} runs dependency lifecycle scripts`,
              location: here,
              via: ctx.via,
            });
          if (intent.hooks.length > 0)
            out.push(...followScripts(intent.hooks, undefined, false, stepVia, ctx, true));
          break;
        case 'build':
        case 'test':
          out.push({ kind: intent.kind, detail: intent.detail, location: here, via: ctx.via });
          break;
        case 'run-script':
          out.push(...followScripts([intent.script], intent.dir, intent.prePost, stepVia, ctx, false));
          break;
        case 'hooks':
          out.push(...followScripts(intent.hooks, undefined, false, stepVia, ctx, false));
          break;
        case 'make':
          out.push(...followMake(intent, stepVia, ctx));
          break;
        case 'script-file': {
          const downloaded = downloads.find((d) => sameFile(d.file, intent.path));
          if (downloaded !== undefined && !verified) {
            out.push({
              kind: 'remote-exec',
              detail: `runs ${intent.path}, downloaded without a checksum or signature check`,
              lifecycle: ctx.lifecycle,
              location: here,
              via: ctx.via,
            });
            break;
          }
          out.push(...followScriptFile(intent.path, intent.language, stepVia, ctx));
          break;
        }
        case 'shell-string': {
          if (DOWNLOADERS.test(intent.word.value)) {
            out.push({
              kind: 'remote-exec',
              detail: `runs downloaded code through ${view.bin} -c`,
              lifecycle: ctx.lifecycle,
              location: here,
              via: ctx.via,
            });
            break;
          }
          const quoted = source.text[intent.word.start] === '"' || source.text[intent.word.start] === "'";
          out.push(
            ...analyzeShell(
              shiftedSource(source, intent.word.value, intent.word.start + (quoted ? 1 : 0)),
              ctx,
            ),
          );
          break;
        }
        case 'download': {
          if (cmd.pipesTo) {
            for (let j = k + 1; j < commands.length; j++) {
              const next = commands[j];
              if (next === undefined || !next.pipedFrom) break;
              const nextView = unwrapCommand(next.words);
              if (
                nextView !== undefined &&
                classifyCommand(nextView).some((i) => i.kind === 'stdin-interpreter')
              ) {
                out.push({
                  kind: 'remote-exec',
                  detail: `pipes a download into ${nextView.bin}`,
                  lifecycle: ctx.lifecycle,
                  location: here,
                  via: ctx.via,
                });
                break;
              }
              if (!next.pipesTo) break;
            }
          }
          const redirect = cmd.redirects.find((r) => r.op === '>' || r.op === '>>')?.target?.value;
          const file = intent.output ?? redirect;
          if (file !== undefined) downloads.push({ file, location: here });
          break;
        }
        case 'eval':
          if (view.words.some((w) => DOWNLOADERS.test(w.value))) {
            out.push({
              kind: 'remote-exec',
              detail: `evaluates downloaded code with ${view.bin}`,
              lifecycle: ctx.lifecycle,
              location: here,
              via: ctx.via,
            });
          }
          break;
        case 'verify':
          verified = true;
          break;
        case 'stdin-interpreter':
        case 'print':
          break;
      }
    }
  }
  return out;
}

function isInterpreterWord(bin: string): boolean {
  return /^(sh|bash|zsh|dash|ksh|python|node|perl|ruby|eval|source|\.|iex)$/.test(bin);
}

function sameFile(a: string, b: string): boolean {
  const na = posix.normalize(a.replace(/^\.\//, ''));
  const nb = posix.normalize(b.replace(/^\.\//, ''));
  return na === nb || posix.basename(na) === posix.basename(nb);
}

/** Word-level expansion of Makefile variables (`$(NPM) publish` → `npm publish`). */
function makeExpander(makefile: MakefileInfo): (word: ShellWord) => readonly ShellWord[] {
  return (word) => {
    const m = /^\$[({]([A-Za-z_][A-Za-z0-9_.-]*)[)}]$/.exec(word.value);
    const value = m?.[1] === undefined ? undefined : makefile.variables.get(m[1]);
    if (value === undefined) return [word];
    return value
      .split(/\s+/)
      .filter((v) => v !== '')
      .map((v) => ({ value: v, start: word.start, end: word.end }));
  };
}

function scriptNamesAt(ctx: FollowContext, dir: string | undefined): ReadonlySet<string> {
  const at = ctx.repo.resolve(ctx.cwd, dir ?? '');
  if (at === undefined) return new Set();
  const pkg = ctx.repo.nearestPackageJson(at, ctx.repoRoot);
  return new Set(pkg?.scripts.keys() ?? []);
}

function publishActivities(
  intent: Extract<CommandIntent, { kind: 'publish' }>,
  view: CommandView,
  here: SourceLocation,
  stepVia: ViaLocation,
  ctx: FollowContext,
): Activity[] {
  if (intent.dryRun) return [];
  const dir = ctx.repo.resolve(ctx.cwd, intent.dir ?? '') ?? ctx.cwd;
  const pkg = intent.ecosystem === 'npm' ? ctx.repo.nearestPackageJson(dir, ctx.repoRoot) : undefined;
  const singlePackage =
    /^(npm|pnpm|bun) publish$|^yarn (npm )?publish$/.test(intent.tool) &&
    !view.args.some((a) => /^(-r|--recursive|-ws|--workspaces|--workspace|-w)$/.test(a.value));
  // npm refuses to publish a package marked private (npm docs, package.json "private").
  if (singlePackage && !intent.tarball && pkg?.isPrivate === true) return [];
  if (/semantic-release/.test(intent.tool) && !semanticReleasePublishesToNpm(pkg, ctx)) return [];
  const registry = resolveRegistry(intent, view, pkg, ctx);
  const provenance =
    intent.provenance ??
    envFlag(view, ctx, ['NPM_CONFIG_PROVENANCE', 'npm_config_provenance']) ??
    pkg?.publishProvenance;
  const out: Activity[] = [
    {
      kind: 'publish',
      ecosystem: intent.ecosystem,
      tool: intent.tool,
      registry,
      target: classifyRegistry(registry.url, ctx.config),
      provenance,
      location: here,
      via: ctx.via,
    },
  ];
  if (intent.hooks.length > 0 && pkg !== undefined)
    out.push(...followScripts(intent.hooks, intent.dir, false, stepVia, ctx, false));
  return out;
}

function semanticReleasePublishesToNpm(pkg: PackageJsonInfo | undefined, ctx: FollowContext): boolean {
  // @semantic-release/npm does not publish a private package (its `npmPublish` defaults to !private).
  if (pkg?.isPrivate === true) return false;
  if (pkg?.semanticReleasePlugins !== undefined)
    return pkg.semanticReleasePlugins.some((p) => p.includes('@semantic-release/npm'));
  for (const name of [
    '.releaserc',
    '.releaserc.json',
    '.releaserc.yml',
    '.releaserc.yaml',
    '.releaserc.js',
    '.releaserc.cjs',
    '.releaserc.mjs',
    'release.config.js',
    'release.config.cjs',
    'release.config.mjs',
  ]) {
    const path = ctx.repo.resolve(ctx.repoRoot, name);
    const text = path === undefined ? undefined : ctx.repo.readTextOrRecord(path);
    if (text === undefined) continue;
    return !/plugins/.test(text) || text.includes('@semantic-release/npm');
  }
  return true;
}

function envFlag(view: CommandView, ctx: FollowContext, names: readonly string[]): boolean | undefined {
  for (const name of names) {
    const v = view.assignments.get(name) ?? ctx.env.get(name)?.value;
    if (v !== undefined) return v === 'true';
  }
  return undefined;
}

function envValue(view: CommandView, ctx: FollowContext, names: readonly string[]): string | undefined {
  for (const name of names) {
    const v = view.assignments.get(name) ?? ctx.env.get(name)?.value;
    if (v !== undefined) return v;
  }
  return undefined;
}

/** Expands `$VAR`, `${VAR}` and `${{ env.VAR }}` when the value is known; leaves anything else for "unknown". */
function expandValue(value: string, view: CommandView, ctx: FollowContext): string {
  const m =
    /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/.exec(value) ??
    /^\$\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/.exec(value);
  if (m?.[1] === undefined) return value;
  return view.assignments.get(m[1]) ?? ctx.env.get(m[1])?.value ?? value;
}

/** The registry a publish goes to, by each client's precedence (flag, publishConfig, env, .npmrc, setup-node, default). */
function resolveRegistry(
  intent: Extract<CommandIntent, { kind: 'publish' }>,
  view: CommandView,
  pkg: PackageJsonInfo | undefined,
  ctx: FollowContext,
): ResolvedRegistry {
  const expand = (v: string): string => expandValue(v, view, ctx);
  if (intent.registryFlag !== undefined)
    return { url: expand(intent.registryFlag), source: 'command-line flag' };
  if (intent.registryName !== undefined) {
    const named = NAMED_REGISTRIES[intent.registryName];
    return {
      url: named ?? `$named:${intent.registryName}`,
      source: `named repository "${intent.registryName}"`,
    };
  }
  switch (intent.ecosystem) {
    case 'npm': {
      if (pkg?.publishRegistry !== undefined)
        return { url: pkg.publishRegistry, source: `publishConfig.registry in ${pkg.path}` };
      const env = envValue(view, ctx, [
        'NPM_CONFIG_REGISTRY',
        'npm_config_registry',
        'YARN_NPM_PUBLISH_REGISTRY',
        'YARN_NPM_REGISTRY_SERVER',
      ]);
      if (env !== undefined) return { url: expand(env), source: 'registry environment variable' };
      const dir = pkg?.dir ?? ctx.cwd;
      const rc = ctx.repo.npmrc(dir, ctx.repoRoot);
      const scope =
        pkg?.name?.startsWith('@') === true ? pkg.name.slice(0, pkg.name.indexOf('/')) : undefined;
      const scoped = scope === undefined ? undefined : rc.get(`${scope}:registry`);
      if (scoped !== undefined) return { url: scoped, source: '.npmrc scoped registry' };
      const plain = rc.get('registry');
      if (plain !== undefined) return { url: plain, source: '.npmrc registry' };
      if (ctx.npmUserRegistry !== undefined)
        return { url: expand(ctx.npmUserRegistry), source: 'actions/setup-node registry-url' };
      return { url: DEFAULT_REGISTRY_URLS.npm, source: 'npm default registry' };
    }
    case 'pypi': {
      const url = envValue(view, ctx, [
        'TWINE_REPOSITORY_URL',
        'UV_PUBLISH_URL',
        'FLIT_INDEX_URL',
        'HATCH_INDEX_REPO',
        'MATURIN_REPOSITORY_URL',
        'PDM_PUBLISH_REPO',
      ]);
      if (url !== undefined) return { url: expand(url), source: 'repository environment variable' };
      const name = envValue(view, ctx, ['TWINE_REPOSITORY']);
      if (name !== undefined)
        return { url: NAMED_REGISTRIES[name] ?? `$named:${name}`, source: 'TWINE_REPOSITORY' };
      return { url: DEFAULT_REGISTRY_URLS.pypi, source: `${intent.tool} default repository` };
    }
    case 'rubygems': {
      const host = envValue(view, ctx, ['RUBYGEMS_HOST']);
      if (host !== undefined) return { url: expand(host), source: 'RUBYGEMS_HOST' };
      return { url: DEFAULT_REGISTRY_URLS.rubygems, source: 'gem default host' };
    }
    case 'crates':
      return { url: DEFAULT_REGISTRY_URLS.crates, source: 'cargo default registry' };
  }
}

/** Runs package.json scripts (and `pre`/`post` companions) of the package around `dir`. */
function followScripts(
  names: readonly string[],
  dir: string | undefined,
  prePost: boolean,
  stepVia: ViaLocation,
  ctx: FollowContext,
  lifecycle: boolean,
): Activity[] {
  if (ctx.depth >= MAX_DEPTH) return [];
  const at = ctx.repo.resolve(ctx.cwd, dir ?? '');
  if (at === undefined) return [];
  const pkg = ctx.repo.nearestPackageJson(at, ctx.repoRoot);
  if (pkg === undefined) return [];
  const out: Activity[] = [];
  const all = prePost ? names.flatMap((n) => [`pre${n}`, n, `post${n}`]) : names;
  for (const name of all) {
    const script = pkg.scripts.get(name);
    if (script === undefined) continue;
    const unit = `${pkg.path}#${name}`;
    if (ctx.visited.has(unit)) continue;
    ctx.reached.add(unit);
    const source = scalarSource(pkg.file, script.node);
    const via = [...ctx.via, { ...stepVia, note: `${stepVia.note} → script "${name}"` }];
    out.push(
      ...analyzeShell(source, {
        ...ctx,
        cwd: pkg.dir,
        via,
        depth: ctx.depth + 1,
        visited: new Set([...ctx.visited, unit]),
        makefile: undefined,
        lifecycle: ctx.lifecycle || (lifecycle && /^(preinstall|install|postinstall)$/.test(name)),
      }),
    );
  }
  return out;
}

function followMake(
  intent: Extract<CommandIntent, { kind: 'make' }>,
  stepVia: ViaLocation,
  ctx: FollowContext,
): Activity[] {
  if (ctx.depth >= MAX_DEPTH) return [];
  const dir = ctx.repo.resolve(ctx.cwd, intent.dir ?? '');
  if (dir === undefined) return [];
  const makefile = ctx.repo.makefile(dir, intent.file);
  if (makefile === undefined) return [];
  const targets =
    intent.targets.length > 0
      ? intent.targets
      : makefile.defaultTarget === undefined
        ? []
        : [makefile.defaultTarget];
  const whole = fileSource(makefile.path, makefile.text);
  const out: Activity[] = [];
  const seen = new Set<string>();
  const visit = (target: string, depth: number): void => {
    if (seen.has(target) || depth > 20) return;
    seen.add(target);
    const rule = makefile.rules.get(target);
    if (rule === undefined) return;
    for (const prerequisite of rule.prerequisites) visit(prerequisite, depth + 1);
    const unit = `${makefile.path}#${target}`;
    if (ctx.visited.has(unit)) return;
    ctx.reached.add(unit);
    const via = [...ctx.via, { ...stepVia, note: `${stepVia.note} → target "${target}"` }];
    for (const recipe of rule.recipes) {
      out.push(
        ...analyzeShell(sliceSource(whole, recipe.start, recipe.end), {
          ...ctx,
          cwd: dir,
          via,
          depth: ctx.depth + 1,
          visited: new Set([...ctx.visited, unit]),
          makefile,
        }),
      );
    }
  };
  for (const target of targets) visit(target, 0);
  return out;
}

function followScriptFile(
  path: string,
  language: string,
  stepVia: ViaLocation,
  ctx: FollowContext,
): Activity[] {
  if (ctx.depth >= MAX_DEPTH) return [];
  const cleaned = path.replace(/^\$\{?(GITHUB_WORKSPACE|CI_PROJECT_DIR)\}?\//, '');
  if (cleaned.startsWith('/') || cleaned.includes('$')) return [];
  const rel = cleaned === path ? ctx.repo.resolve(ctx.cwd, cleaned) : ctx.repo.resolve(ctx.repoRoot, cleaned);
  if (rel === undefined || !ctx.repo.isFile(rel)) return [];
  const unit = `${rel}#`;
  if (ctx.visited.has(unit)) return [];
  const text = ctx.repo.readTextOrRecord(rel);
  if (text === undefined) return [];
  ctx.reached.add(unit);
  const via = [...ctx.via, { ...stepVia, note: `${stepVia.note} → ${rel}` }];
  const next: FollowContext = {
    ...ctx,
    via,
    depth: ctx.depth + 1,
    visited: new Set([...ctx.visited, unit]),
    makefile: undefined,
  };
  const lang = language !== 'unknown' ? language : shebangLanguage(text);
  if (lang === 'shell') return analyzeShell(fileSource(rel, text), next);
  if (lang === 'node' || lang === 'python' || lang === 'ruby')
    return analyzeScriptLiterals(fileSource(rel, text), next);
  return [];
}

/** The language a script's shebang names (`#!/usr/bin/env bash` → shell). */
export function shebangLanguage(text: string): string {
  const first = text.slice(0, 200).split('\n')[0] ?? '';
  if (!first.startsWith('#!')) return 'unknown';
  if (/\b(ba|z|da|k)?sh\b/.test(first)) return 'shell';
  if (/\b(node|tsx|ts-node|zx|deno|bun)\b/.test(first)) return 'node';
  if (/\bpython/.test(first)) return 'python';
  if (/\bruby\b/.test(first)) return 'ruby';
  return 'unknown';
}

const EXEC_CALL =
  /(?:\b(?:exec|execSync|spawn|spawnSync|execa|execaSync|execaCommand|execaCommandSync|shell|system|run|check_call|check_output|call|Popen|getstatusoutput|getoutput|sh)\s*\(\s*|\$\s*)$/;
const ARRAY_CALL =
  /\b(?:spawn|spawnSync|execFile|execFileSync|execa|execaSync|crossSpawn|run|call|check_call|check_output|Popen)\s*\(\s*\[?\s*(['"])([A-Za-z0-9_.@/-]+)\1\s*,\s*\[?([^\])]*)[\])]/g;
const STRING_ITEM = /(['"])((?:\\.|(?!\1).)*)\1/g;
const NET =
  /\b(?:https?\.(?:get|request)\s*\(|fetch\s*\(|axios\b|got\s*\(|node-fetch|undici|urllib\.request|urlopen\s*\(|requests\.get\s*\(|Net::HTTP|open-uri|URI\.open)/;
const RUN =
  /\b(?:child_process|execSync|execFileSync|spawnSync|spawn\s*\(|exec\s*\(|execFile\s*\(|eval\s*\(|new\s+Function\s*\(|vm\.run\w*\s*\(|subprocess|os\.system|Kernel\.system|`[^`]*`\s*$)/m;

/**
 * JS, Python and Ruby release scripts: the command strings they pass to exec/spawn-like calls or
 * zx templates, and array-form calls (`spawn('npm', ['publish'])`). In install-time lifecycle
 * scripts also "fetches over the network and executes".
 */
export function analyzeScriptLiterals(source: TextSource, ctx: FollowContext): Activity[] {
  const text = source.text;
  const out: Activity[] = [];
  const literal = /(['"`])((?:\\.|(?!\1)[^\\])*)\1/g;
  let m: RegExpExecArray | null;
  while ((m = literal.exec(text)) !== null) {
    const body = m[2] ?? '';
    if (
      body.length < 3 ||
      !/\b(npm|pnpm|yarn|twine|uv|gem|cargo|poetry|changeset|lerna|semantic-release|curl|wget|make|sh|bash|rake|flit|hatch)\b/.test(
        body,
      )
    )
      continue;
    const before = text.slice(Math.max(0, m.index - 40), m.index);
    if (!EXEC_CALL.test(before)) continue;
    out.push(...analyzeShell(shiftedSource(source, body, m.index + 1), ctx));
  }
  ARRAY_CALL.lastIndex = 0;
  while ((m = ARRAY_CALL.exec(text)) !== null) {
    const bin = m[2] ?? '';
    const binStart = m.index + m[0].indexOf(bin);
    const words: ShellWord[] = [{ value: bin, start: binStart, end: binStart + bin.length }];
    const list = m[3] ?? '';
    const listStart = m.index + m[0].lastIndexOf(list);
    STRING_ITEM.lastIndex = 0;
    let item: RegExpExecArray | null;
    while ((item = STRING_ITEM.exec(list)) !== null) {
      words.push({
        value: item[2] ?? '',
        start: listStart + item.index,
        end: listStart + item.index + item[0].length,
      });
    }
    const command: ShellCommand = {
      words,
      redirects: [],
      pipedFrom: false,
      pipesTo: false,
      substituted: false,
      start: binStart,
      end: listStart + list.length,
      heredocs: [],
    };
    out.push(...analyzeCommands([command], source, ctx));
  }
  if (ctx.lifecycle) {
    const net = NET.exec(text);
    if (net !== null && RUN.test(text)) {
      out.push({
        kind: 'remote-exec',
        detail: 'fetches code over the network and executes it at install time',
        lifecycle: true,
        location: source.locate(net.index, net[0].length),
        via: ctx.via,
      });
    }
  }
  return out;
}

/** Credential references in shell text: `${{ secrets.NPM_TOKEN }}` everywhere, `$NPM_TOKEN` outside GitHub (where env is declared in YAML). */
function collectCredentialRefs(
  cmd: ShellCommand,
  source: TextSource,
  ctx: FollowContext,
  out: Activity[],
): void {
  const spans: { text: string; start: number }[] = cmd.words.map((w) => ({
    text: source.text.slice(w.start, w.end),
    start: w.start,
  }));
  for (const r of cmd.redirects)
    if (r.target !== undefined)
      spans.push({ text: source.text.slice(r.target.start, r.target.end), start: r.target.start });
  for (const h of cmd.heredocs) spans.push({ text: h.text, start: h.start });
  for (const span of spans) {
    for (const ref of findSecretReferences(span.text)) {
      if (isRegistryCredentialName(ref.name, ctx.config.credentialNames)) {
        out.push({
          kind: 'credential-ref',
          name: ref.name,
          location: source.locate(span.start + ref.offset, ref.length),
          via: ctx.via,
        });
      }
    }
    if (ctx.platform === 'github') continue;
    for (const ref of findVariableReferences(span.text)) {
      if (isRegistryCredentialName(ref.name, ctx.config.credentialNames)) {
        out.push({
          kind: 'credential-ref',
          name: ref.name,
          location: source.locate(span.start + ref.offset, ref.length),
          via: ctx.via,
        });
      }
    }
  }
}

/** Secrets printed to the log, written to a file, or exported through `GITHUB_ENV`/`GITHUB_OUTPUT`. */
function collectSecretSinks(
  cmd: ShellCommand,
  view: CommandView,
  source: TextSource,
  ctx: FollowContext,
  out: Activity[],
): void {
  const printer =
    view.bin === 'echo' ||
    view.bin === 'printf' ||
    (view.bin === 'cat' && cmd.heredocs.length > 0) ||
    view.bin === 'tee';
  if (!printer) return;
  // `echo "::add-mask::$TOKEN"` masks the value: the opposite of a leak.
  if (view.words.some((w) => w.value.includes('::add-mask::'))) return;
  // Piped into another command (`| docker login --password-stdin`): the value never reaches the log.
  if (cmd.pipesTo && view.bin !== 'tee') return;
  const secrets: { name: string; offset: number; length: number }[] = [];
  const scan = (text: string, start: number): void => {
    for (const ref of findSecretReferences(text))
      secrets.push({ name: ref.name, offset: start + ref.offset, length: ref.length });
    for (const ref of findVariableReferences(text)) {
      const binding = ctx.env.get(ref.name);
      const isSecret =
        binding?.secret !== undefined ||
        (ctx.platform !== 'github' && isRegistryCredentialName(ref.name, ctx.config.credentialNames));
      if (isSecret)
        secrets.push({ name: binding?.secret ?? ref.name, offset: start + ref.offset, length: ref.length });
    }
  };
  const args = view.bin === 'tee' ? [] : view.args;
  for (const w of args) scan(source.text.slice(w.start, w.end), w.start);
  for (const h of cmd.heredocs) scan(h.text, h.start);
  if (view.bin === 'tee' && cmd.pipedFrom) return;
  if (secrets.length === 0) return;
  const target =
    cmd.redirects.find(
      (r) => r.op === '>' || r.op === '>>' || r.op === '>|' || r.op === '&>' || r.op === '&>>',
    )?.target?.value ??
    (view.bin === 'tee' ? view.args.find((a) => !a.value.startsWith('-'))?.value : undefined);
  let sink: 'log' | 'file' | 'github-env' | 'github-output';
  if (target === undefined) sink = 'log';
  else if (/GITHUB_ENV/.test(target)) sink = 'github-env';
  else if (/GITHUB_OUTPUT/.test(target)) sink = 'github-output';
  else if (/GITHUB_STEP_SUMMARY/.test(target)) sink = 'log';
  else if (target === '/dev/null') return;
  else if (/^\/dev\/std(err|out)$/.test(target)) sink = 'log';
  else sink = 'file';
  for (const s of secrets) {
    out.push({
      kind: 'secret-sink',
      sink,
      name: s.name,
      location: source.locate(s.offset, s.length),
      via: ctx.via,
    });
  }
}

/** Classifies a target string for callers outside the analyzer (known-action publishes). */
export function toTarget(url: string | undefined, config: AuditConfig): RegistryTarget {
  return url === undefined || isUnresolved(url) ? 'unknown' : classifyRegistry(url, config);
}
