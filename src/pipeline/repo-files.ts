/**
 * Read access to the audited tree, with per-file limits (size, binary) and caches for what the
 * publish-path follower keeps asking for: package.json files, `.npmrc` registries, Makefiles.
 * Paths are POSIX, relative to the audited root; nothing outside the root is ever read.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { AUDIT_ERROR_CODES, AuditFileError } from './errors.ts';
import { isPubgateError } from '../errors/index.ts';
import { getText, getValue, parseYamlFile, type ScalarNode, type YamlFile } from './yaml-tree.ts';
import type { FileError } from './types.ts';

/** Folders never audited: dependencies, VCS metadata, virtualenvs, build output. */
export const SKIPPED_DIRS: ReadonlySet<string> = new Set([
  'node_modules',
  '.git',
  '.hg',
  '.svn',
  'vendor',
  'bower_components',
  '.venv',
  'venv',
  '__pycache__',
  '.tox',
  '.next',
  '.nuxt',
  'coverage',
  '.yarn',
  '.pnpm-store',
  'target',
]);

/** One package.json script. */
export interface PackageScript {
  readonly name: string;
  readonly text: string;
  readonly node: ScalarNode;
}

/** What the auditor needs from a package.json. */
export interface PackageJsonInfo {
  readonly path: string;
  readonly dir: string;
  readonly file: YamlFile;
  readonly name: string | undefined;
  readonly isPrivate: boolean;
  readonly publishRegistry: string | undefined;
  readonly publishProvenance: boolean | undefined;
  readonly hasPackageManagerField: boolean;
  readonly scripts: ReadonlyMap<string, PackageScript>;
  /** `release` config of semantic-release, when it lists plugins. */
  readonly semanticReleasePlugins: readonly string[] | undefined;
}

/** A Makefile rule. */
export interface MakeRule {
  readonly target: string;
  readonly prerequisites: readonly string[];
  readonly offset: number;
  /** Recipe chunks: `[start, end)` offsets of each logical recipe line (continuations joined), prefix chars stripped. */
  readonly recipes: readonly { readonly start: number; readonly end: number }[];
}

/** A parsed Makefile. */
export interface MakefileInfo {
  readonly path: string;
  readonly text: string;
  readonly rules: ReadonlyMap<string, MakeRule>;
  readonly defaultTarget: string | undefined;
  readonly variables: ReadonlyMap<string, string>;
}

/** Options of {@link RepoFiles}. */
export interface RepoFilesOptions {
  readonly maxFileBytes: number;
}

/** Cached, limited read access to the audited tree. */
export class RepoFiles {
  readonly errors: FileError[] = [];
  private readonly texts = new Map<string, string | undefined>();
  private readonly packages = new Map<string, PackageJsonInfo | undefined>();
  private readonly makefiles = new Map<string, MakefileInfo | undefined>();
  private readonly npmrcs = new Map<string, ReadonlyMap<string, string>>();
  private readonly erroredFiles = new Set<string>();
  private readonly fileChecks = new Map<string, boolean>();

  constructor(
    readonly root: string,
    private readonly options: RepoFilesOptions,
  ) {}

  /** Normalises a path relative to the root; undefined when it escapes the root. */
  resolve(...parts: string[]): string | undefined {
    const joined = posix.normalize(posix.join(...parts.map((p) => p.replaceAll('\\', '/'))));
    if (joined.startsWith('..') || posix.isAbsolute(joined)) return undefined;
    return joined === '.' ? '' : joined.replace(/\/$/, '');
  }

  /** True when `rel` is an existing regular file. */
  isFile(rel: string): boolean {
    let known = this.fileChecks.get(rel);
    if (known === undefined) {
      try {
        known = statSync(join(this.root, rel)).isFile();
      } catch {
        known = false;
      }
      this.fileChecks.set(rel, known);
    }
    return known;
  }

