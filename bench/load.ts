/**
 * bench:load (issue 5, point 4) — a bounded closed-loop load on PostgreSQL-backed gates, first one
 * instance, then two (round-robin), on 127.0.0.1 only. The mix: approval reads (`GET /npm/-/stage/<id>`,
 * `GET /npm/-/stage`), packument reads (`GET /npm/<name>`), stage (`POST /npm/-/stage/package/<name>`,
 * a fresh version each) and publish (`PUT /npm/<name>`, answered `401 ERR_RELEASE_HELD`), with
 * internal approvals in the background so the gates' publishers work too. Token introspection
 * (RFC 7662) is issue 4: its slot in the mix is reserved at weight 0.
 * Prints per phase and request kind: requests/s, p50/p99, errors; and each gate's RSS (VmRSS, every
 * second) with first/last/max and slope. Peer: the same packument reads straight against Verdaccio.
 * Usage: npm run bench:load [-- --seconds 60 --concurrency 8 --max-requests 500000 --peer-seconds 10 --approve-rate 5 --upstream-auth jwt]
 * `--upstream-auth legacy` runs Verdaccio with its default legacy tokens, which it checks with bcrypt
 * on every authenticated request (~90 ms each): the gate sends its upstream credential on reads too.
 * Needs PUBGATE_TEST_POSTGRES_URL (an admin URL; `.ci/run` starts PostgreSQL and sets it).
 */
import { readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { buildApp, createLogger, type App } from '../src/app.ts';
import { loadConfig } from '../src/config/index.ts';
import { freshPostgresDatabase } from '../test/support/backends.ts';
import {
  issueToken,
  sealUpstreamToken,
  spawnGate,
  writeGateConfig,
  type ChildGate,
  approveWithQuorum,
} from '../test/support/gate.ts';
import { escapedName, packageTarball, publishDoc } from '../test/support/publish-doc.ts';
import { startVerdaccio, type Verdaccio } from '../test/support/verdaccio.ts';

/** A kind of request in the mix. */
type Kind = 'stage-item' | 'stage-list' | 'packument' | 'stage' | 'publish' | 'introspect';

/** Weights of the mix (per 100 requests). */
const MIX: Readonly<Record<Kind, number>> = Object.freeze({
  'stage-item': 20,
  'stage-list': 10,
  packument: 40,
  stage: 15,
  publish: 15,
  // RFC 7662 token introspection arrives with issue 4; the slot stays in the tables at weight 0.
  introspect: 0,
});
const KINDS = Object.keys(MIX) as Kind[];
const READ_PACKAGES = 20;
const REQUEST_TIMEOUT_MS = 30_000;

/** What one phase measured. */
interface PhaseResult {
  readonly name: string;
  readonly seconds: number;
  readonly latencies: Map<Kind, number[]>;
  readonly errors: Map<Kind, Map<string, number>>;
  readonly memory: Map<string, { pid: number; samples: Array<[number, number]> }>;
  readonly approved: number;
  readonly published: number;
  readonly mix: Readonly<Partial<Record<Kind, number>>>;
}

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '8' },
    'max-requests': { type: 'string', default: '500000' },
    'peer-seconds': { type: 'string', default: '10' },
    'approve-rate': { type: 'string', default: '5' },
    'upstream-auth': { type: 'string', default: 'jwt' },
  },
  strict: true,
});

function toPositiveInt(name: string, text: string | undefined): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(`bench:load: --${name} must be a positive integer\n`);
    process.exit(2);
  }
  return value;
}

const seconds = toPositiveInt('seconds', args.seconds);
const concurrency = toPositiveInt('concurrency', args.concurrency);
const maxRequests = toPositiveInt('max-requests', args['max-requests']);
const peerSeconds = toPositiveInt('peer-seconds', args['peer-seconds']);
const approveRate = toPositiveInt('approve-rate', args['approve-rate']);
const upstreamAuth = args['upstream-auth'];
if (upstreamAuth !== 'jwt' && upstreamAuth !== 'legacy') {
  process.stderr.write('bench:load: --upstream-auth is jwt or legacy\n');
  process.exit(2);
}

