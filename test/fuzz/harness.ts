/**
 * The fuzz harness shared by the bounded CI run (`test/fuzz/*.test.ts`) and the long run
 * (`npm run fuzz`): how a property is declared, how one is run with a per-case time guard, and how
 * a failure is reported without ever printing a token-shaped value.
 */
import fc from 'fast-check';
import { PubgateError } from '../../src/errors/index.ts';

/** Names of the fuzz targets; `oidc` waits for issue 4. */
export type TargetName =
  | 'tarball'
  | 'publish-document'
  | 'npm-path'
  | 'config'
  | 'scan-decoders'
  | 'scan-text'
  | 'token-format'
  | 'oidc';

/** What one run of a property produced (plain data: it crosses from the worker thread). */
export interface RunSummary {
  readonly runs: number;
  readonly skips: number;
  readonly shrinks: number;
  readonly failed: boolean;
  /** The run stopped at its time limit (not a failure: the cases run so far passed). */
  readonly interrupted: boolean;
  readonly seed: number;
  readonly path: string | null;
  /** The shrunk counterexample, redacted and truncated. */
  readonly counterexample: string | null;
  /** The failure, redacted: the error of the shrunk case. */
  readonly error: string | null;
  readonly durationMs: number;
}

/** How long and how hard to run a property. */
export interface RunLimits {
  readonly runs: number;
  /** Stop (successfully) after this long even if `runs` is not reached. */
  readonly timeLimitMs: number;
  readonly seed?: number | undefined;
  /** Replays one case (fast-check `path`), with `seed`. */
  readonly path?: string | undefined;
}

/** A runnable property: checks itself under limits, with every case guarded by `caseTimeoutMs`. */
export interface PropertyBody {
  readonly check: (limits: RunLimits, caseTimeoutMs: number, endOnFailure: boolean) => Promise<RunSummary>;
}

/** One named property of a target. */
export interface FuzzProperty {
  readonly name: string;
  /** Cases in the bounded CI run. */
  readonly ciRuns: number;
  /** A single case slower than this fails (async cases are abandoned at this point). */
  readonly caseTimeoutMs: number;
  /** Set when the property currently finds a known bug in code owned elsewhere (node:test `todo`). */
  readonly todo?: string;
  /** Skip shrinking (for timing properties, where each shrink step is itself slow). */
  readonly endOnFailure?: boolean;
  /** Builds the property; async because some need fixtures (a valid tarball, a temp folder). */
  readonly build: () => Promise<PropertyBody> | PropertyBody;
}

let caseListener: () => void = () => {};

/** Called at the start of every case (generation, replay or shrink): the watchdog's heartbeat. */
export function setCaseListener(listener: () => void): void {
  caseListener = listener;
}

const MAX_REPORT = 2000;
// Token shapes of pubgate, npm, GitHub and AWS: never printed, even when fuzzing made them up.
const TOKEN_SHAPES = /\b(?:pgt|npm|gh[pousr]|github_pat)_[0-9A-Za-z_]{16,}|\bAKIA[0-9A-Z]{16}\b/g;

/** Replaces token-shaped substrings and cuts long text, so a report is safe to print. */
export function redactReport(text: string): string {
  const redacted = text.replace(
    TOKEN_SHAPES,
    (token) => `${token.slice(0, 4)}<redacted ${token.length} chars>`,
  );
  return redacted.length > MAX_REPORT
    ? `${redacted.slice(0, MAX_REPORT)}… (${redacted.length} chars)`
    : redacted;
}

function describeError(error: unknown): string {
  if (error instanceof PubgateError) return redactReport(`${error.name} ${error.code}: ${error.message}`);
  if (error instanceof Error) {
    const stack = (error.stack ?? `${error.name}: ${error.message}`).split('\n').slice(0, 6).join('\n');
    return redactReport(stack);
  }
  return redactReport(String(error));
}

function summarise<T>(details: fc.RunDetails<T>, durationMs: number): RunSummary {
  return {
    runs: details.numRuns,
    skips: details.numSkips,
    shrinks: details.numShrinks,
    failed: details.failed,
    interrupted: details.interrupted,
    seed: details.seed,
    path: details.counterexamplePath,
    counterexample:
      details.counterexample === null ? null : redactReport(fc.stringify(details.counterexample)),
    error: details.failed ? describeError(details.errorInstance) : null,
    durationMs,
  };
}

function parameters<T>(limits: RunLimits, endOnFailure: boolean): fc.Parameters<T> {
  return {
    numRuns: limits.runs,
    interruptAfterTimeLimit: limits.timeLimitMs,
    markInterruptAsFailure: false,
    endOnFailure,
    ...(limits.seed === undefined ? {} : { seed: limits.seed }),
    ...(limits.path === undefined ? {} : { path: limits.path }),
  };
}

