import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { isPubgateError } from '../errors/index.ts';
import { parseExternalIdentities, readExternalIdentities } from './external.ts';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../test/fixtures/inventory/${name}`, import.meta.url));
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return isPubgateError(error) ? error.code : 'not a pubgate error';
  }
  return 'no error';
};

describe('external identities import', () => {
  describe('a declarative YAML file', () => {
    it('lists every identity with its kind, capabilities, person link and places', () => {
      const { items, offboarded } = readExternalIdentities(fixture('toxic.yaml'));
      assert.equal(items.length, 8);
      assert.deepEqual(offboarded, ['mallory']);
      const alice = items.find((i) => i.id === 'external:toxic.yaml#alice-npm');
      assert.equal(alice?.kind, 'registry-token');
      assert.equal(alice?.person, 'alice');
      assert.deepEqual(alice?.capabilities, ['publish']);
      assert.deepEqual(alice?.places, ['registry:registry.npmjs.org']);
      const bot = items.find((i) => i.id === 'external:toxic.yaml#approve-bot');
      assert.equal(bot?.credential, null, 'secret: false declares an identity without a credential');
    });
  });

  describe('npm token list --json', () => {
    it('treats readonly: false as publish-capable and never keeps the redacted token preview', () => {
      const { items } = readExternalIdentities(fixture('npm-token-list.json'));
      assert.deepEqual(
        items.map((i) => i.capabilities),
        [['install', 'publish'], ['install']],
      );
      assert.deepEqual(items[0]?.packages, ['*'], 'a classic token covers every package of its owner');
      assert.deepEqual(items[1]?.packages, ['@acme/*'], 'granular scopes become package patterns');
      assert.equal(items[1]?.credential?.expiresAt, '2026-12-01T10:00:00.000Z');
      const text = JSON.stringify(items);
      assert.doesNotMatch(text, /npm_Xq|npm_Rk/);
      assert.doesNotMatch(text, /a1b2c3d4e5f60718293a4b5c/, 'only a short prefix of the key');
    });
    it('attributes a wrapped list to its person', () => {
      const { items } = readExternalIdentities(fixture('npm-tokens-of-erin.json'));
      assert.equal(items[0]?.person, 'erin');
      assert.deepEqual(items[0]?.places, ['registry:registry.npmjs.org']);
    });
  });

  describe('hostile or bad input', () => {
    it('refuses a file that does not parse with ERR_INVENTORY_IMPORT_PARSE', () => {
      assert.equal(
        code(() => parseExternalIdentities('{ "identities": [', 'x.json')),
        'ERR_INVENTORY_IMPORT_PARSE',
      );
      assert.equal(
        code(() => parseExternalIdentities('identities: [unclosed', 'x.yaml')),
        'ERR_INVENTORY_IMPORT_PARSE',
      );
    });
    it('refuses unknown capabilities, kinds and keys with ERR_INVENTORY_IMPORT_INVALID listing each', () => {
      try {
        parseExternalIdentities(
          'identities:\n  - {id: a, kind: wizard, capabilities: [teleport]}\nextra: 1\n',
          'x.yaml',
        );
        assert.fail('accepted');
      } catch (error) {
        assert.ok(isPubgateError(error, 'ERR_INVENTORY_IMPORT_INVALID'));
        assert.equal((error.details?.['problems'] as string[]).length, 3);
      }
    });
    it('refuses a secret value where a fingerprint belongs', () => {
      assert.equal(
        code(() =>
          parseExternalIdentities(
            'identities:\n  - {id: a, kind: ci-secret, fingerprint: "npm_abcdefghijklmnopqrstuvwxyz0123456789"}\n',
            'x.yaml',
          ),
        ),
        'ERR_INVENTORY_IMPORT_INVALID',
      );
    });
    it('keeps a __proto__ key as data and refuses it as an id', () => {
      assert.equal(
        code(() =>
          parseExternalIdentities(
            '{"identities":[{"id":"__proto__ x","kind":"bot","__proto__":{"polluted":true}}]}',
            'x.json',
          ),
        ),
        'ERR_INVENTORY_IMPORT_INVALID',
      );
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    });
    it('refuses duplicate ids and traversal-looking file names cannot escape the id', () => {
      assert.equal(
        code(() =>
          parseExternalIdentities('identities:\n  - {id: a, kind: bot}\n  - {id: a, kind: bot}\n', 'x.yaml'),
        ),
        'ERR_INVENTORY_IMPORT_INVALID',
      );
    });
    it('refuses YAML alias bombs', () => {
      const bomb =
        'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n';
      assert.ok(
        ['ERR_INVENTORY_IMPORT_PARSE', 'ERR_INVENTORY_IMPORT_INVALID'].includes(
          code(() => parseExternalIdentities(bomb, 'x.yaml')),
        ),
      );
    });
    it('reports an unreadable file with ERR_INVENTORY_IMPORT_UNREADABLE and without its path', () => {
      assert.equal(
        code(() => readExternalIdentities('/nonexistent/dir/identities.yaml')),
        'ERR_INVENTORY_IMPORT_UNREADABLE',
      );
    });
  });
});
