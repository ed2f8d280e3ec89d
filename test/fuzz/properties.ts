/**
 * Every fuzz target and its properties, shared by the bounded CI run (`test/fuzz/*.test.ts`) and the
 * long run (`npm run fuzz`). Targets load lazily, so a worker imports only the code it fuzzes.
 */
import type { FuzzProperty, TargetName } from './harness.ts';

/** One fuzz target. */
export interface FuzzTarget {
  readonly name: TargetName;
  /** What is fuzzed, for describe() titles and the script's output. */
  readonly title: string;
  readonly load: () => Promise<readonly FuzzProperty[]>;
  /** Set when the target has no properties yet, with the reason. */
  readonly pending?: string;
}

/** All targets, in run order. */
export const FUZZ_TARGETS: readonly FuzzTarget[] = [
  {
    name: 'tarball',
    title: 'tar parsing (inspectTarball, assertSafeEntryPath)',
    load: async () => (await import('./targets/tarball.ts')).tarballProperties,
  },
  {
    name: 'publish-document',
    title: 'npm publish document validation',
    load: async () => (await import('./targets/publish-document.ts')).publishDocumentProperties,
  },
  {
    name: 'npm-path',
    title: 'npm path parsing (parseNpmPath)',
    load: async () => (await import('./targets/npm-path.ts')).npmPathProperties,
  },
  {
    name: 'config',
    title: 'config parsing (loadConfig)',
    load: async () => (await import('./targets/config.ts')).configProperties,
  },
  {
    name: 'scan-decoders',
    title: "the scanner's decoders",
    load: async () => (await import('./targets/scan-decoders.ts')).scanDecoderProperties,
  },
  {
    name: 'scan-text',
    title: 'scanText',
    load: async () => (await import('./targets/scan-text.ts')).scanTextProperties,
  },
  {
    name: 'token-format',
    title: 'token format (generateToken, isWellFormedToken, hashToken)',
    load: async () => (await import('./targets/token-format.ts')).tokenFormatProperties,
  },
  {
    name: 'oidc',
    title: 'OIDC token handling',
    load: async () => (await import('./targets/oidc.ts')).oidcProperties,
  },
];

/** The target called `name`; throws RangeError for an unknown name (a caller mistake). */
export function findTarget(name: string): FuzzTarget {
  const target = FUZZ_TARGETS.find((t) => t.name === name);
  if (target === undefined)
    throw new RangeError(
      `unknown fuzz target ${JSON.stringify(name)}; known: ${FUZZ_TARGETS.map((t) => t.name).join(', ')}`,
    );
  return target;
}
