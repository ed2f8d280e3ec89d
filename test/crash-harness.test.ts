/**
 * Crash harness (issue 5, point 3): two gate processes on one PostgreSQL database drive 36 releases
 * through hold → decision → publish while a seeded schedule SIGKILLs one instance at random points
 * (and restarts it on the same port or a new one) and restarts PostgreSQL once (immediate stop).
 * Then: every release is final and exists once per version, no version reached the upstream twice,
 * no approved release is lost, no approval that returned is lost, the audit chain verifies, and the
 * instances that lived through the PostgreSQL restart serve and publish again.
 * Replay a run with `PUBGATE_CRASH_SEED=<seed> node scripts/run-tests.mjs crash-harness`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { buildApp, createLogger, type App } from '../src/app.ts';
import { loadConfig } from '../src/config/index.ts';
import { isPubgateError, PubgateError } from '../src/errors/index.ts';
import { ReleaseService, type Release } from '../src/release/index.ts';
import { backendNames, freshPostgresDatabase, postgresAdminUrl } from './support/backends.ts';
import { startCountingProxy, type CountingProxy } from './support/counting-proxy.ts';
import {
  issueToken,
  sealUpstreamToken,
  writeGateConfig,
  type ChildGate,
  approveWithQuorum,
} from './support/gate.ts';
import { spawnLoggedGate, summarizeGateLog } from './support/logged-gate.ts';
import { freePort } from './support/net.ts';
import {
  postgresOptions,
  postgresServerFromEnv,
  startPostgres,
  stopPostgresImmediately,
  type PostgresServer,
} from './support/postgres-control.ts';
import { escapedName, packageTarball, publishDoc } from './support/publish-doc.ts';
import { createSeededRandom, toSeed, type SeededRandom } from './support/seeded-random.ts';
import { startVerdaccio, type Verdaccio } from './support/verdaccio.ts';

const PACKAGES = 12;
const VERSIONS = 3;
/** Releases in flight at once; each lane publishes its packages' versions in order. */
const LANES = 12;
/** Every REJECT_EVERY-th release is rejected instead of approved (it must never reach the upstream). */
const REJECT_EVERY = 9;
const REQUEST_TIMEOUT_MS = 15_000;
const RELEASE_DEADLINE_MS = 60_000;
/** What the harness decided for one release. */
interface PlannedRelease {
  readonly name: string;
  readonly version: string;
  readonly channel: 'publish' | 'stage';
  readonly decision: 'approve' | 'reject';
  readonly tarball: Buffer;
  readonly integrity: string;
}

/** The release the harness holds after the PostgreSQL restart to see publishing resume. */
const PROBE_NAME = 'crash-probe-after-restart';

/** What happened to one release. */
interface ReleaseRun {
  readonly plan: PlannedRelease;
  id?: string;
  /** The decision call returned normally (an approval that returned must never be lost). */
  decisionReturned: boolean;
  /** The decision committed but its answer was lost (PostgreSQL went down after COMMIT); a retry found it. */
  decisionFoundAfterError: boolean;
  final?: Release;
  error?: string;
  /** Submit to final state. */
  ms?: number;
}

/** One gate instance slot: a child process, or nothing while it is being restarted. */
interface Slot {
  gate: ChildGate | undefined;
  port: number;
  starts: number;
}

