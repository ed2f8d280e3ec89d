/** Bounded fuzzing of npm-path in CI (properties in test/fuzz/targets/npm-path.ts; longer runs: npm run fuzz). */
import { describeFuzzTarget } from './ci.ts';

await describeFuzzTarget('npm-path');
