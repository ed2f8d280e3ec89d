/** Pending releases expire after release.pendingTtlSeconds (frozen clock), and free their version. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGate, type TestGate, approveWithQuorum } from './support/gate.ts';
import { escapedName, packageTarball, publishDoc } from './support/publish-doc.ts';

describe('release expiry', () => {
  let gate: TestGate;
  let token: string;
  let clock = Date.parse('2026-01-01T00:00:00Z');

  before(async () => {
    gate = await startTestGate({
      now: () => new Date(clock),
      release: { pendingTtlSeconds: 3600, workerIntervalMs: 60_000 },
    });
    token = await gate.issueToken('alice');
  });
  after(() => gate?.stop());

  async function hold(): Promise<{ code: string; release?: string }> {
    const body = JSON.stringify(publishDoc('expiring', '1.0.0', await packageTarball('expiring', '1.0.0')));
    const r = await fetch(`${gate.url}/npm/${escapedName('expiring')}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    });
    return (await r.json()) as { code: string; release?: string };
  }

  it('keeps a release pending until its time is up, then expires it with a reason', async () => {
    const { release } = await hold();
    clock += 3599 * 1000;
    assert.equal(await gate.app.releases.expireDue(), 0);
    assert.equal((await gate.app.releases.get(release!)).state, 'awaiting_approval');
    clock += 2 * 1000;
    assert.equal(await gate.app.releases.expireDue(), 1);
    const expired = await gate.app.releases.get(release!);
    assert.equal(expired.state, 'expired');
    assert.equal(expired.reason, 'not approved in time');
  });

  it('refuses to approve an expired release with ERR_RELEASE_STATE', async () => {
    const [expired] = await gate.app.releases.list({ package: 'expiring' });
    await assert.rejects(approveWithQuorum(gate.app, expired!.id), { code: 'ERR_RELEASE_STATE' });
  });

  it('lets the same version be requested again once the old release expired', async () => {
    // The first credential (1 h) expired with the release; a fresh one asks again.
    assert.equal((await hold()).code, 'ERR_AUTH_EXPIRED');
    token = await gate.issueToken('alice');
    const again = await hold();
    assert.equal(again.code, 'ERR_RELEASE_HELD');
    assert.equal((await gate.app.releases.list({ package: 'expiring' })).length, 2);
  });
});
