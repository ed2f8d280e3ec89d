import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../auditlog/index.ts';
import { openSqliteStore } from '../store/index.ts';
import { signAuditCheckpoint, verifyAuditCheckpoint } from './checkpoint.ts';
import { createTestClock, createTestKeyRing } from './testing/release-fixture.ts';

describe('signed audit checkpoints', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pubgate-checkpoint-'));
  const store = openSqliteStore(join(dir, 'db.sqlite'));
  await store.migrate();
  const clock = createTestClock();
  const ring = createTestKeyRing(clock);
  await ring.initialize();
  const log = new AuditLog(store, clock.read);
  for (let i = 0; i < 6; i++) await log.append({ actor: 'test', action: 'thing.done', subject: `s:${i}` });
  const head = await log.verify();
  assert.ok(head.ok, 'a fresh chain verifies');
  const bundle = await signAuditCheckpoint(await ring.activeSigner(), {
    seq: head.events,
    hash: head.headHash,
    at: clock.read().toISOString(),
  });

  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies against the gate key and states the head it signed', async () => {
    assert.deepEqual(await verifyAuditCheckpoint(JSON.stringify(bundle), ring), {
      seq: 6,
      hash: head.headHash,
      at: clock.read().toISOString(),
    });
  });

  it('refuses a checkpoint whose head was changed, or whose key is unknown', async () => {
    const payload = JSON.parse(Buffer.from(bundle.dsseEnvelope!.payload, 'base64').toString()) as {
      seq: number;
    };
    const moved = {
      ...bundle,
      dsseEnvelope: {
        ...bundle.dsseEnvelope!,
        payload: Buffer.from(JSON.stringify({ ...payload, seq: 2 })).toString('base64'),
      },
    };
    await assert.rejects(verifyAuditCheckpoint(moved, ring), { code: 'ERR_VERIFY_BAD_SIGNATURE' });
    const stranger = createTestKeyRing(clock);
    await stranger.initialize();
    await assert.rejects(verifyAuditCheckpoint(bundle, stranger), { code: 'ERR_VERIFY_KEY_UNKNOWN' });
  });

  it('catches a chain cut short at its end, which the chain alone does not show', async () => {
    await store.db.deleteFrom('audit_events').where('seq', '>', 4).execute();
    const alone = await log.verify();
    assert.equal(alone.ok, true, 'the shorter chain verifies on its own');
    const checked = await log.verify([await verifyAuditCheckpoint(bundle, ring)]);
    assert.deepEqual(checked, {
      ok: false,
      events: 4,
      brokenAt: 5,
      problem:
        'the chain ends at event 4, but a signed checkpoint covers event 6: events were removed from its end',
    });
  });

  it('refuses a checkpoint signed by a key that was retired since (a thief could sign any head)', async () => {
    const keyId = (await ring.activeKey())!.keyId;
    await ring.rotate({ overlapMs: 0 });
    await ring.retire(keyId);
    await assert.rejects(verifyAuditCheckpoint(bundle, ring), { code: 'ERR_VERIFY_KEY_RETIRED' });
  });

  it('catches a checkpointed event replaced by a re-hashed one', async () => {
    // Rewrite the tail consistently (new event 4 and a fresh hash), as someone with database access could.
    const state = await log.verify();
    assert.ok(state.ok);
    const checkpoint = { seq: 4, hash: state.headHash };
    await store.db.deleteFrom('audit_events').where('seq', '=', 4).execute();
    await log.append({ actor: 'mallory', action: 'thing.done', subject: 's:forged' });
    assert.equal((await log.verify()).ok, true, 'the rewritten chain verifies on its own');
    const checked = await log.verify([checkpoint]);
    assert.equal(checked.ok, false);
    assert.match(!checked.ok ? checked.problem : '', /not the event a signed checkpoint recorded/);
  });
});
