/**
 * Inline allow comments: `pubgate:allow <rule-id>[,<rule-id>…] -- <reason>` on the finding's line or
 * the line above it, in any comment syntax. `*` allows every rule. A comment without a reason
 * (at least three non-space characters after `--`) does not hide the finding.
 */

/** What an allow comment on or above a finding's line says about it. */
export type AllowVerdict = 'none' | 'allowed' | 'missing-reason';

const ALLOW = /pubgate:allow(?:[ \t]+([A-Za-z0-9*_,-]+))?(?:[ \t]+--[ \t]*(.*))?/;

/** Parses one line; returns undefined when it has no allow comment. */
export function parseAllowComment(line: string): { rules: readonly string[]; reason: string } | undefined {
  const match = ALLOW.exec(line);
  if (match === null) return undefined;
  const rules = (match[1] ?? '*').split(',').filter((rule) => rule.length > 0);
  const reason = (match[2] ?? '').replace(/\s*(?:\*\/|-->|#}|%>)\s*$/, '').trim();
  return { rules, reason };
}

/** The verdict for a finding of `ruleId` whose line and previous line are given. */
export function allowVerdict(ruleId: string, line: string, previousLine: string | undefined): AllowVerdict {
  for (const candidate of [line, previousLine]) {
    if (candidate === undefined || !candidate.includes('pubgate:allow')) continue;
    const parsed = parseAllowComment(candidate);
    if (parsed === undefined || !(parsed.rules.includes('*') || parsed.rules.includes(ruleId))) continue;
    return parsed.reason.replace(/\s/g, '').length >= 3 ? 'allowed' : 'missing-reason';
  }
  return 'none';
}
