/**
 * Wiring: the one place that builds objects from Config. Everything else receives what it needs.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import pino, { type Logger } from 'pino';
import { ApprovalService } from './approval/index.ts';
import { AuditLog } from './auditlog/index.ts';
import {
  ChallengeService,
  PeopleService,
  PublisherRegistry,
  RemoteJwksProvider,
  SessionService,
  SqlJtiStore,
  type RelyingParty,
} from './identity/index.ts';
import type { Config } from './config/index.ts';
import { ConfigError } from './errors/index.ts';
import {
  LocalRegistry,
  NpmHttpRegistry,
  resolveSigstoreAttachment,
  type Registry,
} from './registry/index.ts';
import {
  AttestationService,
  checkBuildProvenance,
  FsBlobStore,
  ReleaseService,
  RELEASE_STATES,
  type PublishLimits,
} from './release/index.ts';
import { openConfiguredKeyRing, type KeyRing, SqlKeyRingStore } from './signing/index.ts';
import { exclusively, openPostgresStore, openSqliteStore, type Store } from './store/index.ts';
import { CredentialService } from './tokens/index.ts';
import { loadMasterKey, VaultStore } from './vault/index.ts';
import { createWebApp } from './web/index.ts';
import { SightingService } from './sightings/index.ts';
import { LockdownService } from './lockdown/index.ts';
import { scanTarball } from './scan/index.ts';

/** Name of the sealed upstream publish credential. */
export const UPSTREAM_TOKEN_SECRET = 'upstream/npm/token';

/** The assembled gate. */
export interface App {
  readonly config: Config;
  readonly logger: Logger;
  readonly store: Store;
  readonly audit: AuditLog;
  readonly vault: VaultStore;
  readonly credentials: CredentialService;
  readonly releases: ReleaseService;
  readonly registry: Registry;
  readonly blobs: FsBlobStore;
  readonly people: PeopleService;
  readonly sessions: SessionService;
  readonly approvals: ApprovalService;
  readonly challenges: ChallengeService;
  readonly sightings: SightingService;
  readonly lockdown: LockdownService;
  readonly publishers: PublisherRegistry;
  readonly keyRing: KeyRing;
  readonly jtiStore: SqlJtiStore;
  readonly attestations: AttestationService;
  /** The URL clients use; set when the server listens (or from server.publicUrl). */
  publicUrl(): string;
  close(): Promise<void>;
}

/** Options of {@link buildApp}. */
export interface BuildAppOptions {
  readonly now?: () => Date;
  readonly logger?: Logger;
}

/** Creates a logger that never prints credentials, even if one slips into a log object. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    base: { service: 'pubgate' },
    redact: {
      paths: [
        'authorization',
        '*.authorization',
        'token',
        '*.token',
        'headers',
        '*.headers',
        'password',
        '*.password',
      ],
      censor: '[redacted]',
    },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}

function openStore(config: Config): Store {
  return config.store.driver === 'postgres'
    ? openPostgresStore({ url: config.store.postgresUrl!, poolSize: config.store.poolSize })
    : openSqliteStore(config.store.sqlitePath);
}

/** A PEM certificate file named in `provenance.trustedCertificates`; a bad one stops the start with a clear error. */
function readCertificateFile(file: string): string {
  try {
    const pem = readFileSync(file, 'utf8');
    new X509Certificate(pem);
    return pem;
  } catch (cause) {
    const problem = `provenance.trustedCertificates: ${file} is not a readable PEM certificate`;
    throw new ConfigError('ERR_CONFIG_INVALID', `invalid configuration:\n  - ${problem}`, {
      cause,
      details: { problems: [problem] },
    });
  }
}

