/**
 * What a simple shell command does, as far as a release audit cares: publish to a registry,
 * install dependencies (with lifecycle scripts), build, test, run a package.json script or a
 * Makefile target, run a script file, download, or execute what it reads from stdin.
 */
import type { ShellWord } from './shell-lexer.ts';

/** Registry ecosystems the auditor knows how to publish to. */
export type Ecosystem = 'npm' | 'pypi' | 'rubygems' | 'crates';

/** A command with wrappers (`sudo`, `env`, `npx`, `python -m`, `bundle exec`, assignments) peeled off. */
export interface CommandView {
  readonly bin: string;
  readonly binWord: ShellWord;
  readonly args: readonly ShellWord[];
  readonly assignments: ReadonlyMap<string, string>;
  readonly words: readonly ShellWord[];
}

/** What one command does. A command may do several things (`pnpm changeset publish`). */
export type CommandIntent =
  | {
      readonly kind: 'publish';
      readonly ecosystem: Ecosystem;
      readonly tool: string;
      readonly registryFlag: string | undefined;
      /** A named repository or registry (`twine -r testpypi`, `cargo publish --registry x`). */
      readonly registryName: string | undefined;
      readonly dryRun: boolean;
      /** Publishes a packed file: npm then runs no lifecycle scripts. */
      readonly tarball: boolean;
      /** `--provenance` given (true), `--provenance=false` (false), or not said. */
      readonly provenance: boolean | undefined;
      /** Lifecycle hooks npm-like clients run for this publish, in the package directory. */
      readonly hooks: readonly string[];
      readonly dir: string | undefined;
    }
  | {
      readonly kind: 'install';
      readonly tool: string;
      readonly runsScripts: boolean;
      readonly hooks: readonly string[];
    }
  | { readonly kind: 'build' | 'test'; readonly detail: string }
  | {
      readonly kind: 'run-script';
      readonly manager: string;
      readonly script: string;
      readonly prePost: boolean;
      readonly dir: string | undefined;
    }
  | { readonly kind: 'hooks'; readonly manager: string; readonly hooks: readonly string[] }
  | {
      readonly kind: 'make';
      readonly dir: string | undefined;
      readonly file: string | undefined;
      readonly targets: readonly string[];
    }
  | {
      readonly kind: 'script-file';
      readonly path: string;
      readonly language: 'shell' | 'node' | 'python' | 'ruby' | 'unknown';
    }
  | { readonly kind: 'shell-string'; readonly word: ShellWord }
  | { readonly kind: 'download'; readonly output: string | undefined }
  | { readonly kind: 'stdin-interpreter'; readonly interpreter: string }
  | { readonly kind: 'eval' }
  | { readonly kind: 'verify' }
  | { readonly kind: 'print' };

const KEYWORDS = new Set([
  'if',
  'then',
  'else',
  'elif',
  'do',
  'while',
  'until',
  '!',
  '{',
  '}',
  'time',
  'exec',
  'command',
  'nohup',
  'builtin',
]);
const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'ash', 'fish']);
const INTERPRETERS = new Set([
  ...SHELLS,
  'python',
  'python3',
  'node',
  'perl',
  'ruby',
  'pwsh',
  'powershell',
  'iex',
  'php',
  'deno',
  'bun',
]);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

