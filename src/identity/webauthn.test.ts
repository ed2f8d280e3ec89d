import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { startTestGate, type TestGate } from '../../test/support/gate.ts';
import { SoftAuthenticator } from '../../test/support/soft-authenticator.ts';
import { checkAssertion, claimedChallenge, type RelyingParty, type StoredPasskey } from './webauthn.ts';

const rp: RelyingParty = { id: 'gate.example', name: 'pubgate test', origin: 'https://gate.example' };

/** Matches a pubgate error by code and, when given, by what the library said (its cause). */
function hasCode(code: string, cause?: RegExp) {
  return (error: unknown): boolean => {
    assert.equal((error as { code?: unknown }).code, code);
    if (cause !== undefined)
      assert.match(String((error as { cause?: { message?: unknown } }).cause?.message), cause);
    return true;
  };
}

function stored(authenticator: SoftAuthenticator, counter: number): StoredPasskey {
  return {
    id: authenticator.credentialId,
    publicKey: authenticator.publicKeyBase64url(),
    counter,
    transports: ['internal'],
  };
}

describe('soft authenticator', () => {
  it('encodes its COSE key as a 5-pair CBOR map (kty EC2, ES256, P-256, 32-byte x and y)', () => {
    const cose = Buffer.from(new SoftAuthenticator().cosePublicKey());
    assert.equal(cose.length, 1 + 2 + 2 + 2 + (1 + 2 + 32) * 2);
    assert.deepEqual([...cose.subarray(0, 7)], [0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01]);
    assert.deepEqual([...cose.subarray(7, 10)], [0x21, 0x58, 0x20]);
    assert.deepEqual([...cose.subarray(42, 45)], [0x22, 0x58, 0x20]);
  });

  it('puts the challenge in clientDataJSON where claimedChallenge finds it', () => {
    const challenge = randomBytes(32).toString('base64url');
    const response = new SoftAuthenticator().assert({
      challenge,
      origin: rp.origin,
      rpId: rp.id,
      counter: 1,
    });
    assert.equal(claimedChallenge(response), challenge);
  });
});

describe('checkAssertion (software authenticator)', () => {
  const challenge = () => randomBytes(32).toString('base64url');

  it('verifies a good assertion and returns the new counter', async () => {
    const authenticator = new SoftAuthenticator();
    const c = challenge();
    const response = authenticator.assert({ challenge: c, origin: rp.origin, rpId: rp.id, counter: 7 });
    assert.deepEqual(await checkAssertion(rp, response, c, stored(authenticator, 3)), { newCounter: 7 });
  });

  it('refuses a counter that did not grow (same or lower): ERR_WEBAUTHN_COUNTER_REGRESSION', async () => {
    const authenticator = new SoftAuthenticator();
    for (const counter of [5, 4, 0]) {
      const c = challenge();
      const response = authenticator.assert({ challenge: c, origin: rp.origin, rpId: rp.id, counter });
      await assert.rejects(
        checkAssertion(rp, response, c, stored(authenticator, 5)),
        hasCode('ERR_WEBAUTHN_COUNTER_REGRESSION'),
        `counter ${counter} after 5`,
      );
    }
  });

  it('allows counter 0 when the stored counter is 0 (authenticators without a counter)', async () => {
    const authenticator = new SoftAuthenticator();
    for (let i = 0; i < 2; i++) {
      const c = challenge();
      const response = authenticator.assert({ challenge: c, origin: rp.origin, rpId: rp.id, counter: 0 });
      assert.deepEqual(await checkAssertion(rp, response, c, stored(authenticator, 0)), { newCounter: 0 });
    }
  });

  it('refuses an assertion without the UV flag: ERR_WEBAUTHN_UV_REQUIRED', async () => {
    const authenticator = new SoftAuthenticator();
    const c = challenge();
    const response = authenticator.assert({
      challenge: c,
      origin: rp.origin,
      rpId: rp.id,
      counter: 2,
      userVerified: false,
    });
    await assert.rejects(
      checkAssertion(rp, response, c, stored(authenticator, 1)),
      hasCode('ERR_WEBAUTHN_UV_REQUIRED'),
    );
  });

  it('refuses a wrong origin, a wrong RP id and another challenge: ERR_WEBAUTHN_INVALID', async () => {
    const authenticator = new SoftAuthenticator();
    const c = challenge();
    const wrongOrigin = authenticator.assert({
      challenge: c,
      origin: 'https://evil.example',
      rpId: rp.id,
      counter: 2,
    });
    await assert.rejects(
      checkAssertion(rp, wrongOrigin, c, stored(authenticator, 1)),
      hasCode('ERR_WEBAUTHN_INVALID', /origin/),
    );
    const wrongRpId = authenticator.assert({
      challenge: c,
      origin: rp.origin,
      rpId: 'evil.example',
      counter: 2,
    });
    await assert.rejects(
      checkAssertion(rp, wrongRpId, c, stored(authenticator, 1)),
      hasCode('ERR_WEBAUTHN_INVALID', /RP ID hash/),
    );
    const otherChallenge = authenticator.assert({
      challenge: challenge(),
      origin: rp.origin,
      rpId: rp.id,
      counter: 2,
    });
    await assert.rejects(
      checkAssertion(rp, otherChallenge, c, stored(authenticator, 1)),
      hasCode('ERR_WEBAUTHN_INVALID', /challenge/),
    );
  });

  it('refuses a signature by another key: ERR_WEBAUTHN_INVALID', async () => {
    const authenticator = new SoftAuthenticator();
    const forger = new SoftAuthenticator();
    const c = challenge();
    const forged = forger.assert({ challenge: c, origin: rp.origin, rpId: rp.id, counter: 2 });
    const response = { ...forged, id: authenticator.credentialId, rawId: authenticator.credentialId };
    // Well-formed, so the library gets as far as the signature and reports `verified: false` (no cause).
    await assert.rejects(
      checkAssertion(rp, response, c, stored(authenticator, 1)),
      (error: unknown) => hasCode('ERR_WEBAUTHN_INVALID')(error) && (error as Error).cause === undefined,
    );
    // The same signature checks against its own key: only the key differs.
    assert.deepEqual(await checkAssertion(rp, forged, c, stored(forger, 1)), { newCounter: 2 });
  });
});

