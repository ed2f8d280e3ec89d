/**
 * People: passkey-only accounts. There are no passwords, no TOTP, no SMS or email codes: a person
 * joins through a one-time enrolment link (the first admin's is printed by `pubgate serve` or made by
 * `pubgate admin enroll`; later ones are invitations an admin creates), registers a passkey with user
 * verification, and signs in with it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { AuditLog } from '../auditlog/index.ts';
import { AuthError, ConflictError, NotFoundError, ValidationError } from '../errors/index.ts';
import type { Store } from '../store/index.ts';
import { hashToken } from '../tokens/index.ts';
import type { ChallengeService } from './challenges.ts';
import {
  checkAssertion,
  checkRegistration,
  claimedChallenge,
  claimedCredentialId,
  makeAssertionOptions,
  makeRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RelyingParty,
  type StoredPasskey,
} from './webauthn.ts';

/** Roles a person can hold. */
export const ROLES = Object.freeze(['admin', 'maintainer', 'approver', 'auditor'] as const);
/** A role. */
export type Role = (typeof ROLES)[number];

/** A person. */
export interface Person {
  readonly id: string;
  readonly name: string;
  readonly roles: readonly Role[];
  readonly groups: readonly string[];
  readonly createdAt: string;
  readonly disabledAt: string | null;
}

/** A passkey as listed (no key material). */
export interface PasskeyInfo {
  readonly id: string;
  readonly label: string;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

function toPerson(row: {
  id: string;
  name: string;
  roles: string;
  groups: string;
  created_at: string;
  disabled_at: string | null;
}): Person {
  return {
    id: row.id,
    name: row.name,
    roles: JSON.parse(row.roles) as Role[],
    groups: JSON.parse(row.groups) as string[],
    createdAt: row.created_at,
    disabledAt: row.disabled_at,
  };
}

/** Options of {@link PeopleService}. */
export interface PeopleServiceOptions {
  readonly store: Store;
  readonly audit: AuditLog;
  readonly challenges: ChallengeService;
  /** The relying party; a getter because the port is known only once the server listens. */
  readonly rp: () => RelyingParty;
  readonly enrolmentTtlSeconds: number;
  readonly now?: () => Date;
}

/** Accounts, passkeys and enrolment. */
export class PeopleService {
  readonly #o: PeopleServiceOptions;
  readonly #now: () => Date;

  constructor(options: PeopleServiceOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
  }

  /** The relying party (for the web layer's checks). */
  get rp(): RelyingParty {
    return this.#o.rp();
  }

  /** What an enrolment link grants (for its page); throws when unknown, used or expired. */
  async describeEnrolment(token: string): Promise<{ name: string | null; roles: readonly Role[] }> {
    const row = await this.#liveEnrolment(token);
    return { name: row.name, roles: JSON.parse(row.roles) as Role[] };
  }