/** Peels wrappers off a command; undefined for empty commands and shell keywords alone. */
export function unwrapCommand(
  words: readonly ShellWord[],
  expand?: (word: ShellWord) => readonly ShellWord[],
): CommandView | undefined {
  let list = expand === undefined ? [...words] : words.flatMap((w) => expand(w));
  const assignments = new Map<string, string>();
  for (let guard = 0; guard < 12 && list.length > 0; guard++) {
    const head = list[0];
    if (head === undefined) break;
    const v = head.value;
    if (ASSIGNMENT.test(v)) {
      const eq = v.indexOf('=');
      assignments.set(v.slice(0, eq), v.slice(eq + 1));
      list = list.slice(1);
      continue;
    }
    if (KEYWORDS.has(v)) {
      list = list.slice(1);
      continue;
    }
    if (v === 'sudo' || v === 'env' || v === 'xargs' || v === 'doas') {
      let i = 1;
      while (i < list.length) {
        const w = list[i]?.value ?? '';
        if (w === '-u' || w === '-g' || w === '-I' || w === '-n' || w === '-P') i += 2;
        else if (w.startsWith('-') || (v === 'env' && ASSIGNMENT.test(w))) {
          if (ASSIGNMENT.test(w)) assignments.set(w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1));
          i++;
        } else break;
      }
      list = list.slice(i);
      continue;
    }
    const runner = runnerSkip(list);
    if (runner > 0) {
      list = list.slice(runner);
      continue;
    }
    break;
  }
  const binWord = list[0];
  if (binWord === undefined) return undefined;
  return { bin: normalizeBin(binWord.value), binWord, args: list.slice(1), assignments, words: list };
}

/** How many leading words are a runner (`npx -y`, `pnpm exec`, `python -m`, `bundle exec`) before the real program. */
function runnerSkip(list: readonly ShellWord[]): number {
  const v = list[0]?.value ?? '';
  const next = list[1]?.value ?? '';
  const skipFlags = (from: number, valueFlags: ReadonlySet<string>): number => {
    let i = from;
    while (i < list.length) {
      const w = list[i]?.value ?? '';
      if (w === '--') return i + 1;
      if (!w.startsWith('-')) break;
      i += valueFlags.has(w) ? 2 : 1;
    }
    return i;
  };
  if (v === 'npx' || v === 'bunx' || v === 'pnpx' || v === 'uvx')
    return skipFlags(1, new Set(['-p', '--package', '--from', '--with']));
  if (
    (v === 'npm' && (next === 'exec' || next === 'x')) ||
    ((v === 'pnpm' || v === 'yarn') && (next === 'exec' || next === 'dlx'))
  ) {
    return skipFlags(2, new Set(['-p', '--package', '-c', '--call']));
  }
  if (
    (v === 'bundle' ||
      v === 'poetry' ||
      v === 'pipenv' ||
      v === 'pdm' ||
      v === 'hatch' ||
      v === 'uv' ||
      v === 'pipx') &&
    (next === 'exec' || next === 'run')
  ) {
    return skipFlags(2, new Set(['--with', '--from', '-p', '--python']));
  }
  if (/^python[0-9.]*$/.test(v) || v === 'py') {
    let i = 1;
    while (i < list.length && (list[i]?.value ?? '').startsWith('-') && list[i]?.value !== '-m') i++;
    if (list[i]?.value === '-m' && list[i + 1] !== undefined) return i + 1;
  }
  return 0;
}

function normalizeBin(value: string): string {
  // `./node_modules/.bin/semantic-release` → `semantic-release`; `semantic-release@24` → `semantic-release`.
  let bin = value.includes('node_modules/.bin/') ? value.slice(value.lastIndexOf('/') + 1) : value;
  if (!bin.includes('/') || bin.startsWith('@')) {
    const at = bin.lastIndexOf('@');
    if (at > 0) bin = bin.slice(0, at);
  }
  if (bin === '@changesets/cli') return 'changeset';
  if (bin === '@semantic-release/cli' || bin === 'semantic-release-cli') return 'semantic-release-cli';
  if (bin === 'lerna-lite' || bin === '@lerna-lite/cli') return 'lerna';
  if (bin === 'python3' || /^python3\.\d+$/.test(bin)) return 'python';
  return bin;
}

/** The value of `--name value` or `--name=value` among `args`. */
export function flagValue(args: readonly ShellWord[], names: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const w = args[i]?.value ?? '';
    for (const name of names) {
      if (w === name) return args[i + 1]?.value;
      if (w.startsWith(`${name}=`)) return w.slice(name.length + 1);
    }
  }
  return undefined;
}

/** True when any of `names` appears as a flag (bare or `=value`). */
export function hasFlag(args: readonly ShellWord[], names: readonly string[]): boolean {
  return args.some((a) => names.some((n) => a.value === n || a.value.startsWith(`${n}=`)));
}

