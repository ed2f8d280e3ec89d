/** Signing: keys, DSSE / in-toto release attestations, Sigstore bundles, verification, build provenance. */
export {
  AttestationVerificationError,
  SigningError,
  VERIFY_ERROR_CODES,
  SIGN_ERROR_CODES,
} from './errors.ts';
export type { Signer, SigningAlgorithm } from './signer.ts';
export { SIGNING_ALGORITHM } from './signer.ts';
export { computeKeyId } from './key-id.ts';
export type { GeneratedLocalKey } from './local-key-signer.ts';
export { LocalKeySigner, generateLocalKey } from './local-key-signer.ts';
export type {
  KeyRecord,
  KeyCustody,
  KeyCustodyKind,
  StoredKey,
  KeyRingStore,
  KeyLookup,
  KeyRingOptions,
  OpenHsmSigner,
  HsmKeyReference,
  RotateOptions,
} from './key-ring.ts';
export { KeyRing, DEFAULT_ROTATION_OVERLAP_MS, isKeyValidAt, toRecord } from './key-ring.ts';
export { MemoryKeyRingStore } from './memory-key-ring-store.ts';
export type { Pkcs11Options, Pkcs11PinSource } from './pkcs11-signer.ts';
export {
  Pkcs11Signer,
  openPkcs11Signer,
  findPkcs11Key,
  generatePkcs11Key,
  readPkcs11Pin,
} from './pkcs11-signer.ts';
export type { DsseEnvelope, DsseSignature } from './dsse.ts';
export { preAuthEncoding, IN_TOTO_PAYLOAD_TYPE } from './dsse.ts';
export type { Statement, StatementSubject } from './statement.ts';
export { IN_TOTO_STATEMENT_TYPE, toNpmPurl, sha512HexFromIntegrity } from './statement.ts';
export type {
  ReleasePredicate,
  ReleasePolicyRef,
  ReleaseApproval,
  ReleaseBuild,
  ReleaseCheck,
  ReleaseCheckResult,
  ReleaseTimes,
} from './release-predicate.ts';
export { RELEASE_PREDICATE_TYPE } from './release-predicate.ts';
export type { SigstoreBundleJson } from './sigstore-bundle.ts';
export { SIGSTORE_BUNDLE_V03_MEDIA_TYPE, createDsseBundle } from './sigstore-bundle.ts';
export type {
  ReleaseStatement,
  ReleaseAttestationInput,
  SignReleaseAttestationOptions,
  SignedReleaseAttestation,
} from './attest.ts';
export { buildReleaseStatement, signReleaseAttestation } from './attest.ts';
export type { ArtifactSource } from './digest.ts';
export { computeSha512Hex } from './digest.ts';
export type { PolicyDecision, PolicyCheck, VerifyReleaseOptions, VerifiedRelease } from './verify-release.ts';
export { verifyRelease } from './verify-release.ts';
export type { PublicKeySet } from './key-set.ts';
export { toPublicKeySet, keySetFromRecords, keySetFromJson } from './key-set.ts';
export type {
  NpmRegistryKey,
  NpmKeysResponse,
  NpmAttestation,
  NpmAttestationsResponse,
  NpmRegistrySignature,
} from './npm-shapes.ts';
export { toNpmKeysResponse, toNpmAttestationsResponse, signNpmRegistrySignature } from './npm-shapes.ts';
export type {
  TrustedPublisher,
  BuildIdentityClaims,
  VerifyBuildProvenanceOptions,
  VerifiedBuildProvenance,
} from './build-provenance.ts';
export { verifyBuildProvenance, asProvenanceBundle, SLSA_PROVENANCE_V1 } from './build-provenance.ts';
export { SqlKeyRingStore } from './sql-key-ring-store.ts';
export type {
  SigningSettings,
  Pkcs11Settings,
  SigningNotices,
  OpenConfiguredKeyRingOptions,
  ConfiguredKeyRing,
  RotateConfiguredKeyRingOptions,
} from './configured-key-ring.ts';
export { openConfiguredKeyRing, rotateConfiguredKeyRing } from './configured-key-ring.ts';
export type { AuditCheckpoint } from './checkpoint.ts';
export { CHECKPOINT_PAYLOAD_TYPE, signAuditCheckpoint, verifyAuditCheckpoint } from './checkpoint.ts';
