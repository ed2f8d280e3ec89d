/**
 * The audit: finds CI definitions and release scripts under a root, runs the analysers (CI first,
 * so scripts reached from a job are judged with the job's context), then the cross-file rule
 * (shared credentials) and suppressions. Per-file failures are recorded; the scan goes on.
 */
import { statSync } from 'node:fs';
import { posix } from 'node:path';
import ignore from 'ignore';
import { AUDIT_ERROR_CODES, AuditError } from './errors.ts';
import { DEFAULT_AUDIT_CONFIG, type AuditConfig } from './config.ts';
import { FindingCollector } from './finding-collector.ts';
import { RepoFiles, SKIPPED_DIRS } from './repo-files.ts';
import { auditGithubAction, auditGithubWorkflow, toRepoRootOfWorkflow } from './github-actions.ts';
import { auditGitlabPipeline, toRepoRootOfGitlab } from './gitlab-ci.ts';
import { auditMakefile, auditPackageScripts, auditScriptFile } from './standalone.ts';
import { applySuppressions } from './suppression.ts';
import type { AuditContext } from './audit-context.ts';
import type { AuditReport } from './types.ts';

/** Options of {@link auditRepository}. */
export interface AuditRepositoryOptions {
  readonly config?: AuditConfig;
}

/** What kind of file a path is, for the auditor. */
export type AuditedFileKind =
  | 'github-workflow'
  | 'github-action'
  | 'gitlab-ci'
  | 'package-json'
  | 'makefile'
  | 'shell'
  | 'release-script';

/** Classifies a root-relative POSIX path; undefined when the auditor has nothing to say about it. */
export function classifyAuditedFile(path: string): AuditedFileKind | undefined {
  const base = posix.basename(path);
  if (/(^|\/)\.github\/workflows\/[^/]+\.ya?ml$/.test(path)) return 'github-workflow';
  if (base === 'action.yml' || base === 'action.yaml') return 'github-action';
  if (base === '.gitlab-ci.yml' || base === '.gitlab-ci.yaml' || base.endsWith('.gitlab-ci.yml'))
    return 'gitlab-ci';
  if (base === 'package.json') return 'package-json';
  if (base === 'Makefile' || base === 'makefile' || base === 'GNUmakefile' || base.endsWith('.mk'))
    return 'makefile';
  if (/\.(sh|bash)$/.test(base)) return 'shell';
  if (
    /(release|publish|deploy)[\w.-]*\.(m?js|cjs|ts|mts|py|rb)$/i.test(base) &&
    !/\.(test|spec|d)\.[a-z]+$/.test(base)
  )
    return 'release-script';
  return undefined;
}

