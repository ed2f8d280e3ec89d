/** Bounded fuzzing of config in CI (properties in test/fuzz/targets/config.ts; longer runs: npm run fuzz). */
import { describeFuzzTarget } from './ci.ts';

await describeFuzzTarget('config');
