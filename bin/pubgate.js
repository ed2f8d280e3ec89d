#!/usr/bin/env node
// Entry point: loads the TypeScript CLI through tsx so `npx pubgate` works right after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
