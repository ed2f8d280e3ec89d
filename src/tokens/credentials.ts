/**
 * Credentials issued by pubgate. Only sha256 hashes are stored; the token is shown once at issue.
 * Kinds: `request` may ask for releases of its packages (never approve or publish); `read` may read
 * and install through the proxy; `agent` may report scan findings.
 */
import { randomUUID } from 'node:crypto';
import { AuthError } from '../errors/index.ts';
import type { Db, Store } from '../store/index.ts';
import { generateToken, hashToken, isWellFormedToken } from './token-format.ts';
import { assertScopePattern, scopeCovers } from './scope.ts';

/**
 * What a credential may do. `request`: a person's credential to ask for releases. `build`: a CI
 * job's (from OIDC, at most 15 minutes) to stage its packages. `test`: attach evidence. `bot`:
 * request and comment. `read`: install. `agent`: report scan findings. `jit`: publish one approved
 * package@version+digest, once. None of them can approve: approvals are passkey step-ups.
 */
export type CredentialKind = 'request' | 'read' | 'agent' | 'build' | 'test' | 'bot' | 'jit';
const KINDS: readonly CredentialKind[] = ['request', 'read', 'agent', 'build', 'test', 'bot', 'jit'];

/** Kinds that may ask for a release (hold a package for approval). */
export const REQUEST_KINDS: readonly CredentialKind[] = ['request', 'build', 'bot'];

/** What a just-in-time credential is bound to. */
export interface JitBinding {
  readonly action: 'publish';
  readonly package: string;
  readonly version: string;
  readonly integrity: string;
  readonly release: string;
}

/** An authenticated caller. Never carries the token. */
export interface Principal {
  readonly credentialId: string;
  readonly kind: CredentialKind;
  readonly identity: string;
  readonly scope: readonly string[];
  readonly expiresAt: string;
  /** Workload role and claims summary, when the credential came from an OIDC exchange. */
  readonly role: string | null;
  readonly binding: JitBinding | null;
  /** OIDC claims of the workload (repository, workflow, ref, sha, actor), when exchanged. */
  readonly claims: Readonly<Record<string, string>> | null;
}

/** Options of {@link CredentialService.issue}. */
export interface IssueCredentialOptions {
  readonly kind: CredentialKind;
  readonly identity: string;
  readonly scope: readonly string[];
  readonly ttlSeconds: number;
  readonly role?: string;
  readonly binding?: JitBinding;
  readonly claims?: Readonly<Record<string, string>>;
}

/** A freshly issued credential: the only moment the token exists outside its holder. */
export interface IssuedCredential {
  readonly id: string;
  readonly token: string;
  readonly expiresAt: string;
}

/** A credential as listed (no token, no hash). */
export interface CredentialInfo {
  readonly id: string;
  readonly kind: string;
  readonly identity: string;
  readonly scope: readonly string[];
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}

/** Issues, authenticates and revokes credentials. */
export class CredentialService {
  readonly #store: Store;
  readonly #now: () => Date;

  constructor(store: Store, now: () => Date = () => new Date()) {
    this.#store = store;
    this.#now = now;
  }

