/**
 * Step-up approvals bound to the release digest, and the quorum. Every decision is a fresh,
 * user-verified passkey assertion over a challenge derived from (release id, package, version,
 * sha512 integrity, policy version, one-time nonce); a session alone never approves. A release is
 * approved when M distinct eligible people approved it (the requester never counts) and, for a
 * release requested with a person's credential, the requester authenticated the request.
 */
import { createHash } from 'node:crypto';
import type { AuditLog } from '../auditlog/index.ts';
import { AuthError, ConflictError, PubgateError } from '../errors/index.ts';
import type { PeopleService, Person } from '../identity/index.ts';
import type { Release, ReleaseService } from '../release/index.ts';
import type { Store } from '../store/index.ts';

/** Options of {@link ApprovalService}. */
export interface ApprovalServiceOptions {
  readonly store: Store;
  readonly audit: AuditLog;
  readonly releases: ReleaseService;
  readonly people: PeopleService;
  readonly adminsMayApprove: boolean;
  readonly now?: () => Date;
}

/** One recorded decision. */
export interface ApprovalRecord {
  readonly userId: string;
  readonly name: string;
  readonly decision: string;
  readonly credentialId: string;
  readonly assertionSha256: string;
  readonly at: string;
}

/** Where a release stands with its approvers. */
export interface QuorumStatus {
  readonly release: Release;
  readonly approvals: readonly ApprovalRecord[];
  readonly required: number;
  readonly requesterVerified: boolean;
  readonly requesterMustVerify: boolean;
}

class QuorumNotMet extends Error {}

/** Approvals, rejections and the requester's step-up. */
export class ApprovalService {
  readonly #o: ApprovalServiceOptions;
  readonly #now: () => Date;

  constructor(options: ApprovalServiceOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
  }

  /** Throws the reason `person` may not approve `release`, with its own code. */
  assertMayApprove(person: Person, release: Release): void {
    if (person.disabledAt !== null) throw new AuthError('ERR_AUTH_DISABLED', 'this account is disabled');
    if (isRequester(person, release))
      throw new AuthError('ERR_APPROVAL_SELF', 'the requester of a release never approves it');
    if ((release.policy.excluded ?? []).includes(person.name)) {
      throw new AuthError(
        'ERR_APPROVAL_EXCLUDED',
        'you triggered this release or authored its commit, so you cannot approve it',
      );
    }
    if (person.roles.includes('admin') && !this.#o.adminsMayApprove) {
      throw new AuthError(
        'ERR_APPROVAL_ADMIN',
        'admins do not approve releases unless policy.adminsMayApprove is set',
      );
    }
    if (!person.roles.includes('approver'))
      throw new AuthError('ERR_APPROVAL_NOT_APPROVER', 'only approvers approve releases');
    if (!person.groups.includes(release.approverGroup)) {
      throw new AuthError(
        'ERR_APPROVAL_NOT_IN_GROUP',
        `this release needs approvers from group ${release.approverGroup}`,
      );
    }
  }

  /** Throws unless `person` may reject (an eligible approver or an admin). */
  assertMayReject(person: Person, release: Release): void {
    if (person.roles.includes('admin') && person.disabledAt === null) return;
    this.assertMayApprove(person, release);
  }