const NPM_VALUE_FLAGS = new Set([
  '--registry',
  '--tag',
  '--access',
  '--otp',
  '-w',
  '--workspace',
  '--prefix',
  '-C',
  '--userconfig',
  '--cache',
  '--loglevel',
  '--auth-type',
  '--filter',
  '-F',
  '--dir',
  '--cwd',
  '--provenance-file',
  '--publish-branch',
  '--report-summary',
]);

/** Positional arguments (not flags and not flag values). */
function positionals(
  args: readonly ShellWord[],
  valueFlags: ReadonlySet<string> = NPM_VALUE_FLAGS,
): ShellWord[] {
  const out: ShellWord[] = [];
  for (let i = 0; i < args.length; i++) {
    const w = args[i];
    if (w === undefined) continue;
    if (w.value === '--') {
      out.push(...args.slice(i + 1));
      break;
    }
    if (w.value.startsWith('-')) {
      if (valueFlags.has(w.value)) i++;
      continue;
    }
    out.push(w);
  }
  return out;
}

function provenanceOf(args: readonly ShellWord[]): boolean | undefined {
  const v = flagValue(args, ['--provenance']);
  if (
    hasFlag(args, ['--provenance']) &&
    (v === undefined || v.startsWith('-') || !args.some((a) => a.value.startsWith('--provenance=')))
  )
    return true;
  if (v === undefined) return undefined;
  return v !== 'false';
}

/** npm/pnpm run these around a directory publish (npm docs, "Life Cycle Scripts" → npm publish). */
export const PUBLISH_HOOKS = Object.freeze([
  'prepublishOnly',
  'prepack',
  'prepare',
  'postpack',
  'publish',
  'postpublish',
]);
const INSTALL_HOOKS = Object.freeze([
  'preinstall',
  'install',
  'postinstall',
  'prepublish',
  'preprepare',
  'prepare',
  'postprepare',
]);

const BUILD_BINS = new Set([
  'tsc',
  'tsup',
  'rollup',
  'webpack',
  'esbuild',
  'babel',
  'swc',
  'unbuild',
  'microbundle',
  'parcel',
  'ncc',
  'pkgroll',
  'vite',
  'gulp',
  'grunt',
  'bob',
  'nest',
  'ng',
  'next',
  'nuxt',
  'rspack',
  'rslib',
  'tsdown',
]);
const TEST_BINS = new Set([
  'jest',
  'vitest',
  'mocha',
  'ava',
  'tap',
  'pytest',
  'tox',
  'nox',
  'rspec',
  'playwright',
  'cypress',
  'karma',
  'eslint',
  'biome',
  'xo',
]);
const BUILD_SCRIPT = /^(build|compile|bundle|dist|prepare|prepack|package|transpile)([:_-].*)?$/i;
const TEST_SCRIPT = /^(test|tests|lint|check|typecheck|type-check|coverage|e2e|verify|ci)([:_-].*)?$/i;

