/**
 * Custom rules from a config file (YAML or JSON):
 * `rules: [{id, title?, severity?, regex, flags?, keywords?, entropy?, paths?, secretGroup?}]`,
 * plus `disable: [rule ids]` and `allowPaths: [gitignore-style patterns]`.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ScanConfigError } from './errors.ts';
import type { Rule } from './rule.ts';
import type { Severity } from './types.ts';

/** A custom rule as written in config: plain data, so it can cross into worker threads. */
export interface CustomRuleSpec {
  readonly id: string;
  readonly title?: string;
  readonly severity?: Severity;
  /** JavaScript regular expression source. The secret is group `secret` (or `secretGroup`), else the match. */
  readonly regex: string;
  readonly flags?: string;
  /** Literal strings that must appear near a match (the prefilter). Without them the regex runs on every file. */
  readonly keywords?: readonly string[];
  /** Minimum Shannon entropy in bits per character. */
  readonly entropy?: number;
  /** Regular expressions on the path; the rule runs only on matching files. */
  readonly paths?: readonly string[];
  /** Name or number of the capture group that holds the secret. */
  readonly secretGroup?: string | number;
}

/** The scanner section of a config file. */
export interface ScanConfig {
  readonly rules: readonly CustomRuleSpec[];
  readonly disable: readonly string[];
  readonly allowPaths: readonly string[];
}

const SEVERITIES = new Set(['critical', 'high', 'medium', 'low']);

/** Validates parsed config; lists every bad field. */
export function parseScanConfig(value: unknown, source = 'config'): ScanConfig {
  const problems: string[] = [];
  const root = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const section = (typeof root['scan'] === 'object' && root['scan'] !== null ? root['scan'] : root) as Record<
    string,
    unknown
  >;
  const rawRules = section['rules'] ?? [];
  const rules: CustomRuleSpec[] = [];
  if (!Array.isArray(rawRules)) problems.push('rules: must be a list');
  else
    rawRules.forEach((raw: unknown, index) => {
      const at = `rules[${index}]`;
      if (typeof raw !== 'object' || raw === null) return void problems.push(`${at}: must be an object`);
      const r = raw as Record<string, unknown>;
      if (typeof r['id'] !== 'string' || !/^[a-z0-9][a-z0-9-]{1,63}$/.test(r['id']))
        problems.push(`${at}.id: kebab-case string required`);
      if (typeof r['regex'] !== 'string') problems.push(`${at}.regex: string required`);
      else {
        try {
          new RegExp(r['regex'], typeof r['flags'] === 'string' ? r['flags'] : '');
        } catch {
          problems.push(`${at}.regex: not a valid regular expression`);
        }
      }
      if (r['severity'] !== undefined && !SEVERITIES.has(String(r['severity'])))
        problems.push(`${at}.severity: one of critical, high, medium, low`);
      if (
        r['keywords'] !== undefined &&
        !(Array.isArray(r['keywords']) && r['keywords'].every((k) => typeof k === 'string' && k.length > 0))
      )
        problems.push(`${at}.keywords: list of non-empty strings`);
      if (
        r['paths'] !== undefined &&
        !(Array.isArray(r['paths']) && r['paths'].every((k) => typeof k === 'string'))
      )
        problems.push(`${at}.paths: list of regular expressions`);
      if (
        r['entropy'] !== undefined &&
        !(typeof r['entropy'] === 'number' && r['entropy'] >= 0 && r['entropy'] <= 8)
      )
        problems.push(`${at}.entropy: number between 0 and 8`);
      rules.push(r as unknown as CustomRuleSpec);
    });
  const list = (name: string): string[] => {
    const v = section[name] ?? [];
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
      problems.push(`${name}: list of strings`);
      return [];
    }
    return v as string[];
  };
  const disable = list('disable');
  const allowPaths = list('allowPaths');
  if (problems.length > 0) {
    throw new ScanConfigError('ERR_SCAN_CONFIG_INVALID', `${source}: ${problems.join('; ')}`, {
      details: { problems },
    });
  }
  return Object.freeze({ rules, disable, allowPaths });
}

/** Reads a YAML or JSON config file. */
export function loadScanConfig(path: string): ScanConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ScanConfigError('ERR_SCAN_CONFIG_UNREADABLE', `cannot read scan config ${path}`, { cause });
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (cause) {
    throw new ScanConfigError('ERR_SCAN_CONFIG_INVALID', `${path}: not YAML or JSON`, { cause });
  }
  return parseScanConfig(parsed, path);
}

/** Turns a validated spec into a rule. */
export function toRule(spec: CustomRuleSpec): Rule {
  const flags = new Set([...(spec.flags ?? ''), 'g', 'd']);
  const pattern = new RegExp(spec.regex, [...flags].join(''));
  const group = spec.secretGroup;
  const paths =
    spec.paths === undefined || spec.paths.length === 0
      ? undefined
      : new RegExp(spec.paths.map((p) => `(?:${p})`).join('|'));
  return {
    id: spec.id,
    title: spec.title ?? spec.id,
    severity: spec.severity ?? 'high',
    keywords: spec.keywords ?? [],
    pattern,
    before: 256,
    after: 1024,
    ...(paths === undefined ? {} : { paths }),
    ...(spec.entropy === undefined ? {} : { minEntropy: spec.entropy }),
    ...(group === undefined ? {} : { secretGroup: group }),
    priority: 2,
    description: spec.title ?? `Custom rule ${spec.id}`,
  };
}
