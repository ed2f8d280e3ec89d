/**
 * WebAuthn challenges: 32 random bytes, or a digest of what they authorise plus a nonce, issued
 * for one purpose, stored server-side, usable once, expiring after `ttlSeconds`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { AuthError } from '../errors/index.ts';
import type { Store } from '../store/index.ts';

/** What a challenge may be used for. */
export type ChallengePurpose =
  'register' | 'login' | 'approve' | 'reject' | 'request' | 'remove-passkey' | 'admin';

/** A consumed challenge and what it was bound to. */
export interface ConsumedChallenge {
  readonly challenge: string;
  readonly purpose: ChallengePurpose;
  readonly userId: string | null;
  readonly subject: string | null;
  readonly binding: Readonly<Record<string, unknown>>;
}

/** Issues and consumes challenges. */
export class ChallengeService {
  readonly #store: Store;
  readonly #ttlSeconds: number;
  readonly #now: () => Date;

  constructor(store: Store, ttlSeconds: number, now: () => Date = () => new Date()) {
    this.#store = store;
    this.#ttlSeconds = ttlSeconds;
    this.#now = now;
  }

  /**
   * Issues a challenge. With a binding, its bytes are sha256(canonical binding + random nonce):
   * an assertion over it can only mean "this purpose, for exactly this subject".
   */
  async issue(options: {
    purpose: ChallengePurpose;
    userId?: string | null;
    subject?: string | null;
    binding?: Record<string, unknown>;
  }): Promise<Uint8Array> {
    const nonce = randomBytes(32).toString('base64url');
    const binding = { ...(options.binding ?? {}), purpose: options.purpose, nonce };
    const bytes = createHash('sha256')
      .update(
        JSON.stringify(Object.fromEntries(Object.entries(binding).sort(([a], [b]) => a.localeCompare(b)))),
      )
      .digest();
    const now = this.#now();
    await this.#store.db
      .insertInto('webauthn_challenges')
      .values({
        challenge: Buffer.from(bytes).toString('base64url'),
        purpose: options.purpose,
        user_id: options.userId ?? null,
        subject: options.subject ?? null,
        binding: JSON.stringify(binding),
        created_at: now.toISOString(),
        expires_at: new Date(now.getTime() + this.#ttlSeconds * 1000).toISOString(),
        used_at: null,
      })
      .execute();
    return bytes;
  }

  /**
   * Consumes a challenge exactly once (compare-and-set on `used_at`, so two instances cannot both
   * accept it). Throws `ERR_WEBAUTHN_CHALLENGE_UNKNOWN | _REPLAYED | _EXPIRED | _PURPOSE`.
   */
  async consume(challenge: string, purposes: readonly ChallengePurpose[]): Promise<ConsumedChallenge> {
    const row = await this.#store.db
      .selectFrom('webauthn_challenges')
      .selectAll()
      .where('challenge', '=', challenge)
      .executeTakeFirst();
    if (row === undefined)
      throw new AuthError(
        'ERR_WEBAUTHN_CHALLENGE_UNKNOWN',
        'this passkey response answers no challenge this gate issued',
      );
    if (!purposes.includes(row.purpose as ChallengePurpose)) {
      throw new AuthError(
        'ERR_WEBAUTHN_CHALLENGE_PURPOSE',
        `this passkey response was made for ${row.purpose}, not for this action`,
      );
    }
    if (row.used_at !== null)
      throw new AuthError('ERR_WEBAUTHN_CHALLENGE_REPLAYED', 'this passkey response was already used');
    const now = this.#now().toISOString();
    if (row.expires_at <= now)
      throw new AuthError('ERR_WEBAUTHN_CHALLENGE_EXPIRED', 'the passkey challenge expired; start again');
    const result = await this.#store.db
      .updateTable('webauthn_challenges')
      .set({ used_at: now })
      .where('challenge', '=', challenge)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1)
      throw new AuthError('ERR_WEBAUTHN_CHALLENGE_REPLAYED', 'this passkey response was already used');
    return {
      challenge,
      purpose: row.purpose as ChallengePurpose,
      userId: row.user_id,
      subject: row.subject,
      binding: JSON.parse(row.binding) as Record<string, unknown>,
    };
  }

  /** Deletes challenges that expired more than a day ago. */
  async prune(): Promise<void> {
    const cutoff = new Date(this.#now().getTime() - 86_400_000).toISOString();
    await this.#store.db.deleteFrom('webauthn_challenges').where('expires_at', '<', cutoff).execute();
  }
}
