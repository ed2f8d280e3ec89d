/** Bounded fuzzing of oidc in CI (properties in test/fuzz/targets/oidc.ts; longer runs: npm run fuzz). */
import { describeFuzzTarget } from './ci.ts';

await describeFuzzTarget('oidc');