/** Builds the gate from its configuration: store (migrated), vault, registry, services. */
export async function buildApp(config: Config, options: BuildAppOptions = {}): Promise<MutableApp> {
  const logger = options.logger ?? createLogger(config.log.level);
  const now = options.now ?? (() => new Date());
  // Read once at start, before anything is opened: the CAs build provenance must chain to, when configured.
  const trustedCertificates = config.provenance.trustedCertificates.map(readCertificateFile);
  const masterKey = loadMasterKey(config.masterKeyFile);
  const store = openStore(config);
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  const audit = new AuditLog(store, now);
  const vault = new VaultStore(store, masterKey, now);
  const blobs = new FsBlobStore(join(config.dataDir, 'blobs'));
  const registry: Registry =
    config.upstream.url === undefined
      ? new LocalRegistry(store, blobs, now)
      : new NpmHttpRegistry({
          url: config.upstream.url,
          timeoutMs: config.upstream.timeoutMs,
          authenticateReads: config.upstream.authenticateReads,
          observe: observeUpstream,
          credential: async () => {
            const secret = await vault.get(UPSTREAM_TOKEN_SECRET);
            if (secret === undefined) return undefined;
            const token = secret.toString('utf8');
            secret.fill(0);
            return token;
          },
        });
  const limits: PublishLimits = { ...config.limits };
  const sightings = new SightingService({ store, audit, vault, now });
  // SQLite serves one instance, so its identity is stable across restarts and a restarted gate
  // resumes its own interrupted publishes at once; on PostgreSQL each process is its own instance.
  const instanceId =
    config.store.driver === 'sqlite'
      ? `sqlite:${hostname()}`
      : `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  // The first start (or `pubgate init`) creates the gate's signing key: sealed under the master key, or in the token.
  const { ring: keyRing, close: closeKeyRing } = await openConfiguredKeyRing({
    settings: config.signing,
    store: new SqlKeyRingStore(store),
    masterKey,
    now,
    logger,
    ...(config.store.driver === 'postgres'
      ? { exclusive: exclusively(store, 'pubgate.signing.first-key') }
      : {}),
  });
  const attestations = new AttestationService({ store, keys: keyRing, audit, now });
  // The lockdown service needs the release service and vice versa: the release service asks through a closure.
  let lockdown: LockdownService | undefined;
  // Likewise the trusted publishers, which provenance checks read.
  let publishers: PublisherRegistry;
  const releases = new ReleaseService({
    attestations,
    sigstoreAttachment: resolveSigstoreAttachment(config.upstream.sigstoreAttachment, config.upstream.url),
    checkProvenance: (subject) =>
      checkBuildProvenance(subject, {
        trustedCertificates,
        requireCertificateChain: config.provenance.requireCertificateChain,
        publishers: () => publishers.active(),
        now,
      }),
    assertOpen: async (what) => lockdown?.assertOpen(what),
    store,
    blobs,
    audit,
    registry,
    limits,
    pendingTtlSeconds: config.release.pendingTtlSeconds,
    publishMaxAttempts: config.release.publishMaxAttempts,
    leaseSeconds: config.release.leaseSeconds,
    instanceId,
    logger,
    now,
    policy: config.policy,
    scanTarball: async (tarball) =>
      scanTarball(tarball, { fingerprintKey: (await sightings.fingerprintKey()).key }),
    onSecretsFound: async (findings, where) => {
      // A pubgate credential inside a package is revoked before anyone could install it.
      await sightings.report('gate', {
        host: 'gate',
        context: 'tarball',
        findings: findings.map((f) => ({
          ruleId: f.ruleId,
          fingerprint: f.fingerprint,
          path: `${where.package}@${where.version}/${f.path}`,
          line: f.line,
          pubgateTokenHash: f.pubgateTokenHash,
        })),
      });
    },
    weeklyDownloads: async (name) => {
      if (config.policy.downloadsUrl === undefined) return undefined;
      const response = await fetch(
        `${config.policy.downloadsUrl.replace(/\/+$/, '')}/downloads/point/last-week/${name}`,
        { signal: AbortSignal.timeout(5000) },
      );
      if (!response.ok) return undefined;
      const body = (await response.json()) as { downloads?: unknown };
      return typeof body.downloads === 'number' ? body.downloads : undefined;
    },
  });
  const credentials = new CredentialService(store, now);
  lockdown = new LockdownService({ store, audit, releases, now });
  const urls = { public: config.server.publicUrl ?? `http://localhost:${config.server.port}` };
  const rp = (): RelyingParty => {
    const url = new URL(urls.public);
    return { id: config.webauthn.rpId ?? url.hostname, name: config.webauthn.rpName, origin: url.origin };
  };
  const challenges = new ChallengeService(store, config.webauthn.challengeTtlSeconds, now);
  const people = new PeopleService({
    store,
    audit,
    challenges,
    rp,
    enrolmentTtlSeconds: config.webauthn.enrolmentTtlSeconds,
    now,
  });
  const sessions = new SessionService(
    store,
    { idleSeconds: config.webauthn.sessionIdleSeconds, maxSeconds: config.webauthn.sessionMaxSeconds },
    now,
  );
  const approvals = new ApprovalService({
    store,
    audit,
    releases,
    people,
    adminsMayApprove: config.policy.adminsMayApprove,
    now,
  });
  publishers = new PublisherRegistry({
    store,
    audit,
    fromConfig: config.trustedPublishers,
    allowInsecureLoopbackIssuers: config.oidc.allowInsecureLoopbackIssuers,
  });
  return {
    jtiStore: new SqlJtiStore(store, now),
    attestations,
    keyRing,
    publishers,
    lockdown,
    sightings,
    people,
    sessions,
    approvals,
    challenges,
    publicUrl: () => urls.public,
    setPublicUrl: (url: string) => {
      urls.public = url;
    },
    config,
    logger,
    store,
    audit,
    vault,
    credentials,
    releases,
    registry,
    blobs,
    close: async () => {
      // The key ring keeps no copy of the master key beyond this buffer's life.
      masterKey.fill(0);
      await closeKeyRing();
      await store.close();
    },
  };
}

