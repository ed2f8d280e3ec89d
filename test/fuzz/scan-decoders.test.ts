/** Bounded fuzzing of scan-decoders in CI (properties in test/fuzz/targets/scan-decoders.ts; longer runs: npm run fuzz). */
import { describeFuzzTarget } from './ci.ts';

await describeFuzzTarget('scan-decoders');
