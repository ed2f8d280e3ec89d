/**
 * bench:publish — the same package published N times (distinct versions) straight to Verdaccio and
 * through pubgate, interleaved in one run, with the real npm CLI. Through the gate the time is
 * `npm publish` until the gate holds the release, plus approval → published upstream; the human wait
 * in between is excluded. Prints each median and the ratio (target: ≤ 1.3×).
 * Usage: npm run bench:publish [-- --runs 20 --size-kb 256]
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startVerdaccio } from '../test/support/verdaccio.ts';
import { startTestGate, approveWithQuorum } from '../test/support/gate.ts';
import { makePackage, runNpm, writeNpmrc } from '../test/support/npm.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const runs = arg('runs', 20);
const sizeKb = arg('size-kb', 256);
const verdaccio = await startVerdaccio();
const gate = await startTestGate({
  upstream: { url: verdaccio.url, token: verdaccio.token },
  release: { workerIntervalMs: 50 },
});
const direct = writeNpmrc(`${verdaccio.url}/`, verdaccio.token);
const viaGate = writeNpmrc(`${gate.url}/npm/`, await gate.issueToken('bench'));
const payload = randomBytes(sizeKb * 1024).toString('base64');
const directTimes: number[] = [];
const gateTimes: number[] = [];
const heldTimes: number[] = [];
const bar = (i: number): void => {
  process.stderr.write(`\r[${'#'.repeat(i).padEnd(runs)}] ${i}/${runs}`);
};

try {
  for (let i = 0; i < runs; i++) {
    bar(i);
    const version = `1.0.${i}`;
    const dirA = makePackage('bench-direct', version, {}, { 'payload.txt': payload });
    let started = performance.now();
    const a = await runNpm(['publish', '--registry', `${verdaccio.url}/`], { cwd: dirA, userconfig: direct });
    if (a.code !== 0) throw new Error(`direct publish failed: ${a.stderr.slice(-500)}`);
    directTimes.push(performance.now() - started);

    const dirB = makePackage('bench-gated', version, {}, { 'payload.txt': payload });
    started = performance.now();
    await runNpm(['publish', '--registry', `${gate.url}/npm/`], { cwd: dirB, userconfig: viaGate });
    const held = performance.now() - started;
    const [release] = await gate.app.releases.list({ package: 'bench-gated', state: 'awaiting_approval' });
    if (release === undefined) throw new Error('the gate did not hold the release');
    started = performance.now();
    await approveWithQuorum(gate.app, release.id);
    for (;;) {
      const state = (await gate.app.releases.get(release.id)).state;
      if (state === 'published') break;
      if (state === 'failed') throw new Error('publish failed');
      await new Promise((r) => setTimeout(r, 5));
    }
    heldTimes.push(held);
    gateTimes.push(held + (performance.now() - started));
  }
  bar(runs);
  process.stderr.write('\n');
  const d = median(directTimes);
  const g = median(gateTimes);
  const result = {
    runs,
    packageKb: sizeKb,
    peer: 'npm publish straight to Verdaccio 6.8.0',
    directMedianMs: Math.round(d),
    gateMedianMs: Math.round(g),
    ratio: Number((g / d).toFixed(3)),
    target: 1.3,
  };
  writeFileSync(join(gate.dir, '..', 'pubgate-bench-publish.json'), JSON.stringify(result));
  console.log(`publish, ${runs} runs of a ${sizeKb} KB package (npm CLI, median wall time):`);
  console.log(`  straight to Verdaccio : ${result.directMedianMs} ms`);
  console.log(
    `  through pubgate       : ${result.gateMedianMs} ms (npm until held + approval → published upstream)`,
  );
  console.log(`    of which npm until held: ${Math.round(median(heldTimes))} ms`);
  console.log(`  ratio                 : ${result.ratio}× (target ≤ ${result.target}×)`);
} finally {
  await gate.stop();
  await verdaccio.stop();
}
