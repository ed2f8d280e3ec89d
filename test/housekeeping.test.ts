/**
 * Records that outlive their use are pruned (challenges, OIDC token ids, idle sessions), and the
 * scan fingerprint key is one key even when two instances create it at the same moment.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SightingService } from '../src/sightings/index.ts';
import { startTestGate, type TestGate } from './support/gate.ts';

describe('housekeeping', () => {
  let gate: TestGate;
  let clock = Date.parse('2026-01-01T00:00:00Z');

  before(async () => {
    gate = await startTestGate({ now: () => new Date(clock) });
  });
  after(() => gate?.stop());

  const count = async (table: 'webauthn_challenges' | 'oidc_jtis' | 'sessions'): Promise<number> =>
    Number(
      (
        await gate.app.store.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirst()
      )?.n ?? 0,
    );

  it('prunes expired challenges, token ids and sessions, and keeps live ones', async () => {
    await gate.app.challenges.issue({ purpose: 'login' });
    await gate.app.jtiStore.remember('https://issuer.example', 'jti-old', new Date(clock + 60_000));
    await gate.app.store.db
      .insertInto('users')
      .values({
        id: 'u1',
        name: 'pruned',
        roles: '[]',
        groups: '[]',
        created_at: new Date(clock).toISOString(),
        disabled_at: null,
      })
      .execute();
    await gate.app.sessions.create('u1');
    clock += 2 * 86_400_000;
    await gate.app.challenges.issue({ purpose: 'login' });
    await gate.app.jtiStore.remember('https://issuer.example', 'jti-new', new Date(clock + 60_000));
    const live = await gate.app.sessions.create('u1');
    await Promise.all([gate.app.challenges.prune(), gate.app.jtiStore.prune(), gate.app.sessions.prune()]);
    assert.deepEqual(
      [await count('webauthn_challenges'), await count('oidc_jtis'), await count('sessions')],
      [1, 1, 1],
    );
    assert.equal((await gate.app.sessions.resolve(live.cookie))?.userId, 'u1');
    // A pruned token id is long expired: its token is refused on time before the replay check.
    assert.equal(
      await gate.app.jtiStore.remember('https://issuer.example', 'jti-new', new Date(clock + 60_000)),
      false,
    );
  });

  it('creates one fingerprint key when two instances ask at the same moment', async () => {
    const a = new SightingService({ store: gate.app.store, audit: gate.app.audit, vault: gate.app.vault });
    const b = new SightingService({ store: gate.app.store, audit: gate.app.audit, vault: gate.app.vault });
    const [ka, kb] = await Promise.all([a.fingerprintKey(), b.fingerprintKey()]);
    assert.equal(ka.keyId, kb.keyId);
    assert.deepEqual(ka.key, kb.key);
    assert.equal((await gate.app.sightings.fingerprintKey()).keyId, ka.keyId);
  });
});
