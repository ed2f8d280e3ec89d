// Worker entry in plain JavaScript, so that it loads whether or not the parent runs TypeScript
// through `node --import tsx` (whose hooks workers inherit through execArgv) or through tsx's
// register() API from bin/pubgate.js (whose hooks Node 20 does not pass on to workers).
if (!process.execArgv.some((arg) => arg.includes('tsx'))) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import('./scan-worker.ts');
