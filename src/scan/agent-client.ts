/**
 * The agent client: fetches the gate's fingerprint key, scans endpoint places and watched
 * repositories, and reports findings as keyed fingerprints, never secrets. In continuous mode it
 * rescans only files whose size or mtime changed and reports only findings it has not sent yet.
 *
 * Wire contract:
 * - `GET  <server>/api/v1/scan/key` → `200 {keyId, key}` (key: base64 of 32 bytes)
 * - `POST <server>/api/v1/scan/reports` `{keyId, host, context, findings: [{ruleId, fingerprint, path, line, pubgateTokenHash?}]}`
 *   → `200 {accepted, revoked}`; 4xx → `{error, code}`. Both with `authorization: Bearer <agent token>`.
 */
import { lstat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { endpointLocations, scanTargets, withHygieneFindings, type ScanContext } from './endpoint.ts';
import { ScanAgentError } from './errors.ts';
import { walkFiles, type WalkedFile } from './file-source.ts';
import { createScanner } from './scanner.ts';
import type { ScanFinding } from './types.ts';

/** One finding as the gate receives it. */
export interface AgentFinding {
  readonly ruleId: string;
  readonly fingerprint: string;
  readonly path: string;
  readonly line: number;
  readonly pubgateTokenHash?: string;
}

/** One report body. */
export interface AgentReport {
  readonly keyId: string;
  readonly host: string;
  readonly context: ScanContext;
  readonly findings: readonly AgentFinding[];
}

/** Options of {@link runAgent}. */
export interface AgentOptions {
  /** Gate base URL, e.g. `https://gate.corp`. */
  readonly server: string;
  /** The agent's bearer token. Never logged. */
  readonly token: string;
  /** Repositories to watch (their working trees, .gitignore respected). */
  readonly watch?: readonly string[];
  /** Seconds between cycles in continuous mode (default 300). */
  readonly intervalSeconds?: number;
  /** Scan once, report, return. */
  readonly once?: boolean;
  /** Context of the endpoint places (default: `ci-runner` when CI is set, else `laptop`). */
  readonly context?: 'laptop' | 'ci-runner';
  /** Skip the endpoint places (only watch repositories). */
  readonly noEndpoint?: boolean;
  readonly home?: string;
  readonly runnerDirs?: readonly string[];
  readonly host?: string;
  readonly signal?: AbortSignal;
  /** Secret-free progress lines. */
  readonly log?: (line: string) => void;
}

/** What one agent run sent. */
export interface AgentRunResult {
  readonly cycles: number;
  readonly reported: number;
  readonly accepted: number;
  readonly revoked: number;
}

function endpointUrl(server: string, path: string): string {
  const base = new URL(server);
  if (base.protocol !== 'https:' && base.protocol !== 'http:')
    throw new TypeError('server must be an http(s) URL');
  return new URL(path, base.href.endsWith('/') ? base.href : `${base.href}/`).href;
}

async function call(url: string, token: string, init: { method: string; body?: string }): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: init.method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(init.body === undefined ? {} : { body: init.body }),
      redirect: 'error',
    });
  } catch (cause) {
    throw new ScanAgentError(
      'ERR_SCAN_AGENT_UNREACHABLE',
      `cannot reach the gate at ${new URL(url).origin}`,
      { cause },
    );
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text.length === 0 ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const b = (body ?? {}) as { error?: unknown; code?: unknown };
    const code =
      response.status === 401 || response.status === 403
        ? 'ERR_SCAN_AGENT_UNAUTHORIZED'
        : 'ERR_SCAN_AGENT_REJECTED';
    throw new ScanAgentError(
      code,
      `gate answered ${response.status}${typeof b.error === 'string' ? `: ${b.error.slice(0, 200)}` : ''}`,
      {
        details: { status: response.status, ...(typeof b.code === 'string' ? { gateCode: b.code } : {}) },
      },
    );
  }
  return body;
}

