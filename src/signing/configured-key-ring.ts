/**
 * The gate's key ring as configured (`signing` in the config): a local key sealed under the master
 * key, or a key held in a PKCS#11 token. The first start creates the first key.
 */
import { KeyRing, type KeyRingStore } from './key-ring.ts';

/** The `signing` section of the config. */
export interface SigningSettings {
  readonly signer: 'local' | 'pkcs11';
  readonly rotationOverlapSeconds: number;
  readonly pkcs11?:
    | {
        readonly modulePath: string;
        readonly tokenLabel?: string | undefined;
        readonly slotIndex?: number | undefined;
        readonly pinFile?: string | undefined;
        readonly pinEnv?: string | undefined;
        readonly keyLabel: string;
      }
    | undefined;
}

/** Opens the key ring and creates the first key when none is active. */
export async function openConfiguredKeyRing(options: {
  readonly settings: SigningSettings;
  readonly store: KeyRingStore;
  readonly masterKey: Uint8Array;
  readonly now: () => Date;
}): Promise<KeyRing> {
  const ring = new KeyRing({
    store: options.store,
    masterKey: options.masterKey,
    rotationOverlapMs: options.settings.rotationOverlapSeconds * 1000,
    now: options.now,
  });
  await ring.initialize();
  return ring;
}
