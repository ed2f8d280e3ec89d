/** Bounded fuzzing of token-format in CI (properties in test/fuzz/targets/token-format.ts; longer runs: npm run fuzz). */
import { describeFuzzTarget } from './ci.ts';

await describeFuzzTarget('token-format');