/** Classifies a command; an empty list means "nothing the auditor cares about". */
export function classifyCommand(
  view: CommandView,
  scriptNames?: (dir: string | undefined) => ReadonlySet<string>,
): CommandIntent[] {
  const { bin, args } = view;
  const pos = positionals(args);
  const sub = pos[0]?.value;
  const dryRun = hasFlag(args, ['--dry-run', '-n']) && bin !== 'make';
  switch (bin) {
    case 'npm':
    case 'pnpm':
    case 'bun':
      return classifyNodeManager(view, pos, dryRun, scriptNames);
    case 'yarn':
      return classifyYarn(view, pos, dryRun, scriptNames);
    case 'changeset':
    case 'changesets':
      return sub === 'publish' ? [npmPublish(bin, args, dryRun, false, [], undefined)] : [];
    case 'lerna':
      return sub === 'publish'
        ? [npmPublish(bin, args, dryRun, false, [], undefined)]
        : sub === 'run'
          ? runOfName(pos[1]?.value ?? '')
          : [];
    case 'semantic-release':
    case 'multi-semantic-release':
      return [npmPublish(bin, args, hasFlag(args, ['--dry-run', '-d']), false, [], undefined)];
    case 'release-it':
      return hasFlag(args, ['--no-npm.publish', '--no-npm', '--npm.publish=false'])
        ? []
        : [npmPublish(bin, args, dryRun, false, [], undefined)];
    case 'np':
      return [npmPublish(bin, args, hasFlag(args, ['--preview']), false, [], undefined)];
    case 'twine':
      return sub === 'upload'
        ? [
            publishOf(
              'pypi',
              'twine',
              flagValue(args, ['--repository-url']),
              flagValue(args, ['-r', '--repository']),
              false,
            ),
          ]
        : [];
    case 'uv':
      if (sub === 'publish')
        return [
          publishOf(
            'pypi',
            'uv publish',
            flagValue(args, ['--publish-url']),
            flagValue(args, ['--index']),
            dryRun,
          ),
        ];
      if (sub === 'sync' || (sub === 'pip' && pos[1]?.value === 'install' && hasProjectInstallArgs(args)))
        return [install('uv sync', true, [])];
      if (sub === 'build') return [{ kind: 'build', detail: 'uv build' }];
      return [];
    case 'poetry':
      if (sub === 'publish')
        return [
          publishOf('pypi', 'poetry publish', undefined, flagValue(args, ['-r', '--repository']), dryRun),
        ];
      if (sub === 'install') return [install('poetry install', true, [])];
      if (sub === 'build') return [{ kind: 'build', detail: 'poetry build' }];
      return [];
    case 'flit':
    case 'hatch':
    case 'pdm':
    case 'maturin':
      if (sub === 'publish' || (bin === 'maturin' && sub === 'upload')) {
        return [
          publishOf(
            'pypi',
            `${bin} ${sub}`,
            flagValue(args, ['--repository-url', '--repository', '-r']),
            undefined,
            dryRun,
          ),
        ];
      }
      if (sub === 'build') return [{ kind: 'build', detail: `${bin} build` }];
      if (bin === 'pdm' && sub === 'install') return [install('pdm install', true, [])];
      return [];
    case 'pip':
    case 'pip3':
      // Installing a project or a requirements file builds sdists, which runs their setup code.
      return sub === 'install' && hasProjectInstallArgs(args) ? [install('pip install', true, [])] : [];
    case 'pipenv':
      return sub === 'install' || sub === 'sync' ? [install('pipenv install', true, [])] : [];
    case 'build':
      // `python -m build`
      return [{ kind: 'build', detail: 'python -m build' }];
    case 'python':
      if (pos[0]?.value === 'setup.py') {
        const rest = pos.slice(1).map((w) => w.value);
        if (rest.includes('upload'))
          return [publishOf('pypi', 'setup.py upload', undefined, flagValue(args, ['-r']), false)];
        if (rest.some((r) => /^(sdist|bdist_wheel|build)$/.test(r)))
          return [{ kind: 'build', detail: 'setup.py build' }];
        return [];
      }
      return scriptFileOf(pos[0]?.value, 'python') ?? stdinInterpreter(view);
    case 'gem':
      if (sub === 'push')
        return [publishOf('rubygems', 'gem push', flagValue(args, ['--host']), undefined, false)];
      if (sub === 'build') return [{ kind: 'build', detail: 'gem build' }];
      return [];
    case 'rake':
      if (pos.some((p) => /^release(:rubygem_push)?(\[.*\])?$/.test(p.value)))
        return [publishOf('rubygems', 'rake release', undefined, undefined, false)];
      if (pos.some((p) => /^(test|spec)$/.test(p.value))) return [{ kind: 'test', detail: 'rake test' }];
      if (pos.some((p) => p.value === 'build')) return [{ kind: 'build', detail: 'rake build' }];
      return [];
    case 'bundle':
      return sub === 'install' || sub === undefined ? [install('bundle install', true, [])] : [];
    case 'cargo':
      if (sub === 'publish')
        return [
          publishOf(
            'crates',
            'cargo publish',
            flagValue(args, ['--index']),
            flagValue(args, ['--registry']),
            dryRun,
          ),
        ];
      if (sub === 'release' && hasFlag(args, ['--execute', '-x']) && !hasFlag(args, ['--no-publish'])) {
        return [publishOf('crates', 'cargo release', undefined, flagValue(args, ['--registry']), false)];
      }
      if (sub === 'build') return [{ kind: 'build', detail: 'cargo build' }];
      if (sub === 'test' || sub === 'nextest') return [{ kind: 'test', detail: `cargo ${sub}` }];
      return [];
    case 'go':
      if (sub === 'build') return [{ kind: 'build', detail: 'go build' }];
      if (sub === 'test') return [{ kind: 'test', detail: 'go test' }];
      return [];
    case 'make':
    case 'gmake':
      return [
        {
          kind: 'make',
          dir: flagValue(args, ['-C', '--directory']),
          file: flagValue(args, ['-f', '--file', '--makefile']),
          targets: positionals(
            args,
            new Set(['-C', '-f', '--directory', '--file', '-j', '-l', '-I', '-o', '-W']),
          )
            .filter((w) => !w.value.includes('='))
            .map((w) => w.value),
        },
      ];
    case 'turbo':
    case 'nx':
      return pos.flatMap((p) => runOfName(p.value)).slice(0, 1);
    case 'curl':
    case 'wget':
    case 'Invoke-WebRequest':
    case 'iwr':
    case 'fetch':
      return [{ kind: 'download', output: downloadOutput(bin, args) }];
    case 'sha256sum':
    case 'sha512sum':
    case 'shasum':
    case 'gpg':
    case 'cosign':
    case 'minisign':
    case 'slsa-verifier':
      return bin === 'gpg' && !hasFlag(args, ['--verify'])
        ? []
        : bin.startsWith('sha') && !hasFlag(args, ['-c', '--check'])
          ? []
          : [{ kind: 'verify' }];
    case 'eval':
    case 'source':
    case '.':
      return args.length > 0 &&
        args.some((a) => a.value.includes('$(') || a.value.startsWith('<(') || a.value.includes('`'))
        ? [{ kind: 'eval' }]
        : bin !== 'eval'
          ? (scriptFileOf(pos[0]?.value, 'shell') ?? [])
          : [];
    case 'echo':
    case 'printf':
      return [{ kind: 'print' }];
    case 'node':
    case 'tsx':
    case 'ts-node':
    case 'zx':
    case 'deno':
      return scriptFileOf(pos.find((p) => p.value !== 'run')?.value, 'node') ?? stdinInterpreter(view);
    case 'ruby':
      return scriptFileOf(pos[0]?.value, 'ruby') ?? stdinInterpreter(view);
    default:
      break;
  }
  if (SHELLS.has(bin)) {
    const c = args.findIndex((a) => a.value === '-c' || /^-[a-z]*c$/.test(a.value));
    if (c !== -1 && args[c + 1] !== undefined)
      return [{ kind: 'shell-string', word: args[c + 1] as ShellWord }];
    return scriptFileOf(pos[0]?.value, 'shell') ?? stdinInterpreter(view);
  }
  if (INTERPRETERS.has(bin)) return stdinInterpreter(view);
  if (BUILD_BINS.has(bin))
    return bin === 'vite' && sub !== 'build'
      ? []
      : bin === 'next' && sub !== 'build'
        ? []
        : [{ kind: 'build', detail: bin }];
  if (TEST_BINS.has(bin)) return [{ kind: 'test', detail: bin }];
  if (bin.includes('/') || /\.(sh|bash|js|mjs|cjs|ts|mts|py|rb)$/.test(bin)) {
    return scriptFileOf(view.binWord.value, languageOf(view.binWord.value)) ?? [];
  }
  return [];
}