/** A running gate: HTTP server plus background worker. */
export interface RunningGate {
  readonly app: App;
  readonly url: string;
  stop(): Promise<void>;
}

/** Internal: lets startGate fix the public URL once the port is known. */
interface MutableApp extends App {
  setPublicUrl(url: string): void;
}

/** Upstream request durations, in this process (buckets in seconds). */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const upstreamLatency = new Map<string, { buckets: number[]; sum: number; count: number }>();

/** Records one upstream request's duration. */
function observeUpstream(operation: string, seconds: number, ok: boolean): void {
  const key = `operation="${operation}",outcome="${ok ? 'ok' : 'error'}"`;
  let entry = upstreamLatency.get(key);
  if (entry === undefined) {
    entry = { buckets: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 };
    upstreamLatency.set(key, entry);
  }
  LATENCY_BUCKETS.forEach((bound, i) => {
    if (seconds <= bound) entry.buckets[i]!++;
  });
  entry.sum += seconds;
  entry.count++;
}

/**
 * Renders the Prometheus text exposition. State counts come from the database, so every instance
 * reports the same gate-wide figures; upstream latency is this instance's own.
 */
async function renderMetrics(app: App): Promise<string> {
  const db = app.store.db;
  const counts = await app.releases.countByState();
  const lines: string[] = ['# HELP pubgate_releases Releases by state.', '# TYPE pubgate_releases gauge'];
  for (const state of RELEASE_STATES) lines.push(`pubgate_releases{state="${state}"} ${counts[state] ?? 0}`);
  const approvals = await db
    .selectFrom('approvals')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirst();
  lines.push(
    '# HELP pubgate_approvals_total Passkey approvals recorded.',
    '# TYPE pubgate_approvals_total counter',
    `pubgate_approvals_total ${Number(approvals?.n ?? 0)}`,
  );
  const creds = await db
    .selectFrom('credentials')
    .select(['kind'])
    .select((eb) => [
      eb.fn.countAll<number>().as('issued'),
      eb.fn.sum<number>('uses').as('uses'),
      eb.fn.count<number>('revoked_at').as('revoked'),
    ])
    .groupBy('kind')
    .execute();
  lines.push(
    '# HELP pubgate_credentials_minted_total Credentials issued, by kind.',
    '# TYPE pubgate_credentials_minted_total counter',
  );
  for (const c of creds) lines.push(`pubgate_credentials_minted_total{kind="${c.kind}"} ${Number(c.issued)}`);
  lines.push(
    '# HELP pubgate_credentials_used_total Single-use credential uses, by kind.',
    '# TYPE pubgate_credentials_used_total counter',
  );
  for (const c of creds)
    lines.push(`pubgate_credentials_used_total{kind="${c.kind}"} ${Number(c.uses ?? 0)}`);
  lines.push(
    '# HELP pubgate_credentials_revoked_total Credentials revoked (by hand, at use, by lockdown or leak), by kind.',
    '# TYPE pubgate_credentials_revoked_total counter',
  );
  for (const c of creds)
    lines.push(`pubgate_credentials_revoked_total{kind="${c.kind}"} ${Number(c.revoked)}`);
  lines.push(
    '# HELP pubgate_lockdowns_active Active lockdowns.',
    '# TYPE pubgate_lockdowns_active gauge',
    `pubgate_lockdowns_active ${(await app.lockdown.active()).length}`,
  );
  lines.push(
    '# HELP pubgate_upstream_request_duration_seconds Upstream registry requests.',
    '# TYPE pubgate_upstream_request_duration_seconds histogram',
  );
  for (const [labels, entry] of upstreamLatency) {
    LATENCY_BUCKETS.forEach((bound, i) =>
      lines.push(
        `pubgate_upstream_request_duration_seconds_bucket{${labels},le="${bound}"} ${entry.buckets[i]}`,
      ),
    );
    lines.push(`pubgate_upstream_request_duration_seconds_bucket{${labels},le="+Inf"} ${entry.count}`);
    lines.push(`pubgate_upstream_request_duration_seconds_sum{${labels}} ${entry.sum.toFixed(6)}`);
    lines.push(`pubgate_upstream_request_duration_seconds_count{${labels}} ${entry.count}`);
  }
  return lines.join('\n') + '\n';
}

