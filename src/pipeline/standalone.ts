/**
 * Release scripts audited on their own — package.json scripts, Makefile targets, shell scripts,
 * JS/Python release scripts — for the parts no CI job reached: a maintainer can run them from a
 * laptop, and install-time lifecycle scripts run on every machine that installs the package.
 */
import {
  analyzeScriptLiterals,
  analyzeShell,
  shebangLanguage,
  type Activity,
  type FollowContext,
} from './shell-analyzer.ts';
import { fileSource, scalarSource, sliceSource } from './text-source.ts';
import { toDisplayRegistry } from './registry.ts';
import { toSinkMessage } from './job-rules.ts';
import type { AuditContext } from './audit-context.ts';
import type { MakefileInfo } from './repo-files.ts';

const INSTALL_LIFECYCLE = /^(preinstall|install|postinstall)$/;

function baseContext(ctx: AuditContext, cwd: string, repoRoot: string): FollowContext {
  return {
    repo: ctx.repo,
    config: ctx.config,
    repoRoot,
    cwd,
    env: new Map(),
    npmUserRegistry: undefined,
    via: [],
    depth: 0,
    visited: new Set(),
    reached: new Set(),
    platform: 'script',
    lifecycle: false,
  };
}

/** Audits the scripts of one package.json not reached from CI. */
export function auditPackageScripts(dir: string, repoRoot: string, ctx: AuditContext): void {
  const pkg = ctx.repo.packageJson(dir);
  if (pkg === undefined) return;
  for (const [name, script] of pkg.scripts) {
    if (ctx.reached.has(`${pkg.path}#${name}`)) continue;
    const lifecycle = INSTALL_LIFECYCLE.test(name);
    const follow = {
      ...baseContext(ctx, dir, repoRoot),
      lifecycle,
      visited: new Set([`${pkg.path}#${name}`]),
    };
    emitStandalone(
      analyzeShell(scalarSource(pkg.file, script.node), follow),
      ctx,
      `script "${name}" of ${pkg.path}`,
    );
  }
}

/** Audits the targets of one Makefile not reached from CI. */
export function auditMakefile(
  makefile: MakefileInfo,
  dir: string,
  repoRoot: string,
  ctx: AuditContext,
): void {
  const whole = fileSource(makefile.path, makefile.text);
  for (const [target, rule] of makefile.rules) {
    if (ctx.reached.has(`${makefile.path}#${target}`)) continue;
    const activities: Activity[] = [];
    for (const recipe of rule.recipes) {
      activities.push(
        ...analyzeShell(sliceSource(whole, recipe.start, recipe.end), {
          ...baseContext(ctx, dir, repoRoot),
          makefile,
          visited: new Set([`${makefile.path}#${target}`]),
        }),
      );
    }
    emitStandalone(activities, ctx, `target "${target}" of ${makefile.path}`);
  }
}

/** Audits one script file (shell, or JS/Python/Ruby release script) not reached from CI. */
export function auditScriptFile(path: string, dir: string, repoRoot: string, ctx: AuditContext): boolean {
  if (ctx.reached.has(`${path}#`)) return true;
  const text = ctx.repo.readTextOrRecord(path);
  if (text === undefined) return false;
  const follow = { ...baseContext(ctx, dir, repoRoot), visited: new Set([`${path}#`]) };
  const language = /\.(sh|bash|zsh)$/.test(path)
    ? 'shell'
    : /\.(m?js|cjs|ts|mts|cts|py|rb)$/.test(path)
      ? 'code'
      : shebangLanguage(text);
  if (language === 'unknown') return false;
  const source = fileSource(path, text);
  emitStandalone(
    language === 'shell' ? analyzeShell(source, follow) : analyzeScriptLiterals(source, follow),
    ctx,
    path,
  );
  return true;
}

function emitStandalone(activities: readonly Activity[], ctx: AuditContext, unit: string): void {
  const publishes = activities.some((a) => a.kind === 'publish' && a.target !== 'other');
  for (const a of activities) {
    switch (a.kind) {
      case 'publish':
        if (a.target === 'protected') {
          ctx.findings.add(
            'publish-bypasses-gate',
            a.location,
            `${a.tool} in ${unit} publishes to ${toDisplayRegistry(a.registry.url)} (${a.registry.source}) without going through the gate`,
            { via: a.via },
          );
        }
        break;
      case 'credential-ref':
        if (publishes)
          ctx.findings.add(
            'long-lived-registry-credential',
            a.location,
            `${unit} publishes with the long-lived credential ${a.name}`,
            { via: a.via },
          );
        break;
      case 'remote-exec':
        ctx.findings.add(
          'download-and-execute',
          a.location,
          `${a.detail} in ${unit}${a.lifecycle ? ': runs on every machine that installs the package' : ''}`,
          { severity: a.lifecycle ? 'high' : 'medium', via: a.via },
        );
        break;
      case 'secret-sink':
        ctx.findings.add('secret-exposure', a.location, toSinkMessage(a.name, a.sink), {
          severity: a.sink === 'log' ? 'high' : 'medium',
          via: a.via,
        });
        break;
      default:
        break;
    }
  }
}