function classifyNodeManager(
  view: CommandView,
  pos: readonly ShellWord[],
  dryRun: boolean,
  scriptNames: ((dir: string | undefined) => ReadonlySet<string>) | undefined,
): CommandIntent[] {
  const { bin, args } = view;
  const dir = flagValue(args, ['--prefix', '-C', '--dir', '--cwd']);
  let i = 0;
  // pnpm -r publish / pnpm recursive publish
  if (pos[0]?.value === 'recursive' || pos[0]?.value === 'm' || pos[0]?.value === 'multi') i = 1;
  const sub = pos[i]?.value;
  if (sub === undefined) return [];
  if (sub === 'publish' || (sub === 'stage' && pos[i + 1]?.value === 'publish')) {
    const target = pos[sub === 'stage' ? i + 2 : i + 1]?.value;
    const tarball = target !== undefined && /\.(tgz|tar\.gz)$/.test(target);
    const targetDir = !tarball && target !== undefined ? joinDir(dir, target) : dir;
    return [npmPublish(bin, args, dryRun, tarball, tarball ? [] : PUBLISH_HOOKS, targetDir)];
  }
  if (
    sub === 'ci' ||
    sub === 'install' ||
    sub === 'i' ||
    sub === 'add' ||
    sub === 'install-clean' ||
    sub === 'clean-install' ||
    sub === 'ic' ||
    sub === 'isntall'
  ) {
    if (hasFlag(args, ['-g', '--global', '--location=global'])) return [];
    const ignore = hasFlag(args, ['--ignore-scripts']) && flagValue(args, ['--ignore-scripts']) !== 'false';
    // Adding a named package in a project still runs every lifecycle script of the tree.
    return [install(`${bin} ${sub}`, !ignore, ignore ? [] : INSTALL_HOOKS)];
  }
  if (sub === 'cit' || sub === 'install-ci-test' || sub === 'install-test' || sub === 'it') {
    return [
      install(bin, !hasFlag(args, ['--ignore-scripts']), INSTALL_HOOKS),
      { kind: 'test', detail: `${bin} ${sub}` },
      { kind: 'hooks', manager: bin, hooks: ['pretest', 'test', 'posttest'] },
    ];
  }
  if (sub === 'run' || sub === 'run-script' || sub === 'rum' || sub === 'urn') {
    const script = pos[i + 1]?.value;
    if (script === undefined) return [];
    return [...runOfName(script), { kind: 'run-script', manager: bin, script, prePost: bin === 'npm', dir }];
  }
  if (sub === 'test' || sub === 't' || sub === 'tst') {
    return [
      { kind: 'test', detail: `${bin} test` },
      { kind: 'run-script', manager: bin, script: 'test', prePost: bin === 'npm', dir },
    ];
  }
  if (sub === 'start' || sub === 'stop' || sub === 'restart')
    return [{ kind: 'run-script', manager: bin, script: sub, prePost: bin === 'npm', dir }];
  if (sub === 'version')
    return [{ kind: 'hooks', manager: bin, hooks: ['preversion', 'version', 'postversion'] }];
  if (sub === 'pack') return [{ kind: 'hooks', manager: bin, hooks: ['prepack', 'prepare', 'postpack'] }];
  if (sub === 'rebuild' || sub === 'rb') return [install(bin, true, INSTALL_HOOKS)];
  if (bin !== 'npm') {
    // pnpm/bun run a package.json script by bare name, else fall back to a binary (`pnpm changeset publish`).
    const scripts = scriptNames?.(dir);
    if (scripts?.has(sub) === true)
      return [...runOfName(sub), { kind: 'run-script', manager: bin, script: sub, prePost: false, dir }];
    if (sub === 'build') return [{ kind: 'build', detail: `${bin} build` }];
    const rest = pos.slice(i);
    const inner = rest[0];
    if (inner === undefined) return [];
    return classifyCommand(
      {
        bin: normalizeBin(inner.value),
        binWord: inner,
        args: args.slice(args.indexOf(inner) + 1),
        assignments: view.assignments,
        words: view.words,
      },
      scriptNames,
    );
  }
  return [];
}

