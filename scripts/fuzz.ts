/**
 * `npm run fuzz`: the CI fuzz properties (test/fuzz/properties.ts), run much longer. Each target runs
 * in a worker under a hang and heap watchdog; prints a progress line per target, the counts per
 * property (cases, failures, shrunk counterexample) and the peak RSS; exits 1 on any failure.
 *
 *   npm run fuzz -- [--seconds S] [--runs N] [--target name[,name]] [--property text] [--seed N] [--path P] [--skip-todo]
 *
 * --seconds: total wall-clock budget, shared equally by the selected properties (default 300).
 * --runs: cases per property (default: unbounded, the time budget decides). With both, the first
 * limit reached ends a property. --seed/--path replay a failure printed by a previous run.
 */
import { parseArgs } from 'node:util';
import { formatFailure, redactReport, type FuzzProperty, type RunSummary } from '../test/fuzz/harness.ts';
import { FUZZ_TARGETS, findTarget, type FuzzTarget } from '../test/fuzz/properties.ts';
import { FuzzSession } from '../test/fuzz/session.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string' },
    runs: { type: 'string' },
    target: { type: 'string', multiple: true },
    property: { type: 'string' },
    seed: { type: 'string' },
    path: { type: 'string' },
    'skip-todo': { type: 'boolean', default: false },
    'max-heap-mb': { type: 'string', default: '768' },
    'hang-seconds': { type: 'string', default: '30' },
  },
  strict: true,
});

function positive(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`--${name} must be a positive number`);
  return n;
}

const seconds = positive('seconds', values.seconds) ?? (values.runs === undefined ? 300 : undefined);
const runs = positive('runs', values.runs);
const seed = values.seed === undefined ? undefined : Number(values.seed);
const targets: FuzzTarget[] =
  values.target === undefined
    ? [...FUZZ_TARGETS]
    : values.target.flatMap((t) => t.split(',')).map(findTarget);

const mb = (bytes: number): string => `${Math.round(bytes / 2 ** 20)} MB`;
let peakRss = process.memoryUsage.rss();
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 100);

interface Row {
  readonly target: string;
  readonly property: FuzzProperty;
  readonly summary: RunSummary;
}

const selected: Array<{ target: FuzzTarget; properties: readonly FuzzProperty[] }> = [];
for (const target of targets) {
  const properties = (await target.load()).filter(
    (p) =>
      !(values['skip-todo'] && p.todo !== undefined) &&
      (values.property === undefined || p.name.includes(values.property)),
  );
  if (target.pending !== undefined && properties.length === 0)
    console.log(`[${target.name}] skipped: ${target.pending}`);
  else selected.push({ target, properties });
}
const propertyCount = selected.reduce((n, s) => n + s.properties.length, 0);
const perPropertyMs =
  seconds === undefined ? 24 * 3600 * 1000 : Math.max(1000, (seconds * 1000) / Math.max(1, propertyCount));
console.log(
  `fuzzing ${propertyCount} properties of ${selected.length} targets: ${runs === undefined ? 'unbounded cases' : `${runs} cases`} and ${Math.round(perPropertyMs / 1000)} s per property${seed === undefined ? '' : `, seed ${seed}`}`,
);

const rows: Row[] = [];
const started = performance.now();
for (const { target, properties } of selected) {
  let current = '';
  const session = new FuzzSession(target.name, {
    hangMs: Number(values['hang-seconds']) * 1000,
    maxHeapMb: Number(values['max-heap-mb']),
    onProgress: (cases) => {
      peakRss = Math.max(peakRss, session.peakRss);
      if (Math.round(performance.now() / 1000) % 10 === 0)
        console.log(`[${target.name}] … ${current}: ${cases} cases, rss ${mb(process.memoryUsage.rss())}`);
    },
  });
  let cases = 0;
  let failures = 0;
  for (const property of properties) {
    current = property.name.slice(0, 60);
    const summary = await session.run(property.name, {
      runs: runs ?? Number.MAX_SAFE_INTEGER,
      timeLimitMs: perPropertyMs,
      seed,
      path: values.path,
    });
    rows.push({ target: target.name, property, summary });
    cases += summary.runs;
    if (summary.failed) failures++;
    const status = summary.failed ? (property.todo === undefined ? 'FAIL' : 'FAIL (known bug)') : 'ok';
    console.log(
      `[${target.name}] ${status} ${summary.runs} cases in ${(summary.durationMs / 1000).toFixed(1)} s: ${property.name}`,
    );
    if (summary.failed)
      console.log(formatFailure(target.name, property.name, summary).replace(/^/gm, '    '));
  }
  peakRss = Math.max(peakRss, session.peakRss);
  await session.close();
  console.log(
    `[${target.name}] done: ${properties.length} properties, ${cases} cases, ${failures} failing, rss now ${mb(process.memoryUsage.rss())}, peak ${mb(peakRss)}`,
  );
}
clearInterval(sampler);

console.log('\nsummary');
console.log(
  ['target'.padEnd(17), 'cases'.padStart(9), 'failed'.padStart(7), 'shrinks'.padStart(8), '  property'].join(
    ' ',
  ),
);
for (const { target, property, summary } of rows) {
  const failed = summary.failed ? (property.todo === undefined ? 'yes' : 'known') : 'no';
  console.log(
    [
      target.padEnd(17),
      String(summary.runs).padStart(9),
      failed.padStart(7),
      String(summary.shrinks).padStart(8),
      `  ${redactReport(property.name)}`,
    ].join(' '),
  );
}
const failing = rows.filter((r) => r.summary.failed);
const total = rows.reduce((n, r) => n + r.summary.runs, 0);
console.log(
  `\n${total} cases in ${((performance.now() - started) / 1000).toFixed(0)} s; ${failing.length} failing (${failing.filter((r) => r.property.todo !== undefined).length} known bugs); peak RSS ${mb(peakRss)}`,
);
process.exit(failing.length > 0 ? 1 : 0);