/** Fetches the gate's fingerprint key. */
export async function fetchScanKey(server: string, token: string): Promise<{ keyId: string; key: Buffer }> {
  const body = (await call(endpointUrl(server, 'api/v1/scan/key'), token, { method: 'GET' })) as
    { keyId?: unknown; key?: unknown } | undefined;
  const key = typeof body?.key === 'string' ? Buffer.from(body.key, 'base64') : Buffer.alloc(0);
  if (typeof body?.keyId !== 'string' || body.keyId.length === 0 || key.length !== 32) {
    throw new ScanAgentError('ERR_SCAN_AGENT_BAD_KEY', 'the gate sent no usable fingerprint key');
  }
  return { keyId: body.keyId, key };
}

/** Sends one report. */
export async function sendScanReport(
  server: string,
  token: string,
  report: AgentReport,
): Promise<{ accepted: number; revoked: number }> {
  const body = (await call(endpointUrl(server, 'api/v1/scan/reports'), token, {
    method: 'POST',
    body: JSON.stringify(report),
  })) as { accepted?: unknown; revoked?: unknown } | undefined;
  return { accepted: Number(body?.accepted ?? 0), revoked: Number(body?.revoked ?? 0) };
}

function toAgentFinding(finding: ScanFinding): AgentFinding {
  return {
    ruleId: finding.ruleId,
    fingerprint: finding.fingerprint,
    path: finding.path,
    line: finding.line,
    ...(finding.pubgateTokenHash === undefined ? {} : { pubgateTokenHash: finding.pubgateTokenHash }),
  };
}

/** Runs the agent: once (`once`) or until `signal` aborts. */
export async function runAgent(options: AgentOptions): Promise<AgentRunResult> {
  const log = options.log ?? (() => undefined);
  const host = options.host ?? hostname();
  const endpointContext =
    options.context ??
    (process.env['CI'] !== undefined && process.env['CI'] !== 'false' ? 'ci-runner' : 'laptop');
  const seenFiles = new Map<string, string>();
  const sent = new Set<string>();
  let cycles = 0;
  let reported = 0;
  let accepted = 0;
  let revoked = 0;
  for (;;) {
    const { keyId, key } = await fetchScanKey(options.server, options.token);
    const scanner = createScanner({ fingerprintKey: key });
    const groups: Array<{ context: ScanContext; targets: WalkedFile[] }> = [];
    if (options.noEndpoint !== true) {
      groups.push({
        context: endpointContext,
        targets: await endpointLocations({
          ...(options.home === undefined ? {} : { home: options.home }),
          ...(options.runnerDirs === undefined ? {} : { runnerDirs: options.runnerDirs }),
        }),
      });
    }
    for (const repo of options.watch ?? []) {
      const targets: WalkedFile[] = [];
      for await (const file of walkFiles(resolve(repo), repo.replace(/\/+$/, ''))) targets.push(file);
      groups.push({ context: 'repository', targets });
    }
    for (const group of groups) {
      // Continuous mode rescans only what changed since the last cycle.
      const changed: WalkedFile[] = [];
      for (const target of group.targets) {
        const info = await lstat(target.absolute).catch(() => undefined);
        const stamp = info === undefined ? '' : `${info.size}:${info.mtimeMs}`;
        if (seenFiles.get(target.absolute) !== stamp) changed.push(target);
        seenFiles.set(target.absolute, stamp);
      }
      const { findings } = await scanTargets(scanner, changed);
      const all = group.context === 'repository' ? findings : withHygieneFindings(findings);
      const fresh = all.filter((f) => {
        const id = `${keyId}\0${f.ruleId}\0${f.path}\0${f.line}\0${f.fingerprint}`;
        if (sent.has(id)) return false;
        sent.add(id);
        return true;
      });
      if (fresh.length === 0 && cycles > 0) continue;
      const answer = await sendScanReport(options.server, options.token, {
        keyId,
        host,
        context: group.context,
        findings: fresh.map(toAgentFinding),
      });
      reported += fresh.length;
      accepted += answer.accepted;
      revoked += answer.revoked;
      log(
        `${group.context}: ${changed.length} file(s) scanned, ${fresh.length} finding(s) reported, ${answer.revoked} credential(s) revoked`,
      );
    }
    cycles++;
    if (options.once === true || options.signal?.aborted === true) break;
    try {
      await sleep(
        (options.intervalSeconds ?? 300) * 1000,
        undefined,
        options.signal === undefined ? {} : { signal: options.signal },
      );
    } catch {
      break;
    }
  }
  return { cycles, reported, accepted, revoked };
}