describe('PeopleService.verifyAssertion (test gate, software authenticator)', () => {
  let gate: TestGate;
  before(async () => {
    gate = await startTestGate();
  });
  after(async () => {
    await gate.stop();
  });

  it('refuses a cloned authenticator that replays counter 5, and keeps the stored counter at 5', async () => {
    const authenticator = new SoftAuthenticator();
    const userId = randomUUID();
    const now = new Date().toISOString();
    const db = gate.app.store.db;
    await db
      .insertInto('users')
      .values({
        id: userId,
        name: 'soft-user',
        roles: JSON.stringify(['approver']),
        groups: JSON.stringify([]),
        created_at: now,
        disabled_at: null,
      })
      .execute();
    await db
      .insertInto('passkeys')
      .values({
        id: authenticator.credentialId,
        user_id: userId,
        public_key: authenticator.publicKeyBase64url(),
        counter: 0,
        transports: JSON.stringify(['internal']),
        label: 'soft',
        created_at: now,
        last_used_at: null,
      })
      .execute();
    const { id: rpId, origin } = gate.app.people.rp;
    const login = async (counter: number) => {
      const challenge = Buffer.from(await gate.app.challenges.issue({ purpose: 'login' })).toString(
        'base64url',
      );
      return gate.app.people.verifyAssertion(
        authenticator.assert({
          challenge,
          origin,
          rpId,
          counter,
          userHandle: Buffer.from(userId).toString('base64url'),
        }),
        ['login'],
      );
    };
    const storedCounter = async () =>
      Number(
        (
          await db
            .selectFrom('passkeys')
            .select('counter')
            .where('id', '=', authenticator.credentialId)
            .executeTakeFirstOrThrow()
        ).counter,
      );

    const first = await login(5);
    assert.equal(first.person.id, userId);
    assert.equal(first.credentialId, authenticator.credentialId);
    assert.equal(await storedCounter(), 5);

    await assert.rejects(login(5), hasCode('ERR_WEBAUTHN_COUNTER_REGRESSION'));
    assert.equal(await storedCounter(), 5);
    await assert.rejects(login(4), hasCode('ERR_WEBAUTHN_COUNTER_REGRESSION'));
    assert.equal(await storedCounter(), 5);

    // The genuine authenticator, whose counter moved on, still signs in.
    assert.equal((await login(6)).person.id, userId);
    assert.equal(await storedCounter(), 6);
  });
});