/** Starts the HTTP server and the background worker (expiry, publishing). */
export async function startGate(app: App): Promise<RunningGate> {
  const { config, logger } = app;
  let baseUrl = config.server.publicUrl ?? '';
  const mutable = app as MutableApp;
  const web = createWebApp({
    store: app.store,
    releases: app.releases,
    credentials: app.credentials,
    registry: app.registry,
    blobs: app.blobs,
    limits: { ...config.limits },
    logger,
    baseUrl: () => baseUrl,
    metrics: () => renderMetrics(app),
    audit: app.audit,
    people: app.people,
    sessions: app.sessions,
    approvals: app.approvals,
    sightings: app.sightings,
    lockdown: app.lockdown,
    jitTtlSeconds: config.release.jitTtlSeconds,
    publishers: app.publishers,
    attestations: app.attestations,
    policy: config.policy,
    jwks: new RemoteJwksProvider({
      jwksUris: config.oidc.jwksUris,
      allowInsecureLoopbackIssuers: config.oidc.allowInsecureLoopbackIssuers,
    }),
    jtiStore: app.jtiStore,
    oidcMaxLifetimeSeconds: config.oidc.maxLifetimeSeconds,
    buildCredentialTtlSeconds: config.oidc.credentialTtlSeconds,
  });
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: web.fetch, hostname: config.server.host, port: config.server.port }, () =>
      resolve(s),
    );
    s.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  // WebAuthn needs a domain as relying party id, never an IP address: on loopback the gate calls
  // itself localhost (a secure context for browsers), elsewhere set server.publicUrl.
  const loopback = ['127.0.0.1', '::1', 'localhost'].includes(config.server.host);
  const host = loopback ? 'localhost' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
  if (baseUrl === '') baseUrl = `http://${host}:${address.port}`;
  if (typeof mutable.setPublicUrl === 'function') mutable.setPublicUrl(baseUrl);

  await app.releases.releaseOwnLeases();
  let stopping = false;
  let tick: Promise<void> = Promise.resolve();
  // Housekeeping of single-use records past any use (challenges, OIDC token ids, idle sessions):
  // hourly, and idempotent, so several instances doing it is harmless.
  let nextHousekeeping = 0;
  const runTick = async (): Promise<void> => {
    try {
      await app.releases.expireDue();
      await app.releases.publishDue();
      if (Date.now() >= nextHousekeeping) {
        nextHousekeeping = Date.now() + 3_600_000;
        await Promise.all([app.challenges.prune(), app.jtiStore.prune(), app.sessions.prune()]);
      }
    } catch (error) {
      logger.error(
        { err: error instanceof Error ? { name: error.name, message: error.message } : String(error) },
        'background work failed',
      );
    }
  };
  let queued = false;
  const schedule = (): void => {
    // At most one tick waits behind the running one: bursts of wake-ups collapse into it.
    if (stopping || queued) return;
    queued = true;
    tick = tick.then(() => {
      queued = false;
      return runTick();
    });
  };
  const timer = setInterval(schedule, config.release.workerIntervalMs);
  // An approval on this instance publishes at once instead of at the next tick.
  const unsubscribe = app.releases.onTransition((to) => {
    if (to === 'approved') schedule();
  });
  schedule();

  return {
    app,
    url: baseUrl,
    async stop() {
      stopping = true;
      clearInterval(timer);
      unsubscribe();
      // Graceful: let an in-flight publish finish before the store closes.
      await tick;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Idle keep-alive sockets would hold close() open.
        (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
      });
      await app.close();
    },
  };
}