if (!process.env['PUBGATE_TEST_POSTGRES_URL']) {
  process.stderr.write(
    'bench:load needs PostgreSQL: set PUBGATE_TEST_POSTGRES_URL to an admin URL, e.g.\n' +
      '  PUBGATE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:55432/postgres npm run bench:load\n' +
      '(.ci/run starts PostgreSQL 15 on 127.0.0.1 and sets it; the bench creates and drops its own database)\n',
  );
  process.exit(2);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function assertLoopback(url: string): void {
  // The load never leaves this machine.
  if (new URL(url).hostname !== '127.0.0.1')
    throw new Error(`bench:load only targets 127.0.0.1, not ${new URL(url).host}`);
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Resident set size of a process in MB, from /proc/<pid>/status (VmRSS, kB). */
function readRssMb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? undefined : Number(match[1]) / 1024;
  } catch {
    return undefined;
  }
}

/** Least-squares slope of (seconds, MB) samples, in MB per minute. */
function slopeMbPerMinute(samples: ReadonlyArray<[number, number]>): number {
  if (samples.length < 2) return 0;
  const n = samples.length;
  const mx = samples.reduce((s, [x]) => s + x, 0) / n;
  const my = samples.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of samples) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 60;
}

function pickKind(mix: Readonly<Partial<Record<Kind, number>>>): Kind {
  const total = KINDS.reduce((s, k) => s + (mix[k] ?? 0), 0);
  let roll = Math.random() * total;
  for (const kind of KINDS) {
    roll -= mix[kind] ?? 0;
    if (roll < 0) return kind;
  }
  return 'packument';
}

let verdaccio: Verdaccio | undefined;
let admin: App | undefined;
let configFile: string | undefined;
let databaseUrl: string | undefined;
const gates: ChildGate[] = [];
let interrupted = false;
process.once('SIGINT', () => {
  interrupted = true;
  process.stderr.write('\nbench:load: interrupted; stopping after this phase\n');
});

let token = '';
let versionCounter = 0;
const releaseIds: string[] = [];
const approvalQueue: string[] = [];
const readNames = Array.from({ length: READ_PACKAGES }, (_, i) => `bench-load-read-${i}`);

/** Sends one request of `kind` to `base`; returns an error label, or undefined when the answer was the expected one. */
async function sendOne(kind: Kind, base: string): Promise<string | undefined> {
  const auth = { authorization: `Bearer ${token}` };
  let response: Response;
  const signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  switch (kind) {
    case 'stage-item': {
      const id = releaseIds[Math.floor(Math.random() * releaseIds.length)]!;
      response = await fetch(`${base}/npm/-/stage/${id}`, { headers: auth, signal });
      await response.arrayBuffer();
      return response.status === 200 ? undefined : `status ${response.status}`;
    }
    case 'stage-list':
      response = await fetch(`${base}/npm/-/stage?perPage=20`, { headers: auth, signal });
      await response.arrayBuffer();
      return response.status === 200 ? undefined : `status ${response.status}`;
    case 'packument': {
      const name = readNames[Math.floor(Math.random() * readNames.length)]!;
      response = await fetch(`${base}/npm/${escapedName(name)}`, { signal });
      await response.arrayBuffer();
      return response.status === 200 ? undefined : `status ${response.status}`;
    }
    case 'stage':
    case 'publish': {
      // A fresh version of a fresh package each time: the gate checks the upstream for it first.
      const n = ++versionCounter;
      const name = `bench-load-${kind}-${process.pid}-${n}`;
      const body = JSON.stringify(publishDoc(name, '1.0.0', await packageTarball(name, '1.0.0')));
      const path =
        kind === 'stage' ? `/npm/-/stage/package/${escapedName(name)}` : `/npm/${escapedName(name)}`;
      response = await fetch(`${base}${path}`, {
        method: kind === 'stage' ? 'POST' : 'PUT',
        headers: { ...auth, 'content-type': 'application/json' },
        body,
        signal,
      });
      const json = (await response.json().catch(() => ({}))) as {
        stageId?: string;
        release?: string;
        code?: string;
      };
      const id =
        kind === 'stage'
          ? response.status === 201
            ? json.stageId
            : undefined
          : response.status === 401 && json.code === 'ERR_RELEASE_HELD'
            ? json.release
            : undefined;
      if (id === undefined)
        return `status ${response.status}${json.code === undefined ? '' : ` ${json.code}`}`;
      releaseIds.push(id);
      approvalQueue.push(id);
      return undefined;
    }
    case 'introspect':
      return 'not implemented (issue 4)';
  }
}

