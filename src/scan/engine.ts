/**
 * The matching core. A single pass of one keyword regex finds where any rule could match (the
 * prefilter); each rule's own regex then runs only in a small window around each keyword hit.
 * Decoders re-scan base64, percent-encoded and escaped segments that may hide a secret.
 */
import { BUILTIN_RULES } from './rules.ts';
import { isDocumentedExample, isPlaceholder } from './placeholders.ts';
import { shannonEntropy } from './entropy.ts';
import {
  base64Triggers,
  decodeBase64Segment,
  decodeEscapedSegment,
  decodeUrlSegment,
  expandSegment,
} from './decoders.ts';
import type { Rule } from './rule.ts';
import type { Encoding, RawMatch } from './types.ts';

const DEFAULT_AFTER = 512;
const MAX_DEPTH = 2;
const SECRET_GROUPS = ['secret', 'legacy', 'cask', 'url', 'sas'] as const;
const BASE64_TRIGGER = Symbol('base64');

type Target = Rule | typeof BASE64_TRIGGER;

/** Rules compiled into one prefilter. */
export interface CompiledRules {
  readonly rules: readonly Rule[];
  readonly byId: ReadonlyMap<string, Rule>;
  readonly keywordPattern: RegExp;
  readonly byKeyword: ReadonlyMap<string, readonly Target[]>;
  /** Rules without keywords: their regex runs over the whole text. */
  readonly unanchored: readonly Rule[];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Compiles the built-in rules plus `extra`, minus `disabled`. */
export function compileRules(extra: readonly Rule[] = [], disabled: readonly string[] = []): CompiledRules {
  const off = new Set(disabled);
  const rules = [...BUILTIN_RULES, ...extra].filter((rule) => !off.has(rule.id)).map(withIndices);
  const byKeyword = new Map<string, Target[]>();
  const add = (keyword: string, target: Target): void => {
    const list = byKeyword.get(keyword) ?? [];
    if (!list.includes(target)) list.push(target);
    byKeyword.set(keyword, list);
  };
  for (const rule of rules) for (const keyword of rule.keywords) add(keyword, rule);
  for (const trigger of base64Triggers()) add(trigger, BASE64_TRIGGER);
  // Longest first, so that the alternation reports the most specific keyword at a position.
  const keywords = [...byKeyword.keys()].sort((a, b) => b.length - a.length);
  return {
    rules,
    byId: new Map(rules.map((rule) => [rule.id, rule])),
    keywordPattern: new RegExp(keywords.map(escapeRegExp).join('|'), 'g'),
    byKeyword,
    unanchored: rules.filter((rule) => rule.keywords.length === 0 && rule.pattern !== undefined),
  };
}

let builtin: CompiledRules | undefined;

/** The built-in rules, compiled once. */
export function builtinRules(): CompiledRules {
  builtin ??= compileRules();
  return builtin;
}

function secretOf(
  match: RegExpExecArray,
  group: string | number | undefined,
): { secret: string; offset: number } {
  if (group !== undefined) {
    const value = typeof group === 'number' ? match[group] : match.groups?.[group];
    const span = typeof group === 'number' ? match.indices?.[group] : match.indices?.groups?.[group];
    if (value !== undefined && span !== undefined) return { secret: value, offset: span[0] };
  }
  const groups = match.groups;
  if (groups !== undefined) {
    for (const name of SECRET_GROUPS) {
      const value = groups[name];
      if (value !== undefined) {
        // Patterns are compiled with the `d` flag, so the group's exact offset is known.
        const span = match.indices?.groups?.[name];
        return {
          secret: value,
          offset: span === undefined ? match.index + match[0].lastIndexOf(value) : span[0],
        };
      }
    }
  }
  return { secret: match[0], offset: match.index };
}

function withIndices(rule: Rule): Rule {
  const pattern = rule.pattern;
  if (pattern === undefined || pattern.hasIndices) return rule;
  const flags = pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`;
  return { ...rule, pattern: new RegExp(pattern.source, `${flags}d`) };
}

function accept(
  rule: Rule,
  secret: string,
  text: string,
  start: number,
  match: RegExpExecArray,
  path: string,
): boolean {
  if (rule.checkPlaceholder !== false && (isPlaceholder(secret) || isDocumentedExample(secret))) return false;
  if (rule.minEntropy !== undefined && shannonEntropy(secret) < rule.minEntropy) return false;
  return rule.validate === undefined || rule.validate(secret, { text, start, match, path });
}

function runPattern(
  rule: Rule,
  text: string,
  from: number,
  to: number,
  path: string,
  out: RawMatch[],
  seen: Set<string>,
): void {
  const pattern = rule.pattern!;
  const window = from === 0 && to === text.length ? text : text.slice(from, to);
  pattern.lastIndex = 0;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(window)) !== null) {
    if (match[0].length === 0) {
      pattern.lastIndex++;
      continue;
    }
    const { secret, offset } = secretOf(match, rule.secretGroup);
    const start = from + offset;
    const key = `${rule.id}:${start}`;
    if (seen.has(key)) continue;
    seen.add(key);
    // Validators see absolute offsets into the full text.
    const absolute = Object.assign([...match], {
      index: from + match.index,
      input: text,
      groups: match.groups,
    }) as unknown as RegExpExecArray;
    if (!accept(rule, secret, text, start, absolute, path)) continue;
    out.push({ ruleId: rule.id, start, end: start + secret.length, secret, reveal: rule.reveal ?? 0 });
  }
}

/** Finds every secret in `text`, including ones hidden in base64, percent-encoding or string escapes. */
export function findSecrets(compiled: CompiledRules, text: string, path: string, depth = 0): RawMatch[] {
  const out: RawMatch[] = [];
  const seen = new Set<string>();
  const covered = new Map<Rule, number>();
  // Spans already decoded, keyed `start:end`: a Set keeps trigger-dense text linear (a list was quadratic).
  const decodedRuns = new Set<string>();
  const keywordPattern = compiled.keywordPattern;
  keywordPattern.lastIndex = 0;
  let hit: RegExpExecArray | null;
  while ((hit = keywordPattern.exec(text)) !== null) {
    const at = hit.index;
    // Decoding recurses into findSecrets, which reuses this shared regex: resume from here after.
    const resume = keywordPattern.lastIndex;
    for (const target of compiled.byKeyword.get(hit[0])!) {
      if (target === BASE64_TRIGGER) {
        if (depth < MAX_DEPTH) decodeAt(compiled, text, path, depth, at, 'base64', decodedRuns, out);
        continue;
      }
      const rule = target;
      if (rule.paths !== undefined && !rule.paths.test(path)) continue;
      if (at < (covered.get(rule) ?? -1)) continue;
      if (rule.extract !== undefined) {
        for (const found of rule.extract(text, at, path)) {
          const key = `${rule.id}:${found.start}`;
          if (seen.has(key) || isDocumentedExample(found.secret)) continue;
          seen.add(key);
          out.push({
            ruleId: rule.id,
            start: found.start,
            end: found.start + found.secret.length,
            secret: found.secret,
            reveal: rule.reveal ?? 0,
          });
        }
        covered.set(rule, text.length);
        continue;
      }
      const before = rule.before ?? 0;
      const after = rule.after ?? DEFAULT_AFTER;
      let from = Math.max(0, at - before);
      let to = Math.min(text.length, at + after);
      let coveredTo = at + 1;
      if (rule.multiline !== true) {
        const lineStart = text.lastIndexOf('\n', at) + 1;
        if (lineStart > from) from = lineStart;
        const lineEnd = text.indexOf('\n', at);
        if (lineEnd !== -1 && lineEnd <= to) {
          to = lineEnd;
          coveredTo = lineEnd;
        }
      }
      covered.set(rule, coveredTo);
      runPattern(rule, text, from, to, path, out, seen);
    }
    keywordPattern.lastIndex = resume;
  }
  for (const rule of compiled.unanchored) {
    if (rule.paths !== undefined && !rule.paths.test(path)) continue;
    runPattern(rule, text, 0, text.length, path, out, seen);
  }
  if (depth < MAX_DEPTH) {
    scanTrigger(compiled, text, path, depth, /%[0-9A-Fa-f]{2}/g, 'url', decodedRuns, out);
    scanTrigger(
      compiled,
      text,
      path,
      depth,
      /\\(?:u[0-9A-Fa-f]{4}|x[0-9A-Fa-f]{2}|\/)/g,
      'escape',
      decodedRuns,
      out,
    );
  }
  return resolveOverlaps(compiled, out);
}

function scanTrigger(
  compiled: CompiledRules,
  text: string,
  path: string,
  depth: number,
  trigger: RegExp,
  encoding: Encoding,
  decodedRuns: Set<string>,
  out: RawMatch[],
): void {
  trigger.lastIndex = 0;
  let hit: RegExpExecArray | null;
  while ((hit = trigger.exec(text)) !== null) {
    const end = decodeAt(compiled, text, path, depth, hit.index, encoding, decodedRuns, out);
    if (end > trigger.lastIndex) trigger.lastIndex = end;
  }
}

/** Decodes the segment around `at` and scans the result; returns the segment end. */
function decodeAt(
  compiled: CompiledRules,
  text: string,
  path: string,
  depth: number,
  at: number,
  encoding: Encoding,
  decodedRuns: Set<string>,
  out: RawMatch[],
): number {
  const [start, end] = expandSegment(text, at, encoding);
  const key = `${start}:${end}`;
  if (decodedRuns.has(key)) return end;
  decodedRuns.add(key);
  const raw = text.slice(start, end);
  const decoded =
    encoding === 'base64'
      ? decodeBase64Segment(raw)
      : encoding === 'url'
        ? decodeUrlSegment(raw)
        : decodeEscapedSegment(raw);
  if (decoded === undefined || decoded === raw) return end;
  for (const inner of findSecrets(compiled, decoded, path, depth + 1)) {
    // A decoded finding is located at the start of its encoded segment.
    out.push({ ...inner, start, end, encoding: inner.encoding ?? encoding });
  }
  return end;
}

/** Where two rules claim the same characters, keeps the more specific one. */
function resolveOverlaps(compiled: CompiledRules, matches: RawMatch[]): RawMatch[] {
  if (matches.length < 2) return matches;
  const priority = (m: RawMatch): number => compiled.byId.get(m.ruleId)?.priority ?? 2;
  const sorted = [...matches].sort((a, b) => a.start - b.start || priority(b) - priority(a));
  const kept: RawMatch[] = [];
  for (const match of sorted) {
    let dropped = false;
    for (let i = kept.length - 1; i >= 0 && i >= kept.length - 8; i--) {
      const other = kept[i]!;
      if (other.end <= match.start || match.end <= other.start) continue;
      // Several secrets decoded from one segment share its span: they are not rivals.
      if (match.encoding !== undefined && other.encoding !== undefined && match.secret !== other.secret)
        continue;
      if (priority(match) > priority(other)) {
        kept.splice(i, 1);
      } else {
        dropped = true;
        break;
      }
    }
    if (!dropped) kept.push(match);
  }
  return kept;
}
