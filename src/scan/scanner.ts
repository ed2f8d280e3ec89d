/** Turns raw matches into redacted, fingerprinted findings with 1-based line and column. */
import { hashToken } from '../tokens/index.ts';
import { allowVerdict } from './allow-comments.ts';
import { builtinRules, compileRules, findSecrets, type CompiledRules } from './engine.ts';
import { toRule } from './custom-rules.ts';
import { defaultFingerprintKey, fingerprintSecret, redactSecret } from './fingerprint.ts';
import type { RawMatch, ScanFinding, ScanOptions } from './types.ts';

/** A ready scanner: compiled rules plus the fingerprint key. */
export interface Scanner {
  readonly compiled: CompiledRules;
  readonly key: Uint8Array | string;
}

/** Builds a scanner from options (built-in rules plus custom ones, fingerprint key). */
export function createScanner(options: ScanOptions = {}): Scanner {
  const custom = options.customRules ?? [];
  const disabled = options.disabledRules ?? [];
  return {
    compiled:
      custom.length === 0 && disabled.length === 0
        ? builtinRules()
        : compileRules(custom.map(toRule), disabled),
    key: options.fingerprintKey ?? defaultFingerprintKey(),
  };
}

/** Where a text sits in its file, for chunked (streamed) scanning. */
export interface TextPlacement {
  /** Line number of the text's first line (1-based). */
  readonly firstLine?: number;
  /** The text was decoded as latin1 from bytes: columns and secrets are re-read as UTF-8. */
  readonly latin1?: boolean;
  /** Only matches starting before this offset are reported (the rest belong to the next chunk). */
  readonly reportBefore?: number;
  /** Git history: the commit that added the text. */
  readonly commit?: string;
}

/** Scans a text and returns findings, with allow comments applied. */
export function scanWithScanner(
  scanner: Scanner,
  text: string,
  path: string,
  placement: TextPlacement = {},
): ScanFinding[] {
  const matches = findSecrets(scanner.compiled, text, path).filter(
    (match) => placement.reportBefore === undefined || match.start < placement.reportBefore,
  );
  if (matches.length === 0) return [];
  matches.sort((a, b) => a.start - b.start);
  const findings: ScanFinding[] = [];
  let line = placement.firstLine ?? 1;
  let cursor = 0;
  for (const match of matches) {
    // Count newlines forward from the previous match: matches are sorted, so the text is walked once.
    for (let i = text.indexOf('\n', cursor); i !== -1 && i < match.start; i = text.indexOf('\n', i + 1))
      line++;
    cursor = match.start;
    const lineStart = text.lastIndexOf('\n', match.start - 1) + 1;
    const finding = toFinding(scanner, match, text, path, line, lineStart, placement);
    if (finding !== undefined) findings.push(finding);
  }
  return findings;
}

function lineAt(text: string, start: number): string {
  const end = text.indexOf('\n', start);
  return text.slice(start, end === -1 ? Math.min(text.length, start + 4096) : Math.min(end, start + 4096));
}

function toFinding(
  scanner: Scanner,
  match: RawMatch,
  text: string,
  path: string,
  line: number,
  lineStart: number,
  placement: TextPlacement,
): ScanFinding | undefined {
  const rule = scanner.compiled.byId.get(match.ruleId)!;
  const previousStart = lineStart === 0 ? -1 : text.lastIndexOf('\n', lineStart - 2) + 1;
  const verdict = allowVerdict(
    rule.id,
    lineAt(text, lineStart),
    previousStart === -1 ? undefined : lineAt(text, previousStart),
  );
  if (verdict === 'allowed') return undefined;
  const latin1 = placement.latin1 === true;
  const secret = latin1 ? Buffer.from(match.secret, 'latin1').toString('utf8') : match.secret;
  const prefix = text.slice(lineStart, match.start);
  const column = (latin1 ? Buffer.from(prefix, 'latin1').toString('utf8') : prefix).length + 1;
  return {
    ruleId: rule.id,
    ruleTitle: rule.title,
    severity: rule.severity,
    kind: 'secret',
    path,
    line,
    column,
    preview: redactSecret(secret, match.reveal),
    fingerprint: fingerprintSecret(secret, scanner.key),
    ...(rule.id === 'pubgate-token' ? { pubgateTokenHash: hashToken(secret) } : {}),
    ...(match.encoding === undefined ? {} : { encoding: match.encoding }),
    ...(placement.commit === undefined ? {} : { commit: placement.commit }),
    ...(verdict === 'missing-reason' ? { note: 'allow comment ignored: it gives no reason' } : {}),
  };
}