/** Runs `concurrency` closed-loop workers until the time or count limit; samples RSS every second. */
async function runPhase(
  name: string,
  targets: readonly string[],
  limitSeconds: number,
  mix: Readonly<Partial<Record<Kind, number>>>,
  watched: ReadonlyArray<{ label: string; gate: ChildGate }>,
  approve: boolean,
): Promise<PhaseResult> {
  for (const target of targets) assertLoopback(target);
  const latencies = new Map<Kind, number[]>(KINDS.map((k) => [k, []]));
  const errors = new Map<Kind, Map<string, number>>(KINDS.map((k) => [k, new Map()]));
  const memory = new Map(
    watched.map(({ label, gate }) => [
      label,
      { pid: gate.process.pid!, samples: [] as Array<[number, number]> },
    ]),
  );
  const started = performance.now();
  const deadline = started + limitSeconds * 1000;
  let issued = 0;
  let next = 0;
  let done = false;
  let approved = 0;
  const publishedBefore = admin === undefined ? 0 : ((await admin.releases.countByState())['published'] ?? 0);

  const sample = (): void => {
    const t = (performance.now() - started) / 1000;
    for (const entry of memory.values()) {
      const mb = readRssMb(entry.pid);
      if (mb !== undefined) entry.samples.push([t, mb]);
    }
  };
  sample();
  const sampler = setInterval(sample, 1000);
  const progress = setInterval(() => {
    const elapsed = (performance.now() - started) / 1000;
    const width = 30;
    const filled = Math.min(width, Math.round((elapsed / limitSeconds) * width));
    const errorCount = [...errors.values()].reduce(
      (s, m) => s + [...m.values()].reduce((a, b) => a + b, 0),
      0,
    );
    process.stderr.write(
      `\r${name.padEnd(26)} [${'#'.repeat(filled).padEnd(width)}] ${elapsed.toFixed(0).padStart(3)}/${limitSeconds} s  ${String(issued).padStart(7)} req  errors ${errorCount}   `,
    );
  }, 250);

  const approver = async (): Promise<void> => {
    // Internal approvals (the passkey quorum comes later) at a bounded rate, so the publishers
    // work in the background without an unbounded backlog.
    while (!done) {
      await sleep(1000 / approveRate);
      const id = approvalQueue.shift();
      if (id === undefined || admin === undefined) continue;
      try {
        await approveWithQuorum(admin, id);
        approved++;
      } catch {
        // already decided or expired: not part of the measured mix
      }
    }
  };

  const worker = async (): Promise<void> => {
    while (!interrupted && performance.now() < deadline && issued < maxRequests) {
      issued++;
      const kind = pickKind(mix);
      const target = targets[next++ % targets.length]!;
      const t0 = performance.now();
      let error: string | undefined;
      try {
        error = await sendOne(kind, target);
      } catch (cause) {
        error =
          cause instanceof Error
            ? cause.name === 'TimeoutError'
              ? 'timeout'
              : `${cause.name}: ${cause.message.slice(0, 80)}`
            : 'error';
      }
      latencies.get(kind)!.push(performance.now() - t0);
      if (error !== undefined) errors.get(kind)!.set(error, (errors.get(kind)!.get(error) ?? 0) + 1);
    }
  };

  const approving = approve ? approver() : Promise.resolve();
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  const elapsed = (performance.now() - started) / 1000;
  done = true;
  await approving;
  clearInterval(sampler);
  clearInterval(progress);
  sample();
  process.stderr.write('\n');
  const publishedAfter = admin === undefined ? 0 : ((await admin.releases.countByState())['published'] ?? 0);
  return {
    name,
    seconds: elapsed,
    latencies,
    errors,
    memory,
    approved,
    published: publishedAfter - publishedBefore,
    mix,
  };
}

function fmt(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}

