/** Worker thread body: scans the files the pool sends and answers with findings (never secrets). */
import { parentPort, workerData } from 'node:worker_threads';
import { scanFilePath } from './file-source.ts';
import { createScanner } from './scanner.ts';
import type { WorkerInit, WorkerRequest, WorkerResponse } from './worker-pool.ts';

const init = workerData as WorkerInit;
const scanner = createScanner({
  fingerprintKey: init.key,
  ...(init.customRules === undefined ? {} : { customRules: init.customRules }),
  ...(init.disabledRules === undefined ? {} : { disabledRules: init.disabledRules }),
});

parentPort!.on('message', (request: WorkerRequest) => {
  scanFilePath(scanner, request.absolute, request.display, request.size).then(
    (result) => parentPort!.postMessage({ id: request.id, ok: true, result } satisfies WorkerResponse),
    (error: unknown) =>
      parentPort!.postMessage({
        id: request.id,
        ok: false,
        error: error instanceof Error ? error.message : 'scan failed',
      } satisfies WorkerResponse),
  );
});