/** How the gate came back after the PostgreSQL restart. */
interface Recovery {
  /** Pids of the instances running after the restart. */
  running: number[];
  /** Each answered a database-backed request after the restart. */
  served: boolean;
  /** One of them published a release after the restart. */
  published: boolean;
  detail: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function sha512Integrity(bytes: Buffer): string {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
}

function errorText(error: unknown): string {
  if (isPubgateError(error)) return error.code;
  return error instanceof Error ? `${error.name}: ${error.message.slice(0, 200)}` : String(error);
}

/** Which backends this harness runs on: PostgreSQL only, and only where it may restart the server. */
function harnessBackends(): PostgresServer[] {
  // backendNames() throws in CI when PostgreSQL is missing: there the harness is required.
  if (!backendNames().includes('postgres')) return [];
  const server = postgresServerFromEnv();
  if (server === undefined) {
    if (process.env['CI'] === 'true')
      throw new Error(
        'CI must run the crash harness: set PUBGATE_TEST_PGDATA and PUBGATE_TEST_PGSOCKETDIR (.ci/run does)',
      );
    return [];
  }
  return [server];
}

for (const server of harnessBackends()) {
  describe('crash harness: two instances on PostgreSQL, SIGKILLs and a PostgreSQL restart', () => {
    const seed = toSeed(process.env['PUBGATE_CRASH_SEED']);
    // Separate streams: the chaos schedule does not shift when request timing changes the other draws.
    const chaosRandom = createSeededRandom(seed);
    const planRandom = createSeededRandom(seed ^ 0x5bd1e995);
    const delayRandom = createSeededRandom(seed ^ 0x27d4eb2f);
    const pickRandom = createSeededRandom(seed ^ 0x165667b1);

    let verdaccio: Verdaccio | undefined;
    let proxy: CountingProxy | undefined;
    let configFile: string | undefined;
    let databaseUrl: string | undefined;
    let admin: App | undefined;
    let token = '';
    const slots: Slot[] = [];
    const runs: ReleaseRun[] = [];
    const stats = {
      gateStartMs: 0,
      unexpectedExits: [] as string[],
      kills: 0,
      killsMidPublish: 0,
      gateStarts: 0,
      samePortRestarts: 0,
      postgresRestarts: 0,
      submitRetries: 0,
      heldAnswersLost: 0,
      decisionRetries: 0,
      hangs: [] as string[],
    };
    let recovery: Recovery | undefined;
    let postgresDown = false;
    let adminPause: Promise<void> | undefined;
    let adminInFlight = 0;
    /** Submission answers by status and code, for the summary. */
    const answers = new Map<string, number>();
    let driveError: unknown;
    let chaosError: unknown;

    const gateLog = (): string => join(dirname(configFile!), 'gates.log');

    async function startSlot(slot: Slot, port: number): Promise<void> {
      const started = Date.now();
      slot.gate = await spawnLoggedGate(configFile!, { port, logFile: gateLog(), level: 'warn' });
      slot.port = port;
      slot.starts++;
      stats.gateStarts++;
      stats.gateStartMs += Date.now() - started;
    }

    const isRunning = (gate: ChildGate): boolean =>
      gate.process.exitCode === null && gate.process.signalCode === null;

    /** Restarts, like a supervisor, any instance that ended without being killed by the harness. */
    async function reviveExited(): Promise<void> {
      for (const slot of slots) {
        const gate = slot.gate;
        if (gate === undefined || isRunning(gate)) continue;
        slot.gate = undefined;
        stats.unexpectedExits.push(
          `pid ${gate.process.pid} exited ${gate.process.exitCode ?? gate.process.signalCode} (${stats.postgresRestarts === 0 && !postgresDown ? 'before' : 'around'} the PostgreSQL restart)`,
        );
        await startSlot(slot, slot.port);
      }
    }

    async function pickLive(random: SeededRandom): Promise<Slot & { gate: ChildGate }> {
      for (;;) {
        const live = slots.filter(
          (s): s is Slot & { gate: ChildGate } => s.gate !== undefined && isRunning(s.gate),
        );
        if (live.length > 0) return random.pick(live);
        await sleep(50);
      }
    }

    /**
     * Runs `fn` on the harness's own app, outside the moment PostgreSQL is stopped. The harness's pool
     * has the gate's defect too (KNOWN_DEFECT_PROCESS_EXIT): a client checked out when the server dies
     * would end this test process. Calls during the downtime run and fail fast on connect.
     */
    async function withAdmin<T>(fn: (app: App) => Promise<T>): Promise<T> {
      while (adminPause !== undefined) await adminPause;
      adminInFlight++;
      try {
        return await fn(admin!);
      } finally {
        adminInFlight--;
      }
    }

    /** Retries `fn` while the database is unreachable; coded gate errors are answers, not outages. */
    async function retrying<T>(
      fn: () => Promise<T>,
      what: string,
      deadlineMs = RELEASE_DEADLINE_MS,
    ): Promise<T> {
      const deadline = Date.now() + deadlineMs;
      for (;;) {
        try {
          return await fn();
        } catch (error) {
          if (error instanceof PubgateError || Date.now() > deadline)
            throw new Error(`${what}: ${errorText(error)}`, { cause: error });
          await sleep(150);
        }
      }
    }

    async function send(
      slot: Slot & { gate: ChildGate },
      method: string,
      path: string,
      body?: string,
    ): Promise<{ status: number; json: Record<string, unknown> }> {
      const pid = slot.gate.process.pid;
      try {
        const response = await fetch(`${slot.gate.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body }),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const text = await response.text();
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // not JSON (e.g. a bare 500)
        }
        return { status: response.status, json };
      } catch (error) {
        // A kill resets the connection at once; a request that outlives the timeout hung in the gate.
        if (error instanceof Error && error.name === 'TimeoutError')
          stats.hangs.push(`${method} ${path.replace(/\/[^/]*$/, '/…')} on pid ${pid}`);
        throw error;
      }
    }

    async function findRelease(plan: PlannedRelease): Promise<Release | undefined> {
      const list = await retrying(
        () => withAdmin((app) => app.releases.list({ package: plan.name })),
        'list releases',
      );
      return list.find((r) => r.version === plan.version);
    }

    /** Submits until the gate answers that it holds the release; a lost answer is found by its version. */
    async function holdRelease(plan: PlannedRelease): Promise<string> {
      const body = JSON.stringify(publishDoc(plan.name, plan.version, plan.tarball));
      const path =
        plan.channel === 'publish'
          ? `/npm/${escapedName(plan.name)}`
          : `/npm/-/stage/package/${escapedName(plan.name)}`;
      const deadline = Date.now() + RELEASE_DEADLINE_MS;
      for (;;) {
        if (Date.now() > deadline) throw new Error(`${plan.name}@${plan.version} was never held`);
        const slot = await pickLive(pickRandom);
        let answer: { status: number; json: Record<string, unknown> };
        try {
          answer = await send(slot, plan.channel === 'publish' ? 'PUT' : 'POST', path, body);
        } catch {
          stats.submitRetries++;
          await sleep(100);
          continue;
        }
        const { status, json } = answer;
        const key = `${status} ${String(json['code'] ?? '')}`;
        answers.set(key, (answers.get(key) ?? 0) + 1);
        if (
          plan.channel === 'publish' &&
          status === 401 &&
          json['code'] === 'ERR_RELEASE_HELD' &&
          typeof json['release'] === 'string'
        )
          return json['release'];
        if (plan.channel === 'stage' && status === 201 && typeof json['stageId'] === 'string')
          return json['stageId'];
        if (status === 409 && json['code'] === 'ERR_PUBLISH_VERSION_PENDING') {
          // An earlier attempt was held, but the instance died before its answer reached us.
          const found = await findRelease(plan);
          if (found !== undefined) {
            stats.heldAnswersLost++;
            return found.id;
          }
        }
        if (status >= 500 || status === 409) {
          // 5xx: PostgreSQL is down or restarting. Retry like a client would.
          stats.submitRetries++;
          await sleep(150);
          continue;
        }
        throw new Error(
          `${plan.name}@${plan.version}: unexpected answer ${status} ${String(json['code'] ?? '')}`,
        );
      }
    }

    /** Approves (the quorum's internal call) or rejects until the decision is recorded. */
    async function decide(run: ReleaseRun): Promise<void> {
      const id = run.id!;
      const target = run.plan.decision === 'approve' ? ['approved', 'publishing', 'published'] : ['rejected'];
      const deadline = Date.now() + RELEASE_DEADLINE_MS;
      for (let attempt = 0; ; attempt++) {
        try {
          if (run.plan.decision === 'approve') await withAdmin((app) => approveWithQuorum(app, id));
          else
            await withAdmin((app) =>
              app.releases.reject(id, 'test:approver', 'crash harness rejects this one'),
            );
          run.decisionReturned = true;
          return;
        } catch (error) {
          if (
            isPubgateError(error, 'ERR_RELEASE_STATE') &&
            attempt > 0 &&
            target.includes(String(error.details?.['state']))
          ) {
            // The previous attempt committed; only its answer was lost with the connection.
            run.decisionFoundAfterError = true;
            return;
          }
          if (error instanceof PubgateError || Date.now() > deadline) throw error;
          stats.decisionRetries++;
          await sleep(150);
        }
      }
    }

    async function waitFinal(id: string): Promise<Release> {
      const deadline = Date.now() + RELEASE_DEADLINE_MS;
      for (;;) {
        try {
          const release = await withAdmin((app) => app.releases.get(id));
          if (ReleaseService.isFinal(release)) return release;
        } catch {
          // PostgreSQL restarting
        }
        if (Date.now() > deadline) throw new Error(`release ${id} did not reach a final state`);
        await sleep(100);
      }
    }

    async function driveLane(lane: number): Promise<void> {
      for (const run of runs.filter((_, i) => Math.floor(i / VERSIONS) % LANES === lane)) {
        try {
          const started = Date.now();
          run.id = await holdRelease(run.plan);
          await decide(run);
          run.final = await waitFinal(run.id);
          run.ms = Date.now() - started;
        } catch (error) {
          run.error = errorText(error);
          // Later versions of this package would be held behind a broken one: stop the lane.
          throw error;
        }
      }
    }

    /** Releases in `publishing` whose lease belongs to process `pid` (instance ids embed the pid). */
    async function leasesOf(pid: number): Promise<number> {
      try {
        const rows = await withAdmin((app) =>
          app.store.db
            .selectFrom('releases')
            .select('id')
            .where('state', '=', 'publishing')
            .where('lease_owner', 'like', `%:${pid}:%`)
            .execute(),
        );
        return rows.length;
      } catch {
        return 0;
      }
    }

    async function headSeq(): Promise<number> {
      const row = await retrying(
        () =>
          withAdmin((app) =>
            app.store.db
              .selectFrom('audit_events')
              .select('seq')
              .orderBy('seq', 'desc')
              .limit(1)
              .executeTakeFirst(),
          ),
        'audit head',
      );
      return row === undefined ? 0 : Number(row.seq);
    }

    async function publishedBy(pids: readonly number[], afterSeq: number): Promise<number | undefined> {
      return withAdmin(async (app) => {
        for await (const event of app.audit.events({ afterSeq })) {
          if (event.action !== 'release.published') continue;
          const instance = String(event.data['instance'] ?? '');
          const pid = pids.find((p) => instance.includes(`:${p}:`));
          if (pid !== undefined) return pid;
        }
        return undefined;
      });
    }

    /** Immediate stop, a pause, start; then the instances that lived through it must serve and publish. */
    async function restartPostgres(): Promise<void> {
      const downMs = chaosRandom.int(500, 1500);
      const options = postgresOptions(server);
      let resume: () => void = () => {};
      adminPause = new Promise((r) => (resume = r));
      postgresDown = true;
      try {
        while (adminInFlight > 0) await sleep(5);
        await stopPostgresImmediately(server);
        // Let the harness's pool see its idle connections end before it may check one out again.
        await sleep(200);
        adminPause = undefined;
        resume();
        await sleep(downMs);
        await startPostgres(server, options);
      } finally {
        adminPause = undefined;
        resume();
        postgresDown = false;
      }
      stats.postgresRestarts++;
      const afterSeq = await headSeq();
      // Instances that died with the database are restarted first (and reported); the rest must
      // recover by themselves: no kills during this window.
      await reviveExited();
      const live = slots.filter((s): s is Slot & { gate: ChildGate } => s.gate !== undefined);
      const pids = live.map((s) => s.gate.process.pid!);
      const result: Recovery = { running: pids, served: true, published: false, detail: '' };
      for (const slot of live) {
        const deadline = Date.now() + 15_000;
        let lastProbe = '';
        for (;;) {
          const ok = await send(slot, 'GET', '/npm/-/stage?perPage=1').then(
            (a) => {
              if (a.status !== 200) lastProbe = `${a.status} ${String(a.json['code'] ?? '')}`;
              return a.status === 200;
            },
            (error: unknown) => {
              lastProbe = errorText(error);
              return false;
            },
          );
          if (ok) break;
          if (Date.now() > deadline) {
            result.served = false;
            result.detail += `pid ${slot.gate.process.pid} did not answer GET /npm/-/stage with 200 within 15 s after the restart (last: ${lastProbe}); `;
            break;
          }
          await sleep(200);
        }
      }
      // A probe release held and approved after the restart proves that publishing resumes even when
      // every planned release had already finished before it.
      const probeTarball = await packageTarball(PROBE_NAME, '1.0.0');
      const probeId = await holdRelease({
        name: PROBE_NAME,
        version: '1.0.0',
        channel: 'stage',
        decision: 'approve',
        tarball: probeTarball,
        integrity: sha512Integrity(probeTarball),
      });
      await retrying(() => withAdmin((app) => approveWithQuorum(app, probeId)), 'approve the probe').catch(
        () => undefined,
      );
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const pid = await publishedBy(pids, afterSeq).catch(() => undefined);
        if (pid !== undefined) {
          result.published = true;
          break;
        }
        await sleep(200);
      }
      if (!result.published)
        result.detail += `no release was published by a running instance (pids ${pids.join(', ')}) within 20 s after the restart`;
      recovery = result;
    }

    /** The seeded chaos: kill one instance, maybe move it to a new port, restart it; PostgreSQL once. */
    async function chaos(isDone: () => boolean, postgresAfterKill: number): Promise<void> {
      // The PostgreSQL restart always happens, even when the releases finish before its turn.
      while (!isDone() || stats.postgresRestarts === 0) {
        await sleep(chaosRandom.int(500, 1500));
        if (isDone() && stats.postgresRestarts === 0) {
          await restartPostgres();
          break;
        }
        if (isDone()) break;
        await reviveExited();
        const slot = chaosRandom.pick(slots);
        const gate = slot.gate;
        if (gate === undefined) continue;
        const pid = gate.process.pid!;
        // Out of the rotation first, so new requests go to the other instance; in-flight ones die.
        slot.gate = undefined;
        await gate.kill('SIGKILL');
        stats.kills++;
        if ((await leasesOf(pid)) > 0) stats.killsMidPublish++;
        await sleep(chaosRandom.int(0, 500));
        const samePort = chaosRandom.chance(0.5);
        if (samePort) stats.samePortRestarts++;
        await startSlot(slot, samePort ? slot.port : await freePort());
        if (stats.kills === postgresAfterKill) await restartPostgres();
      }
    }

    before(
      async () => {
        verdaccio = await startVerdaccio();
        proxy = await startCountingProxy(verdaccio.url, {
          delayMs: () => (delayRandom.chance(0.5) ? delayRandom.int(20, 200) : 0),
        });
        databaseUrl = await freshPostgresDatabase();
        configFile = writeGateConfig({
          upstream: { url: proxy.url, token: verdaccio.token },
          store: { driver: 'postgres', postgresUrl: databaseUrl },
          // Short leases: a publish whose owner was killed is taken over within seconds.
          release: { leaseSeconds: 5, workerIntervalMs: 100 },
        }).file;
        // The harness's own handle on the database: it seals the upstream token, issues the request
        // credential and plays the approvers' quorum. It is never killed.
        admin = await buildApp(loadConfig({ file: configFile, env: {} }), { logger: createLogger('silent') });
        await sealUpstreamToken(admin, verdaccio.token);
        token = await issueToken(admin, 'crash-harness');

        for (let p = 0; p < PACKAGES; p++) {
          for (let v = 0; v < VERSIONS; v++) {
            const name = `crash-harness-${p}`;
            const version = `1.${v}.0`;
            const tarball = await packageTarball(name, version);
            const index = runs.length + 1;
            runs.push({
              plan: {
                name,
                version,
                channel: planRandom.chance(0.5) ? 'publish' : 'stage',
                decision: index % REJECT_EVERY === 0 ? 'reject' : 'approve',
                tarball,
                integrity: sha512Integrity(tarball),
              },
              decisionReturned: false,
              decisionFoundAfterError: false,
            });
          }
        }
        for (let i = 0; i < 2; i++) {
          const slot: Slot = { gate: undefined, port: 0, starts: 0 };
          slots.push(slot);
          await startSlot(slot, await freePort());
        }

        const postgresAfterKill = chaosRandom.int(1, 3);
        console.log(
          `crash harness: seed=${seed} (replay with PUBGATE_CRASH_SEED=${seed}); ${runs.length} releases, ${LANES} lanes, PostgreSQL restart after kill #${postgresAfterKill}`,
        );
        const started = Date.now();
        let done = false;
        const chaosTask = chaos(() => done, postgresAfterKill).catch((error: unknown) => {
          chaosError = error;
        });
        const lanes = await Promise.allSettled(Array.from({ length: LANES }, (_, lane) => driveLane(lane)));
        done = true;
        await chaosTask;
        const failed = lanes.find((l) => l.status === 'rejected');
        if (failed !== undefined) driveError = failed.reason;

        const outcomes = new Map<string, number>();
        for (const run of runs)
          outcomes.set(
            run.final?.state ?? 'unfinished',
            (outcomes.get(run.final?.state ?? 'unfinished') ?? 0) + 1,
          );
        const takeovers = runs.filter((r) => (r.final?.attempts ?? 0) > 1).length;
        const durations = runs.map((r) => r.ms ?? 0).sort((a, b) => a - b);
        console.log(
          `crash harness summary: seed=${seed} runs=${runs.length} kills=${stats.kills} (mid-publish ${stats.killsMidPublish}, same-port restarts ${stats.samePortRestarts}) ` +
            `gate-starts=${stats.gateStarts} postgres-restarts=${stats.postgresRestarts} ` +
            `outcomes={${[...outcomes].map(([k, v]) => `${k}: ${v}`).join(', ')}} takeovers=${takeovers} ` +
            `submit-retries=${stats.submitRetries} held-answers-lost=${stats.heldAnswersLost} decision-retries=${stats.decisionRetries} ` +
            `unexpected-exits=${stats.unexpectedExits.length} decisions-found-after-error=${runs.filter((r) => r.decisionFoundAfterError).length} hangs=${stats.hangs.length} ` +
            `answers={${[...answers].map(([k, v]) => `${k}: ${v}`).join(', ')}} upstream-puts=${proxy.puts.length} release-ms(p50/max)=${durations[durations.length >> 1]}/${durations.at(-1)} gate-start-ms(avg)=${Math.round(stats.gateStartMs / stats.gateStarts)} elapsed=${((Date.now() - started) / 1000).toFixed(1)}s`,
        );
        const logged = summarizeGateLog(gateLog(), 50);
        if (logged.size > 0)
          console.log(`gate errors logged: ${[...logged].map(([k, v]) => `${v}× ${k}`).join('; ')}`);
        // The gates are done: stop them so the checks below read a quiet database.
        for (const slot of slots) await slot.gate?.kill('SIGKILL');
      },
      { timeout: 150_000 },
    );

    after(async () => {
      for (const slot of slots) await slot.gate?.kill('SIGKILL');
      await admin?.close();
      await proxy?.close();
      await verdaccio?.stop();
      if (configFile !== undefined) rmSync(dirname(configFile), { recursive: true, force: true });
      if (databaseUrl !== undefined) {
        const client = new pg.Client({ connectionString: postgresAdminUrl() });
        try {
          await client.connect();
          await client.query(
            `drop database if exists ${new URL(databaseUrl).pathname.slice(1)} with (force)`,
          );
        } catch {
          // best effort: the database is a throwaway
        } finally {
          await client.end().catch(() => {});
        }
      }
    });

    const context = (): string => `seed ${seed}`;

    it('ran the chaos it promised: ≥ 30 releases, kills at random points, one PostgreSQL restart', () => {
      assert.equal(
        chaosError,
        undefined,
        `the chaos schedule failed (${context()}): ${errorText(chaosError)}`,
      );
      assert.ok(runs.length >= 30);
      assert.ok(stats.kills >= 3, `only ${stats.kills} kills (${context()})`);
      assert.equal(stats.postgresRestarts, 1, `PostgreSQL restarts (${context()})`);
    });

    it('brings every release to a final state, with exactly one release per version', async () => {
      assert.equal(
        driveError,
        undefined,
        `a release did not finish (${context()}): ${errorText(driveError)}; ${runs
          .filter((r) => r.error !== undefined)
          .map((r) => `${r.plan.name}@${r.plan.version}: ${r.error}`)
          .join('; ')}`,
      );
      for (const run of runs) {
        const label = `${run.plan.name}@${run.plan.version} (${context()})`;
        assert.ok(run.final !== undefined && ReleaseService.isFinal(run.final), `${label} is final`);
        assert.equal(
          run.final.state,
          run.plan.decision === 'approve' ? 'published' : 'rejected',
          `${label} ended ${run.final.state}: ${run.final.reason ?? ''}`,
        );
        const held = (await admin!.releases.list({ package: run.plan.name })).filter(
          (r) => r.version === run.plan.version,
        );
        assert.equal(held.length, 1, `${label}: one release for the version`);
        assert.equal(held[0]!.id, run.id);
      }
      const total = await admin!.store.db
        .selectFrom('releases')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('package', '!=', PROBE_NAME)
        .executeTakeFirstOrThrow();
      assert.equal(Number(total.n), runs.length, 'no stray releases (the post-restart probe aside)');
    });

    it('publishes no version twice: one accepted upstream PUT and one release.published event per release', async () => {
      for (const run of runs) {
        const label = `${run.plan.name}@${run.plan.version} (${context()})`;
        const expected = run.plan.decision === 'approve' ? 1 : 0;
        assert.equal(
          proxy!.accepted(run.plan.name, run.plan.version),
          expected,
          `${label}: upstream accepted PUTs`,
        );
        let published = 0;
        for await (const event of admin!.audit.events({ subject: `release:${run.id!}` }))
          if (event.action === 'release.published') published++;
        assert.equal(published, expected, `${label}: release.published events`);
      }
      const planned = new Set([
        ...runs.map((r) => `${r.plan.name}@${r.plan.version}`),
        `${PROBE_NAME}@1.0.0`,
      ]);
      for (const put of proxy!.puts)
        for (const version of put.versions)
          assert.ok(planned.has(`${put.name}@${version}`), `unplanned upstream PUT ${put.name}@${version}`);
    });

    it('loses no approved release: each is upstream with the approved integrity; rejected ones are not', async () => {
      for (const run of runs) {
        const label = `${run.plan.name}@${run.plan.version} (${context()})`;
        const response = await fetch(`${verdaccio!.url}/${escapedName(run.plan.name)}`);
        const packument =
          response.status === 200
            ? ((await response.json()) as { versions?: Record<string, { dist?: { integrity?: string } }> })
            : {};
        const upstream = packument.versions?.[run.plan.version]?.dist?.integrity;
        if (run.plan.decision === 'approve') {
          assert.equal(
            run.final?.integrity,
            run.plan.integrity,
            `${label}: the gate approved the bytes it was sent`,
          );
          assert.equal(upstream, run.plan.integrity, `${label}: upstream has the approved integrity`);
        } else {
          assert.equal(upstream, undefined, `${label}: a rejected release never reaches the upstream`);
        }
      }
    });

    it('loses no approval: every approve call that returned is recorded and published', async () => {
      const approved = runs.filter((r) => r.plan.decision === 'approve');
      assert.ok(
        approved.every((r) => r.decisionReturned || r.decisionFoundAfterError),
        'every approval was recorded',
      );
      for (const run of approved.filter((r) => r.decisionReturned)) {
        const label = `${run.plan.name}@${run.plan.version} (${context()})`;
        const actions: string[] = [];
        for await (const event of admin!.audit.events({ subject: `release:${run.id!}` }))
          actions.push(`${event.action}:${event.actor}`);
        assert.equal(
          actions.filter((a) => a === 'release.approved:test:quorum').length,
          1,
          `${label}: one approval event (${actions.join(', ')})`,
        );
        assert.equal((await admin!.releases.get(run.id!)).state, 'published', label);
      }
    });

    it('keeps the audit chain verifiable', async () => {
      const verification = await admin!.audit.verify();
      assert.equal(verification.ok, true, JSON.stringify(verification));
    });

    it('recovers from the PostgreSQL restart: every instance serves and publishing resumes, no request hangs', () => {
      assert.ok(recovery !== undefined, 'PostgreSQL was restarted');
      assert.ok(recovery.running.length > 0, 'instances were running after the restart');
      assert.equal(recovery.served, true, `${recovery.detail} (${context()})`);
      assert.equal(recovery.published, true, `${recovery.detail} (${context()})`);
      assert.deepEqual(stats.hangs, [], `requests that hung (${context()})`);
    });

    it('keeps every gate process running through the PostgreSQL restart', () => {
      assert.deepEqual(stats.unexpectedExits, [], `instances that exited on their own (${context()})`);
    });
  });
}