function printPhase(result: PhaseResult): void {
  const all = [...result.latencies.values()].reduce((s, l) => s + l.length, 0);
  const errorTotal = [...result.errors.values()].reduce(
    (s, m) => s + [...m.values()].reduce((a, b) => a + b, 0),
    0,
  );
  console.log(
    `\n== ${result.name}: ${fmt(result.seconds)} s, ${all} requests, ${fmt(all / result.seconds)} req/s, errors ${errorTotal}`,
  );
  console.log(
    `  ${'kind'.padEnd(12)} ${'requests'.padStart(9)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'errors'.padStart(7)}`,
  );
  // The introspection row stays in every mixed phase: its slot is part of the mix (issue 4).
  for (const kind of KINDS.filter(
    (k) => (result.mix[k] ?? 0) > 0 || (k === 'introspect' && result.mix === MIX),
  )) {
    const sorted = [...result.latencies.get(kind)!].sort((a, b) => a - b);
    const errs = result.errors.get(kind)!;
    const count = [...errs.values()].reduce((a, b) => a + b, 0);
    const note =
      kind === 'introspect'
        ? '  (RFC 7662 introspection: issue 4, not built yet; slot reserved at weight 0)'
        : count > 0
          ? `  (${[...errs].map(([e, n]) => `${n}× ${e}`).join(', ')})`
          : '';
    console.log(
      `  ${kind.padEnd(12)} ${String(sorted.length).padStart(9)} ${fmt(sorted.length / result.seconds).padStart(8)} ${fmt(percentile(sorted, 50)).padStart(8)} ${fmt(percentile(sorted, 99)).padStart(8)} ${String(count).padStart(7)}${note}`,
    );
  }
  for (const [label, { pid, samples }] of result.memory) {
    if (samples.length === 0) continue;
    const mbs = samples.map(([, mb]) => mb);
    const half = samples.filter(([t]) => t >= result.seconds / 2);
    console.log(
      `  RSS ${label} (pid ${pid}, ${samples.length} samples, 1/s): first ${fmt(mbs[0]!)} MB, last ${fmt(mbs.at(-1)!)} MB, max ${fmt(Math.max(...mbs))} MB, ` +
        `slope ${slopeMbPerMinute(samples) >= 0 ? '+' : ''}${fmt(slopeMbPerMinute(samples), 2)} MB/min (second half ${slopeMbPerMinute(half) >= 0 ? '+' : ''}${fmt(slopeMbPerMinute(half), 2)} MB/min)`,
    );
  }
  if (result.approved > 0 || result.published > 0)
    console.log(
      `  background: ${result.approved} approved internally, ${result.published} published upstream by the gates' workers during the phase`,
    );
}

async function cleanup(): Promise<void> {
  for (const gate of gates) await gate.kill('SIGTERM').catch(() => gate.kill('SIGKILL'));
  await admin?.close().catch(() => {});
  await verdaccio?.stop().catch(() => {});
  if (configFile !== undefined) rmSync(dirname(configFile), { recursive: true, force: true });
  if (databaseUrl !== undefined) {
    const client = new pg.Client({ connectionString: process.env['PUBGATE_TEST_POSTGRES_URL'] });
    try {
      await client.connect();
      await client.query(`drop database if exists ${new URL(databaseUrl).pathname.slice(1)} with (force)`);
    } catch {
      // best effort: the database is a throwaway
    } finally {
      await client.end().catch(() => {});
    }
  }
}