function classifyYarn(
  view: CommandView,
  pos: readonly ShellWord[],
  dryRun: boolean,
  scriptNames: ((dir: string | undefined) => ReadonlySet<string>) | undefined,
): CommandIntent[] {
  const { args } = view;
  const dir = flagValue(args, ['--cwd']);
  const sub = pos[0]?.value;
  if (sub === undefined || sub === 'install') {
    return hasFlag(args, ['--ignore-scripts', '--mode=skip-build'])
      ? [install('yarn', false, [])]
      : [install('yarn install', true, INSTALL_HOOKS)];
  }
  if (sub === 'add') return [install('yarn install', true, INSTALL_HOOKS)];
  if (sub === 'npm' && pos[1]?.value === 'publish') {
    // Yarn Berry: prepack/postpack only (yarnpkg.com/advanced/lifecycle-scripts).
    return [npmPublish('yarn npm publish', args, dryRun, false, ['prepack', 'postpack'], dir)];
  }
  if (sub === 'publish') {
    const target = pos[1]?.value;
    const tarball = target !== undefined && /\.(tgz|tar\.gz)$/.test(target);
    return [npmPublish('yarn publish', args, dryRun, tarball, tarball ? [] : PUBLISH_HOOKS, dir)];
  }
  if (sub === 'workspaces' && pos[1]?.value === 'foreach') {
    const rest = pos.slice(2);
    const inner = rest[0];
    if (inner === undefined) return [];
    if (inner.value === 'npm' && rest[1]?.value === 'publish')
      return [npmPublish('yarn npm publish', args, dryRun, false, ['prepack', 'postpack'], dir)];
    if (inner.value === 'run' && rest[1] !== undefined)
      return [
        ...runOfName(rest[1].value),
        { kind: 'run-script', manager: 'yarn', script: rest[1].value, prePost: false, dir },
      ];
    return [];
  }
  if (sub === 'run' && pos[1] !== undefined)
    return [
      ...runOfName(pos[1].value),
      { kind: 'run-script', manager: 'yarn', script: pos[1].value, prePost: true, dir },
    ];
  if (sub === 'test')
    return [
      { kind: 'test', detail: 'yarn test' },
      { kind: 'run-script', manager: 'yarn', script: 'test', prePost: true, dir },
    ];
  if (sub === 'version')
    return [{ kind: 'hooks', manager: 'yarn', hooks: ['preversion', 'version', 'postversion'] }];
  if (sub === 'pack') return [{ kind: 'hooks', manager: 'yarn', hooks: ['prepack', 'postpack'] }];
  const scripts = scriptNames?.(dir);
  if (scripts?.has(sub) === true)
    return [...runOfName(sub), { kind: 'run-script', manager: 'yarn', script: sub, prePost: true, dir }];
  if (sub === 'build') return [{ kind: 'build', detail: 'yarn build' }];
  const inner = pos[0];
  if (inner === undefined) return [];
  return classifyCommand(
    {
      bin: normalizeBin(inner.value),
      binWord: inner,
      args: args.slice(args.indexOf(inner) + 1),
      assignments: view.assignments,
      words: view.words,
    },
    scriptNames,
  );
}

