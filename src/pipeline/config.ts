/**
 * The auditor's config file (`.pubgate-audit.yml`, `.yaml` or `.json` at the audited root, or
 * `--config <file>`): the gate URL(s), the registries the gate protects, actions allowed unpinned,
 * extra credential names, thresholds, per-rule overrides and reasoned ignores.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { AUDIT_ERROR_CODES, AuditError } from './errors.ts';
import { isPubgateError } from '../errors/index.ts';
import { parseYamlFile, toPlain } from './yaml-tree.ts';
import type { Severity } from './types.ts';

/** One config-file ignore: a rule silenced for a path (glob), with the reason that goes into the report. */
export interface ConfigIgnore {
  readonly rule: string;
  readonly path: string;
  readonly reason: string;
}

/** The validated, frozen auditor config with every default filled. */
export interface AuditConfig {
  /** Gate URLs: a publish whose registry is under one of these goes through the gate. */
  readonly gates: readonly string[];
  /** Hosts the gate protects: a publish to these that does not go through the gate is a finding. */
  readonly protectedRegistries: readonly string[];
  /** `owner/repo` patterns (`*` wildcard) of actions and reusable workflows allowed without a SHA pin. */
  readonly allowUnpinned: readonly string[];
  /** Extra secret or variable names to treat as long-lived registry credentials (`*` wildcard). */
  readonly credentialNames: readonly string[];
  /** Thresholds for the shared-credential rule. */
  readonly sharedCredential: { readonly minWorkflows: number; readonly minRepositories: number };
  /** Per-rule override: `off` or a severity. */
  readonly rules: Readonly<Record<string, 'off' | Severity>>;
  readonly ignore: readonly ConfigIgnore[];
  /** gitignore-style patterns of paths not to audit. */
  readonly exclude: readonly string[];
  /** Files larger than this get a per-file error instead of being parsed. */
  readonly maxFileBytes: number;
}

/** Defaults; never mutated. `actions/*` and `github/*` are GitHub's own and run with the runner's trust. */
export const DEFAULT_AUDIT_CONFIG: AuditConfig = Object.freeze({
  gates: Object.freeze([]),
  protectedRegistries: Object.freeze(['registry.npmjs.org', 'upload.pypi.org', 'rubygems.org', 'crates.io']),
  allowUnpinned: Object.freeze(['actions/*', 'github/*']),
  credentialNames: Object.freeze([]),
  sharedCredential: Object.freeze({ minWorkflows: 3, minRepositories: 2 }),
  rules: Object.freeze({}),
  ignore: Object.freeze([]),
  exclude: Object.freeze([]),
  maxFileBytes: 1024 * 1024,
});

/** File names looked up at the audited root when `--config` is not given. */
export const CONFIG_FILE_NAMES = Object.freeze([
  '.pubgate-audit.yml',
  '.pubgate-audit.yaml',
  '.pubgate-audit.json',
]);

const severityOrOff = { enum: ['off', 'info', 'low', 'medium', 'high', 'critical'] };
const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    gates: { type: 'array', items: { type: 'string', pattern: '^https?://' } },
    protectedRegistries: { type: 'array', items: { type: 'string', minLength: 1 } },
    allowUnpinned: { type: 'array', items: { type: 'string', minLength: 1 } },
    credentialNames: { type: 'array', items: { type: 'string', minLength: 1 } },
    sharedCredential: {
      type: 'object',
      additionalProperties: false,
      properties: {
        minWorkflows: { type: 'integer', minimum: 2 },
        minRepositories: { type: 'integer', minimum: 2 },
      },
    },
    rules: { type: 'object', additionalProperties: severityOrOff },
    ignore: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['rule', 'path', 'reason'],
        properties: {
          rule: { type: 'string', minLength: 1 },
          path: { type: 'string', minLength: 1 },
          reason: { type: 'string', minLength: 3 },
        },
      },
    },
    exclude: { type: 'array', items: { type: 'string', minLength: 1 } },
    maxFileBytes: { type: 'integer', minimum: 1024 },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(schema);

/** Validates plain config data and fills defaults; throws ERR_AUDIT_CONFIG_INVALID listing every bad field. */
export function toAuditConfig(data: unknown, source = 'config'): AuditConfig {
  if (data === undefined || data === null) return DEFAULT_AUDIT_CONFIG;
  if (!validate(data)) {
    const problems = (validate.errors ?? []).map(
      (e) =>
        `${e.instancePath === '' ? '/' : e.instancePath} ${e.message ?? 'is invalid'}${e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: unknown }).additionalProperty)})` : ''}`,
    );
    throw new AuditError(AUDIT_ERROR_CODES.configInvalid, `${source}: ${problems.join('; ')}`, {
      details: { problems },
    });
  }
  const d = data as Partial<{ -readonly [K in keyof AuditConfig]: AuditConfig[K] }>;
  return Object.freeze({
    gates: Object.freeze([...(d.gates ?? DEFAULT_AUDIT_CONFIG.gates)]),
    protectedRegistries: Object.freeze([
      ...(d.protectedRegistries ?? DEFAULT_AUDIT_CONFIG.protectedRegistries),
    ]),
    allowUnpinned: Object.freeze([...(d.allowUnpinned ?? DEFAULT_AUDIT_CONFIG.allowUnpinned)]),
    credentialNames: Object.freeze([...(d.credentialNames ?? [])]),
    sharedCredential: Object.freeze({
      ...DEFAULT_AUDIT_CONFIG.sharedCredential,
      ...(d.sharedCredential ?? {}),
    }),
    rules: Object.freeze({ ...(d.rules ?? {}) }),
    ignore: Object.freeze((d.ignore ?? []).map((i) => Object.freeze({ ...i }))),
    exclude: Object.freeze([...(d.exclude ?? [])]),
    maxFileBytes: d.maxFileBytes ?? DEFAULT_AUDIT_CONFIG.maxFileBytes,
  });
}

/** Loads the config from `explicitPath`, else from a default file name at `root`, else the defaults. */
export function loadAuditConfig(root: string, explicitPath?: string): AuditConfig {
  const path = explicitPath ?? CONFIG_FILE_NAMES.map((name) => join(root, name)).find((p) => existsSync(p));
  if (path === undefined) return DEFAULT_AUDIT_CONFIG;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new AuditError(AUDIT_ERROR_CODES.configInvalid, `${path}: cannot read the config file`, { cause });
  }
  let data: unknown;
  try {
    data = toPlain(parseYamlFile(path, text).root);
  } catch (cause) {
    if (isPubgateError(cause))
      throw new AuditError(AUDIT_ERROR_CODES.configInvalid, cause.message, { cause });
    throw cause;
  }
  return toAuditConfig(data, path);
}

/** True when `name` matches a `*` glob pattern (whole string, case-sensitive unless `caseless`). */
export function matchesGlob(name: string, pattern: string, caseless = false): boolean {
  const escaped = pattern
    .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
    .replace(/\*\*/g, '\u0000')
    .replace(/\*/g, '[^/]*')
    .replace(/\u0000/g, '.*');
  return new RegExp(`^${escaped}$`, caseless ? 'i' : '').test(name);
}
