/**
 * Config parsing (`loadConfig`): for any YAML/JSON file and any environment it returns a deeply
 * frozen, fully resolved Config or throws a ConfigError coded ERR_CONFIG_*; nothing else.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { ConfigError } from '../../../src/errors/index.ts';
import { ENV_OVERRIDES, loadConfig, type Config } from '../../../src/config/index.ts';
import { assertPrototypeClean, outcomeOfSync, syncProperty, type FuzzProperty } from '../harness.ts';

const CODED = /^ERR_CONFIG_/;
const ENV_NAMES = ENV_OVERRIDES.map((o) => o.name);

const SECTIONS: Record<string, readonly string[]> = {
  server: ['host', 'port', 'publicUrl'],
  store: ['driver', 'sqlitePath', 'postgresUrl', 'poolSize'],
  upstream: ['url', 'timeoutMs'],
  limits: ['tarballBytes', 'manifestBytes', 'jsonDepth', 'unpackedBytes', 'entries'],
  release: ['pendingTtlSeconds', 'publishMaxAttempts', 'leaseSeconds', 'workerIntervalMs'],
  log: ['level'],
};

const scalarArb = fc.oneof(
  fc.constantFrom(
    'sqlite',
    'postgres',
    'info',
    'silent',
    'http://127.0.0.1:4873/',
    'https://gate.example/npm///',
    'postgres://u@h/db',
    './data',
    '/abs/data',
    '::1',
    '',
    '0',
    '8470',
    '1e3',
  ),
  fc.integer({ min: -10, max: 70_000 }),
  fc.constantFrom(0, 8, 1000, 1001, 1024, 65535, 65536, 1.5, -0, Number.MAX_SAFE_INTEGER, 2 ** 64),
  fc.string({ maxLength: 12 }),
  fc.boolean(),
  fc.constant(null),
);
const valueArb = fc.oneof(
  { weight: 5, arbitrary: scalarArb },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

const sectionArb = (keys: readonly string[]): fc.Arbitrary<Record<string, unknown>> =>
  fc.dictionary(fc.constantFrom(...keys, '__proto__', 'constructor', 'extra'), valueArb, {
    maxKeys: keys.length + 1,
  });

/** Config-shaped documents: the schema's own keys with plausible, wrong and hostile values. */
const configObjectArb = fc.record(
  {
    dataDir: valueArb,
    masterKeyFile: valueArb,
    server: fc.oneof(sectionArb(SECTIONS['server']!), valueArb),
    store: fc.oneof(sectionArb(SECTIONS['store']!), valueArb),
    upstream: fc.oneof(sectionArb(SECTIONS['upstream']!), valueArb),
    limits: fc.oneof(sectionArb(SECTIONS['limits']!), valueArb),
    release: fc.oneof(sectionArb(SECTIONS['release']!), valueArb),
    log: fc.oneof(sectionArb(SECTIONS['log']!), valueArb),
    extra: valueArb,
  },
  { requiredKeys: [] },
);

/** Raw YAML: directives, anchors and aliases, merge keys, tags, flow and block styles, junk. */
const yamlPieceArb = fc.oneof(
  fc.constantFrom(
    '%YAML 1.1\n---\n',
    '%YAML 1.2\n---\n',
    '---\n',
    '...\n',
    'server:\n',
    '  port: ',
    '  host: ',
    'limits: &l\n',
    '  jsonDepth: ',
    'log: *l\n',
    'store: {driver: postgres}\n',
    '<<: *l\n',
    'x: &a [1, 2]\n',
    'y: [*a, *a, *a]\n',
    '!!binary aGVsbG8=',
    '!!set {a, b}',
    '!!omap [a: 1]',
    '!!timestamp 2020-01-01',
    '!!float .nan',
    '!custom x',
    '!!js/function "f"',
    '? [complex, key]\n: v\n',
    '|\n  block\n',
    '>-\n  folded\n',
    '"\\u0000"',
    "'it''s'",
    '\t',
    '\uFEFF',
    '#comment\n',
    '__proto__: {polluted: 1}\n',
    'dataDir: ',
    '[',
    '{',
    ']',
    '}',
    ': ',
    '- ',
    '\n',
    '&',
    '*',
    '@',
    '`',
  ),
  fc.string({ maxLength: 8 }),
  scalarArb.map((v) => `${String(v)}\n`),
);
const rawYamlArb = fc.array(yamlPieceArb, { maxLength: 16 }).map((pieces) => pieces.join(''));

/** A billion-laughs document: `levels` anchors, each aliasing the previous one `fanout` times. */
const aliasBombArb = fc
  .record({ levels: fc.integer({ min: 1, max: 12 }), fanout: fc.integer({ min: 1, max: 12 }) })
  .map(({ levels, fanout }) => {
    const lines = ['a0: &a0 ["lol"]'];
    for (let i = 1; i <= levels; i++)
      lines.push(`a${i}: &a${i} [${Array.from({ length: fanout }, () => `*a${i - 1}`).join(', ')}]`);
    lines.push(`dataDir: *a${levels}`);
    return lines.join('\n');
  });

