/** Trusted publishers: those of the config file plus those admins add through the API (stored, audited). */
import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../auditlog/index.ts';
import { NotFoundError, ValidationError } from '../errors/index.ts';
import type { Store } from '../store/index.ts';
import { validateTrustedPublishers, type TrustedPublisherConfig } from './oidc/index.ts';

/** A publisher with where it comes from. */
export interface ListedPublisher {
  readonly id: string;
  readonly source: 'config' | 'admin';
  readonly publisher: TrustedPublisherConfig;
  readonly createdBy?: string;
  readonly createdAt?: string;
}

/** Lists, adds and removes trusted publishers. */
export class PublisherRegistry {
  readonly #store: Store;
  readonly #audit: AuditLog;
  readonly #fromConfig: readonly TrustedPublisherConfig[];
  readonly #allowInsecureLoopbackIssuers: boolean;

  constructor(options: {
    store: Store;
    audit: AuditLog;
    fromConfig: readonly TrustedPublisherConfig[];
    allowInsecureLoopbackIssuers: boolean;
  }) {
    this.#store = options.store;
    this.#audit = options.audit;
    this.#fromConfig = options.fromConfig;
    this.#allowInsecureLoopbackIssuers = options.allowInsecureLoopbackIssuers;
  }

  /** Every active publisher. */
  async list(): Promise<ListedPublisher[]> {
    const rows = await this.#store.db
      .selectFrom('trusted_publishers')
      .selectAll()
      .where('removed_at', 'is', null)
      .orderBy('created_at')
      .execute();
    return [
      ...this.#fromConfig.map((publisher, i) => ({
        id: `config:${i}`,
        source: 'config' as const,
        publisher,
      })),
      ...rows.map((r) => ({
        id: r.id,
        source: 'admin' as const,
        publisher: JSON.parse(r.config) as TrustedPublisherConfig,
        createdBy: r.created_by,
        createdAt: r.created_at,
      })),
    ];
  }

  /** The publishers the exchange checks against. */
  async active(): Promise<TrustedPublisherConfig[]> {
    return (await this.list()).map((p) => p.publisher);
  }

  /** Checks a publisher; throws `ERR_PUBLISHER_INVALID` listing every problem. */
  validate(value: unknown): TrustedPublisherConfig {
    const issues = validateTrustedPublishers([value], {
      allowInsecureLoopbackIssuers: this.#allowInsecureLoopbackIssuers,
    });
    if (issues.length > 0) {
      const problems = issues.map((i) => `${i.path.slice(1).join('.') || '(publisher)'}: ${i.message}`);
      throw new ValidationError(
        'ERR_PUBLISHER_INVALID',
        `invalid trusted publisher: ${problems.join('; ')}`,
        { details: { problems } },
      );
    }
    return value as TrustedPublisherConfig;
  }

  /** Adds a publisher (after the caller's step-up). */
  async add(value: unknown, actor: string): Promise<string> {
    const publisher = this.validate(value);
    const id = randomUUID();
    await this.#store.transaction(async (tx) => {
      await tx
        .insertInto('trusted_publishers')
        .values({
          id,
          config: JSON.stringify(publisher),
          created_by: actor,
          created_at: new Date().toISOString(),
          removed_at: null,
        })
        .execute();
      await this.#audit.appendIn(tx, {
        actor,
        action: 'publisher.added',
        subject: `publisher:${id}`,
        data: { publisher },
      });
    });
    return id;
  }

  /** Removes an admin-added publisher. */
  async remove(id: string, actor: string): Promise<void> {
    await this.#store.transaction(async (tx) => {
      const result = await tx
        .updateTable('trusted_publishers')
        .set({ removed_at: new Date().toISOString() })
        .where('id', '=', id)
        .where('removed_at', 'is', null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1)
        throw new NotFoundError(
          'ERR_PUBLISHER_NOT_FOUND',
          'no such admin-added publisher (config publishers change in the config file)',
        );
      await this.#audit.appendIn(tx, {
        actor,
        action: 'publisher.removed',
        subject: `publisher:${id}`,
        data: {},
      });
    });
  }
}