try {
  process.stderr.write('bench:load: starting Verdaccio, PostgreSQL database and gates...\n');
  verdaccio = upstreamAuth === 'jwt' ? await startVerdaccio({ jwt: true }) : await startVerdaccio();
  assertLoopback(verdaccio.url);
  databaseUrl = await freshPostgresDatabase();
  // One config file for both instances: they share the master key and the data folder (blobs), as
  // docs/deploy.md asks of several instances.
  configFile = writeGateConfig({
    upstream: { url: verdaccio.url, token: verdaccio.token },
    store: { driver: 'postgres', postgresUrl: databaseUrl },
    release: { workerIntervalMs: 200 },
  }).file;
  admin = await buildApp(loadConfig({ file: configFile, env: {} }), { logger: createLogger('silent') });
  await sealUpstreamToken(admin, verdaccio.token);
  token = await issueToken(admin, 'bench-load');

  // Packages to read: published straight to Verdaccio, so reads do not depend on the publisher.
  for (const name of readNames) {
    for (const version of ['1.0.0', '1.1.0', '2.0.0']) {
      const response = await fetch(`${verdaccio.url}/${escapedName(name)}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${verdaccio.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(publishDoc(name, version, await packageTarball(name, version))),
      });
      await response.body?.cancel();
      if (!response.ok)
        throw new Error(`seeding ${name}@${version} into Verdaccio failed: ${response.status}`);
    }
  }

  const a = await spawnGate(configFile);
  gates.push(a);
  assertLoopback(a.url);
  // A few held releases so approval reads have ids from the first request on.
  for (let i = 0; i < 10; i++) {
    const error = await sendOne('stage', a.url);
    if (error !== undefined) throw new Error(`seeding a staged release failed: ${error}`);
  }

  console.log(
    `bench:load — pubgate on PostgreSQL, Verdaccio 6.8.0 upstream (${upstreamAuth} tokens), all on 127.0.0.1; ${concurrency} closed-loop workers; ` +
      `each phase ≤ ${seconds} s and ≤ ${maxRequests} requests; internal approvals ≤ ${approveRate}/s`,
  );
  console.log(
    `mix: approval reads ${MIX['stage-item'] + MIX['stage-list']}% (stage item ${MIX['stage-item']}%, stage list ${MIX['stage-list']}%), packument reads ${MIX.packument}%, ` +
      `stage ${MIX.stage}%, publish ${MIX.publish}% (401 ERR_RELEASE_HELD counts as success), introspection ${MIX.introspect}% (RFC 7662 introspection is issue 4: not built yet, slot reserved)`,
  );

  const results: PhaseResult[] = [];
  results.push(await runPhase('one instance', [a.url], seconds, MIX, [{ label: 'gate A', gate: a }], true));
  printPhase(results.at(-1)!);

  if (!interrupted) {
    const b = await spawnGate(configFile);
    gates.push(b);
    results.push(
      await runPhase(
        'two instances',
        [a.url, b.url],
        seconds,
        MIX,
        [
          { label: 'gate A', gate: a },
          { label: 'gate B', gate: b },
        ],
        true,
      ),
    );
    printPhase(results.at(-1)!);
  }

  if (!interrupted) {
    // Peer: the packument reads alone, straight against Verdaccio and then through one gate instance.
    // The gate sends its upstream credential with each read, so the peer sends the same one.
    const direct = await runPeerReads(verdaccio.url, peerSeconds, verdaccio.token);
    const anonymous = await runPeerReads(verdaccio.url, peerSeconds, undefined);
    const viaGate = await runPhase(
      'packument reads via gate A',
      [a.url],
      peerSeconds,
      { packument: 1 },
      [{ label: 'gate A', gate: a }],
      false,
    );
    printPhase(viaGate);
    const gateSorted = [...viaGate.latencies.get('packument')!].sort((x, y) => x - y);
    const gateRps = gateSorted.length / viaGate.seconds;
    const gateP50 = percentile(gateSorted, 50);
    console.log(
      `\n== peer (Verdaccio 6.8.0 direct, same packument reads, ${concurrency} workers, with the upstream token as the gate sends it, ${fmt(direct.seconds)} s): ` +
        `${fmt(direct.rps)} req/s, p50 ${fmt(direct.p50)} ms, p99 ${fmt(direct.p99)} ms, errors ${direct.errors}`,
    );
    console.log(
      `   (anonymous: ${fmt(anonymous.rps)} req/s, p50 ${fmt(anonymous.p50)} ms, p99 ${fmt(anonymous.p99)} ms, errors ${anonymous.errors})`,
    );
    console.log(
      `   ratio gate/Verdaccio: throughput ${fmt(gateRps / direct.rps, 2)}×, p50 latency ${fmt(gateP50 / direct.p50, 2)}× (the gate proxies each read to Verdaccio, so it adds to it)`,
    );
  }
} finally {
  await cleanup();
}

/** The peer: packument reads straight against Verdaccio with the same workers and limits. */
async function runPeerReads(
  base: string,
  limitSeconds: number,
  credential: string | undefined,
): Promise<{ seconds: number; rps: number; p50: number; p99: number; errors: number }> {
  assertLoopback(base);
  const latencies: number[] = [];
  let errors = 0;
  let issued = 0;
  const started = performance.now();
  const deadline = started + limitSeconds * 1000;
  const progress = setInterval(() => {
    const elapsed = (performance.now() - started) / 1000;
    process.stderr.write(
      `\r${`peer: Verdaccio${credential === undefined ? ' (anon)' : ''}`.padEnd(26)} [${'#'.repeat(Math.min(30, Math.round((elapsed / limitSeconds) * 30))).padEnd(30)}] ${elapsed.toFixed(0).padStart(3)}/${limitSeconds} s  ${String(issued).padStart(7)} req  errors ${errors}   `,
    );
  }, 250);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!interrupted && performance.now() < deadline && issued < maxRequests) {
        issued++;
        const name = readNames[Math.floor(Math.random() * readNames.length)]!;
        const t0 = performance.now();
        try {
          const response = await fetch(`${base}/${escapedName(name)}`, {
            headers: credential === undefined ? {} : { authorization: `Bearer ${credential}` },
            signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          });
          await response.arrayBuffer();
          if (response.status !== 200) errors++;
        } catch {
          errors++;
        }
        latencies.push(performance.now() - t0);
      }
    }),
  );
  clearInterval(progress);
  process.stderr.write('\n');
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((x, y) => x - y);
  return {
    seconds,
    rps: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
  };
}
