/**
 * The hash-chained audit log. Each event's hash covers its own fields and the previous event's hash,
 * so editing, deleting or reordering any stored event breaks the chain at that event.
 */
import { createHash } from 'node:crypto';
import type { AuditEventsTable, Db, Store } from '../store/index.ts';

/** What callers record. `data` must be secret-free. */
export interface AuditEventInput {
  readonly actor: string;
  readonly action: string;
  readonly subject: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

/** A stored event. */
export interface AuditEvent {
  readonly seq: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly subject: string;
  readonly data: Record<string, unknown>;
  readonly prevHash: string;
  readonly hash: string;
}

/** The outcome of {@link AuditLog.verify}. */
export type ChainVerification =
  | { readonly ok: true; readonly events: number; readonly headHash: string }
  | { readonly ok: false; readonly events: number; readonly brokenAt: number; readonly problem: string };

/** Hash of the first event's predecessor. */
export const GENESIS_HASH = '0'.repeat(64);
const CHAIN_LOCK = 'pubgate.audit.chain';

/** Hash of one event: sha256 over a canonical, length-delimited encoding of every field. */
export function hashAuditEvent(event: Omit<AuditEvent, 'hash' | 'data'> & { readonly data: string }): string {
  const hash = createHash('sha256');
  for (const part of [
    String(event.seq),
    event.at,
    event.actor,
    event.action,
    event.subject,
    event.data,
    event.prevHash,
  ]) {
    // Length prefixes make the encoding unambiguous: no two field lists hash alike.
    hash.update(`${Buffer.byteLength(part, 'utf8')}:`).update(part, 'utf8');
  }
  return hash.digest('hex');
}

/** Appends to and reads the audit chain. */
export class AuditLog {
  readonly #store: Store;
  readonly #now: () => Date;

  constructor(store: Store, now: () => Date = () => new Date()) {
    this.#store = store;
    this.#now = now;
  }

  /** Appends inside the caller's transaction, so an event exists exactly when its change does. */
  async appendIn(tx: Db, input: AuditEventInput): Promise<AuditEvent> {
    await this.#store.serialize(tx, CHAIN_LOCK);
    const head = await tx
      .selectFrom('audit_events')
      .select(['seq', 'hash'])
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    const seq = head === undefined ? 1 : Number(head.seq) + 1;
    const prevHash = head?.hash ?? GENESIS_HASH;
    const at = this.#now().toISOString();
    const data = JSON.stringify(input.data ?? {});
    const hash = hashAuditEvent({
      seq,
      at,
      actor: input.actor,
      action: input.action,
      subject: input.subject,
      data,
      prevHash,
    });
    await tx
      .insertInto('audit_events')
      .values({
        seq,
        at,
        actor: input.actor,
        action: input.action,
        subject: input.subject,
        data,
        prev_hash: prevHash,
        hash,
      })
      .execute();
    return {
      seq,
      at,
      actor: input.actor,
      action: input.action,
      subject: input.subject,
      data: input.data ?? {},
      prevHash,
      hash,
    };
  }

  /** Appends in a transaction of its own. */
  append(input: AuditEventInput): Promise<AuditEvent> {
    return this.#store.transaction((tx) => this.appendIn(tx, input));
  }

  /** Events in order, page by page (bounded memory). */
  async *events(
    options: { subject?: string; afterSeq?: number; pageSize?: number } = {},
  ): AsyncGenerator<AuditEvent> {
    let after = options.afterSeq ?? 0;
    const pageSize = options.pageSize ?? 1000;
    for (;;) {
      let query = this.#store.db.selectFrom('audit_events').selectAll().where('seq', '>', after);
      if (options.subject !== undefined) query = query.where('subject', '=', options.subject);
      const rows = await query.orderBy('seq', 'asc').limit(pageSize).execute();
      for (const row of rows) yield toEvent(row);
      if (rows.length < pageSize) return;
      after = Number(rows.at(-1)!.seq);
    }
  }

  /** The newest `limit` events, newest first. */
  async recent(limit: number): Promise<AuditEvent[]> {
    const rows = await this.#store.db
      .selectFrom('audit_events')
      .selectAll()
      .orderBy('seq', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toEvent);
  }

  /**
   * Walks the whole chain and reports the first broken link (edit, deletion, insertion or reorder).
   * With `checkpoints` (signed heads kept elsewhere) it also reports a chain cut short at its end,
   * which on its own still verifies.
   */
  async verify(
    checkpoints: readonly { readonly seq: number; readonly hash: string }[] = [],
  ): Promise<ChainVerification> {
    const broken = (events: number, brokenAt: number, problem: string): ChainVerification => ({
      ok: false,
      events,
      brokenAt,
      problem,
    });
    const bySeq = new Map(checkpoints.map((c) => [c.seq, c.hash]));
    let expectedSeq = 1;
    let prevHash = GENESIS_HASH;
    let count = 0;
    let after = 0;
    for (;;) {
      const rows = await this.#store.db
        .selectFrom('audit_events')
        .selectAll()
        .where('seq', '>', after)
        .orderBy('seq', 'asc')
        .limit(1000)
        .execute();
      for (const row of rows) {
        const seq = Number(row.seq);
        if (seq !== expectedSeq) {
          return broken(count, expectedSeq, `event ${expectedSeq} is missing (next stored event is ${seq})`);
        }
        if (row.prev_hash !== prevHash) {
          return broken(count, seq, `event ${seq} does not link to event ${seq - 1}`);
        }
        const recomputed = hashAuditEvent({
          seq,
          at: row.at,
          actor: row.actor,
          action: row.action,
          subject: row.subject,
          data: row.data,
          prevHash: row.prev_hash,
        });
        if (recomputed !== row.hash) {
          return broken(count, seq, `event ${seq} was modified after it was written`);
        }
        const signed = bySeq.get(seq);
        if (signed !== undefined && signed !== row.hash)
          return broken(count, seq, `event ${seq} is not the event a signed checkpoint recorded`);
        prevHash = row.hash;
        expectedSeq++;
        count++;
      }
      if (rows.length < 1000) {
        const beyond = Math.max(0, ...bySeq.keys());
        if (beyond > count)
          return broken(
            count,
            count + 1,
            `the chain ends at event ${count}, but a signed checkpoint covers event ${beyond}: events were removed from its end`,
          );
        return { ok: true, events: count, headHash: prevHash };
      }
      after = Number(rows.at(-1)!.seq);
    }
  }
}

function toEvent(row: AuditEventsTable): AuditEvent {
  return {
    seq: Number(row.seq),
    at: row.at,
    actor: row.actor,
    action: row.action,
    subject: row.subject,
    data: parseData(row.data),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

function parseData(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
