/** Bounded fuzzing of tarball in CI (properties in test/fuzz/targets/tarball.ts; longer runs: npm run fuzz). */
import { describeFuzzTarget } from './ci.ts';

await describeFuzzTarget('tarball');
