/**
 * The kill switch. `lock(target)` revokes every live credential in scope, rejects every release in
 * scope that has not started publishing, and makes the gate refuse new exchanges, requests and
 * publishes in scope until the lockdown is lifted. Targets: `all`, a package, `@scope/*`, or
 * `identity:<name>`.
 */
import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../auditlog/index.ts';
import { AuthError, NotFoundError } from '../errors/index.ts';
import type { ReleaseService } from '../release/index.ts';
import type { Store } from '../store/index.ts';
import { scopeCovers } from '../tokens/index.ts';

/** A lockdown record. */
export interface Lockdown {
  readonly id: string;
  readonly target: string;
  readonly reason: string;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly liftedAt: string | null;
}

/** What a lockdown did. */
export interface LockOutcome {
  readonly lockdown: Lockdown;
  readonly revokedCredentials: number;
  readonly rejectedReleases: number;
}

/** Checks a target's shape; throws RangeError (caller mistake). */
export function assertLockTarget(target: string): void {
  if (target === 'all') return;
  if (/^identity:[A-Za-z0-9._@:/-]{1,128}$/.test(target)) return;
  if (/^(@[a-z0-9][a-z0-9._~-]*\/(\*|[a-z0-9._~-]+)|[a-z0-9][a-z0-9._~-]*)$/.test(target)) return;
  throw new RangeError(
    `invalid lockdown target ${JSON.stringify(target)}: use all, a package, @scope/*, or identity:<name>`,
  );
}

/** True when a package-pattern target and a credential's scope patterns can name the same package. */
function patternsOverlap(target: string, scope: readonly string[]): boolean {
  return scope.some((pattern) => {
    if (pattern === '*' || target === 'all') return true;
    if (target.endsWith('/*'))
      return pattern.startsWith(target.slice(0, -1)) || (pattern.endsWith('/*') && pattern === target);
    return scopeCovers([pattern], target);
  });
}

function matchesPackage(target: string, packageName: string): boolean {
  return target === 'all' || scopeCovers([target], packageName);
}

/** Locks, lifts and enforces lockdowns. */
export class LockdownService {
  readonly #store: Store;
  readonly #audit: AuditLog;
  readonly #releases: ReleaseService;
  readonly #now: () => Date;

  constructor(options: { store: Store; audit: AuditLog; releases: ReleaseService; now?: () => Date }) {
    this.#store = options.store;
    this.#audit = options.audit;
    this.#releases = options.releases;
    this.#now = options.now ?? (() => new Date());
  }

  /** Active lockdowns. */
  async active(): Promise<Lockdown[]> {
    const rows = await this.#store.db
      .selectFrom('lockdowns')
      .selectAll()
      .where('lifted_at', 'is', null)
      .orderBy('created_at')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      target: r.target,
      reason: r.reason,
      createdBy: r.created_by,
      createdAt: r.created_at,
      liftedAt: r.lifted_at,
    }));
  }

  /** Throws `ERR_LOCKDOWN` when a lockdown covers the package or the identity. */
  async assertOpen(what: { package?: string; identity?: string }): Promise<void> {
    for (const lock of await this.active()) {
      const byIdentity =
        lock.target.startsWith('identity:') &&
        what.identity !== undefined &&
        lock.target.slice('identity:'.length) === what.identity;
      const byPackage =
        !lock.target.startsWith('identity:') &&
        (lock.target === 'all' || (what.package !== undefined && matchesPackage(lock.target, what.package)));
      if (byIdentity || byPackage) {
        throw new AuthError(
          'ERR_LOCKDOWN',
          `${lock.target} is locked down (${lock.reason}); nothing in it is exchanged, requested or published until \`pubgate lockdown lift ${lock.id}\``,
          { details: { lockdown: lock.id } },
        );
      }
    }
  }

  /** Locks `target` down. */
  async lock(target: string, reason: string, actor: string): Promise<LockOutcome> {
    assertLockTarget(target);
    const now = this.#now().toISOString();
    const id = randomUUID();
    let revoked = 0;
    await this.#store.transaction(async (tx) => {
      await tx
        .insertInto('lockdowns')
        .values({
          id,
          target,
          reason: reason.slice(0, 500),
          created_by: actor,
          created_at: now,
          lifted_at: null,
          lifted_by: null,
        })
        .execute();
      const live = await tx
        .selectFrom('credentials')
        .select(['id', 'identity', 'scope'])
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .execute();
      for (const cred of live) {
        const inScope = target.startsWith('identity:')
          ? cred.identity === target.slice('identity:'.length)
          : patternsOverlap(target, JSON.parse(cred.scope) as string[]);
        if (!inScope) continue;
        await tx
          .updateTable('credentials')
          .set({ revoked_at: now })
          .where('id', '=', cred.id)
          .where('revoked_at', 'is', null)
          .execute();
        revoked++;
      }
      await this.#audit.appendIn(tx, {
        actor,
        action: 'lockdown.set',
        subject: `lockdown:${id}`,
        data: { target, reason, revokedCredentials: revoked },
      });
    });
    let rejected = 0;
    for (const release of await this.#releases.list({
      states: ['awaiting_approval', 'approved'],
      limit: 100_000,
    })) {
      const inScope = target.startsWith('identity:')
        ? release.requester.id === target.slice('identity:'.length)
        : matchesPackage(target, release.package);
      if (!inScope) continue;
      try {
        await this.#releases.reject(release.id, actor, `lockdown: ${reason}`);
        rejected++;
      } catch {
        // It moved on (publishing started) meanwhile; the publisher checks the lockdown too.
      }
    }
    return {
      lockdown: { id, target, reason, createdBy: actor, createdAt: now, liftedAt: null },
      revokedCredentials: revoked,
      rejectedReleases: rejected,
    };
  }

  /** Lifts a lockdown. Revoked credentials stay revoked. */
  async lift(id: string, actor: string): Promise<void> {
    await this.#store.transaction(async (tx) => {
      const result = await tx
        .updateTable('lockdowns')
        .set({ lifted_at: this.#now().toISOString(), lifted_by: actor })
        .where('id', '=', id)
        .where('lifted_at', 'is', null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1)
        throw new NotFoundError('ERR_LOCKDOWN_NOT_FOUND', `no active lockdown ${id}`);
      await this.#audit.appendIn(tx, {
        actor,
        action: 'lockdown.lifted',
        subject: `lockdown:${id}`,
        data: {},
      });
    });
  }
}
