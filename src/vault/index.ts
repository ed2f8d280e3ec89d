/** Sealed secrets: envelope encryption under the master key. */
export type { SealedSecret } from './envelope.ts';
export { sealSecret, unsealSecret, rewrapSecret, masterKeyIdOf, generateMasterKey } from './envelope.ts';
export { loadMasterKey, writeNewMasterKey } from './master-key.ts';
export { VaultStore } from './vault-store.ts';