  /** Issues a credential inside `tx` (so its audit event commits with it). */
  async issueIn(tx: Db, options: IssueCredentialOptions): Promise<IssuedCredential> {
    if (!KINDS.includes(options.kind))
      throw new RangeError(`unknown credential kind ${JSON.stringify(options.kind)}`);
    if (!/^[A-Za-z0-9._@:/-]{1,128}$/.test(options.identity))
      throw new RangeError('identity must be 1-128 characters of [A-Za-z0-9._@:/-]');
    if (options.scope.length === 0)
      throw new RangeError('a credential needs at least one package scope pattern');
    options.scope.forEach(assertScopePattern);
    if (
      !Number.isInteger(options.ttlSeconds) ||
      options.ttlSeconds < 30 ||
      options.ttlSeconds > 366 * 24 * 3600
    ) {
      throw new RangeError('ttlSeconds must be between 30 seconds and 366 days');
    }
    if (options.kind === 'jit' && (options.binding === undefined || options.ttlSeconds > 900))
      throw new RangeError('a jit credential needs a binding and lives at most 15 minutes');
    if (options.kind === 'build' && options.ttlSeconds > 900)
      throw new RangeError('a build credential lives at most 15 minutes');
    const token = generateToken();
    const id = randomUUID();
    const now = this.#now();
    const expiresAt = new Date(now.getTime() + options.ttlSeconds * 1000).toISOString();
    await tx
      .insertInto('credentials')
      .values({
        id,
        token_hash: hashToken(token),
        kind: options.kind,
        identity: options.identity,
        scope: JSON.stringify(options.scope),
        created_at: now.toISOString(),
        expires_at: expiresAt,
        last_used_at: null,
        revoked_at: null,
        max_uses: options.kind === 'jit' ? 1 : null,
        binding: options.binding === undefined ? null : JSON.stringify(options.binding),
        role: options.role ?? null,
        claims: options.claims === undefined ? null : JSON.stringify(options.claims),
      })
      .execute();
    return { id, token, expiresAt };
  }

  /** Resolves a bearer token to a principal or throws `ERR_AUTH_*`. The token never appears in the error. */
  async authenticate(token: string): Promise<Principal> {
    if (!isWellFormedToken(token))
      throw new AuthError('ERR_AUTH_BAD_TOKEN', 'the credential is not a pubgate token');
    const row = await this.#store.db
      .selectFrom('credentials')
      .selectAll()
      .where('token_hash', '=', hashToken(token))
      .executeTakeFirst();
    if (row === undefined)
      throw new AuthError('ERR_AUTH_UNKNOWN_TOKEN', 'the credential is not known to this gate');
    if (row.revoked_at !== null) throw new AuthError('ERR_AUTH_REVOKED', 'the credential was revoked');
    const now = this.#now().toISOString();
    if (row.expires_at <= now) throw new AuthError('ERR_AUTH_EXPIRED', 'the credential has expired');
    // last_used_at is advisory (stale-credential reports); one write per minute per credential at most.
    if (row.last_used_at === null || row.last_used_at < new Date(Date.parse(now) - 60_000).toISOString()) {
      await this.#store.db
        .updateTable('credentials')
        .set({ last_used_at: now })
        .where('id', '=', row.id)
        .execute();
    }
    if (row.max_uses !== null && row.uses >= row.max_uses)
      throw new AuthError('ERR_AUTH_REVOKED', 'the credential was used up');
    return toPrincipal(row);
  }

  /**
   * Uses a just-in-time credential once for exactly `expected`. The use is a compare-and-set in the
   * database, so across any number of concurrent requests and instances one use succeeds.
   */
  async consumeJit(token: string, expected: Omit<JitBinding, 'action' | 'release'>): Promise<Principal> {
    if (!isWellFormedToken(token))
      throw new AuthError('ERR_AUTH_BAD_TOKEN', 'the credential is not a pubgate token');
    const row = await this.#store.db
      .selectFrom('credentials')
      .selectAll()
      .where('token_hash', '=', hashToken(token))
      .executeTakeFirst();
    if (row === undefined)
      throw new AuthError('ERR_AUTH_UNKNOWN_TOKEN', 'the credential is not known to this gate');
    if (row.kind !== 'jit' || row.binding === null)
      throw new AuthError('ERR_TOKEN_WRONG_KIND', 'this is not a just-in-time publish credential');
    const binding = JSON.parse(row.binding) as JitBinding;
    for (const field of ['package', 'version', 'integrity'] as const) {
      if (binding[field] !== expected[field]) {
        throw new AuthError(
          'ERR_TOKEN_BINDING_MISMATCH',
          `this credential is bound to another ${field === 'integrity' ? 'digest' : field}`,
          { details: { field } },
        );
      }
    }
    const now = this.#now().toISOString();
    if (row.revoked_at !== null && row.uses === 0)
      throw new AuthError('ERR_AUTH_REVOKED', 'the credential was revoked');
    if (row.uses > 0) throw new AuthError('ERR_TOKEN_USED', 'the credential was already used; it works once');
    if (row.expires_at <= now) throw new AuthError('ERR_AUTH_EXPIRED', 'the credential has expired');
    // Revoked at use: the same statement that counts the use ends the credential.
    const used = await this.#store.db
      .updateTable('credentials')
      .set({ uses: 1, revoked_at: now, last_used_at: now })
      .where('id', '=', row.id)
      .where('uses', '=', 0)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    if (Number(used.numUpdatedRows) !== 1)
      throw new AuthError('ERR_TOKEN_USED', 'the credential was already used; it works once');
    return toPrincipal(row);
  }

