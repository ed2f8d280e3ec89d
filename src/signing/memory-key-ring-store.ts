/** An in-memory `KeyRingStore` for tests and one-shot tools. */
import type { KeyRingStore, StoredKey } from './key-ring.ts';

/** Keeps stored keys in a map; copies on the way in and out so callers cannot mutate the store. */
export class MemoryKeyRingStore implements KeyRingStore {
  readonly #keys = new Map<string, StoredKey>();

  /** The stored key with this id, or undefined. */
  get(keyId: string): Promise<StoredKey | undefined> {
    const key = this.#keys.get(keyId);
    return Promise.resolve(key === undefined ? undefined : structuredClone(key));
  }

  /** Inserts or replaces a stored key. */
  put(key: StoredKey): Promise<void> {
    this.#keys.set(key.keyId, structuredClone(key));
    return Promise.resolve();
  }

  /** Every stored key. */
  list(): Promise<StoredKey[]> {
    return Promise.resolve([...this.#keys.values()].map((k) => structuredClone(k)));
  }
}