/** A property over one arbitrary with a synchronous predicate (throw or return false to fail). */
export function syncProperty<T>(
  arbitrary: fc.Arbitrary<T>,
  predicate: (value: T) => boolean | void,
): PropertyBody {
  return {
    check: (limits, caseTimeoutMs, endOnFailure) => {
      const started = performance.now();
      const property = fc.property(arbitrary, (value) => {
        caseListener();
        const t0 = performance.now();
        const verdict = predicate(value);
        const elapsed = performance.now() - t0;
        // A synchronous case cannot be interrupted; a slow one fails (the watchdog catches a true hang).
        if (elapsed > caseTimeoutMs)
          throw new Error(`case took ${Math.round(elapsed)} ms, over its ${caseTimeoutMs} ms budget`);
        return verdict;
      });
      const details = fc.check(property, parameters<[T]>(limits, endOnFailure));
      return Promise.resolve(summarise(details, performance.now() - started));
    },
  };
}

/** A property over one arbitrary with an asynchronous predicate; a case still pending after its budget fails. */
export function asyncProperty<T>(
  arbitrary: fc.Arbitrary<T>,
  predicate: (value: T) => Promise<boolean | void>,
): PropertyBody {
  return {
    check: async (limits, caseTimeoutMs, endOnFailure) => {
      const started = performance.now();
      const property = fc.asyncProperty(arbitrary, async (value) => {
        caseListener();
        let timer: NodeJS.Timeout | undefined;
        const guard = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`case still pending after ${caseTimeoutMs} ms`)),
            caseTimeoutMs,
          );
        });
        try {
          return await Promise.race([predicate(value), guard]);
        } finally {
          clearTimeout(timer);
        }
      });
      const details = await fc.check(property, parameters<[T]>(limits, endOnFailure));
      return summarise(details, performance.now() - started);
    },
  };
}

/** Runs a property in this thread with its CI budget (or the given limits). */
export async function runProperty(property: FuzzProperty, limits?: Partial<RunLimits>): Promise<RunSummary> {
  const body = await property.build();
  return body.check(
    {
      runs: limits?.runs ?? property.ciRuns,
      timeLimitMs: limits?.timeLimitMs ?? 60_000,
      seed: limits?.seed,
      path: limits?.path,
    },
    property.caseTimeoutMs,
    property.endOnFailure ?? false,
  );
}

/** Formats a failed summary for a test failure or the fuzz script (already redacted). */
export function formatFailure(target: string, property: string, summary: RunSummary): string {
  return [
    `${target} › ${property}: failed after ${summary.runs} case(s), ${summary.shrinks} shrink(s)`,
    `  replay: npm run fuzz -- --target ${target} --property ${JSON.stringify(property.slice(0, 40))} --seed ${summary.seed}${summary.path === null ? '' : ` --path ${summary.path}`}`,
    `  counterexample: ${summary.counterexample ?? '(none)'}`,
    `  error: ${summary.error ?? '(none)'}`,
  ].join('\n');
}

// ---- helpers for predicates -------------------------------------------------------------------

/** Fails unless `error` is a PubgateError whose code matches `pattern`; returns the code. */
export function expectCodedError(error: unknown, pattern: RegExp): string {
  if (!(error instanceof PubgateError)) {
    throw new Error(`expected a PubgateError, got ${describeError(error)}`, { cause: error });
  }
  if (!pattern.test(error.code)) throw new Error(`unexpected code ${error.code} (wanted ${pattern})`);
  return error.code;
}

/** Outcome of an operation that either returns or throws a coded error. */
export type Outcome<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly code: string };

/** Runs `action`; a coded error matching `pattern` becomes `{ok:false}`, anything else fails the case. */
export async function outcomeOf<T>(action: () => Promise<T> | T, pattern: RegExp): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await action() };
  } catch (error) {
    return { ok: false, code: expectCodedError(error, pattern) };
  }
}

/** Synchronous {@link outcomeOf}. */
export function outcomeOfSync<T>(action: () => T, pattern: RegExp): Outcome<T> {
  try {
    return { ok: true, value: action() };
  } catch (error) {
    return { ok: false, code: expectCodedError(error, pattern) };
  }
}

const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort().join(',');

/** Fails when `Object.prototype` gained a property (prototype pollution). */
export function assertPrototypeClean(): void {
  const now = Object.getOwnPropertyNames(Object.prototype).sort().join(',');
  if (now !== PROTOTYPE_KEYS) throw new Error(`Object.prototype was polluted: ${redactReport(now)}`);
  if (({} as Record<string, unknown>)['polluted'] !== undefined)
    throw new Error('Object.prototype.polluted is set');
}
