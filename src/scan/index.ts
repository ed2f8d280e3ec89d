/**
 * The secret scanner: rules, decoders, sources (files, directories, stdin, tarballs, git history),
 * endpoint mode, the agent client, baselines and reporters. Findings never carry a secret: only a
 * redacted preview and a keyed fingerprint (and, for pubgate tokens, the hash the token store keeps).
 */
import { createScanner } from './scanner.ts';
import { scanWithScanner } from './scanner.ts';
import { scanTarballBytes } from './tarball.ts';
import type { ScanFinding, ScanOptions } from './types.ts';

export type { ScanFinding, ScanOptions, Severity, Encoding, FindingKind } from './types.ts';
export type { CustomRuleSpec, ScanConfig } from './custom-rules.ts';
export type { ScanPathsOptions, ScanReport, ScanProgress } from './scan-paths.ts';
export type { Baseline } from './baseline.ts';
export type { RuleInfo } from './catalog.ts';
export type { TarballScanOptions } from './tarball.ts';
export type { EndpointScanOptions, ScanContext } from './endpoint.ts';
export type { AgentOptions, AgentReport, AgentFinding, AgentRunResult } from './agent-client.ts';

export { ScanInputError, ScanConfigError, ScanAgentError } from './errors.ts';
export { fingerprintSecret, redactSecret } from './fingerprint.ts';
export { scanPaths } from './scan-paths.ts';
export { listRules } from './catalog.ts';
export { loadScanConfig, parseScanConfig } from './custom-rules.ts';
export {
  createBaseline,
  readBaseline,
  readBaselineOrNew,
  writeBaseline,
  filterBaseline,
  baselineKey,
} from './baseline.ts';
export { formatText, toJsonReport, toSarifReport, formatProgress } from './reporters.ts';
export { scanEndpoint, endpointLocations } from './endpoint.ts';
export { runAgent, fetchScanKey, sendScanReport } from './agent-client.ts';

/** Options of {@link scanTarball}. */
export interface ScanTarballOptions extends ScanOptions {
  /** Ceiling on the unpacked size (default 2 GiB); beyond it ERR_SCAN_TARBALL_TOO_LARGE. */
  readonly maxBytes?: number;
}

/**
 * Scans an in-memory package tarball (gzip'd tar, or plain tar): every text entry, nothing written
 * to disk. Findings carry the entry path (e.g. `package/.npmrc`). Throws ScanInputError
 * ERR_SCAN_TARBALL_CORRUPT / ERR_SCAN_TARBALL_TOO_LARGE on hostile input.
 */
export async function scanTarball(
  bytes: Uint8Array,
  options: ScanTarballOptions = {},
): Promise<ScanFinding[]> {
  const result = await scanTarballBytes(
    createScanner(options),
    bytes,
    options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes },
  );
  return result.findings;
}

/** Scans one text (a CI log attached as evidence, a file's content) reported under `path`. */
export function scanText(text: string, path: string, options: ScanOptions = {}): ScanFinding[] {
  return scanWithScanner(createScanner(options), text, path);
}
