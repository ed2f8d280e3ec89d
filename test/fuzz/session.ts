/**
 * Runs a target's properties in a worker thread under a watchdog, so that a hang (even a synchronous
 * one, such as a regex that never returns) or a heap blow-up fails the property instead of stalling
 * or killing the run. Samples the process RSS (worker included) while it runs.
 */
import { Worker } from 'node:worker_threads';
import type { RunLimits, RunSummary, TargetName } from './harness.ts';

/** What the worker is started with. */
export interface WorkerInit {
  readonly target: TargetName;
  /** One Int32: cases started so far (the heartbeat). */
  readonly counter: SharedArrayBuffer;
}

/** A request to run one property. */
export interface WorkerRequest {
  readonly id: number;
  readonly property: string;
  readonly limits: RunLimits;
}

/** The worker's answer. */
export type WorkerResponse =
  | { readonly id: number; readonly ok: true; readonly summary: RunSummary }
  | { readonly id: number; readonly ok: false; readonly error: string };

/** Options of {@link FuzzSession}. */
export interface FuzzSessionOptions {
  /** No new case for this long means a hang: the worker is terminated and the property fails. */
  readonly hangMs: number;
  /** Heap ceiling of the worker; beyond it the property fails as "unbounded memory". */
  readonly maxHeapMb: number;
  /** Called about every second while a property runs, with the cases started so far. */
  readonly onProgress?: (cases: number) => void;
}

interface Running {
  readonly id: number;
  readonly seed: number;
  readonly started: number;
  readonly resolve: (summary: RunSummary) => void;
}

/** One worker per target, restarted after a hang or crash. */
export class FuzzSession {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private counter = new SharedArrayBuffer(4);
  private running: Running | undefined;
  private nextId = 1;
  private timer: NodeJS.Timeout | undefined;
  private lastCases = 0;
  private lastProgressAt = 0;
  private lastReportAt = 0;
  /** Highest process RSS seen while properties ran (bytes). */
  peakRss = 0;

  constructor(
    private readonly target: TargetName,
    private readonly options: FuzzSessionOptions,
  ) {}

  /** Cases started so far by the current run (generation, replays and shrinks). */
  cases(): number {
    return Atomics.load(new Int32Array(this.counter), 0);
  }

  private start(): Promise<void> {
    this.counter = new SharedArrayBuffer(4);
    // --input-type and --eval apply to the parent's own entry only; a worker would refuse them.
    const execArgv = process.execArgv.filter((arg) => !/^--(?:input-type|eval|print|test)|^-[ep]$/.test(arg));
    const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), {
      workerData: { target: this.target, counter: this.counter } satisfies WorkerInit,
      execArgv,
      resourceLimits: { maxOldGenerationSizeMb: this.options.maxHeapMb },
    });
    this.worker = worker;
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (message: WorkerResponse | { ready: true }) => {
        if ('ready' in message) return resolve();
        if (this.running?.id === message.id) {
          const running = this.running;
          this.finish();
          running.resolve(
            message.ok
              ? message.summary
              : this.failure(running, `the property could not run: ${message.error}`),
          );
        }
      });
      worker.on('error', (error: Error & { code?: string }) => {
        reject(error);
        const running = this.running;
        this.discard();
        if (running !== undefined) {
          const why =
            error.code === 'ERR_WORKER_OUT_OF_MEMORY'
              ? `unbounded memory: the worker passed its ${this.options.maxHeapMb} MB heap`
              : `the worker crashed: ${error.message}`;
          running.resolve(this.failure(running, why));
        }
      });
      worker.on('exit', (code) => {
        reject(new Error(`fuzz worker exited with ${code} before it was ready`));
        if (this.worker !== worker) return;
        const running = this.running;
        this.discard();
        if (running !== undefined)
          running.resolve(this.failure(running, `the worker exited with code ${code}`));
      });
    });
  }

  private failure(running: Running, error: string): RunSummary {
    return {
      runs: this.cases(),
      skips: 0,
      shrinks: 0,
      failed: true,
      interrupted: false,
      seed: running.seed,
      path: null,
      counterexample: null,
      error,
      durationMs: performance.now() - running.started,
    };
  }

  private finish(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.running = undefined;
  }

  private discard(): void {
    this.finish();
    const worker = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    if (worker !== undefined) void worker.terminate();
  }

  private sample(): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.peakRss) this.peakRss = rss;
  }

  /** Runs one property of this target; resolves with its summary (a hang or crash is a failed summary). */
  async run(property: string, limits: RunLimits): Promise<RunSummary> {
    if (this.running !== undefined) throw new Error('FuzzSession runs one property at a time');
    this.ready ??= this.start();
    await this.ready;
    const seed = limits.seed ?? (Math.random() * 2 ** 31) | 0;
    const id = this.nextId++;
    return new Promise<RunSummary>((resolve) => {
      this.running = { id, seed, started: performance.now(), resolve };
      this.lastCases = this.cases();
      this.lastProgressAt = performance.now();
      this.lastReportAt = performance.now();
      this.timer = setInterval(() => this.watch(), 100);
      this.worker!.postMessage({ id, property, limits: { ...limits, seed } } satisfies WorkerRequest);
    });
  }

  private watch(): void {
    const running = this.running;
    if (running === undefined) return;
    this.sample();
    const now = performance.now();
    const cases = this.cases();
    if (cases !== this.lastCases) {
      this.lastCases = cases;
      this.lastProgressAt = now;
    } else if (now - this.lastProgressAt > this.options.hangMs) {
      this.discard();
      running.resolve(
        this.failure(
          running,
          `hang: no new case for ${Math.round((now - this.lastProgressAt) / 1000)} s after case ${cases} (replay with the same seed)`,
        ),
      );
      return;
    }
    if (this.options.onProgress !== undefined && now - this.lastReportAt >= 1000) {
      this.lastReportAt = now;
      this.options.onProgress(cases);
    }
  }

  /** Stops the worker. */
  async close(): Promise<void> {
    this.finish();
    const worker = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    if (worker !== undefined) await worker.terminate();
  }
}