  #binding(release: Release, decision: string): Record<string, unknown> {
    return {
      release: release.id,
      package: release.package,
      version: release.version,
      integrity: release.integrity,
      policyVersion: String(release.policy.policyVersion ?? ''),
      decision,
    };
  }

  /** Step-up options for approving or rejecting `releaseId`. */
  async options(person: Person, releaseId: string, decision: 'approve' | 'reject') {
    const release = await this.#o.releases.get(releaseId);
    if (release.state !== 'awaiting_approval')
      throw new ConflictError('ERR_RELEASE_STATE', `release ${release.id} is ${release.state}`);
    if (decision === 'approve') this.assertMayApprove(person, release);
    else this.assertMayReject(person, release);
    return this.#o.people.stepUpOptions(
      person,
      decision,
      `release:${release.id}`,
      this.#binding(release, decision),
    );
  }

  /** Verifies a step-up assertion and checks that it was made for exactly this release and digest. */
  async #verifyFor(
    person: Person,
    releaseId: string,
    response: unknown,
    purposes: Array<'approve' | 'reject' | 'request'>,
  ) {
    const verified = await this.#o.people.verifyAssertion(response, purposes);
    if (verified.person.id !== person.id)
      throw new AuthError(
        'ERR_WEBAUTHN_WRONG_USER',
        'the passkey belongs to someone other than the signed-in person',
      );
    const release = await this.#o.releases.get(releaseId);
    const binding = verified.binding;
    if (binding['release'] !== release.id)
      throw new AuthError('ERR_APPROVAL_WRONG_RELEASE', 'this assertion was made for another release');
    if (
      binding['integrity'] !== release.integrity ||
      binding['package'] !== release.package ||
      binding['version'] !== release.version
    ) {
      throw new AuthError('ERR_APPROVAL_WRONG_DIGEST', 'this assertion was made for other bytes');
    }
    if (binding['policyVersion'] !== String(release.policy.policyVersion ?? ''))
      throw new AuthError('ERR_APPROVAL_POLICY_CHANGED', 'the policy changed since this step-up began');
    const assertionSha256 = createHash('sha256').update(JSON.stringify(response)).digest('hex');
    return {
      release,
      credentialId: verified.credentialId,
      decision: String(binding['decision'] ?? binding['purpose']),
      assertionSha256,
    };
  }

  /** Records an approval or rejection from a step-up assertion; approves the release when the quorum is met. */
  async decide(person: Person, releaseId: string, response: unknown, reason?: string): Promise<QuorumStatus> {
    const { release, credentialId, decision, assertionSha256 } = await this.#verifyFor(
      person,
      releaseId,
      response,
      ['approve', 'reject'],
    );
    if (release.state !== 'awaiting_approval')
      throw new ConflictError('ERR_RELEASE_STATE', `release ${release.id} is ${release.state}`);
    const at = this.#now().toISOString();
    if (decision === 'reject') {
      this.assertMayReject(person, release);
      await this.#o.releases.reject(
        release.id,
        `user:${person.name}`,
        `rejected by ${person.name}${reason === undefined || reason === '' ? '' : `: ${reason}`}`,
      );
      return this.status(release.id);
    }
    this.assertMayApprove(person, release);
    try {
      await this.#o.store.transaction(async (tx) => {
        await tx
          .insertInto('approvals')
          .values({
            release_id: release.id,
            user_id: person.id,
            decision: 'approve',
            credential_id: credentialId,
            assertion_sha256: assertionSha256,
            challenge: '',
            at,
          })
          .execute();
        await this.#o.audit.appendIn(tx, {
          actor: `user:${person.name}`,
          action: 'release.approval',
          subject: `release:${release.id}`,
          data: {
            package: release.package,
            version: release.version,
            integrity: release.integrity,
            credentialId,
            assertionSha256,
          },
        });
      });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (
        code === '23505' ||
        code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
        code === 'SQLITE_CONSTRAINT_UNIQUE'
      ) {
        throw new ConflictError(
          'ERR_APPROVAL_DUPLICATE',
          'you already approved this release; each person counts once',
        );
      }
      throw error;
    }
    await this.tryQuorum(release.id);
    return this.status(release.id);
  }

  /** Step-up options for the requester authenticating its own request (npm's authUrl; not an approval). */
  async requesterOptions(person: Person, releaseId: string) {
    const release = await this.#o.releases.get(releaseId);
    if (!isRequester(person, release))
      throw new AuthError('ERR_APPROVAL_NOT_REQUESTER', 'only the requester authenticates this request');
    if (release.state !== 'awaiting_approval')
      throw new ConflictError('ERR_RELEASE_STATE', `release ${release.id} is ${release.state}`);
    return this.#o.people.stepUpOptions(
      person,
      'request',
      `release:${release.id}`,
      this.#binding(release, 'request'),
    );
  }

  /** Completes the requester's step-up. */
  async verifyRequester(person: Person, releaseId: string, response: unknown): Promise<QuorumStatus> {
    const { release, credentialId } = await this.#verifyFor(person, releaseId, response, ['request']);
    if (!isRequester(person, release))
      throw new AuthError('ERR_APPROVAL_NOT_REQUESTER', 'only the requester authenticates this request');
    await this.#o.releases.markRequesterVerified(release.id, `user:${person.name}`, credentialId);
    await this.tryQuorum(release.id);
    return this.status(release.id);
  }

  /** Approves the release if, with the row locked, the quorum and the requester's step-up are complete. */
  async tryQuorum(releaseId: string): Promise<boolean> {
    try {
      await this.#o.releases.approve(releaseId, {
        actor: 'quorum',
        guard: async (tx, current) => {
          if (requesterMustVerify(current) && current.requesterVerifiedAt === null) throw new QuorumNotMet();
          const rows = await tx
            .selectFrom('approvals')
            .select(['user_id', 'credential_id', 'assertion_sha256', 'at'])
            .where('release_id', '=', releaseId)
            .where('decision', '=', 'approve')
            .execute();
          if (rows.length < current.requiredApprovals) throw new QuorumNotMet();
        },
        data: { via: 'quorum' },
      });
      return true;
    } catch (error) {
      if (error instanceof QuorumNotMet) return false;
      if (error instanceof PubgateError && error.code === 'ERR_RELEASE_STATE') return false;
      throw error;
    }
  }

  /** Approvals so far and what is still missing. */
  async status(releaseId: string): Promise<QuorumStatus> {
    const release = await this.#o.releases.get(releaseId);
    const rows = await this.#o.store.db
      .selectFrom('approvals')
      .innerJoin('users', 'users.id', 'approvals.user_id')
      .select([
        'approvals.user_id',
        'users.name',
        'approvals.decision',
        'approvals.credential_id',
        'approvals.assertion_sha256',
        'approvals.at',
      ])
      .where('approvals.release_id', '=', releaseId)
      .orderBy('approvals.at')
      .execute();
    return {
      release,
      approvals: rows.map((r) => ({
        userId: r.user_id,
        name: r.name,
        decision: r.decision,
        credentialId: r.credential_id,
        assertionSha256: r.assertion_sha256,
        at: r.at,
      })),
      required: release.requiredApprovals,
      requesterVerified: release.requesterVerifiedAt !== null,
      requesterMustVerify: requesterMustVerify(release),
    };
  }
}

/** True when `person` asked for `release`. */
function isRequester(person: Person, release: Release): boolean {
  return release.requester.id === person.name;
}

/** A release requested with a person's credential needs that person's passkey step-up too (workloads and bots have no passkey). */
function requesterMustVerify(release: Release): boolean {
  return release.requester.kind === 'token';
}
