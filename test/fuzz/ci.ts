/**
 * The bounded CI run of one fuzz target: each property with its fixed `ciRuns`, a per-case time
 * guard, a per-property time cap, in a worker under a hang and heap watchdog. Set FUZZ_SEED to
 * replay a failure the same way.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatFailure, type TargetName } from './harness.ts';
import { findTarget } from './properties.ts';
import { FuzzSession } from './session.ts';

/** Per property: past this the run stops early and counts the cases run so far (bounded CI time). */
const PROPERTY_TIME_CAP_MS = 6_000;
/** The whole fuzz suite's process (runner, worker and all) must stay below this. */
const MAX_RSS_BYTES = 1536 * 1024 * 1024;

/** Declares the node:test suite of one target. */
export async function describeFuzzTarget(name: TargetName): Promise<void> {
  const target = findTarget(name);
  const properties = await target.load();
  const seed = process.env['FUZZ_SEED'] === undefined ? undefined : Number(process.env['FUZZ_SEED']);

  describe(`fuzz: ${target.title}`, () => {
    // 2 GB, not less: with a 768 MB old-generation limit V8 aborted the whole worker process while
    // compiling one of yaml's small regular expressions ("RegExpCompiler Allocation failed - process
    // out of memory") at a 40 MB heap, in about 1 run in 24 (config, FUZZ_SEED=1951013472 or 3717442);
    // with 2 GB, 0 in 48 plus both seeds. The RSS bound below still catches unbounded memory.
    const session = new FuzzSession(name, { hangMs: 20_000, maxHeapMb: 2048 });
    after(() => session.close());

    if (target.pending !== undefined) it(`has properties`, { todo: target.pending }, () => {});

    for (const property of properties) {
      it(
        property.name,
        { ...(property.todo === undefined ? {} : { todo: property.todo }), timeout: 120_000 },
        async () => {
          const summary = await session.run(property.name, {
            runs: property.ciRuns,
            timeLimitMs: PROPERTY_TIME_CAP_MS,
            seed,
          });
          if (summary.failed) assert.fail(formatFailure(name, property.name, summary));
          assert.ok(summary.runs > 0, 'no case ran');
        },
      );
    }

    if (properties.length > 0) {
      it('keeps the process RSS bounded while fuzzing', () => {
        assert.ok(session.peakRss < MAX_RSS_BYTES, `peak RSS ${Math.round(session.peakRss / 2 ** 20)} MB`);
      });
    }
  });
}
