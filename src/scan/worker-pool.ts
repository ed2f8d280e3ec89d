/** A pool of worker threads that scan files in parallel, one file per worker at a time. */
import { Worker } from 'node:worker_threads';
import type { CustomRuleSpec } from './custom-rules.ts';
import type { StreamScanResult } from './stream-scan.ts';

/** What each worker is started with (plain data). */
export interface WorkerInit {
  readonly key: Uint8Array | string;
  readonly customRules?: readonly CustomRuleSpec[];
  readonly disabledRules?: readonly string[];
}

/** A file to scan. */
export interface WorkerRequest {
  readonly id: number;
  readonly absolute: string;
  readonly display: string;
  readonly size?: number;
}

/** A worker's answer. */
export type WorkerResponse =
  | { readonly id: number; readonly ok: true; readonly result: StreamScanResult }
  | { readonly id: number; readonly ok: false; readonly error: string };

interface Pending {
  readonly resolve: (result: StreamScanResult) => void;
  readonly reject: (error: Error) => void;
}

/** Worker threads over all cores. */
export class ScanWorkerPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Array<{ request: Omit<WorkerRequest, 'id'>; pending: Pending }> = [];
  private readonly inFlight = new Map<number, Pending>();
  private readonly busy = new Map<Worker, number>();
  private nextId = 1;
  private failure: Error | undefined;

  constructor(size: number, init: WorkerInit) {
    for (let i = 0; i < size; i++) {
      // --input-type and --eval apply to the parent's own entry only; a worker would refuse them.
      const execArgv = process.execArgv.filter((arg) => !/^--(?:input-type|eval|print)|^-[ep]$/.test(arg));
      const worker = new Worker(new URL('./scan-worker-entry.mjs', import.meta.url), {
        workerData: init,
        execArgv,
      });
      worker.on('message', (response: WorkerResponse) => this.settle(worker, response));
      worker.on('error', (error) => this.fail(worker, error));
      worker.unref();
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  /** Scans one file on the next free worker. */
  scanFile(absolute: string, display: string, size?: number): Promise<StreamScanResult> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({
        request: { absolute, display, ...(size === undefined ? {} : { size }) },
        pending: { resolve, reject },
      });
      this.dispatch();
    });
  }

  /** Number of files queued or being scanned. */
  get load(): number {
    return this.queue.length + this.inFlight.size;
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop()!;
      const { request, pending } = this.queue.shift()!;
      const id = this.nextId++;
      this.inFlight.set(id, pending);
      this.busy.set(worker, id);
      worker.ref();
      worker.postMessage({ ...request, id } satisfies WorkerRequest);
    }
  }

  private settle(worker: Worker, response: WorkerResponse): void {
    const pending = this.inFlight.get(response.id);
    this.inFlight.delete(response.id);
    this.busy.delete(worker);
    worker.unref();
    this.idle.push(worker);
    if (pending !== undefined) {
      if (response.ok) pending.resolve(response.result);
      else pending.reject(new Error(response.error));
    }
    this.dispatch();
  }

  private fail(worker: Worker, error: Error): void {
    this.failure = error;
    const id = this.busy.get(worker);
    if (id !== undefined) this.inFlight.get(id)?.reject(error);
    for (const { pending } of this.queue.splice(0)) pending.reject(error);
  }
}
