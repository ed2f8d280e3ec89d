/** Seen token ids (`jti`), so that a workload token is accepted once. */

/** Remembers token ids per issuer until they expire. */
export interface JtiStore {
  /**
   * Records `jti` of `issuer`, kept at least until `expiresAt`; resolves false when it was recorded
   * before. Must be atomic: of two concurrent calls with the same pair, exactly one resolves true
   * (a SQL store inserts under a unique key on (issuer, jti)).
   */
  remember(issuer: string, jti: string, expiresAt: Date): Promise<boolean>;
}

/** Options of `MemoryJtiStore`. */
export interface MemoryJtiStoreOptions {
  readonly now?: () => Date;
}

/** A process-local `JtiStore` for tests and single-instance use; forgets ids once they expire. */
export class MemoryJtiStore implements JtiStore {
  readonly #seen = new Map<string, number>();
  readonly #now: () => Date;
  #lastSweep = 0;

  constructor(options: MemoryJtiStoreOptions = {}) {
    this.#now = options.now ?? (() => new Date());
  }

  /** Records the pair; false when it is already recorded and not yet expired. */
  remember(issuer: string, jti: string, expiresAt: Date): Promise<boolean> {
    // Check and insert run without an await in between, which makes them atomic on one event loop.
    const now = this.#now().getTime();
    this.#sweep(now);
    // A NUL cannot occur in a URL issuer, so the key is unambiguous.
    const key = `${issuer}\u0000${jti}`;
    const until = this.#seen.get(key);
    if (until !== undefined && until > now) return Promise.resolve(false);
    this.#seen.set(key, expiresAt.getTime());
    return Promise.resolve(true);
  }

  /** How many ids are held (expired ones are dropped lazily). */
  get size(): number {
    return this.#seen.size;
  }

  #sweep(now: number): void {
    if (now - this.#lastSweep < 60_000) return;
    this.#lastSweep = now;
    for (const [key, until] of this.#seen) if (until <= now) this.#seen.delete(key);
  }
}
