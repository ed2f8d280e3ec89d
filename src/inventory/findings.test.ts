import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readExternalIdentities } from './external.ts';
import { detectFindings } from './findings.ts';
import type { Finding, FindingKind } from './types.ts';
import { NOW, credential, daysAgo, inventoryOf, person, sighting } from './testing/fixtures.ts';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../test/fixtures/inventory/${name}`, import.meta.url));
const kinds = (findings: readonly Finding[]) => findings.map((f) => f.kind);
const ofKind = (findings: readonly Finding[], kind: FindingKind) => findings.filter((f) => f.kind === kind);

describe('inventory findings', () => {
  describe('with the toxic fixture file', () => {
    const imported = readExternalIdentities(fixture('toxic.yaml'));
    const findings = detectFindings(
      inventoryOf(
        [person('alice', ['approver']), person('carol', ['approver']), person('dave', ['maintainer'])],
        { imports: [imported] },
      ),
      {},
      NOW,
    );

    it('finds one person who can approve (passkey) and publish (own npm token)', () => {
      const [f] = ofKind(findings, 'toxic-approve-publish');
      assert.equal(f?.principal, 'person:alice');
      assert.equal(f?.severity, 'critical');
      assert.deepEqual([...f!.subjects].sort(), ['external:toxic.yaml#alice-npm', 'person:alice']);
    });
    it('finds one person who can approve and sign through a second identity', () => {
      const [f] = ofKind(findings, 'toxic-approve-sign');
      assert.equal(f?.principal, 'person:carol');
    });
    it('finds one identity that can sign and publish', () => {
      const [f] = ofKind(findings, 'toxic-sign-publish');
      assert.equal(f?.principal, 'external:toxic.yaml#release-robot');
    });
    it('finds a chat-ops bot that can approve', () => {
      assert.deepEqual(
        ofKind(findings, 'nonhuman-can-approve').map((f) => f.subjects[0]),
        ['external:toxic.yaml#approve-bot'],
      );
    });
    it('finds a person holding a standing publish token', () => {
      assert.deepEqual(
        ofKind(findings, 'person-standing-publish-token').map((f) => f.principal),
        ['person:alice'],
      );
    });
    it('finds a secret declared on two hosts', () => {
      assert.match(ofKind(findings, 'secret-reused')[0]?.detail ?? '', /host:ci-runner-1, host:ci-runner-2/);
    });
    it('finds a credential that never expires', () => {
      assert.ok(
        ofKind(findings, 'credential-too-long-lived').some((f) =>
          f.subjects.includes('external:toxic.yaml#forever-token'),
        ),
      );
    });
    it('finds an unowned secret and a credential of an offboarded person', () => {
      const orphans = ofKind(findings, 'credential-orphaned');
      assert.ok(
        orphans.some(
          (f) => f.subjects.includes('external:toxic.yaml#nobody-token') && f.severity === 'medium',
        ),
      );
      assert.ok(
        orphans.some(
          (f) => f.subjects.includes('external:toxic.yaml#mallory-agent') && f.severity === 'high',
        ),
      );
    });
    it('finds protected packages whose upstream still accepts another publish token', () => {
      const [f] = ofKind(findings, 'upstream-accepts-other-token').filter((x) =>
        x.subjects.includes('external:toxic.yaml#alice-npm'),
      );
      assert.deepEqual(f?.packages, ['@acme/web']);
    });
    it('lists the worst first, each with a fix', () => {
      assert.equal(findings[0]?.severity, 'critical');
      for (const f of findings) assert.ok(f.fix.length > 20, f.kind);
    });
  });

  describe('with the clean fixture file', () => {
    it('finds nothing', () => {
      const imported = readExternalIdentities(fixture('clean.yaml'));
      const findings = detectFindings(
        inventoryOf(
          [
            person('alice', ['approver']),
            person('dave', ['maintainer', 'admin']),
            credential('c1', 'request', 'dave', { person: 'dave' }),
          ],
          { imports: [imported] },
        ),
        {},
        NOW,
      );
      assert.deepEqual(kinds(findings), []);
    });
  });

  describe('toxic combinations', () => {
    it('count one person once across a pubgate credential and a passkey', () => {
      const jitForAlice = credential('j1', 'jit', 'alice', { person: 'alice' });
      const findings = detectFindings(inventoryOf([person('alice', ['approver']), jitForAlice]), {}, NOW);
      // A jit credential publishes one approved release; held by an approver it still makes a toxic pair.
      assert.deepEqual(kinds(findings), ['toxic-approve-publish']);
    });
    it('ignore revoked and expired credentials', () => {
      const revoked = credential('j1', 'jit', 'alice', { person: 'alice', revoked: daysAgo(1) });
      const expired = credential('j2', 'jit', 'alice', { person: 'alice', expires: daysAgo(1) });
      assert.deepEqual(
        kinds(detectFindings(inventoryOf([person('alice', ['approver']), revoked, expired]), {}, NOW)),
        [],
      );
    });
    it('ignore the gate itself, which signs and publishes only on a recorded decision', () => {
      const gate = {
        ...credential('g', 'gate', 'gate'),
        id: 'gate:pubgate',
        kind: 'gate' as const,
        credential: null,
        capabilities: ['publish', 'sign'] as const,
      };
      assert.deepEqual(kinds(detectFindings(inventoryOf([gate]), {}, NOW)), []);
    });
    it('ignore the gate’s own signing key, which never expires while current', () => {
      const key = {
        ...credential('k', 'ecdsa', 'gate', { expires: undefined }),
        id: 'signing-key:k1',
        kind: 'signing-key' as const,
        capabilities: ['sign'] as const,
        details: { heldBy: 'gate' },
      };
      assert.deepEqual(
        kinds(
          detectFindings(
            inventoryOf([{ ...key, credential: { ...key.credential!, expiresAt: null } }]),
            {},
            NOW,
          ),
        ),
        [],
      );
    });
    it('ignore a disabled approver (whose live credential is an orphan instead)', () => {
      const jit = credential('j1', 'jit', 'alice', { person: 'alice' });
      assert.deepEqual(
        kinds(detectFindings(inventoryOf([person('alice', ['approver'], 'disabled'), jit]), {}, NOW)),
        ['credential-orphaned'],
      );
    });
  });

  describe('a person holding a publish credential', () => {
    it('does not count a jit credential, which publishes one approved release once', () => {
      assert.deepEqual(
        kinds(detectFindings(inventoryOf([credential('j1', 'jit', 'alice', { person: 'alice' })]), {}, NOW)),
        [],
      );
    });
  });

  describe('secret reuse from scanner sightings', () => {
    it('is found when one fingerprint is seen on two hosts', () => {
      const findings = detectFindings(
        inventoryOf([], {
          sightings: [sighting('abcdef0123456789', 'laptop-a'), sighting('abcdef0123456789', 'ci-runner-7')],
        }),
        {},
        NOW,
      );
      assert.deepEqual(kinds(findings), ['secret-reused']);
      assert.equal(findings[0]?.severity, 'high');
      assert.doesNotMatch(
        JSON.stringify(findings),
        /abcdef0123456789/,
        'the whole fingerprint is not repeated',
      );
    });
    it('is not found when the same host reports it twice', () => {
      assert.deepEqual(
        kinds(
          detectFindings(
            inventoryOf([], {
              sightings: [
                sighting('abcdef0123456789', 'laptop-a'),
                sighting('abcdef0123456789', 'laptop-a', daysAgo(1)),
              ],
            }),
            {},
            NOW,
          ),
        ),
        [],
      );
    });
  });

  describe('install and publish in one credential', () => {
    it('is found for an npm token that is not read-only', () => {
      const imported = readExternalIdentities(fixture('npm-token-list.json'));
      const findings = detectFindings(
        inventoryOf([], { imports: [imported], protectedPackages: [] }),
        {},
        NOW,
      );
      assert.ok(kinds(findings).includes('install-and-publish-credential'));
      assert.ok(
        !findings.some(
          (f) =>
            f.kind === 'install-and-publish-credential' && f.subjects.some((s) => s.includes('0f9e8d7c6b5a')),
        ),
        'the read-only token is clean',
      );
    });
  });

  describe('credential lifetime', () => {
    it('is too long beyond the policy maximum', () => {
      const long = credential('c1', 'request', 'ci:acme', { created: daysAgo(10), expires: daysAgo(-200) });
      assert.deepEqual(kinds(detectFindings(inventoryOf([long]), {}, NOW)), ['credential-too-long-lived']);
    });
    it('is fine within it, and the maximum is an option', () => {
      const month = credential('c1', 'request', 'ci:acme', { created: daysAgo(10), expires: daysAgo(-20) });
      assert.deepEqual(kinds(detectFindings(inventoryOf([month]), {}, NOW)), []);
      assert.deepEqual(kinds(detectFindings(inventoryOf([month]), { maxLifetimeSeconds: 7 * 86_400 }, NOW)), [
        'credential-too-long-lived',
      ]);
    });
  });

  describe('stale credentials', () => {
    it('are found when unused beyond the threshold', () => {
      const stale = credential('c1', 'read', 'ci:acme', {
        created: daysAgo(60),
        expires: daysAgo(-20),
        lastUsed: daysAgo(45),
      });
      assert.deepEqual(kinds(detectFindings(inventoryOf([stale]), {}, NOW)), ['credential-stale']);
    });
    it('are found when never used since long ago', () => {
      const never = credential('c1', 'read', 'ci:acme', {
        created: daysAgo(40),
        expires: daysAgo(-20),
        lastUsed: null,
      });
      assert.deepEqual(kinds(detectFindings(inventoryOf([never]), {}, NOW)), ['credential-stale']);
    });
    it('are not found when used recently, or when revoked', () => {
      const used = credential('c1', 'read', 'ci:acme', {
        created: daysAgo(60),
        expires: daysAgo(-20),
        lastUsed: daysAgo(2),
      });
      const revoked = credential('c2', 'read', 'ci:acme', {
        created: daysAgo(60),
        expires: daysAgo(-20),
        lastUsed: daysAgo(45),
        revoked: daysAgo(1),
      });
      assert.deepEqual(kinds(detectFindings(inventoryOf([used, revoked]), {}, NOW)), []);
      assert.deepEqual(kinds(detectFindings(inventoryOf([used]), { staleAfterSeconds: 86_400 }, NOW)), [
        'credential-stale',
      ]);
    });
  });

  describe('orphaned credentials', () => {
    it('are found when the owner was removed or disabled', () => {
      const removed = credential('c1', 'request', 'bob', { person: 'bob' });
      const disabled = credential('c2', 'request', 'eve', { person: 'eve' });
      const findings = detectFindings(
        inventoryOf([person('eve', ['maintainer'], 'disabled'), removed, disabled], {
          extraPeople: [{ name: 'bob', status: 'removed' }],
        }),
        {},
        NOW,
      );
      assert.deepEqual(
        ofKind(findings, 'credential-orphaned')
          .map((f) => f.principal)
          .sort(),
        ['person:bob', 'person:eve'],
      );
    });
    it('are not found when the owner is active', () => {
      assert.deepEqual(
        kinds(
          detectFindings(
            inventoryOf([
              person('bob', ['maintainer']),
              credential('c1', 'request', 'bob', { person: 'bob' }),
            ]),
            {},
            NOW,
          ),
        ),
        [],
      );
    });
  });

  describe('upstream accepting another token', () => {
    it('is not found for a token of packages the gate does not protect', () => {
      const imported = readExternalIdentities(fixture('npm-tokens-of-erin.json'));
      const findings = detectFindings(
        inventoryOf([person('erin', ['maintainer'])], { imports: [imported], protectedPackages: [] }),
        {},
        NOW,
      );
      assert.ok(!kinds(findings).includes('upstream-accepts-other-token'));
      assert.ok(
        kinds(findings).includes('person-standing-publish-token'),
        'erin holds a classic publish token',
      );
    });
  });

  it('gives a finding the same id in every run', () => {
    const build = () =>
      detectFindings(
        inventoryOf([person('alice', ['approver']), credential('j1', 'jit', 'alice', { person: 'alice' })]),
        {},
        NOW,
      );
    assert.equal(build()[0]?.id, build()[0]?.id);
  });
});