/** A script name that itself says "build" or "test" (`npm run build:prod`). */
function runOfName(script: string): CommandIntent[] {
  if (BUILD_SCRIPT.test(script)) return [{ kind: 'build', detail: `script "${script}"` }];
  if (TEST_SCRIPT.test(script)) return [{ kind: 'test', detail: `script "${script}"` }];
  return [];
}

function npmPublish(
  tool: string,
  args: readonly ShellWord[],
  dryRun: boolean,
  tarball: boolean,
  hooks: readonly string[],
  dir: string | undefined,
): CommandIntent {
  return {
    kind: 'publish',
    ecosystem: 'npm',
    tool: tool === 'npm' || tool === 'pnpm' || tool === 'bun' ? `${tool} publish` : tool,
    registryFlag: flagValue(args, ['--registry']),
    registryName: undefined,
    dryRun,
    tarball,
    provenance: provenanceOf(args),
    hooks,
    dir,
  };
}

function publishOf(
  ecosystem: Ecosystem,
  tool: string,
  url: string | undefined,
  name: string | undefined,
  dryRun: boolean,
): CommandIntent {
  return {
    kind: 'publish',
    ecosystem,
    tool,
    registryFlag: url,
    registryName: name,
    dryRun,
    tarball: true,
    provenance: undefined,
    hooks: [],
    dir: undefined,
  };
}