  /** RFC 7662 introspection: what a token is, or `{active: false}`. Never reveals the token. */
  async introspect(token: string): Promise<Record<string, unknown>> {
    if (!isWellFormedToken(token)) return { active: false };
    const row = await this.#store.db
      .selectFrom('credentials')
      .selectAll()
      .where('token_hash', '=', hashToken(token))
      .executeTakeFirst();
    const now = this.#now().toISOString();
    if (
      row === undefined ||
      row.revoked_at !== null ||
      row.expires_at <= now ||
      (row.max_uses !== null && row.uses >= row.max_uses)
    )
      return { active: false };
    return {
      active: true,
      token_type: 'pubgate',
      client_id: row.id,
      sub: row.identity,
      username: row.identity,
      scope: (JSON.parse(row.scope) as string[]).join(' '),
      kind: row.kind,
      role: row.role,
      exp: Math.floor(Date.parse(row.expires_at) / 1000),
      iat: Math.floor(Date.parse(row.created_at) / 1000),
      iss: 'pubgate',
      ...(row.binding === null ? {} : { binding: JSON.parse(row.binding) as unknown }),
      ...(row.max_uses === null ? {} : { uses_left: Math.max(0, row.max_uses - row.uses) }),
    };
  }

  /** RFC 7009 revocation by token value; true when a live credential was revoked. */
  async revokeToken(token: string): Promise<{ revoked: boolean; id?: string }> {
    if (!isWellFormedToken(token)) return { revoked: false };
    const row = await this.#store.db
      .selectFrom('credentials')
      .select('id')
      .where('token_hash', '=', hashToken(token))
      .executeTakeFirst();
    if (row === undefined) return { revoked: false };
    const result = await this.#store.db
      .updateTable('credentials')
      .set({ revoked_at: this.#now().toISOString() })
      .where('id', '=', row.id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return { revoked: Number(result.numUpdatedRows) > 0, id: row.id };
  }

  /** Revokes by id inside `tx`; true when a live credential was revoked. */
  async revokeIn(tx: Db, id: string): Promise<boolean> {
    const result = await tx
      .updateTable('credentials')
      .set({ revoked_at: this.#now().toISOString() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Lists credentials without tokens or hashes. */
  async list(): Promise<CredentialInfo[]> {
    const rows = await this.#store.db
      .selectFrom('credentials')
      .selectAll()
      .orderBy('created_at', 'asc')
      .execute();
    return rows.map((row) => ({
      id: row.id,
      kind: row.kind,
      identity: row.identity,
      scope: JSON.parse(row.scope) as string[],
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      lastUsedAt: row.last_used_at,
      revokedAt: row.revoked_at,
    }));
  }
}

function toPrincipal(row: {
  id: string;
  kind: string;
  identity: string;
  scope: string;
  expires_at: string;
  role: string | null;
  binding: string | null;
  claims: string | null;
}): Principal {
  return {
    credentialId: row.id,
    kind: row.kind as CredentialKind,
    identity: row.identity,
    scope: JSON.parse(row.scope) as string[],
    expiresAt: row.expires_at,
    role: row.role,
    binding: row.binding === null ? null : (JSON.parse(row.binding) as JitBinding),
    claims: row.claims === null ? null : (JSON.parse(row.claims) as Record<string, string>),
  };
}

/** True when the principal's scope covers `packageName`. */
export function principalCovers(principal: Principal, packageName: string): boolean {
  return scopeCovers(principal.scope, packageName);
}
