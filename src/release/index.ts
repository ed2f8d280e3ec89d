/** Releases: validation of received packages, the state machine, the blob store, the publisher. */
export { ReleaseService, sha512HexOf } from './release-service.ts';
export type {
  Release,
  Requester,
  CheckResult,
  ReleaseServiceOptions,
  SubmitOptions,
  SecretFinding,
} from './release-service.ts';
export { RELEASE_STATES, FINAL_STATES, TRANSITIONS } from './states.ts';
export type { ReleaseState } from './states.ts';
export { FsBlobStore } from './blob-store.ts';
export type { BlobStore } from './blob-store.ts';
export {
  validatePublishDocument,
  maxPublishBodyBytes,
  jsonDepthExceeds,
  assertValidPackageName,
} from './publish-document.ts';
export type { ValidatedPublish, PublishLimits } from './publish-document.ts';
export { inspectTarball, assertSafeEntryPath } from './tarball.ts';
export type { TarballInspection, TarballFile, TarballLimits } from './tarball.ts';
export { diffPackages, installScriptsChanged, INSTALL_SCRIPTS } from './diff.ts';
export type { PackageDiff, PackageSnapshot } from './diff.ts';
export { AttestationService } from './attestations.ts';
export type { BuildProvenanceDetails, ProvenanceSettings, ProvenanceSubject } from './provenance.ts';
export {
  buildKeyIds,
  buildProvenanceOf,
  checkBuildProvenance,
  publisherFromConfig,
  publisherFromWorkload,
} from './provenance.ts';
