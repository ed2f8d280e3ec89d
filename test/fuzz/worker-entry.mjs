// Worker entry in plain JavaScript: Node 20 does not pass the parent's tsx hooks on to worker
// threads, so the worker registers tsx itself before it imports the TypeScript body
// (the same approach as src/scan/scan-worker-entry.mjs).
const { register } = await import('tsx/esm/api');
register();
await import('./worker.ts');