function install(tool: string, runsScripts: boolean, hooks: readonly string[]): CommandIntent {
  return { kind: 'install', tool, runsScripts, hooks };
}

/** `pip install -r requirements.txt`, `pip install .`, `pip install -e .`: the project's dependencies (not `pip install twine`). */
function hasProjectInstallArgs(args: readonly ShellWord[]): boolean {
  return args.some(
    (a) =>
      a.value === '-r' ||
      a.value === '--requirement' ||
      a.value.startsWith('-r') ||
      a.value === '.' ||
      a.value === '-e' ||
      a.value.startsWith('.['),
  );
}

function downloadOutput(bin: string, args: readonly ShellWord[]): string | undefined {
  // Bundled short flags: `curl -fsSLo file`, `wget -qO- url` / `wget -qOfile url`.
  const letter = bin === 'wget' ? 'O' : 'o';
  for (let i = 0; i < args.length; i++) {
    const m = new RegExp(`^-[a-zA-Z]*${letter}(.*)$`).exec(args[i]?.value ?? '');
    if (m === null || (args[i]?.value ?? '').startsWith('--')) continue;
    const value = m[1] !== '' ? m[1] : args[i + 1]?.value;
    return value === '-' ? undefined : value;
  }
  if (bin === 'wget') {
    const o = flagValue(args, ['-O', '--output-document']);
    if (o !== undefined) return o === '-' ? undefined : o;
    const url = args.find((a) => /^https?:\/\//.test(a.value));
    return url === undefined ? undefined : url.value.slice(url.value.lastIndexOf('/') + 1) || undefined;
  }
  const o = flagValue(args, ['-o', '--output', '-OutFile', '-Out']);
  if (o !== undefined) return o === '-' ? undefined : o;
  if (hasFlag(args, ['-O', '--remote-name'])) {
    const url = args.find((a) => /^https?:\/\//.test(a.value));
    return url?.value.slice(url.value.lastIndexOf('/') + 1).split('?')[0];
  }
  return undefined;
}

function scriptFileOf(
  path: string | undefined,
  language: 'shell' | 'node' | 'python' | 'ruby' | 'unknown',
): CommandIntent[] | undefined {
  if (path === undefined || path.startsWith('-') || path.includes('$') || path.includes('<('))
    return undefined;
  return [{ kind: 'script-file', path, language: language === 'unknown' ? languageOf(path) : language }];
}

function languageOf(path: string): 'shell' | 'node' | 'python' | 'ruby' | 'unknown' {
  if (/\.(sh|bash|zsh)$/.test(path)) return 'shell';
  if (/\.(js|mjs|cjs|ts|mts|cts)$/.test(path)) return 'node';
  if (path.endsWith('.py')) return 'python';
  if (path.endsWith('.rb')) return 'ruby';
  return 'unknown';
}

/** `sh`, `bash -s`, `python -`, `node` with no script argument: they execute whatever arrives on stdin. */
function stdinInterpreter(view: CommandView): CommandIntent[] {
  const pos = positionals(view.args, new Set(['-c', '-e', '--eval', '-O', '-o']));
  const hasInline = hasFlag(view.args, ['-c', '-e', '--eval', '-p', '--print']);
  if (hasInline) return [];
  if (pos.length === 0 || pos[0]?.value === '-' || hasFlag(view.args, ['-s']))
    return [{ kind: 'stdin-interpreter', interpreter: view.bin }];
  return [];
}

function joinDir(base: string | undefined, rel: string): string {
  if (base === undefined || rel.startsWith('/')) return rel;
  return `${base.replace(/\/$/, '')}/${rel}`;
}
