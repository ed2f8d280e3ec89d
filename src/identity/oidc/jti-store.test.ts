import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryJtiStore } from './jti-store.ts';

describe('MemoryJtiStore', () => {
  const issuer = 'https://token.actions.githubusercontent.com';

  it('remembers a jti once and reports the second sighting as false', async () => {
    const store = new MemoryJtiStore();
    const until = new Date(Date.now() + 60_000);
    assert.equal(await store.remember(issuer, 'a', until), true);
    assert.equal(await store.remember(issuer, 'a', until), false);
  });

  it('keeps issuers apart', async () => {
    const store = new MemoryJtiStore();
    const until = new Date(Date.now() + 60_000);
    assert.equal(await store.remember(issuer, 'a', until), true);
    assert.equal(await store.remember('https://gitlab.com', 'a', until), true);
  });

  it('accepts exactly one of many concurrent uses of the same jti', async () => {
    const store = new MemoryJtiStore();
    const until = new Date(Date.now() + 60_000);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => store.remember(issuer, 'same', until)),
    );
    assert.equal(results.filter(Boolean).length, 1);
  });

  it('forgets a jti once it has expired', async () => {
    let now = Date.parse('2026-03-01T12:00:00Z');
    const store = new MemoryJtiStore({ now: () => new Date(now) });
    const until = new Date(now + 60_000);
    assert.equal(await store.remember(issuer, 'a', until), true);
    now += 59_999;
    assert.equal(await store.remember(issuer, 'a', until), false);
    now += 1;
    assert.equal(await store.remember(issuer, 'a', new Date(now + 60_000)), true);
    now += 10 * 60_000;
    await store.remember(issuer, 'b', new Date(now + 60_000));
    assert.equal(store.size, 1);
  });
});
