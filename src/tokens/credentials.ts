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

/** What a credential may do. */
export type CredentialKind = 'request' | 'read' | 'agent';
const KINDS: readonly CredentialKind[] = ['request', 'read', 'agent'];

/** An authenticated caller. Never carries the token. */
export interface Principal {
  readonly credentialId: string;
  readonly kind: CredentialKind;
  readonly identity: string;
  readonly scope: readonly string[];
  readonly expiresAt: string;
}

/** Options of {@link CredentialService.issue}. */
export interface IssueCredentialOptions {
  readonly kind: CredentialKind;
  readonly identity: string;
  readonly scope: readonly string[];
  readonly ttlSeconds: number;
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
    if (!KINDS.includes(options.kind)) throw new RangeError(`unknown credential kind ${JSON.stringify(options.kind)}`);
    if (!/^[A-Za-z0-9._@:/-]{1,128}$/.test(options.identity)) throw new RangeError('identity must be 1-128 characters of [A-Za-z0-9._@:/-]');
    if (options.scope.length === 0) throw new RangeError('a credential needs at least one package scope pattern');
    options.scope.forEach(assertScopePattern);
    if (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds < 60 || options.ttlSeconds > 366 * 24 * 3600) {
      throw new RangeError('ttlSeconds must be between 60 seconds and 366 days');
    }
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
        max_uses: null,
        binding: null,
        role: null,
      })
      .execute();
    return { id, token, expiresAt };
  }

  /** Resolves a bearer token to a principal or throws `ERR_AUTH_*`. The token never appears in the error. */
  async authenticate(token: string): Promise<Principal> {
    if (!isWellFormedToken(token)) throw new AuthError('ERR_AUTH_BAD_TOKEN', 'the credential is not a pubgate token');
    const row = await this.#store.db.selectFrom('credentials').selectAll().where('token_hash', '=', hashToken(token)).executeTakeFirst();
    if (row === undefined) throw new AuthError('ERR_AUTH_UNKNOWN_TOKEN', 'the credential is not known to this gate');
    if (row.revoked_at !== null) throw new AuthError('ERR_AUTH_REVOKED', 'the credential was revoked');
    const now = this.#now().toISOString();
    if (row.expires_at <= now) throw new AuthError('ERR_AUTH_EXPIRED', 'the credential has expired');
    // last_used_at is advisory (stale-credential reports); one write per minute per credential at most.
    if (row.last_used_at === null || row.last_used_at < new Date(Date.parse(now) - 60_000).toISOString()) {
      await this.#store.db.updateTable('credentials').set({ last_used_at: now }).where('id', '=', row.id).execute();
    }
    return { credentialId: row.id, kind: row.kind as CredentialKind, identity: row.identity, scope: JSON.parse(row.scope) as string[], expiresAt: row.expires_at };
  }

  /** Revokes by id inside `tx`; true when a live credential was revoked. */
  async revokeIn(tx: Db, id: string): Promise<boolean> {
    const result = await tx.updateTable('credentials').set({ revoked_at: this.#now().toISOString() }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Lists credentials without tokens or hashes. */
  async list(): Promise<CredentialInfo[]> {
    const rows = await this.#store.db.selectFrom('credentials').selectAll().orderBy('created_at', 'asc').execute();
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

/** True when the principal's scope covers `packageName`. */
export function principalCovers(principal: Principal, packageName: string): boolean {
  return scopeCovers(principal.scope, packageName);
}
