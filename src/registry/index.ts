/** Registries behind the gate: an npm registry over HTTP, or pubgate's own storage. */
export type {
  Registry,
  PublishInput,
  PublishOutcome,
  VersionState,
  TarballResponse,
  BlobStore,
  SigstoreAttachmentMode,
} from './registry.ts';
export { tarballFileName, gateTarballUrl, resolveSigstoreAttachment } from './registry.ts';
export { NpmHttpRegistry } from './npm-http-registry.ts';
export type { NpmHttpRegistryOptions } from './npm-http-registry.ts';
export { LocalRegistry } from './local-registry.ts';
