// Worker entry in plain JavaScript: Node 20 does not pass the parent's module hooks (tsx, whether
// loaded with `node --import tsx` or with register() from bin/pubgate.js) on to worker threads,
// so the worker registers tsx itself before it imports the TypeScript body.
const { register } = await import('tsx/esm/api');
register();
await import('./scan-worker.ts');
