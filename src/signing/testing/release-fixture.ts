/** Test helpers: a key ring with a frozen clock and a well-formed approved release. Not exported by index.ts. */
import { createHash, randomBytes } from 'node:crypto';
import { generateMasterKey } from '../../vault/index.ts';
import type { ReleaseAttestationInput } from '../attest.ts';
import { KeyRing, type KeyRingOptions } from '../key-ring.ts';
import { MemoryKeyRingStore } from '../memory-key-ring-store.ts';

/** A settable clock for tests. */
export interface TestClock {
  now: Date;
  readonly read: () => Date;
  advance(ms: number): void;
}

/** A clock frozen at `start` that tests move by hand. */
export function createTestClock(start = new Date('2025-06-01T12:00:00.000Z')): TestClock {
  const clock: TestClock = {
    now: start,
    read: () => clock.now,
    advance: (ms) => {
      clock.now = new Date(clock.now.getTime() + ms);
    },
  };
  return clock;
}

/** A key ring over an in-memory store with a fresh master key and the given clock. */
export function createTestKeyRing(clock: TestClock, options: Partial<KeyRingOptions> = {}): KeyRing {
  return new KeyRing({
    store: new MemoryKeyRingStore(),
    masterKey: generateMasterKey(),
    now: clock.read,
    ...options,
  });
}

/** Random bytes standing in for a tarball, and their sha512 (hex). */
export function makeTarball(bytes = 4096): { tarball: Buffer; sha512: string } {
  const tarball = randomBytes(bytes);
  return { tarball, sha512: createHash('sha512').update(tarball).digest('hex') };
}

/** An approved release of `name@version` meeting a 2-of-N policy, requested by alice, approved by bob and carol. */
export function makeRelease(
  sha512: string,
  overrides: Partial<ReleaseAttestationInput> = {},
): ReleaseAttestationInput {
  return {
    name: '@acme/widget',
    version: '1.2.3',
    sha512,
    predicate: {
      releaseId: 'rel_01',
      policy: { id: 'default', version: '3', requiredApprovals: 2 },
      requester: { identity: 'user:alice' },
      approvers: [
        {
          identity: 'user:bob',
          credentialId: 'Y3JlZC1ib2I',
          assertionSha256: 'a'.repeat(64),
          at: '2025-06-01T11:00:00.000Z',
        },
        {
          identity: 'user:carol',
          credentialId: 'Y3JlZC1jYXJvbA',
          assertionSha256: 'b'.repeat(64),
          at: '2025-06-01T11:05:00.000Z',
        },
      ],
      build: {
        identity: 'workload:github:acme/widget',
        issuer: 'https://token.actions.githubusercontent.com',
        claims: {
          repository_id: '1234',
          repository_owner_id: '99',
          ref: 'refs/tags/v1.2.3',
          event_name: 'push',
        },
      },
      checks: [
        { name: 'integrity', result: 'pass' },
        { name: 'secret-scan', result: 'pass', details: '0 findings' },
      ],
      times: { requestedAt: '2025-06-01T10:00:00.000Z', approvedAt: '2025-06-01T11:05:00.000Z' },
    },
    ...overrides,
  };
}
