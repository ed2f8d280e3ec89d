import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../auditlog/index.ts';
import { openPostgresStore, openSqliteStore, type Store } from './index.ts';
import { backendNames, freshPostgresDatabase } from '../../test/support/backends.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/**
 * Two handles on one fresh database: two gate instances on PostgreSQL. SQLite serves one instance
 * (better-sqlite3 is synchronous: two writers in one process would block each other's event loop),
 * so there both handles are the same store and the test checks its in-process serialisation.
 */
async function twoHandles(backend: 'sqlite' | 'postgres'): Promise<[Store, Store]> {
  if (backend === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'pubgate-store-'));
    dirs.push(dir);
    const store = openSqliteStore(join(dir, 'db.sqlite'));
    let closed = false;
    const once = {
      ...store,
      close: async () => {
        if (!closed) {
          closed = true;
          await store.close();
        }
      },
    };
    return [once, once];
  }
  const url = await freshPostgresDatabase();
  return [openPostgresStore({ url, poolSize: 5 }), openPostgresStore({ url, poolSize: 5 })];
}

function release(id: string, state: string, version = '1.0.0') {
  const now = new Date().toISOString();
  return {
    id,
    package: 'p',
    version,
    integrity: 'sha512-x',
    shasum: 'x',
    size: 1,
    state,
    tag: 'latest',
    channel: 'publish',
    requester_kind: 'token',
    requester_id: 'a',
    manifest: '{}',
    checks: '[]',
    reason: null,
    created_at: now,
    updated_at: now,
    expires_at: now,
    published_at: null,
    attempts: 0,
    lease_owner: null,
    lease_until: null,
    next_attempt_at: null,
    completion_hash: null,
    required_approvals: 1,
    approver_group: 'approvers',
    policy: '{}',
    requester_verified_at: null,
    publish_mode: 'gate',
  };
}

for (const backend of backendNames()) {
  describe(`store on ${backend}`, () => {
    it('runs migrations once when two instances start at the same moment', async () => {
      const [a, b] = await twoHandles(backend);
      await Promise.all([a.migrate(), b.migrate()]);
      await a.migrate();
      const tables = await a.db.introspection.getTables();
      assert.ok(
        ['releases', 'audit_events', 'credentials', 'vault_secrets', 'local_packages'].every((t) =>
          tables.some((x) => x.name === t),
        ),
      );
      assert.equal(await a.ping(), true);
      await Promise.all([a.close(), b.close()]);
    });

    it('rolls back a failed transaction completely', async () => {
      const [a, b] = await twoHandles(backend);
      await a.migrate();
      await assert.rejects(
        a.transaction(async (tx) => {
          await tx.insertInto('releases').values(release('r1', 'awaiting_approval')).execute();
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal((await b.db.selectFrom('releases').selectAll().execute()).length, 0);
      await Promise.all([a.close(), b.close()]);
    });

    it('allows one live release per package@version, across instances, but any number of final ones', async () => {
      const [a, b] = await twoHandles(backend);
      await a.migrate();
      await a.db.insertInto('releases').values(release('r1', 'rejected')).execute();
      await a.db.insertInto('releases').values(release('r2', 'expired')).execute();
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          (i % 2 === 0 ? a : b).db
            .insertInto('releases')
            .values(release(`live${i}`, 'awaiting_approval'))
            .execute(),
        ),
      );
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      await Promise.all([a.close(), b.close()]);
    });

    it('keeps one audit chain when two instances append concurrently', async () => {
      const [a, b] = await twoHandles(backend);
      await a.migrate();
      const logA = new AuditLog(a);
      const logB = new AuditLog(b);
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 === 0 ? logA : logB).append({ actor: 't', action: 'x', subject: `s${i}` }),
        ),
      );
      const result = await logA.verify();
      assert.deepEqual(result.ok && result.events, 40);
      await Promise.all([a.close(), b.close()]);
    });
  });
}
