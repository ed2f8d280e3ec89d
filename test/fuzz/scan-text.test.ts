/** Bounded fuzzing of scan-text in CI (properties in test/fuzz/targets/scan-text.ts; longer runs: npm run fuzz). */
import { describeFuzzTarget } from './ci.ts';

await describeFuzzTarget('scan-text');