const deepYamlArb = fc
  .record({
    depth: fc.integer({ min: 1, max: 20_000 }),
    style: fc.constantFrom('flow-seq', 'flow-map', 'block'),
  })
  .map(({ depth, style }) => {
    if (style === 'flow-seq') return `dataDir: ${'['.repeat(depth)}${']'.repeat(depth)}\n`;
    if (style === 'flow-map') return `dataDir: ${'{a: '.repeat(depth)}1${'}'.repeat(depth)}\n`;
    return Array.from({ length: Math.min(depth, 2000) }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n');
  });

const fileArb = fc.oneof(
  { weight: 3, arbitrary: configObjectArb.map((o) => JSON.stringify(o)) },
  { weight: 3, arbitrary: configObjectArb.map((o) => toYaml(o)) },
  { weight: 3, arbitrary: rawYamlArb },
  { weight: 1, arbitrary: aliasBombArb },
  { weight: 1, arbitrary: deepYamlArb },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
);

const envArb = fc.dictionary(
  fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...ENV_NAMES) },
    { weight: 1, arbitrary: fc.constantFrom('PUBGATE_OTHER', 'PATH', '__proto__', 'constructor') },
  ),
  fc.oneof(
    scalarArb.map(String),
    fc.stringMatching(/^\d{1,7}$/),
    fc.string({ unit: 'binary', maxLength: 20 }),
  ),
  { maxKeys: 6 },
);

function assertDeepFrozen(value: unknown, path = 'config'): void {
  if (typeof value !== 'object' || value === null) return;
  if (!Object.isFrozen(value)) throw new Error(`${path} is not frozen`);
  for (const [key, inner] of Object.entries(value)) assertDeepFrozen(inner, `${path}.${key}`);
}

function assertResolved(config: Config): void {
  assertDeepFrozen(config);
  for (const [label, path] of [
    ['dataDir', config.dataDir],
    ['masterKeyFile', config.masterKeyFile],
    ['store.sqlitePath', config.store.sqlitePath],
  ] as const) {
    if (typeof path !== 'string' || !isAbsolute(path)) throw new Error(`${label} is not an absolute path`);
  }
  const { port } = config.server;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('server.port out of range');
  if (config.limits.jsonDepth < 8 || config.limits.jsonDepth > 1000)
    throw new Error('limits.jsonDepth out of range');
  if (config.store.driver === 'postgres' && config.store.postgresUrl === undefined)
    throw new Error('postgres without a URL');
  if (config.server.publicUrl?.endsWith('/') === true || config.upstream.url?.endsWith('/') === true)
    throw new Error('a URL kept its trailing slash');
}

/** A temp folder for this thread's config files, removed when the thread exits. */
function tempFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pubgate-fuzz-config-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function load(
  dir: string,
  text: string,
  env: Record<string, string>,
): ReturnType<typeof outcomeOfSync<Config>> {
  const file = join(dir, 'pubgate.yaml');
  writeFileSync(file, text);
  try {
    const outcome = outcomeOfSync(() => loadConfig({ file, env, cwd: dir }), CODED);
    return outcome;
  } finally {
    rmSync(file, { force: true });
  }
}

/** The config parsing properties. */
export const configProperties: readonly FuzzProperty[] = [
  {
    name: 'any file and environment give a deeply frozen resolved Config or a ConfigError coded ERR_CONFIG_*',
    ciRuns: 200,
    caseTimeoutMs: 3_000,
    build: () => {
      const dir = tempFolder();
      return syncProperty(fc.record({ text: fileArb, env: envArb }), ({ text, env }) => {
        let thrown: unknown;
        try {
          const outcome = load(dir, text, env);
          if (outcome.ok) assertResolved(outcome.value);
        } catch (error) {
          thrown = error;
        }
        assertPrototypeClean();
        if (thrown !== undefined) throw thrown;
      });
    },
  },
  {
    name: 'a ConfigError is always a ConfigError instance, and an alias bomb is refused with ERR_CONFIG_SYNTAX',
    ciRuns: 60,
    caseTimeoutMs: 3_000,
    build: () => {
      const dir = tempFolder();
      return syncProperty(aliasBombArb, (text) => {
        const file = join(dir, 'bomb.yaml');
        writeFileSync(file, text);
        try {
          loadConfig({ file, env: {}, cwd: dir });
        } catch (error) {
          if (!(error instanceof ConfigError)) throw new Error('not a ConfigError', { cause: error });
          return;
        } finally {
          rmSync(file, { force: true });
        }
        // Accepted only when the expansion is small: the parser's alias budget (100) was not exceeded.
        if (text.split('*').length - 1 > 100) throw new Error('an alias bomb was accepted');
      });
    },
  },
  {
    name: 'valid environment overrides win over the file',
    ciRuns: 300,
    caseTimeoutMs: 3_000,
    build: () => {
      const dir = tempFolder();
      return syncProperty(
        fc.record({
          port: fc.integer({ min: 0, max: 65535 }),
          filePort: fc.integer({ min: 0, max: 65535 }),
          host: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 20 }),
          level: fc.constantFrom('trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'),
          dataDir: fc.constantFrom('/srv/pubgate', './relative', 'a b/c'),
        }),
        ({ port, filePort, host, level, dataDir }) => {
          const text = toYaml({ server: { port: filePort, host: 'file-host' }, log: { level: 'info' } });
          const outcome = load(dir, text, {
            PUBGATE_PORT: String(port),
            PUBGATE_HOST: host,
            PUBGATE_LOG_LEVEL: level,
            PUBGATE_DATA_DIR: dataDir,
          });
          if (!outcome.ok) throw new Error(`valid overrides refused with ${outcome.code}`);
          const config = outcome.value;
          if (config.server.port !== port || config.server.host !== host || config.log.level !== level)
            throw new Error('an override did not win');
          if (!config.dataDir.endsWith(dataDir.replace(/^\.\//, '')))
            throw new Error('PUBGATE_DATA_DIR did not win');
        },
      );
    },
  },
];
