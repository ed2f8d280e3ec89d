/**
 * `npm run bench:verify`: throughput of `verifyRelease` (digest streamed from disk, DSSE signature,
 * key window, subject, policy, and the @sigstore/verify cross-check) against `sha512sum` of the same
 * file, for 1 MB and 50 MB tarballs. Medians of several interleaved runs; target ratio ≤ 1.5×.
 * Flags: `--json` prints machine-readable results; `--check` exits 1 when a ratio is over target.
 */
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateMasterKey } from '../src/vault/index.ts';
import {
  computeSha512Hex,
  KeyRing,
  MemoryKeyRingStore,
  signReleaseAttestation,
  verifyRelease,
} from '../src/signing/index.ts';

const TARGET_RATIO = 1.5;
const SIZES = [
  { label: '1 MB', bytes: 1_000_000, runs: 41 },
  { label: '50 MB', bytes: 50_000_000, runs: 15 },
];

interface Result {
  size: string;
  bytes: number;
  runs: number;
  verifyMs: number;
  sha512sumMs: number;
  nodeHashMs: number;
  ratio: number;
}

async function writeRandomFile(path: string, bytes: number): Promise<void> {
  const file = await open(path, 'w');
  try {
    const chunk = Buffer.alloc(1 << 20);
    for (let written = 0; written < bytes; written += chunk.length) {
      const n = Math.min(chunk.length, bytes - written);
      randomFillSync(chunk, 0, n);
      await file.write(chunk, 0, n);
    }
  } finally {
    await file.close();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function timeSha512sum(path: string, expected: string): number {
  const start = performance.now();
  const out = spawnSync('sha512sum', [path], { encoding: 'utf8' });
  const elapsed = performance.now() - start;
  if (out.status !== 0 || !out.stdout.startsWith(expected))
    throw new Error(`sha512sum failed: ${out.stderr}`);
  return elapsed;
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const check = process.argv.includes('--check');
  const dir = await mkdtemp(join(tmpdir(), 'pubgate-bench-verify-'));
  try {
    const ring = new KeyRing({ store: new MemoryKeyRingStore(), masterKey: generateMasterKey() });
    await ring.initialize();
    const signer = await ring.activeSigner();
    const results: Result[] = [];
    for (const size of SIZES) {
      const path = join(dir, `bench-${size.bytes}.tgz`);
      await writeRandomFile(path, size.bytes);
      const sha512 = await computeSha512Hex({ path });
      const { bundle } = await signReleaseAttestation({
        signer,
        release: {
          name: '@bench/pkg',
          version: '1.0.0',
          sha512,
          predicate: {
            releaseId: 'bench',
            policy: { id: 'bench', version: '1', requiredApprovals: 1 },
            requester: { identity: 'user:req' },
            approvers: [
              {
                identity: 'user:app',
                credentialId: 'Y3JlZA',
                assertionSha256: 'a'.repeat(64),
                at: new Date().toISOString(),
              },
            ],
            build: null,
            checks: [{ name: 'integrity', result: 'pass' }],
            times: { requestedAt: new Date().toISOString(), approvedAt: new Date().toISOString() },
          },
        },
      });
      const verifyOnce = async (): Promise<number> => {
        const start = performance.now();
        await verifyRelease({
          bundle,
          artifact: { path },
          expected: { name: '@bench/pkg', version: '1.0.0' },
          keys: ring,
        });
        return performance.now() - start;
      };
      const hashOnce = async (): Promise<number> => {
        const start = performance.now();
        await computeSha512Hex({ path });
        return performance.now() - start;
      };
      // Warm the page cache, the JIT and the sigstore-js code paths before measuring.
      for (let i = 0; i < 3; i++) {
        await verifyOnce();
        timeSha512sum(path, sha512);
      }
      const verifyTimes: number[] = [];
      const sumTimes: number[] = [];
      const hashTimes: number[] = [];
      // Interleave so drift (thermal, neighbours) hits both sides alike.
      for (let i = 0; i < size.runs; i++) {
        verifyTimes.push(await verifyOnce());
        sumTimes.push(timeSha512sum(path, sha512));
        hashTimes.push(await hashOnce());
      }
      const verifyMs = median(verifyTimes);
      const sha512sumMs = median(sumTimes);
      results.push({
        size: size.label,
        bytes: size.bytes,
        runs: size.runs,
        verifyMs,
        sha512sumMs,
        nodeHashMs: median(hashTimes),
        ratio: verifyMs / sha512sumMs,
      });
    }
    if (json) {
      console.log(JSON.stringify({ targetRatio: TARGET_RATIO, results }, null, 2));
    } else {
      const mbps = (bytes: number, ms: number): string => ((bytes / 1e6 / ms) * 1000).toFixed(0).padStart(5);
      console.log(
        `verifyRelease vs sha512sum (median of N interleaved runs; target ratio ≤ ${TARGET_RATIO}×)`,
      );
      console.log('size    runs  verifyRelease         sha512sum             node sha512 only      ratio');
      for (const r of results) {
        console.log(
          `${r.size.padEnd(7)} ${String(r.runs).padStart(4)}  ` +
            `${r.verifyMs.toFixed(2).padStart(8)} ms ${mbps(r.bytes, r.verifyMs)} MB/s  ` +
            `${r.sha512sumMs.toFixed(2).padStart(8)} ms ${mbps(r.bytes, r.sha512sumMs)} MB/s  ` +
            `${r.nodeHashMs.toFixed(2).padStart(8)} ms ${mbps(r.bytes, r.nodeHashMs)} MB/s  ` +
            `${r.ratio.toFixed(2)}× ${r.ratio <= TARGET_RATIO ? 'ok' : 'OVER TARGET'}`,
        );
      }
      console.log('sha512sum times include spawning the process, as a user running it would see.');
    }
    if (check && results.some((r) => r.ratio > TARGET_RATIO)) process.exitCode = 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
