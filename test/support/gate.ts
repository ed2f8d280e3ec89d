/** Starts pubgate for tests: in-process, or as a child process that a test can SIGKILL. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  buildApp,
  createLogger,
  startGate,
  UPSTREAM_TOKEN_SECRET,
  type App,
  type RunningGate,
} from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config/index.ts';
import { writeNewMasterKey } from '../../src/vault/index.ts';
import type { CredentialKind } from '../../src/tokens/index.ts';
import { freePort, waitForHttp } from './net.ts';

const root = new URL('../..', import.meta.url).pathname;

/** Options for a test gate. */
export interface TestGateOptions {
  readonly upstream?: { url: string; token: string; sigstoreAttachment?: string };
  readonly release?: Record<string, number>;
  readonly limits?: Record<string, number>;
  readonly store?: { driver: 'postgres'; postgresUrl: string } | undefined;
  readonly now?: () => Date;
  /** Share another instance's master key (instances of one gate share it). */
  readonly masterKeyFile?: string;
  readonly policy?: Record<string, unknown>;
  readonly webauthn?: Record<string, unknown>;
  readonly trustedPublishers?: ReadonlyArray<Record<string, unknown>>;
  readonly oidc?: Record<string, unknown>;
  readonly provenance?: Record<string, unknown>;
  readonly signing?: Record<string, unknown>;
}

/** Writes a config and master key into a fresh folder and returns the config file path. */
export function writeGateConfig(options: TestGateOptions & { port?: number }): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pubgate-test-'));
  mkdirSync(join(dir, 'data'), { mode: 0o700 });
  if (options.masterKeyFile === undefined) writeNewMasterKey(join(dir, 'data', 'master.key'));
  const config = {
    dataDir: './data',
    ...(options.masterKeyFile === undefined ? {} : { masterKeyFile: options.masterKeyFile }),
    server: { host: '127.0.0.1', port: options.port ?? 0 },
    ...(options.store === undefined ? {} : { store: options.store }),
    ...(options.upstream === undefined
      ? {}
      : {
          upstream: {
            url: options.upstream.url,
            ...(options.upstream.sigstoreAttachment === undefined
              ? {}
              : { sigstoreAttachment: options.upstream.sigstoreAttachment }),
          },
        }),
    release: { workerIntervalMs: 100, leaseSeconds: 5, ...options.release },
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(options.policy === undefined ? {} : { policy: options.policy }),
    ...(options.webauthn === undefined ? {} : { webauthn: options.webauthn }),
    ...(options.trustedPublishers === undefined ? {} : { trustedPublishers: options.trustedPublishers }),
    ...(options.oidc === undefined ? {} : { oidc: options.oidc }),
    ...(options.provenance === undefined ? {} : { provenance: options.provenance }),
    ...(options.signing === undefined ? {} : { signing: options.signing }),
    log: { level: 'silent' },
  };
  const file = join(dir, 'pubgate.yaml');
  writeFileSync(file, stringify(config));
  return { dir, file };
}

/** A gate running in this process. */
export interface TestGate {
  readonly url: string;
  readonly app: App;
  readonly config: Config;
  readonly dir: string;
  /** A `request` credential for `identity`, scope `*` unless given. */
  issueToken(identity: string, scope?: string[], kind?: CredentialKind): Promise<string>;
  stop(): Promise<void>;
}

/** Seals the upstream token into a gate's store. */
export async function sealUpstreamToken(app: App, token: string): Promise<void> {
  await app.vault.put(UPSTREAM_TOKEN_SECRET, Buffer.from(token, 'utf8'));
}

/** Issues a credential through the app (as `pubgate token create` does). */
export async function issueToken(
  app: App,
  identity: string,
  scope: string[] = ['*'],
  kind: CredentialKind = 'request',
): Promise<string> {
  const issued = await app.store.transaction((tx) =>
    app.credentials.issueIn(tx, { kind, identity, scope, ttlSeconds: kind === 'build' ? 900 : 3600 }),
  );
  return issued.token;
}

/** Starts a gate in this process on a free port. */
export async function startTestGate(options: TestGateOptions = {}): Promise<TestGate> {
  const { dir, file } = writeGateConfig(options);
  const config = loadConfig({ file, env: {} });
  const app = await buildApp(config, {
    logger: createLogger('silent'),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  if (options.upstream !== undefined) await sealUpstreamToken(app, options.upstream.token);
  let running: RunningGate;
  try {
    running = await startGate(app);
  } catch (error) {
    await app.close();
    throw error;
  }
  return {
    url: running.url,
    app,
    config,
    dir,
    issueToken: (identity, scope, kind) => issueToken(app, identity, scope, kind),
    async stop() {
      await running.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A gate running as a child process (`bin/pubgate.js serve`). */
export interface ChildGate {
  readonly url: string;
  readonly process: ChildProcess;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Spawns `pubgate serve --config file` on `port` and waits until it is ready. */
export async function spawnGate(file: string, port?: number): Promise<ChildGate> {
  const chosen = port ?? (await freePort());
  const child = spawn(
    process.execPath,
    [join(root, 'bin/pubgate.js'), 'serve', '--config', file, '--port', String(chosen)],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, PUBGATE_LOG_LEVEL: 'silent' },
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${chosen}`;
  try {
    await waitForHttp(`${url}/readyz`, 30_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`gate did not start: ${stderr.slice(0, 2000)}`, { cause: error });
  }
  return {
    url,
    process: child,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
  };
}

/**
 * The quorum, for tests that are about something else (crash safety, the npm flow, load): records M
 * approvals by test approvers, as the passkey step-ups would (their real ceremony is tested in
 * test/passkeys.test.ts), then lets the release be approved. The signed attestation lists them, and
 * the gate verifies it before publishing, so a release without approvals is never published.
 */
export async function approveWithQuorum(app: App, releaseId: string): Promise<void> {
  const release = await app.releases.get(releaseId);
  // Dated by the gate's own clock (tests freeze it), never after the attestation that lists them.
  const now = release.createdAt;
  for (let i = 1; i <= release.requiredApprovals; i++) {
    const name = `test-approver-${i}`;
    const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    await app.store.db
      .insertInto('users')
      .values({
        id,
        name,
        roles: JSON.stringify(['approver']),
        groups: JSON.stringify([release.approverGroup]),
        created_at: now,
        disabled_at: null,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    await app.store.db
      .insertInto('approvals')
      .values({
        release_id: releaseId,
        user_id: id,
        decision: 'approve',
        credential_id: `test-credential-${i}`,
        assertion_sha256: createHash('sha256').update(`${releaseId}:${i}`).digest('hex'),
        challenge: '',
        at: now,
      })
      .onConflict((oc) => oc.columns(['release_id', 'user_id']).doNothing())
      .execute();
  }
  await app.releases.approve(releaseId, { actor: 'test:quorum' });
}