/** Walks `root` and lists the audited files by kind, honouring `exclude` patterns. */
export function discoverAuditedFiles(
  root: string,
  config: AuditConfig,
): { path: string; kind: AuditedFileKind }[] {
  const repo = new RepoFiles(root, { maxFileBytes: config.maxFileBytes });
  const excluded = ignore().add([...config.exclude]);
  const out: { path: string; kind: AuditedFileKind }[] = [];
  for (const path of repo.listFiles('')) {
    if (path.split('/').some((segment) => SKIPPED_DIRS.has(segment))) continue;
    if (config.exclude.length > 0 && excluded.ignores(path)) continue;
    const kind = classifyAuditedFile(path);
    if (kind !== undefined) out.push({ path, kind });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** Audits the repository (or tree of repositories) at `root`. */
export function auditRepository(root: string, options: AuditRepositoryOptions = {}): AuditReport {
  let isDir = false;
  try {
    isDir = statSync(root).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw new AuditError(AUDIT_ERROR_CODES.rootNotFound, `${root}: not a directory`);
  const config = options.config ?? DEFAULT_AUDIT_CONFIG;
  const repo = new RepoFiles(root, { maxFileBytes: config.maxFileBytes });
  const findings = new FindingCollector(config, repo);
  const ctx: AuditContext = { repo, config, findings, reached: new Set(), credentialUses: [] };
  const files = discoverAuditedFiles(root, config);
  const byKind = (kind: AuditedFileKind): string[] => files.filter((f) => f.kind === kind).map((f) => f.path);
  const gitlabRead = new Set<string>();
  const roots = toRepoRoots(files);

  for (const path of byKind('github-workflow')) {
    const file = repo.parseYaml(path);
    if (file !== undefined)
      guard(repo, path, () => auditGithubWorkflow(file, ctx, { repoRoot: toRepoRootOfWorkflow(path) }));
  }
  for (const path of byKind('github-action')) {
    const file = repo.parseYaml(path);
    if (file !== undefined)
      guard(repo, path, () => auditGithubAction(file, ctx, { repoRoot: repoRootOf(path, roots) }));
  }
  // Root pipelines first; `*.gitlab-ci.yml` templates only if no root pipeline included them.
  const gitlab = byKind('gitlab-ci').sort(
    (a, b) =>
      Number(posix.basename(b).startsWith('.gitlab-ci')) - Number(posix.basename(a).startsWith('.gitlab-ci')),
  );
  for (const path of gitlab) {
    if (gitlabRead.has(path)) continue;
    const file = repo.parseYaml(path);
    if (file !== undefined)
      guard(repo, path, () =>
        auditGitlabPipeline(file, ctx, { repoRoot: toRepoRootOfGitlab(path) }).forEach((p) =>
          gitlabRead.add(p),
        ),
      );
  }
  for (const path of byKind('package-json')) {
    guard(repo, path, () => auditPackageScripts(dirOf(path), repoRootOf(path, roots), ctx));
  }
  for (const path of byKind('makefile')) {
    const makefile = repo.makefile(dirOf(path), posix.basename(path));
    if (makefile !== undefined)
      guard(repo, path, () => auditMakefile(makefile, dirOf(path), repoRootOf(path, roots), ctx));
  }
  for (const path of [...byKind('shell'), ...byKind('release-script')]) {
    guard(repo, path, () => auditScriptFile(path, repoRootOf(path, roots), repoRootOf(path, roots), ctx));
  }
  reportSharedCredentials(ctx);

  const { kept, suppressed } = applySuppressions(findings.list(), repo, config, findings);
  // Suppression comments without a reason were added while applying; they cannot be suppressed themselves.
  const invalid = findings.list().filter((f) => f.ruleId === 'invalid-suppression');
  const keptAll = [...kept.filter((f) => f.ruleId !== 'invalid-suppression'), ...invalid];
  const sorted = keptAll.sort(
    (a, b) =>
      a.location.file.localeCompare(b.location.file) ||
      a.location.line - b.location.line ||
      a.location.column - b.location.column,
  );
  const discovered = new Set(files.map((f) => f.path));
  const includedOnly = [...gitlabRead].filter((p) => !discovered.has(p)).length;
  return {
    root,
    filesScanned: files.length + includedOnly,
    findings: sorted,
    suppressed,
    errors: [...repo.errors].sort((a, b) => a.file.localeCompare(b.file)),
  };
}

/** An analyser bug on one file must not end the scan: record it as that file's error. */
function guard(repo: RepoFiles, path: string, run: () => void): void {
  try {
    run();
  } catch (error) {
    repo.record(path, error);
  }
}

function dirOf(path: string): string {
  const d = posix.dirname(path);
  return d === '.' ? '' : d;
}

/** Directories that hold a `.github/workflows` or a root `.gitlab-ci.yml`: the repository roots. */
function toRepoRoots(files: readonly { path: string; kind: AuditedFileKind }[]): ReadonlySet<string> {
  const roots = new Set<string>();
  for (const f of files) {
    if (f.kind === 'github-workflow') roots.add(toRepoRootOfWorkflow(f.path));
    if (f.kind === 'gitlab-ci' && posix.basename(f.path).startsWith('.gitlab-ci'))
      roots.add(toRepoRootOfGitlab(f.path));
  }
  return roots;
}

/** The nearest ancestor that is a repository root, else the audited root. */
function repoRootOf(path: string, roots: ReadonlySet<string>): string {
  let dir = dirOf(path);
  for (;;) {
    if (roots.has(dir)) return dir;
    if (dir === '') return '';
    dir = dirOf(dir);
  }
}

/** One registry credential name in many workflows or repositories: the shared maintainer token. */
function reportSharedCredentials(ctx: AuditContext): void {
  const byName = new Map<string, typeof ctx.credentialUses>();
  for (const use of ctx.credentialUses) {
    const key = use.name.toUpperCase();
    const list = byName.get(key) ?? [];
    list.push(use);
    byName.set(key, list);
  }
  const { minWorkflows, minRepositories } = ctx.config.sharedCredential;
  for (const [name, uses] of byName) {
    const files = [...new Set(uses.map((u) => u.file))];
    const repos = [...new Set(uses.map((u) => u.repoRoot))];
    if (files.length < minWorkflows && repos.length < minRepositories) continue;
    for (const file of files) {
      const first = uses.filter((u) => u.file === file).sort((a, b) => a.location.line - b.location.line)[0];
      if (first === undefined) continue;
      const scope =
        repos.length >= minRepositories ? `${repos.length} repositories` : `${files.length} workflow files`;
      ctx.findings.add(
        'shared-registry-credential',
        first.location,
        `credential ${name} is shared across ${scope} (${files.length} files)`,
      );
    }
  }
}
