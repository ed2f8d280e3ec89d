/**
 * Baseline files hide findings that are already known. A baseline holds a random salt and, per
 * finding, the rule, the path and the HMAC of the secret under that salt; never the secret. Scans
 * that use a baseline fingerprint with its salt, so that the same secret matches across runs.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { ScanConfigError } from './errors.ts';
import type { ScanFinding } from './types.ts';

/** The on-disk baseline (JSON). */
export interface Baseline {
  readonly version: 1;
  /** base64 of 32 random bytes: the fingerprint key of scans that use this baseline. */
  readonly salt: string;
  readonly findings: ReadonlyArray<{
    readonly ruleId: string;
    readonly path: string;
    readonly fingerprint: string;
  }>;
}

/** A new, empty baseline with a fresh salt. */
export function createBaseline(): Baseline {
  return { version: 1, salt: randomBytes(32).toString('base64'), findings: [] };
}

/** The fingerprint key a baseline asks for. */
export function baselineKey(baseline: Baseline): Buffer {
  return Buffer.from(baseline.salt, 'base64');
}

/** Reads and validates a baseline file; throws ERR_SCAN_BASELINE_INVALID. */
export async function readBaseline(path: string): Promise<Baseline> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new ScanConfigError('ERR_SCAN_BASELINE_INVALID', `cannot read baseline ${path}`, { cause });
  }
  const b = parsed as Partial<Baseline>;
  const ok =
    typeof b === 'object' &&
    b !== null &&
    b.version === 1 &&
    typeof b.salt === 'string' &&
    Buffer.from(b.salt, 'base64').length >= 16 &&
    Array.isArray(b.findings) &&
    b.findings.every(
      (f) =>
        typeof f === 'object' &&
        f !== null &&
        typeof f.ruleId === 'string' &&
        typeof f.path === 'string' &&
        /^[0-9a-f]{64}$/.test(String(f.fingerprint)),
    );
  if (!ok)
    throw new ScanConfigError('ERR_SCAN_BASELINE_INVALID', `${path} is not a pubgate baseline (version 1)`);
  return b as Baseline;
}

/** Loads a baseline, or a new one when the file does not exist. */
export async function readBaselineOrNew(path: string): Promise<Baseline> {
  try {
    await readFile(path);
  } catch {
    return createBaseline();
  }
  return readBaseline(path);
}

/** Writes `findings` (fingerprinted with the baseline's salt) as the new baseline. */
export async function writeBaseline(
  path: string,
  baseline: Baseline,
  findings: readonly ScanFinding[],
): Promise<void> {
  const entries = findings.map((f) => ({ ruleId: f.ruleId, path: f.path, fingerprint: f.fingerprint }));
  const unique = [...new Map(entries.map((e) => [`${e.ruleId}\0${e.path}\0${e.fingerprint}`, e])).values()];
  unique.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.ruleId < b.ruleId ? -1 : 1));
  const out: Baseline = { version: 1, salt: baseline.salt, findings: unique };
  await writeFile(path, `${JSON.stringify(out, null, 2)}\n`, { mode: 0o644 });
}

/** Drops findings the baseline already knows (same rule, path and fingerprint). */
export function filterBaseline(findings: readonly ScanFinding[], baseline: Baseline): ScanFinding[] {
  const known = new Set(baseline.findings.map((f) => `${f.ruleId}\0${f.path}\0${f.fingerprint}`));
  return findings.filter((f) => !known.has(`${f.ruleId}\0${f.path}\0${f.fingerprint}`));
}
