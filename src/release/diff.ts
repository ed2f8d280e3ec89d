/**
 * What changed against the previous published version, for approvers and the policy: files added,
 * removed and changed, install scripts, new dependencies, new native binaries and minified code.
 */
import type { TarballFile } from './tarball.ts';

/** The npm lifecycle scripts that run on install. */
export const INSTALL_SCRIPTS = Object.freeze(['preinstall', 'install', 'postinstall', 'prepare']);

/** One side of the comparison. */
export interface PackageSnapshot {
  readonly version: string;
  readonly packageJson: Readonly<Record<string, unknown>>;
  readonly files: readonly TarballFile[];
}

/** The difference, secret-free and small enough to store with the release. */
export interface PackageDiff {
  readonly previousVersion: string | null;
  readonly added: ReadonlyArray<{ path: string; size: number }>;
  readonly removed: ReadonlyArray<{ path: string; size: number }>;
  readonly changed: ReadonlyArray<{ path: string; from: number; to: number }>;
  readonly installScripts: ReadonlyArray<{
    name: string;
    change: 'added' | 'changed' | 'removed';
    command: string;
  }>;
  readonly dependenciesAdded: ReadonlyArray<{ name: string; range: string; kind: string }>;
  readonly newNativeBinaries: readonly string[];
  readonly newMinified: readonly string[];
}

const DEPENDENCY_KINDS = [
  'dependencies',
  'optionalDependencies',
  'peerDependencies',
  'bundleDependencies',
] as const;

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** Compares `next` with `previous` (undefined for a package's first version). */
export function diffPackages(previous: PackageSnapshot | undefined, next: PackageSnapshot): PackageDiff {
  const before = new Map((previous?.files ?? []).map((f) => [f.path, f]));
  const after = new Map(next.files.map((f) => [f.path, f]));
  const added = next.files.filter((f) => !before.has(f.path));
  const removed = (previous?.files ?? []).filter((f) => !after.has(f.path));
  const changed = next.files.filter((f) => before.has(f.path) && before.get(f.path)!.sha256 !== f.sha256);
  const scriptsBefore = record(previous?.packageJson['scripts']);
  const scriptsAfter = record(next.packageJson['scripts']);
  const installScripts: Array<{ name: string; change: 'added' | 'changed' | 'removed'; command: string }> =
    [];
  for (const name of INSTALL_SCRIPTS) {
    const was = scriptsBefore[name];
    const is = scriptsAfter[name];
    if (typeof is === 'string' && was === undefined)
      installScripts.push({ name, change: 'added', command: is.slice(0, 500) });
    else if (typeof is === 'string' && is !== was)
      installScripts.push({ name, change: 'changed', command: is.slice(0, 500) });
    else if (is === undefined && typeof was === 'string')
      installScripts.push({ name, change: 'removed', command: was.slice(0, 500) });
  }
  // A binding.gyp makes npm run `node-gyp rebuild` on install even without an install script.
  if (
    after.has('package/binding.gyp') &&
    !before.has('package/binding.gyp') &&
    scriptsAfter['install'] === undefined
  ) {
    installScripts.push({
      name: 'install',
      change: 'added',
      command: 'node-gyp rebuild (implied by binding.gyp)',
    });
  }
  const dependenciesAdded: Array<{ name: string; range: string; kind: string }> = [];
  for (const kind of DEPENDENCY_KINDS) {
    const was = record(previous?.packageJson[kind]);
    for (const [name, range] of Object.entries(record(next.packageJson[kind]))) {
      if (!Object.hasOwn(was, name))
        dependenciesAdded.push({ name, range: String(range).slice(0, 200), kind });
    }
  }
  const isNew = (f: TarballFile): boolean => !before.has(f.path) || before.get(f.path)!.sha256 !== f.sha256;
  return {
    previousVersion: previous?.version ?? null,
    added: added.map((f) => ({ path: f.path, size: f.size })),
    removed: removed.map((f) => ({ path: f.path, size: f.size })),
    changed: changed.map((f) => ({ path: f.path, from: before.get(f.path)!.size, to: f.size })),
    installScripts,
    dependenciesAdded,
    newNativeBinaries: next.files.filter((f) => f.nativeBinary && isNew(f)).map((f) => f.path),
    newMinified: next.files.filter((f) => f.minified && isNew(f)).map((f) => f.path),
  };
}

/** True when install scripts were added or changed (removals are not a risk). */
export function installScriptsChanged(diff: PackageDiff): boolean {
  return diff.installScripts.some((s) => s.change !== 'removed');
}
