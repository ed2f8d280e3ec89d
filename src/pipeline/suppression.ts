/**
 * Suppressions: an inline comment on the finding's line or the line above (in the file of the
 * finding or of any step on its `via` path), or a config-file `ignore:` entry. Both need a reason.
 *
 *   # pubgate-audit-ignore <rule-id>[,<rule-id>…]: <reason>
 */
import { matchesGlob, type AuditConfig } from './config.ts';
import type { FindingCollector } from './finding-collector.ts';
import type { RepoFiles } from './repo-files.ts';
import type { Finding, SourceLocation, SuppressedFinding } from './types.ts';

const COMMENT =
  /pubgate-audit-ignore\s+([A-Za-z0-9_-]+(?:\s*,\s*[A-Za-z0-9_-]+)*)\s*(?::\s*(.*?))?\s*(?:-->|\*\/)?\s*$/;

interface InlineSuppression {
  readonly rules: readonly string[];
  readonly reason: string;
  readonly location: SourceLocation;
}

/** Splits findings into kept and suppressed; a comment without a reason becomes an `invalid-suppression` finding. */
export function applySuppressions(
  findings: readonly Finding[],
  repo: RepoFiles,
  config: AuditConfig,
  collector: FindingCollector,
): { kept: Finding[]; suppressed: SuppressedFinding[] } {
  const kept: Finding[] = [];
  const suppressed: SuppressedFinding[] = [];
  const cache = new Map<string, readonly string[]>();
  const lines = (file: string): readonly string[] => {
    let l = cache.get(file);
    if (l === undefined) {
      try {
        l = (repo.readText(file) ?? '').split('\n');
      } catch {
        l = [];
      }
      cache.set(file, l);
    }
    return l;
  };
  const inlineAt = (at: SourceLocation): InlineSuppression | undefined => {
    const all = lines(at.file);
    for (const n of [at.line, at.line - 1]) {
      const text = all[n - 1];
      if (text === undefined || !text.includes('pubgate-audit-ignore')) continue;
      const m = COMMENT.exec(text);
      if (m === null) continue;
      const column = text.indexOf('pubgate-audit-ignore') + 1;
      return {
        rules: (m[1] ?? '').split(',').map((r) => r.trim()),
        reason: (m[2] ?? '').trim(),
        location: { file: at.file, line: n, column },
      };
    }
    return undefined;
  };
  for (const finding of findings) {
    const fromConfig = config.ignore.find(
      (i) => (i.rule === finding.ruleId || i.rule === '*') && matchesGlob(finding.location.file, i.path),
    );
    if (fromConfig !== undefined) {
      suppressed.push({ ...finding, suppression: { reason: fromConfig.reason, source: 'config' } });
      continue;
    }
    let done = false;
    for (const at of [finding.location, ...finding.via]) {
      const s = inlineAt(at);
      if (s === undefined || !s.rules.includes(finding.ruleId)) continue;
      if (s.reason.length < 3) {
        collector.add(
          'invalid-suppression',
          s.location,
          `suppression of ${finding.ruleId} has no reason; it is not honoured`,
        );
        continue;
      }
      suppressed.push({ ...finding, suppression: { reason: s.reason, source: s.location } });
      done = true;
      break;
    }
    if (!done) kept.push(finding);
  }
  return { kept, suppressed };
}