  /** Files under `dir` (recursive, relative to the root), skipping dependency and VCS folders. */
  listFiles(dir: string): string[] {
    const out: string[] = [];
    const walk = (rel: string, depth: number): void => {
      if (depth > 12 || out.length > 10_000) return;
      let entries;
      try {
        entries = readdirSync(join(this.root, rel), { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const child = rel === '' ? e.name : `${rel}/${e.name}`;
        if (e.isDirectory() && !SKIPPED_DIRS.has(e.name)) walk(child, depth + 1);
        else if (e.isFile()) out.push(child);
      }
    };
    walk(dir, 0);
    return out;
  }

  /** The text of a file, or undefined if missing; throws {@link AuditFileError} for binary or oversized files. */
  readText(rel: string): string | undefined {
    if (this.texts.has(rel)) return this.texts.get(rel);
    let text: string | undefined;
    try {
      const full = join(this.root, rel);
      const stat = statSync(full);
      if (!stat.isFile()) text = undefined;
      else if (stat.size > this.options.maxFileBytes) {
        throw new AuditFileError(
          AUDIT_ERROR_CODES.fileTooLarge,
          `${rel}: ${stat.size} bytes, over the ${this.options.maxFileBytes}-byte limit; not audited`,
          {
            details: { file: rel },
          },
        );
      } else {
        const bytes = readFileSync(full);
        // A NUL byte in the first 8 KiB: binary (the heuristic git and grep use).
        if (bytes.subarray(0, 8192).includes(0)) {
          throw new AuditFileError(AUDIT_ERROR_CODES.fileBinary, `${rel}: binary file; not audited`, {
            details: { file: rel },
          });
        }
        text = bytes.toString('utf8');
      }
    } catch (error) {
      if (isPubgateError(error)) throw error;
      text = undefined;
    }
    this.texts.set(rel, text);
    return text;
  }

  /** Like {@link readText} but records a per-file error instead of throwing. */
  readTextOrRecord(rel: string): string | undefined {
    try {
      return this.readText(rel);
    } catch (error) {
      this.record(rel, error);
      return undefined;
    }
  }

  /** Records a per-file error once. */
  record(rel: string, error: unknown): void {
    if (this.erroredFiles.has(rel)) return;
    this.erroredFiles.add(rel);
    if (isPubgateError(error)) this.errors.push({ file: rel, code: error.code, message: error.message });
    else
      this.errors.push({
        file: rel,
        code: AUDIT_ERROR_CODES.fileUnreadable,
        message: `${rel}: could not be audited`,
      });
  }

  /** Parses a YAML file, recording a per-file error on failure. */
  parseYaml(rel: string): YamlFile | undefined {
    const text = this.readTextOrRecord(rel);
    if (text === undefined) return undefined;
    try {
      return parseYamlFile(rel, text);
    } catch (error) {
      this.record(rel, error);
      return undefined;
    }
  }

  /** The package.json of `dir` or its nearest ancestor within `stopAt`. */
  nearestPackageJson(dir: string, stopAt = ''): PackageJsonInfo | undefined {
    let current: string | undefined = dir;
    for (let guard = 0; guard < 64 && current !== undefined; guard++) {
      const info = this.packageJson(current);
      if (info !== undefined) return info;
      if (current === stopAt || current === '') return undefined;
      current = current.includes('/') ? current.slice(0, current.lastIndexOf('/')) : '';
    }
    return undefined;
  }

  /** The package.json directly in `dir`. */
  packageJson(dir: string): PackageJsonInfo | undefined {
    if (this.packages.has(dir)) return this.packages.get(dir);
    const path = dir === '' ? 'package.json' : `${dir}/package.json`;
    let info: PackageJsonInfo | undefined;
    const text = this.readTextOrRecord(path);
    if (text !== undefined) {
      try {
        info = toPackageInfo(parseYamlFile(path, text), dir);
      } catch (error) {
        this.record(
          path,
          isPubgateError(error) && error.code === AUDIT_ERROR_CODES.yamlInvalid
            ? new AuditFileError(
                AUDIT_ERROR_CODES.jsonInvalid,
                error.message.replace('not valid YAML', 'not valid JSON'),
              )
            : error,
        );
      }
    }
    this.packages.set(dir, info);
    return info;
  }

  /** `registry` and `@scope:registry` keys of the project `.npmrc` in `dir`, then the repository root. */
  npmrc(dir: string, repoRoot: string): ReadonlyMap<string, string> {
    const key = `${dir}\u0000${repoRoot}`;
    const cached = this.npmrcs.get(key);
    if (cached !== undefined) return cached;
    const out = new Map<string, string>();
    for (const d of dir === repoRoot ? [dir] : [repoRoot, dir]) {
      const text = this.readTextOrRecord(d === '' ? '.npmrc' : `${d}/.npmrc`);
      if (text === undefined) continue;
      for (const line of text.split(/\r?\n/)) {
        const m = /^\s*((?:@[^:\s]+:)?registry)\s*=\s*(\S+)\s*$/.exec(line);
        if (m?.[1] !== undefined && m[2] !== undefined) out.set(m[1], m[2]);
      }
    }
    this.npmrcs.set(key, out);
    return out;
  }

  /** The Makefile at `path` (exact) or in `dir` (GNUmakefile, makefile, Makefile, as GNU make looks). */
  makefile(dir: string, file?: string): MakefileInfo | undefined {
    const candidates =
      file !== undefined
        ? [this.resolve(dir, file)]
        : ['GNUmakefile', 'makefile', 'Makefile'].map((n) => this.resolve(dir, n));
    for (const path of candidates) {
      if (path === undefined) continue;
      if (this.makefiles.has(path)) {
        const cached = this.makefiles.get(path);
        if (cached !== undefined) return cached;
        continue;
      }
      const text = this.readTextOrRecord(path);
      const info = text === undefined ? undefined : parseMakefile(path, text);
      this.makefiles.set(path, info);
      if (info !== undefined) return info;
    }
    return undefined;
  }
}

function toPackageInfo(file: YamlFile, dir: string): PackageJsonInfo {
  const root = file.root;
  const scripts = new Map<string, PackageScript>();
  const scriptsNode = getValue(root, 'scripts');
  if (scriptsNode?.kind === 'map') {
    for (const entry of scriptsNode.entries) {
      if (entry.value.kind === 'scalar' && typeof entry.value.value === 'string')
        scripts.set(entry.key, { name: entry.key, text: entry.value.value, node: entry.value });
    }
  }
  const publishConfig = getValue(root, 'publishConfig');
  const provenance = getValue(publishConfig, 'provenance');
  const release = getValue(root, 'release');
  const plugins = getValue(release, 'plugins');
  return {
    path: file.path,
    dir,
    file,
    name: getText(root, 'name'),
    isPrivate: getText(root, 'private') === 'true',
    publishRegistry: getText(publishConfig, 'registry'),
    publishProvenance:
      provenance?.kind === 'scalar' && typeof provenance.value === 'boolean' ? provenance.value : undefined,
    hasPackageManagerField:
      getValue(root, 'packageManager') !== undefined || getValue(root, 'devEngines') !== undefined,
    scripts,
    semanticReleasePlugins:
      plugins?.kind === 'seq'
        ? plugins.items.map((p) =>
            p.kind === 'seq'
              ? String(p.items[0]?.kind === 'scalar' ? p.items[0].value : '')
              : p.kind === 'scalar'
                ? String(p.value)
                : '',
          )
        : undefined,
  };
}

/** Parses the rule structure of a Makefile (targets, prerequisites, recipe spans, simple variables). */
export function parseMakefile(path: string, text: string): MakefileInfo {
  const rules = new Map<string, MakeRule>();
  const variables = new Map<string, string>();
  let defaultTarget: string | undefined;
  let current:
    | { target: string[]; prerequisites: string[]; offset: number; recipes: { start: number; end: number }[] }
    | undefined;
  const commit = (): void => {
    if (current === undefined) return;
    for (const t of current.target) {
      const existing = rules.get(t);
      rules.set(t, {
        target: t,
        prerequisites: [...(existing?.prerequisites ?? []), ...current.prerequisites],
        offset: existing?.offset ?? current.offset,
        recipes: [...(existing?.recipes ?? []), ...current.recipes],
      });
    }
    current = undefined;
  };
  let offset = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const lineStart = offset;
    offset += line.length + 1;
    if (line.startsWith('\t') && current !== undefined) {
      // A recipe line; `\` continues it onto the next line (GNU make §5.1.1).
      let end = lineStart + line.length;
      let last = line;
      while (last.replace(/\r$/, '').endsWith('\\') && i + 1 < lines.length) {
        i++;
        last = lines[i] ?? '';
        end = offset + last.length;
        offset += last.length + 1;
      }
      let start = lineStart + 1;
      while (start < end && /[@+\- ]/.test(text[start] ?? '')) start++;
      current.recipes.push({ start, end });
      continue;
    }
    const trimmed = line.replace(/\r$/, '');
    if (trimmed.trim() === '' || trimmed.trimStart().startsWith('#')) continue;
    const assign =
      /^\s*(?:export\s+|override\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(?::{1,3}=|\?=|\+=|=)\s*(.*)$/.exec(
        trimmed,
      );
    if (assign?.[1] !== undefined) {
      commit();
      variables.set(assign[1], (assign[2] ?? '').trim());
      continue;
    }
    const rule = /^([^\s:#=][^:=#]*?)\s*::?\s*([^=].*)?$/.exec(trimmed);
    if (rule?.[1] !== undefined && !trimmed.startsWith('\t')) {
      commit();
      const targets = rule[1].split(/\s+/).filter((t) => t !== '');
      const body = (rule[2] ?? '').split(';');
      const prerequisites = (body[0] ?? '')
        .split('|')
        .join(' ')
        .split(/\s+/)
        .filter((p) => p !== '');
      current = { target: targets, prerequisites, offset: lineStart, recipes: [] };
      if (body.length > 1) {
        const inlineAt = trimmed.indexOf(';');
        current.recipes.push({ start: lineStart + inlineAt + 1, end: lineStart + trimmed.length });
      }
      if (defaultTarget === undefined)
        defaultTarget = targets.find((t) => !t.startsWith('.') && !t.includes('%'));
      continue;
    }
    commit();
  }
  commit();
  return { path, text, rules, defaultTarget, variables };
}
