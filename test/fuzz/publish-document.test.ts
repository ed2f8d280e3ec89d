/** Bounded fuzzing of publish-document in CI (properties in test/fuzz/targets/publish-document.ts; longer runs: npm run fuzz). */
import { describeFuzzTarget } from './ci.ts';

await describeFuzzTarget('publish-document');