  /** How many people exist (bootstrap: the first enrolment makes an admin). */
  async count(): Promise<number> {
    const row = await this.#o.store.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Creates a one-time enrolment link token. */
  async createEnrolment(options: {
    roles: readonly Role[];
    groups?: readonly string[];
    name?: string;
    createdBy: string;
  }): Promise<{ token: string; expiresAt: string }> {
    for (const role of options.roles) if (!ROLES.includes(role)) throw new RangeError(`unknown role ${role}`);
    if (options.name !== undefined && !NAME.test(options.name))
      throw new RangeError('names are 1-64 characters of a-z 0-9 . _ -');
    const token = randomBytes(32).toString('base64url');
    const now = this.#now();
    const expiresAt = new Date(now.getTime() + this.#o.enrolmentTtlSeconds * 1000).toISOString();
    await this.#o.store.transaction(async (tx) => {
      const id = randomUUID();
      await tx
        .insertInto('enrolments')
        .values({
          id,
          token_hash: hashToken(token),
          name: options.name ?? null,
          roles: JSON.stringify(options.roles),
          groups: JSON.stringify(options.groups ?? []),
          created_by: options.createdBy,
          created_at: now.toISOString(),
          expires_at: expiresAt,
          used_at: null,
        })
        .execute();
      await this.#o.audit.appendIn(tx, {
        actor: options.createdBy,
        action: 'enrolment.created',
        subject: `enrolment:${id}`,
        data: { roles: options.roles, groups: options.groups ?? [], name: options.name ?? null, expiresAt },
      });
    });
    return { token, expiresAt };
  }

  async #liveEnrolment(token: string) {
    const row = await this.#o.store.db
      .selectFrom('enrolments')
      .selectAll()
      .where('token_hash', '=', hashToken(token))
      .executeTakeFirst();
    if (row === undefined) throw new AuthError('ERR_ENROL_UNKNOWN', 'this enrolment link is not valid');
    if (row.used_at !== null) throw new AuthError('ERR_ENROL_USED', 'this enrolment link was already used');
    if (row.expires_at <= this.#now().toISOString())
      throw new AuthError('ERR_ENROL_EXPIRED', 'this enrolment link expired; ask an admin for a new one');
    return row;
  }

  /** Registration options for an enrolment link. */
  async enrolmentOptions(token: string, name: string): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const row = await this.#liveEnrolment(token);
    const chosen = row.name ?? name;
    if (!NAME.test(chosen))
      throw new ValidationError('ERR_ENROL_BAD_NAME', 'names are 1-64 characters of a-z 0-9 . _ -');
    const taken = await this.#o.store.db
      .selectFrom('users')
      .select('id')
      .where('name', '=', chosen)
      .executeTakeFirst();
    if (taken !== undefined) throw new ConflictError('ERR_ENROL_NAME_TAKEN', `the name ${chosen} is taken`);
    const userId = randomUUID();
    const challenge = await this.#o.challenges.issue({
      purpose: 'register',
      userId,
      subject: `enrolment:${row.id}`,
      binding: { enrolment: row.id, name: chosen },
    });
    return makeRegistrationOptions(this.rp, { id: userId, name: chosen }, challenge, []);
  }

  /** Completes an enrolment: creates the person and the passkey, consumes the link. */
  async completeEnrolment(token: string, response: unknown, label: string): Promise<Person> {
    const row = await this.#liveEnrolment(token);
    const consumed = await this.#o.challenges.consume(claimedChallenge(response), ['register']);
    if (consumed.subject !== `enrolment:${row.id}` || consumed.userId === null)
      throw new AuthError(
        'ERR_WEBAUTHN_CHALLENGE_PURPOSE',
        'this registration was made for another enrolment',
      );
    const passkey = await checkRegistration(this.rp, response, consumed.challenge);
    const name = String(consumed.binding['name']);
    const userId = consumed.userId;
    const now = this.#now().toISOString();
    return this.#o.store.transaction(async (tx) => {
      const used = await tx
        .updateTable('enrolments')
        .set({ used_at: now })
        .where('id', '=', row.id)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      if (Number(used.numUpdatedRows) !== 1)
        throw new AuthError('ERR_ENROL_USED', 'this enrolment link was already used');
      const person = {
        id: userId,
        name,
        roles: row.roles,
        groups: row.groups,
        created_at: now,
        disabled_at: null,
      };
      try {
        await tx.insertInto('users').values(person).execute();
      } catch (cause) {
        throw new ConflictError('ERR_ENROL_NAME_TAKEN', `the name ${name} is taken`, { cause });
      }
      await tx
        .insertInto('passkeys')
        .values({
          id: passkey.id,
          user_id: userId,
          public_key: passkey.publicKey,
          counter: passkey.counter,
          transports: JSON.stringify(passkey.transports),
          label: label.slice(0, 64) || 'passkey',
          created_at: now,
          last_used_at: null,
        })
        .execute();
      await this.#o.audit.appendIn(tx, {
        actor: `user:${name}`,
        action: 'person.enrolled',
        subject: `user:${userId}`,
        data: { name, roles: JSON.parse(row.roles) as unknown, enrolment: row.id, credentialId: passkey.id },
      });
      return toPerson(person);
    });
  }

  /** Sign-in options (discoverable credentials: the authenticator picks the account). */
  async loginOptions(): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const challenge = await this.#o.challenges.issue({ purpose: 'login' });
    return makeAssertionOptions(this.rp, challenge, []);
  }

  /**
   * Verifies an assertion for `purposes` and returns who made it. Used for sign-in and every
   * step-up; the challenge is consumed before the signature is checked, so a response works once.
   */
  async verifyAssertion(
    response: unknown,
    purposes: Parameters<ChallengeService['consume']>[1],
  ): Promise<{
    person: Person;
    credentialId: string;
    binding: Readonly<Record<string, unknown>>;
    subject: string | null;
    userId: string | null;
  }> {
    const consumed = await this.#o.challenges.consume(claimedChallenge(response), purposes);
    const credentialId = claimedCredentialId(response);
    const row = await this.#o.store.db
      .selectFrom('passkeys')
      .selectAll()
      .where('id', '=', credentialId)
      .executeTakeFirst();
    if (row === undefined)
      throw new AuthError('ERR_WEBAUTHN_UNKNOWN_CREDENTIAL', 'this passkey is not registered here');
    if (consumed.userId !== null && consumed.userId !== row.user_id)
      throw new AuthError('ERR_WEBAUTHN_WRONG_USER', 'this challenge was issued to someone else');
    const stored: StoredPasskey = {
      id: row.id,
      publicKey: row.public_key,
      counter: Number(row.counter),
      transports: JSON.parse(row.transports) as string[],
    };
    const { newCounter } = await checkAssertion(this.rp, response, consumed.challenge, stored);
    // Compare-and-set on the counter: two assertions racing with one counter value cannot both pass.
    const moved = await this.#o.store.db
      .updateTable('passkeys')
      .set({ counter: newCounter, last_used_at: this.#now().toISOString() })
      .where('id', '=', row.id)
      .where('counter', '=', stored.counter)
      .executeTakeFirst();
    if (Number(moved.numUpdatedRows) !== 1)
      throw new AuthError('ERR_WEBAUTHN_COUNTER_REGRESSION', 'the passkey was used concurrently; try again');
    const person = await this.get(row.user_id);
    if (person.disabledAt !== null) throw new AuthError('ERR_AUTH_DISABLED', 'this account is disabled');
    return {
      person,
      credentialId: row.id,
      binding: consumed.binding,
      subject: consumed.subject,
      userId: consumed.userId,
    };
  }

  /** Step-up options for a signed-in person, bound to `binding`. */
  async stepUpOptions(
    person: Person,
    purpose: Parameters<ChallengeService['issue']>[0]['purpose'],
    subject: string,
    binding: Record<string, unknown>,
  ): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const passkeys = await this.passkeysOf(person.id);
    const challenge = await this.#o.challenges.issue({ purpose, userId: person.id, subject, binding });
    return makeAssertionOptions(this.rp, challenge, passkeys);
  }

  /** Options to add another passkey to a signed-in person. */
  async addPasskeyOptions(person: Person): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const challenge = await this.#o.challenges.issue({
      purpose: 'register',
      userId: person.id,
      subject: `user:${person.id}`,
      binding: { addTo: person.id },
    });
    return makeRegistrationOptions(
      this.rp,
      { id: person.id, name: person.name },
      challenge,
      await this.passkeysOf(person.id),
    );
  }

  /** Adds another passkey. */
  async addPasskey(person: Person, response: unknown, label: string): Promise<PasskeyInfo> {
    const consumed = await this.#o.challenges.consume(claimedChallenge(response), ['register']);
    if (consumed.subject !== `user:${person.id}`)
      throw new AuthError('ERR_WEBAUTHN_CHALLENGE_PURPOSE', 'this registration was made for someone else');
    const passkey = await checkRegistration(this.rp, response, consumed.challenge);
    const now = this.#now().toISOString();
    await this.#o.store.transaction(async (tx) => {
      await tx
        .insertInto('passkeys')
        .values({
          id: passkey.id,
          user_id: person.id,
          public_key: passkey.publicKey,
          counter: passkey.counter,
          transports: JSON.stringify(passkey.transports),
          label: label.slice(0, 64) || 'passkey',
          created_at: now,
          last_used_at: null,
        })
        .execute();
      await this.#o.audit.appendIn(tx, {
        actor: `user:${person.name}`,
        action: 'passkey.added',
        subject: `user:${person.id}`,
        data: { credentialId: passkey.id },
      });
    });
    return { id: passkey.id, label, createdAt: now, lastUsedAt: null };
  }

  /** Removes a passkey after a step-up with another (or the same) passkey; never the last one. */
  async removePasskey(person: Person, passkeyId: string, stepUpCredentialId: string): Promise<void> {
    await this.#o.store.transaction(async (tx) => {
      const keys = await this.#o.store
        .forUpdate(tx.selectFrom('passkeys').select('id').where('user_id', '=', person.id))
        .execute();
      if (!keys.some((k) => k.id === passkeyId))
        throw new NotFoundError('ERR_PASSKEY_NOT_FOUND', 'no such passkey');
      if (keys.length === 1)
        throw new ConflictError(
          'ERR_PASSKEY_LAST',
          'this is your only passkey; add another before removing it',
        );
      await tx.deleteFrom('passkeys').where('id', '=', passkeyId).execute();
      await this.#o.audit.appendIn(tx, {
        actor: `user:${person.name}`,
        action: 'passkey.removed',
        subject: `user:${person.id}`,
        data: { credentialId: passkeyId, stepUpWith: stepUpCredentialId },
      });
    });
  }

  /** A person by id. */
  async get(id: string): Promise<Person> {
    const row = await this.#o.store.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (row === undefined) throw new NotFoundError('ERR_PERSON_NOT_FOUND', 'no such person');
    return toPerson(row);
  }

  /** A person by name, or undefined. */
  async findByName(name: string): Promise<Person | undefined> {
    const row = await this.#o.store.db
      .selectFrom('users')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row === undefined ? undefined : toPerson(row);
  }

  /** Everyone. */
  async list(): Promise<Person[]> {
    return (await this.#o.store.db.selectFrom('users').selectAll().orderBy('name').execute()).map(toPerson);
  }

  /** Passkeys of a person, for verification. */
  async passkeysOf(userId: string): Promise<StoredPasskey[]> {
    const rows = await this.#o.store.db
      .selectFrom('passkeys')
      .selectAll()
      .where('user_id', '=', userId)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      publicKey: r.public_key,
      counter: Number(r.counter),
      transports: JSON.parse(r.transports) as string[],
    }));
  }

  /** Passkeys of a person, for display. */
  async listPasskeys(userId: string): Promise<PasskeyInfo[]> {
    const rows = await this.#o.store.db
      .selectFrom('passkeys')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      label: r.label,
      createdAt: r.created_at,
      lastUsedAt: r.last_used_at,
    }));
  }

  /** Sets roles and groups (admin action, audited). */
  async setRoles(
    actor: Person,
    userId: string,
    roles: readonly Role[],
    groups: readonly string[],
  ): Promise<Person> {
    for (const role of roles)
      if (!ROLES.includes(role))
        throw new ValidationError('ERR_PERSON_BAD_ROLE', `unknown role ${String(role)}`);
    return this.#o.store.transaction(async (tx) => {
      const updated = await tx
        .updateTable('users')
        .set({ roles: JSON.stringify(roles), groups: JSON.stringify(groups) })
        .where('id', '=', userId)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1)
        throw new NotFoundError('ERR_PERSON_NOT_FOUND', 'no such person');
      await this.#o.audit.appendIn(tx, {
        actor: `user:${actor.name}`,
        action: 'person.roles_changed',
        subject: `user:${userId}`,
        data: { roles, groups },
      });
      const row = await tx.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();
      return toPerson(row);
    });
  }
}
