import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startOidcIssuer, type LocalOidcIssuer } from '../../../test/support/oidc-issuer.ts';
import {
  DEFAULT_ALGORITHMS,
  RemoteJwksProvider,
  StaticJwksProvider,
  decodeUnverifiedJwt,
  verifyJwsSignature,
  type RemoteJwksProviderOptions,
} from './jose-adapter.ts';
import type { JwksUnavailableError } from './errors.ts';

const START = Date.parse('2026-03-01T12:00:00Z');

function testClock() {
  let ms = START;
  return { now: () => new Date(ms), advance: (by: number) => (ms += by) };
}

function hasCode(code: string) {
  return (error: unknown): boolean => {
    assert.equal((error as { code?: unknown }).code, code);
    return true;
  };
}

describe('jose adapter', () => {
  let issuer: LocalOidcIssuer;
  let clock: ReturnType<typeof testClock>;
  const provider = (options: RemoteJwksProviderOptions = {}) =>
    new RemoteJwksProvider({ allowInsecureLoopbackIssuers: true, now: clock.now, ...options });
  const key = (keys: RemoteJwksProvider, kid = issuer.currentKid) =>
    keys.resolveKey(issuer.url, { alg: 'RS256', kid });
  const fetches = () => ({ ...issuer.requests });

  before(async () => {
    issuer = await startOidcIssuer();
  });
  after(async () => {
    await issuer.close();
  });
  beforeEach(() => {
    clock = testClock();
    issuer.misbehave({});
  });

  describe('decodeUnverifiedJwt', () => {
    it('refuses anything but three base64url segments with ERR_OIDC_MALFORMED', () => {
      for (const token of ['', 'abc', 'a.b', 'a.b.c.d', 'a b.c.d', `${'a'.repeat(17_000)}.b.c`]) {
        assert.throws(() => decodeUnverifiedJwt(token), hasCode('ERR_OIDC_MALFORMED'), token.slice(0, 20));
      }
    });

    it('refuses a header or payload that is not a JSON object with ERR_OIDC_MALFORMED', () => {
      const segment = (value: string) => Buffer.from(value).toString('base64url');
      for (const [header, payload] of [
        ['[]', '{}'],
        ['{}', '[1]'],
        ['{}', 'null'],
        ['{"alg"', '{}'],
      ] as const) {
        assert.throws(
          () => decodeUnverifiedJwt(`${segment(header)}.${segment(payload)}.sig`),
          hasCode('ERR_OIDC_MALFORMED'),
        );
      }
    });

    it('refuses a token spelled with non-zero unused base64url bits, which decodes like the signed one', async () => {
      const token = await issuer.mint({}, { audience: 'npm:localhost' });
      assert.doesNotThrow(() => decodeUnverifiedJwt(token));
      const [h, p, sig] = token.split('.') as [string, string, string];
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      // The last character of a 256-byte (RS256) or 64-byte (ES256) signature carries unused low bits.
      const last = alphabet.indexOf(sig.at(-1)!);
      const twin = `${sig.slice(0, -1)}${alphabet[last ^ 1]}`;
      assert.deepEqual(
        Buffer.from(twin, 'base64url'),
        Buffer.from(sig, 'base64url'),
        'same bytes, other text',
      );
      assert.throws(() => decodeUnverifiedJwt(`${h}.${p}.${twin}`), hasCode('ERR_OIDC_MALFORMED'));
    });
  });

  describe('RemoteJwksProvider', () => {
    it('finds the key set through discovery once and serves it from cache within the TTL', async () => {
      const keys = provider();
      const before = fetches();
      await key(keys);
      await key(keys);
      clock.advance(9 * 60_000);
      await key(keys);
      assert.deepEqual(fetches(), { discovery: before.discovery + 1, jwks: before.jwks + 1 });
    });

    it('fetches discovery and the key set again when the TTL has passed', async () => {
      const keys = provider({ cacheTtlMs: 60_000 });
      const before = fetches();
      await key(keys);
      clock.advance(60_000);
      await key(keys);
      assert.deepEqual(fetches(), { discovery: before.discovery + 2, jwks: before.jwks + 2 });
    });

    it('uses an explicit jwksUri instead of discovery', async () => {
      const keys = provider({ jwksUris: { [issuer.url]: issuer.jwksUri } });
      const before = fetches();
      await key(keys);
      assert.deepEqual(fetches(), { discovery: before.discovery, jwks: before.jwks + 1 });
    });

    describe('when the issuer rotates its key', () => {
      it('refetches the key set once for the unknown kid and accepts the new key', async () => {
        const keys = provider();
        await key(keys);
        const newKid = await issuer.rotate();
        const before = fetches();
        await key(keys, newKid);
        await key(keys, newKid);
        assert.deepEqual(fetches(), { discovery: before.discovery, jwks: before.jwks + 1 });
      });

      it('refuses a retired key with ERR_OIDC_UNKNOWN_KID after the refetch', async () => {
        const keys = provider();
        const oldKid = issuer.currentKid;
        await issuer.rotate({ retirePrevious: true });
        const newKid = issuer.currentKid;
        await key(keys, newKid);
        clock.advance(31_000);
        await assert.rejects(key(keys, oldKid), hasCode('ERR_OIDC_UNKNOWN_KID'));
      });
    });

    describe('when a flood of unknown kids arrives', () => {
      it('fetches the key set at most once per cool-down window', async () => {
        const keys = provider({ cooldownMs: 30_000 });
        await key(keys);
        const before = fetches();
        const flood = () =>
          Promise.allSettled(Array.from({ length: 50 }, (_, i) => key(keys, `made-up-${i}`)));
        const first = await flood();
        assert.ok(first.every((r) => r.status === 'rejected' && hasCode('ERR_OIDC_UNKNOWN_KID')(r.reason)));
        assert.equal(fetches().jwks, before.jwks + 1);
        clock.advance(29_000);
        await flood();
        assert.equal(fetches().jwks, before.jwks + 1);
        clock.advance(1_000);
        await flood();
        assert.equal(fetches().jwks, before.jwks + 2);
        assert.equal(fetches().discovery, before.discovery);
      });
    });

    it('ignores private and symmetric keys in the key set', async () => {
      const keys = provider();
      issuer.misbehave({
        extraKeys: [
          { ...(await issuer.privateJwk()), kid: 'leaked-private' },
          { kty: 'oct', k: 'c2VjcmV0', kid: 'shared-secret', alg: 'HS256' },
        ],
      });
      await assert.rejects(
        keys.resolveKey(issuer.url, { alg: 'RS256', kid: 'leaked-private' }),
        hasCode('ERR_OIDC_UNKNOWN_KID'),
      );
      await assert.rejects(
        keys.resolveKey(issuer.url, { alg: 'HS256', kid: 'shared-secret' }),
        hasCode('ERR_OIDC_ALG_NOT_ALLOWED'),
      );
    });

    it('refuses an http issuer unless loopback issuers are explicitly allowed', async () => {
      const strict = new RemoteJwksProvider({ now: clock.now });
      await assert.rejects(strict.resolveKey(issuer.url, { alg: 'RS256' }), TypeError);
      await assert.rejects(provider().resolveKey('http://example.test', { alg: 'RS256' }), TypeError);
      assert.throws(
        () => new RemoteJwksProvider({ jwksUris: { 'https://issuer.test': 'http://issuer.test/jwks' } }),
        TypeError,
      );
    });

    describe('when the issuer misbehaves', () => {
      const cases: [string, Parameters<LocalOidcIssuer['misbehave']>[0], string][] = [
        [
          'names another issuer in its discovery document',
          { discoveryIssuer: 'https://token.actions.githubusercontent.com' },
          'discovery-issuer-mismatch',
        ],
        [
          'points jwks_uri at plain http off loopback',
          { discoveryJwksUri: 'http://example.test/jwks' },
          'insecure-jwks-uri',
        ],
        ['answers the key set with a server error', { jwks: 500 }, 'jwks-status-500'],
        ['redirects the key set request', { jwks: 'redirect' }, 'jwks-unreachable'],
        ['sends a key set larger than the limit', { jwks: 'oversize' }, 'jwks-too-large'],
        ['never finishes sending the key set', { jwks: 'stall' }, 'jwks-unreadable'],
      ];
      for (const [what, misbehaviour, reason] of cases) {
        it(`refuses with ERR_OIDC_JWKS_UNAVAILABLE when it ${what}`, async () => {
          issuer.misbehave(misbehaviour);
          const started = Date.now();
          await assert.rejects(key(provider({ timeoutMs: 500 })), (error: unknown) => {
            assert.equal((error as JwksUnavailableError).code, 'ERR_OIDC_JWKS_UNAVAILABLE');
            assert.equal((error as JwksUnavailableError).details?.reason, reason);
            return true;
          });
          assert.ok(Date.now() - started < 3_000, 'bounded by the timeout');
        });
      }

      it('does not ask a failing issuer again within the cool-down window', async () => {
        const keys = provider();
        issuer.misbehave({ jwks: 503 });
        await assert.rejects(key(keys), hasCode('ERR_OIDC_JWKS_UNAVAILABLE'));
        const before = fetches();
        issuer.misbehave({});
        await assert.rejects(key(keys), hasCode('ERR_OIDC_JWKS_UNAVAILABLE'));
        assert.deepEqual(fetches(), before);
        clock.advance(30_000);
        await key(keys);
      });
    });
  });

  describe('verifyJwsSignature', () => {
    it('returns the claims of a token signed by the issuer', async () => {
      const token = await issuer.mint({ repository_id: '1' }, { now: clock.now() });
      const claims = await verifyJwsSignature(token, { issuer: issuer.url, keys: provider() });
      assert.equal(claims.repository_id, '1');
    });

    it('refuses an algorithm outside the allow-list before asking for a key', async () => {
      const token = await issuer.mint({}, { now: clock.now() });
      let asked = 0;
      const keys = { resolveKey: () => ((asked += 1), Promise.reject(new Error('not reached'))) };
      await assert.rejects(
        verifyJwsSignature(token, { issuer: issuer.url, keys, algorithms: ['ES256'] }),
        hasCode('ERR_OIDC_ALG_NOT_ALLOWED'),
      );
      assert.equal(asked, 0);
    });

    it('refuses an allow-list with none or an HMAC algorithm with RangeError', async () => {
      const token = await issuer.mint({}, { now: clock.now() });
      for (const algorithms of [['none'], ['HS256'], ['RS256', 'HS512'], []]) {
        await assert.rejects(
          verifyJwsSignature(token, { issuer: issuer.url, keys: provider(), algorithms }),
          RangeError,
        );
      }
      assert.deepEqual([...DEFAULT_ALGORITHMS], ['RS256', 'ES256']);
    });

    it("passes the key source's own errors through unchanged", async () => {
      const token = await issuer.mint({}, { now: clock.now() });
      const strict = new RemoteJwksProvider({ now: clock.now });
      await assert.rejects(verifyJwsSignature(token, { issuer: issuer.url, keys: strict }), TypeError);
      issuer.misbehave({ jwks: 500 });
      await assert.rejects(
        verifyJwsSignature(token, { issuer: issuer.url, keys: provider() }),
        hasCode('ERR_OIDC_JWKS_UNAVAILABLE'),
      );
    });

    it('verifies with a static key set and refuses a forged signature', async () => {
      const response = await fetch(issuer.jwksUri);
      const keys = new StaticJwksProvider({ [issuer.url]: await response.json() });
      const good = await issuer.mint({}, { now: clock.now() });
      await verifyJwsSignature(good, { issuer: issuer.url, keys });
      const forged = await issuer.mint({}, { now: clock.now(), attack: 'forged' });
      await assert.rejects(
        verifyJwsSignature(forged, { issuer: issuer.url, keys }),
        hasCode('ERR_OIDC_BAD_SIGNATURE'),
      );
    });
  });
});
