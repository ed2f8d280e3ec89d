/** Loading the configuration: file (YAML/JSON) + explicit environment overrides → one frozen Config. */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors/index.ts';
import { validateTrustedPublishers, type TrustedPublisherConfig } from '../identity/oidc/index.ts';
import { configSchema, type Config } from './schema.ts';

/** The only environment variables that override the file, and the field each sets. */
export const ENV_OVERRIDES: ReadonlyArray<{
  readonly name: string;
  readonly path: readonly string[];
  readonly type: 'string' | 'number';
}> = Object.freeze([
  { name: 'PUBGATE_DATA_DIR', path: ['dataDir'], type: 'string' },
  { name: 'PUBGATE_MASTER_KEY_FILE', path: ['masterKeyFile'], type: 'string' },
  { name: 'PUBGATE_HOST', path: ['server', 'host'], type: 'string' },
  { name: 'PUBGATE_PORT', path: ['server', 'port'], type: 'number' },
  { name: 'PUBGATE_PUBLIC_URL', path: ['server', 'publicUrl'], type: 'string' },
  { name: 'PUBGATE_STORE_DRIVER', path: ['store', 'driver'], type: 'string' },
  { name: 'PUBGATE_POSTGRES_URL', path: ['store', 'postgresUrl'], type: 'string' },
  { name: 'PUBGATE_UPSTREAM_URL', path: ['upstream', 'url'], type: 'string' },
  { name: 'PUBGATE_LOG_LEVEL', path: ['log', 'level'], type: 'string' },
]);

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Config file path; when absent, defaults only (relative paths resolve against `cwd`). */
  readonly file?: string | undefined;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** Extra values merged over the file (tests, CLI flags). */
  readonly overrides?: Record<string, unknown>;
}

/** Reads, validates and freezes the configuration; throws `ERR_CONFIG_INVALID` listing every bad field. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const cwd = options.cwd ?? process.cwd();
  const file = options.file === undefined ? undefined : resolve(cwd, options.file);
  let raw: unknown = {};
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (cause) {
      throw new ConfigError(
        'ERR_CONFIG_NOT_FOUND',
        `cannot read config file ${file}; create one with \`pubgate init\``,
        { cause },
      );
    }
    try {
      raw = parseYaml(text, { maxAliasCount: 100 }) ?? {};
    } catch (cause) {
      const detail = cause instanceof Error ? cause.message.split('\n')[0] : 'unparseable';
      throw new ConfigError('ERR_CONFIG_SYNTAX', `config file ${file} is not valid YAML: ${detail}`, {
        cause,
      });
    }
  }
  const merged = applyEnvOverrides(deepMerge(raw, options.overrides ?? {}), options.env ?? process.env);
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`,
    );
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `invalid configuration${file === undefined ? '' : ` in ${file}`}:\n  - ${problems.join('\n  - ')}`,
      { details: { problems } },
    );
  }
  const parsed = result.data;
  const publisherIssues = validateTrustedPublishers(parsed.trustedPublishers, {
    allowInsecureLoopbackIssuers: parsed.oidc.allowInsecureLoopbackIssuers,
  });
  if (publisherIssues.length > 0) {
    const problems = publisherIssues.map(
      (issue) => `trustedPublishers.${issue.path.join('.')}: ${issue.message}`,
    );
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `invalid configuration${file === undefined ? '' : ` in ${file}`}:\n  - ${problems.join('\n  - ')}`,
      { details: { problems } },
    );
  }
  if (
    parsed.signing.signer === 'pkcs11' &&
    (parsed.signing.pkcs11 === undefined ||
      (parsed.signing.pkcs11.pinFile === undefined && parsed.signing.pkcs11.pinEnv === undefined))
  ) {
    const problem = 'signing.pkcs11: required when signing.signer is pkcs11, with pinFile or pinEnv';
    throw new ConfigError('ERR_CONFIG_INVALID', `invalid configuration:\n  - ${problem}`, {
      details: { problems: [problem] },
    });
  }
  if (parsed.store.driver === 'postgres' && parsed.store.postgresUrl === undefined) {
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      'invalid configuration:\n  - store.postgresUrl: required when store.driver is postgres',
      {
        details: { problems: ['store.postgresUrl: required when store.driver is postgres'] },
      },
    );
  }
  const base = file === undefined ? cwd : dirname(file);
  const dataDir = resolvePath(base, parsed.dataDir);
  const config: Config = {
    configFile: file,
    dataDir,
    masterKeyFile:
      parsed.masterKeyFile === undefined
        ? resolve(dataDir, 'master.key')
        : resolvePath(base, parsed.masterKeyFile),
    server: { ...parsed.server, publicUrl: parsed.server.publicUrl?.replace(/\/+$/, '') },
    store: {
      ...parsed.store,
      sqlitePath:
        parsed.store.sqlitePath === undefined
          ? resolve(dataDir, 'pubgate.sqlite')
          : resolvePath(base, parsed.store.sqlitePath),
    },
    upstream: { ...parsed.upstream, url: parsed.upstream.url?.replace(/\/+$/, '') },
    limits: parsed.limits,
    release: parsed.release,
    webauthn: parsed.webauthn,
    policy: parsed.policy,
    provenance: {
      ...parsed.provenance,
      trustedCertificates: parsed.provenance.trustedCertificates.map((p) => resolvePath(base, p)),
    },
    signing: {
      ...parsed.signing,
      ...(parsed.signing.pkcs11 === undefined
        ? {}
        : {
            pkcs11: {
              ...parsed.signing.pkcs11,
              ...(parsed.signing.pkcs11.pinFile === undefined
                ? {}
                : { pinFile: resolvePath(base, parsed.signing.pkcs11.pinFile) }),
            },
          }),
    },
    trustedPublishers: parsed.trustedPublishers as unknown as TrustedPublisherConfig[],
    oidc: parsed.oidc,
    log: parsed.log,
  };
  return deepFreeze(config);
}

function resolvePath(base: string, path: string): string {
  return isAbsolute(path) ? path : resolve(base, path);
}

function applyEnvOverrides(input: unknown, env: Readonly<Record<string, string | undefined>>): unknown {
  let out = input;
  for (const { name, path, type } of ENV_OVERRIDES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const typed = type === 'number' && /^\d+$/.test(value) ? Number(value) : value;
    out = deepMerge(
      out,
      path.reduceRight<unknown>((acc, key) => ({ [key]: acc }), typed),
    );
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepMerge(base: unknown, extra: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(extra)) return extra === undefined ? base : extra;
  // A null-prototype target: keys such as `__proto__` in a config file stay plain data.
  const out: Record<string, unknown> = Object.assign(Object.create(null) as Record<string, unknown>, base);
  for (const [key, value] of Object.entries(extra)) out[key] = deepMerge(out[key], value);
  return out;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
