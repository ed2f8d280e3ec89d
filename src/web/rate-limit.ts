/**
 * Per-client rate limits for sign-in, enrolment and step-up. In memory per instance: a limit bounds
 * guessing and abuse; correctness (single use, quorum) lives in the database, not here.
 */
import { PubgateError } from '../errors/index.ts';

/** A fixed-window limiter keyed by client. */
export class RateLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #hits = new Map<string, { count: number; resetAt: number }>();

  constructor(limit: number, windowMs: number) {
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /** Counts a hit for `key`; throws `ERR_RATE_LIMITED` past the limit. */
  hit(key: string, now = Date.now()): void {
    if (this.#hits.size > 10_000) for (const [k, v] of this.#hits) if (v.resetAt <= now) this.#hits.delete(k);
    const entry = this.#hits.get(key);
    if (entry === undefined || entry.resetAt <= now) {
      this.#hits.set(key, { count: 1, resetAt: now + this.#windowMs });
      return;
    }
    entry.count++;
    if (entry.count > this.#limit) {
      throw new PubgateError(
        'ERR_RATE_LIMITED',
        `too many attempts; wait ${Math.ceil((entry.resetAt - now) / 1000)} s`,
        { details: { retryAfterSeconds: Math.ceil((entry.resetAt - now) / 1000) } },
      );
    }
  }
}
