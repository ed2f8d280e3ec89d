/** The fuzz worker thread: runs one target's properties on request and counts cases for the watchdog. */
import { parentPort, workerData } from 'node:worker_threads';
import { runProperty, setCaseListener, type RunLimits, type RunSummary } from './harness.ts';
import { findTarget } from './properties.ts';
import type { WorkerInit, WorkerRequest, WorkerResponse } from './session.ts';

const init = workerData as WorkerInit;
const cases = new Int32Array(init.counter);
setCaseListener(() => Atomics.add(cases, 0, 1));
// Parsers under fuzz (yaml) emit warnings for odd input; they are expected, not news.
process.removeAllListeners('warning');

const properties = await findTarget(init.target).load();

parentPort!.on('message', (request: WorkerRequest) => {
  void (async () => {
    let response: WorkerResponse;
    try {
      const property = properties.find((p) => p.name === request.property);
      if (property === undefined)
        throw new RangeError(`no property ${JSON.stringify(request.property)} in ${init.target}`);
      const limits: RunLimits = request.limits;
      const summary: RunSummary = await runProperty(property, limits);
      response = { id: request.id, ok: true, summary };
    } catch (error) {
      response = {
        id: request.id,
        ok: false,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      };
    }
    parentPort!.postMessage(response);
  })();
});
parentPort!.postMessage({ ready: true });
