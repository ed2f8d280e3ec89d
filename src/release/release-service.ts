/**
 * The release gate's core: accepts a validated publish, holds it, and publishes exactly the
 * approved bytes once. Every state change is a compare-and-set in a transaction together with its
 * audit event, so any number of instances (and restarts) agree on each release's state.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AuditLog } from '../auditlog/index.ts';
import { AuthError, ConflictError, NotFoundError, PubgateError } from '../errors/index.ts';
import semver from 'semver';
import { evaluatePolicy, type Decision, type PolicyConfig } from '../policy/index.ts';
import type { Registry, SigstoreAttachmentMode } from '../registry/index.ts';
import type { Db, ReleasesTable, Store } from '../store/index.ts';
import { hashToken } from '../tokens/index.ts';
import type { BlobStore } from './blob-store.ts';
import { validatePublishDocument, type PublishLimits, type ValidatedPublish } from './publish-document.ts';
import { FINAL_STATES, statesLeadingTo, type ReleaseState } from './states.ts';
import { diffPackages, installScriptsChanged, type PackageDiff, type PackageSnapshot } from './diff.ts';
import { inspectTarball } from './tarball.ts';
import { buildProvenanceOf, type ProvenanceSubject } from './provenance.ts';

/** Who asked for a release. */
export interface Requester {
  /** `token` (pubgate credential), later `human` (passkey) or `workload` (OIDC). */
  readonly kind: string;
  readonly id: string;
}

/** A release as the API shows it (no manifest body, no secrets). */
export interface Release {
  readonly id: string;
  readonly package: string;
  readonly version: string;
  readonly integrity: string;
  readonly shasum: string;
  readonly size: number;
  readonly state: ReleaseState;
  readonly tag: string;
  readonly channel: 'publish' | 'stage';
  readonly requester: Requester;
  readonly checks: readonly CheckResult[];
  readonly reason: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly expiresAt: string;
  readonly publishedAt: string | null;
  readonly attempts: number;
  readonly requiredApprovals: number;
  readonly approverGroup: string;
  readonly policy: Readonly<Partial<Decision> & { excluded?: readonly string[] }>;
  readonly requesterVerifiedAt: string | null;
  readonly publishMode: 'gate' | 'jit';
}

/** One check and its outcome. */
export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Settings of the release service. */
export interface ReleaseServiceOptions {
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly audit: AuditLog;
  readonly registry: Registry;
  readonly limits: PublishLimits;
  readonly pendingTtlSeconds: number;
  readonly publishMaxAttempts: number;
  readonly leaseSeconds: number;
  readonly instanceId: string;
  readonly logger: Logger;
  readonly now?: () => Date;
  readonly policy: PolicyConfig;
  /** Weekly downloads of a package from the upstream's counts, when available. */
  readonly weeklyDownloads?: (name: string) => Promise<number | undefined>;
  /** The secret scan of every received tarball (findings carry previews, never values). */
  readonly scanTarball?: (tarball: Buffer) => Promise<readonly SecretFinding[]>;
  /** Signs the release attestation at approval and verifies it before every upstream publish. */
  readonly attestations?: {
    ensure(release: Release): Promise<unknown>;
    /** Resolves with the verified attestation bundle. */
    verifyBeforePublish(release: Release, tarball: Buffer): Promise<unknown>;
  };
  /** Which `.sigstore` attachment goes upstream with each release (default none). */
  readonly sigstoreAttachment?: SigstoreAttachmentMode;
  /** Verifies attached build provenance (`ERR_PROVENANCE_*`); without it, provenance is refused. */
  readonly checkProvenance?: (subject: ProvenanceSubject) => Promise<CheckResult>;
  /** Throws `ERR_LOCKDOWN` when a lockdown covers the package or identity (the kill switch). */
  readonly assertOpen?: (what: { package?: string; identity?: string }) => Promise<void>;
  /** Called with every secret found (the gate revokes leaked pubgate credentials). */
  readonly onSecretsFound?: (
    findings: readonly SecretFinding[],
    where: { package: string; version: string },
  ) => Promise<void>;
}

/** A secret finding as the release records it: what, where, and a redacted preview. */
export interface SecretFinding {
  readonly ruleId: string;
  readonly ruleTitle: string;
  readonly severity: string;
  readonly kind: string;
  readonly path: string;
  readonly line: number;
  readonly preview: string;
  readonly fingerprint: string;
  readonly pubgateTokenHash?: string | undefined;
}

/** Options of {@link ReleaseService.submit}. */
export interface SubmitOptions {
  readonly urlName: string;
  readonly body: Buffer;
  readonly channel: 'publish' | 'stage';
  readonly requester: Requester;
  /** Refuses packages the requester may not release (checked after the name is known, before storing). */
  readonly authorize: (packageName: string) => void;
  /** Where the request came from (client address, npm's user agent), shown to approvers. */
  readonly origin?: { readonly ip: string; readonly userAgent: string };
  /**
   * People who may not approve besides the requester: whoever triggered the CI run and the author
   * of the release commit, when the workload identity names them.
   */
  readonly excluded?: readonly string[];
  /** The CI workload's claims (repository, workflow, ref, sha), shown to approvers. */
  readonly workload?: Readonly<Record<string, string>>;
}

function toRelease(row: ReleasesTable): Release {
  return {
    id: row.id,
    package: row.package,
    version: row.version,
    integrity: row.integrity,
    shasum: row.shasum,
    size: Number(row.size),
    state: row.state as ReleaseState,
    tag: row.tag,
    channel: row.channel as 'publish' | 'stage',
    requester: { kind: row.requester_kind, id: row.requester_id },
    checks: JSON.parse(row.checks) as CheckResult[],
    reason: row.reason,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    expiresAt: row.expires_at,
    publishedAt: row.published_at,
    attempts: row.attempts,
    requiredApprovals: row.required_approvals,
    approverGroup: row.approver_group,
    policy: JSON.parse(row.policy) as Partial<Decision> & { excluded?: string[] },
    requesterVerifiedAt: row.requester_verified_at,
    publishMode: row.publish_mode as 'gate' | 'jit',
  };
}

/** sha512 hex from an SRI `sha512-<base64>`. */
export function sha512HexOf(integrity: string): string {
  return Buffer.from(integrity.slice('sha512-'.length), 'base64').toString('hex');
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** The release state machine and publisher. */
export class ReleaseService {
  readonly #o: ReleaseServiceOptions;
  readonly #now: () => Date;
  readonly #listeners = new Set<(to: ReleaseState) => void>();

  constructor(options: ReleaseServiceOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
  }

  /** Calls `listener` after every committed transition (the gate wakes its publisher on `approved`). */
  onTransition(listener: (to: ReleaseState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(to: ReleaseState): void {
    for (const listener of this.#listeners) listener(to);
  }

  /** Validates and holds a publish. Nothing is stored unless every check passes. */
  async submit(options: SubmitOptions): Promise<Release> {
    const validated = await validatePublishDocument(options.body, {
      urlName: options.urlName,
      limits: this.#o.limits,
    });
    options.authorize(validated.name);
    await this.#o.assertOpen?.({ package: validated.name, identity: options.requester.id });
    const upstream = await this.#o.registry.versionState(validated.name, validated.version);
    if (upstream.exists) {
      throw new ConflictError(
        'ERR_PUBLISH_VERSION_EXISTS',
        `${validated.name}@${validated.version} is already published; bump the version`,
      );
    }
    const diff = diffPackages(await this.#previousSnapshot(validated.name, validated.version), {
      version: validated.version,
      packageJson: validated.inspection.packageJson,
      files: validated.inspection.files,
    });
    const found = (await this.#o.scanTarball?.(validated.tarball)) ?? [];
    const secrets = found.filter((f) => f.kind === 'secret');
    if (secrets.length > 0) {
      await this.#o.onSecretsFound?.(secrets, { package: validated.name, version: validated.version });
      if ((this.#o.policy.secrets ?? 'block') === 'block') {
        const list = secrets
          .slice(0, 10)
          .map((f) => `${f.ruleTitle} in ${f.path}:${f.line} (${f.preview})`)
          .join('; ');
        throw new AuthError(
          'ERR_POLICY_SECRET_FOUND',
          `the tarball contains ${secrets.length} secret(s): ${list}. Remove them from the package, rotate them, and publish a new version`,
          {
            details: {
              findings: secrets.map(({ ruleId, path, line, preview }) => ({ ruleId, path, line, preview })),
            },
          },
        );
      }
    }
    const downloads = await this.#o.weeklyDownloads?.(validated.name).catch(() => undefined);
    const decision = evaluatePolicy(this.#o.policy, {
      package: validated.name,
      weeklyDownloads: downloads,
      installScriptsChanged: installScriptsChanged(diff),
    });
    if (!decision.allow) {
      throw new AuthError(
        'ERR_POLICY_BLOCKED',
        `the release policy blocks this release: ${decision.reasons.join('; ')}`,
        { details: { reasons: decision.reasons } },
      );
    }
    const provenance = await this.#checkProvenance(validated, options, decision);
    const blob = await this.#o.blobs.put(validated.tarball);
    if (blob !== validated.sha512Hex)
      throw new PubgateError('ERR_BLOB_CORRUPT', 'blob store returned a different digest');
    return this.#hold(validated, options, diff, decision, found, provenance);
  }

  /** The `build-provenance` check: verified when attached, required when the policy says so. */
  async #checkProvenance(
    validated: ValidatedPublish,
    options: SubmitOptions,
    decision: Decision,
  ): Promise<CheckResult> {
    if (validated.provenance === undefined) {
      if (decision.provenance === 'require') {
        throw new AuthError(
          'ERR_POLICY_PROVENANCE_REQUIRED',
          `the release policy requires build provenance for ${validated.name}: publish from CI with \`npm publish --provenance\` (or \`--provenance-file\`), or attach a statement signed by a registered build key`,
        );
      }
      return { name: 'build-provenance', ok: true, details: { present: false } };
    }
    if (this.#o.checkProvenance === undefined)
      throw new AuthError('ERR_PROVENANCE_UNSUPPORTED', 'this gate cannot verify build provenance');
    return this.#o.checkProvenance({
      name: validated.name,
      version: validated.version,
      sha512Hex: validated.sha512Hex,
      bundle: validated.provenance.bundle,
      workload: options.workload,
    });
  }

  /** The highest published version below `version`, with its files, for the diff; undefined when none or unreadable. */
  async #previousSnapshot(name: string, version: string): Promise<PackageSnapshot | undefined> {
    try {
      const packument = await this.#o.registry.getPackument(name, '');
      const versions = (packument?.['versions'] ?? {}) as Record<string, { dist?: { tarball?: string } }>;
      const previous = semver.rsort(
        Object.keys(versions).filter((v) => semver.valid(v) !== null && semver.lt(v, version)),
      )[0];
      if (previous === undefined) return undefined;
      const file =
        String(versions[previous]?.dist?.tarball ?? '')
          .split('/')
          .pop() ?? '';
      const tarball = await this.#o.registry.getTarball(name, file);
      if (tarball === undefined) return undefined;
      const bytes =
        tarball.body instanceof Uint8Array
          ? tarball.body
          : new Uint8Array(await new Response(tarball.body).arrayBuffer());
      if (bytes.length > this.#o.limits.tarballBytes) return undefined;
      const inspection = await inspectTarball(bytes, this.#o.limits);
      return { version: previous, packageJson: inspection.packageJson, files: inspection.files };
    } catch (error) {
      // Without the previous version everything counts as new: install scripts then need the extra approval.
      this.#o.logger.warn(
        { package: name, code: error instanceof PubgateError ? error.code : 'ERR_INTERNAL' },
        'previous version unavailable for the diff',
      );
      return undefined;
    }
  }

  async #hold(
    validated: ValidatedPublish,
    options: SubmitOptions,
    diff: PackageDiff,
    decision: Decision,
    found: readonly SecretFinding[],
    provenance: CheckResult,
  ): Promise<Release> {
    const now = this.#now();
    const id = randomUUID();
    const checks: CheckResult[] = [
      { name: 'document', ok: true },
      { name: 'integrity', ok: true, details: { integrity: validated.integrity, shasum: validated.shasum } },
      {
        name: 'tarball',
        ok: true,
        details: {
          files: validated.inspection.files.length,
          unpackedBytes: validated.inspection.unpackedBytes,
        },
      },
      { name: 'version-unpublished', ok: true },
      { name: 'diff', ok: true, details: { ...diff } },
      { name: 'policy', ok: true, details: { ...decision } },
      {
        name: 'secret-scan',
        ok: found.every((f) => f.kind !== 'secret'),
        details: {
          scanned: this.#o.scanTarball !== undefined,
          findings: found.map(({ ruleId, ruleTitle, severity, kind, path, line, preview }) => ({
            ruleId,
            ruleTitle,
            severity,
            kind,
            path,
            line,
            preview,
          })),
        },
      },
      provenance,
      {
        name: 'request',
        ok: true,
        details: {
          ip: options.origin?.ip ?? null,
          userAgent: options.origin?.userAgent.slice(0, 200) ?? null,
          workload: options.workload ?? null,
        },
      },
    ];
    const row: ReleasesTable = {
      id,
      package: validated.name,
      version: validated.version,
      integrity: validated.integrity,
      shasum: validated.shasum,
      size: validated.tarball.length,
      state: 'awaiting_approval',
      tag: validated.tag,
      channel: options.channel,
      requester_kind: options.requester.kind,
      requester_id: options.requester.id,
      manifest: JSON.stringify({
        manifest: validated.manifest,
        access: validated.access,
        // Kept exactly as received: it may go upstream with the package.
        ...(validated.provenance === undefined ? {} : { provenance: validated.provenance.text }),
      }),
      checks: JSON.stringify(checks),
      reason: null,
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
      expires_at: new Date(now.getTime() + this.#o.pendingTtlSeconds * 1000).toISOString(),
      published_at: null,
      attempts: 0,
      lease_owner: null,
      lease_until: null,
      next_attempt_at: null,
      completion_hash: null,
      required_approvals: decision.requiredApprovals,
      approver_group: decision.group,
      policy: JSON.stringify({ ...decision, excluded: [...new Set(options.excluded ?? [])] }),
      requester_verified_at: null,
      publish_mode: decision.publishMode,
    };
    try {
      await this.#o.store.transaction(async (tx) => {
        await tx.insertInto('releases').values(row).execute();
        const actor = `${options.requester.kind}:${options.requester.id}`;
        const base = { package: row.package, version: row.version, integrity: row.integrity };
        await this.#o.audit.appendIn(tx, {
          actor,
          action: 'release.received',
          subject: `release:${id}`,
          data: { ...base, channel: row.channel, size: row.size },
        });
        await this.#o.audit.appendIn(tx, {
          actor: 'gate',
          action: 'release.checked',
          subject: `release:${id}`,
          data: { ...base, checks },
        });
        await this.#o.audit.appendIn(tx, {
          actor: 'gate',
          action: 'release.awaiting_approval',
          subject: `release:${id}`,
          data: { ...base, expiresAt: row.expires_at },
        });
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ConflictError(
          'ERR_PUBLISH_VERSION_PENDING',
          `${validated.name}@${validated.version} is already pending or published at the gate`,
        );
      }
      throw error;
    }
    this.#emit('awaiting_approval');
    this.#o.logger.info(
      { release: id, package: row.package, version: row.version },
      'release held for approval',
    );
    return toRelease(row);
  }

  /** One release, or `ERR_RELEASE_NOT_FOUND`. */
  async get(id: string): Promise<Release> {
    const row = await this.#o.store.db
      .selectFrom('releases')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (row === undefined) throw new NotFoundError('ERR_RELEASE_NOT_FOUND', `no release ${id.slice(0, 64)}`);
    return toRelease(row);
  }

  /** Releases, newest first. */
  async list(
    filter: {
      state?: ReleaseState;
      /** Any of these states (e.g. every state that is not final). */
      states?: readonly ReleaseState[];
      package?: string;
      requesterId?: string;
      limit?: number;
      offset?: number;
    } = {},
  ): Promise<Release[]> {
    let query = this.#o.store.db.selectFrom('releases').selectAll();
    if (filter.state !== undefined) query = query.where('state', '=', filter.state);
    if (filter.states !== undefined)
      query = query.where('state', 'in', filter.states.length === 0 ? ['-'] : [...filter.states]);
    if (filter.package !== undefined) query = query.where('package', '=', filter.package);
    if (filter.requesterId !== undefined) query = query.where('requester_id', '=', filter.requesterId);
    const rows = await query
      .orderBy('created_at', 'desc')
      .limit(filter.limit ?? 100)
      .offset(filter.offset ?? 0)
      .execute();
    return rows.map(toRelease);
  }

  /** Counts by state (metrics). */
  async countByState(): Promise<Record<string, number>> {
    const rows = await this.#o.store.db
      .selectFrom('releases')
      .select(['state'])
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .groupBy('state')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
  }

  /**
   * Compare-and-set transition with its audit event, in one transaction. Throws
   * `ERR_RELEASE_STATE` when the release is not in a state that leads to `to`.
   */
  async #transition(
    id: string,
    to: ReleaseState,
    event: { actor: string; reason?: string | null; data?: Record<string, unknown> },
    extra: (tx: Db) => Partial<ReleasesTable> | Promise<Partial<ReleasesTable>> = () => ({}),
    from: readonly ReleaseState[] = statesLeadingTo(to),
    guard?: (tx: Db, current: Release) => Promise<void>,
  ): Promise<Release> {
    const result = await this.#o.store.transaction(async (tx) => {
      const current = await this.#o.store
        .forUpdate(tx.selectFrom('releases').selectAll().where('id', '=', id))
        .executeTakeFirst();
      if (current === undefined)
        throw new NotFoundError('ERR_RELEASE_NOT_FOUND', `no release ${id.slice(0, 64)}`);
      if (!from.includes(current.state as ReleaseState)) {
        throw new ConflictError(
          'ERR_RELEASE_STATE',
          `release ${id} is ${current.state}; it cannot become ${to}`,
          { details: { state: current.state } },
        );
      }
      // Checked with the row locked, in the same transaction as the change (e.g. the quorum count).
      if (guard !== undefined) await guard(tx, toRelease(current));
      const now = this.#now().toISOString();
      const patch: Partial<ReleasesTable> = {
        state: to,
        updated_at: now,
        ...(event.reason === undefined ? {} : { reason: event.reason }),
        ...(await extra(tx)),
      };
      const updated = await tx
        .updateTable('releases')
        .set(patch)
        .where('id', '=', id)
        .where('state', '=', current.state)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1)
        throw new ConflictError('ERR_RELEASE_STATE', `release ${id} changed concurrently`);
      await this.#o.audit.appendIn(tx, {
        actor: event.actor,
        action: `release.${to}`,
        subject: `release:${id}`,
        data: {
          package: current.package,
          version: current.version,
          integrity: current.integrity,
          from: current.state,
          ...(event.reason == null ? {} : { reason: event.reason }),
          ...event.data,
        },
      });
      return { ...current, ...patch } as ReleasesTable;
    });
    this.#emit(to);
    return toRelease(result);
  }

  /**
   * Records the decision that releases a package. Internal: only the approval capability (quorum of
   * step-up assertions) may call it; no HTTP route or CLI command reaches it directly.
   */
  async approve(
    id: string,
    decision: {
      actor: string;
      data?: Record<string, unknown>;
      guard?: (tx: Db, current: Release) => Promise<void>;
    },
  ): Promise<Release> {
    const approved = await this.#transition(
      id,
      'approved',
      { actor: decision.actor, ...(decision.data === undefined ? {} : { data: decision.data }) },
      () => ({ next_attempt_at: this.#now().toISOString() }),
      statesLeadingTo('approved'),
      decision.guard,
    );
    // Sign the attestation now; if that fails, the publisher signs it before publishing.
    await this.#o.attestations?.ensure(approved).catch((error: unknown) => {
      this.#o.logger.error(
        { release: id, code: error instanceof PubgateError ? error.code : 'ERR_INTERNAL' },
        'attestation not signed at approval',
      );
    });
    return approved;
  }

  /** Records that the requester authenticated its request with a passkey (npm web-auth step-up). */
  async markRequesterVerified(id: string, actor: string, credentialId: string): Promise<Release> {
    const now = this.#now().toISOString();
    await this.#o.store.transaction(async (tx) => {
      const updated = await tx
        .updateTable('releases')
        .set({ requester_verified_at: now })
        .where('id', '=', id)
        .where('requester_verified_at', 'is', null)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 1) {
        await this.#o.audit.appendIn(tx, {
          actor,
          action: 'release.requester_verified',
          subject: `release:${id}`,
          data: { credentialId },
        });
      }
    });
    return this.get(id);
  }

  /** Rejects a release that has not been published yet. */
  reject(id: string, actor: string, reason: string): Promise<Release> {
    return this.#transition(id, 'rejected', { actor, reason: reason.slice(0, 500) });
  }

  /** Withdraws a release on behalf of its requester (npm's `DELETE /-/stage/:id`). */
  async withdraw(id: string, requester: Requester): Promise<Release> {
    const release = await this.get(id);
    if (release.requester.kind !== requester.kind || release.requester.id !== requester.id) {
      throw new AuthError('ERR_AUTH_FORBIDDEN', 'only the requester (or an admin) may withdraw this release');
    }
    return this.reject(id, `${requester.kind}:${requester.id}`, 'withdrawn by the requester');
  }

  /** Expires held releases whose time is up. Returns how many. */
  async expireDue(): Promise<number> {
    const now = this.#now().toISOString();
    const due = await this.#o.store.db
      .selectFrom('releases')
      .select('id')
      .where('state', '=', 'awaiting_approval')
      .where('expires_at', '<=', now)
      .limit(100)
      .execute();
    let expired = 0;
    for (const { id } of due) {
      try {
        await this.#transition(id, 'expired', { actor: 'gate', reason: 'not approved in time' }, () => ({}), [
          'awaiting_approval',
        ]);
        expired++;
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
      }
    }
    return expired;
  }

  /** Takes one approved release whose turn it is, with a lease, so only one instance publishes it. */
  async #claim(): Promise<ReleasesTable | undefined> {
    return this.#o.store.transaction(async (tx) => {
      const now = this.#now();
      const iso = now.toISOString();
      const candidate = await this.#o.store
        .forUpdateSkipLocked(
          tx
            .selectFrom('releases')
            .selectAll()
            .where((eb) =>
              eb.or([
                // jit-mode releases wait for the pipeline's single-use credential instead.
                eb.and([
                  eb('state', '=', 'approved'),
                  eb('publish_mode', '=', 'gate'),
                  eb.or([eb('next_attempt_at', 'is', null), eb('next_attempt_at', '<=', iso)]),
                ]),
                // A publish whose owner died: its lease ran out.
                eb.and([eb('state', '=', 'publishing'), eb('lease_until', '<', iso)]),
              ]),
            )
            .orderBy('updated_at', 'asc')
            .limit(1),
        )
        .executeTakeFirst();
      if (candidate === undefined) return undefined;
      const leaseUntil = new Date(now.getTime() + this.#o.leaseSeconds * 1000).toISOString();
      const patch = {
        state: 'publishing',
        lease_owner: this.#o.instanceId,
        lease_until: leaseUntil,
        attempts: candidate.attempts + 1,
        updated_at: iso,
      };
      await tx
        .updateTable('releases')
        .set(patch)
        .where('id', '=', candidate.id)
        .where('state', '=', candidate.state)
        .execute();
      await this.#o.audit.appendIn(tx, {
        actor: 'gate',
        action: 'release.publishing',
        subject: `release:${candidate.id}`,
        data: {
          package: candidate.package,
          version: candidate.version,
          integrity: candidate.integrity,
          attempt: patch.attempts,
          instance: this.#o.instanceId,
          from: candidate.state,
        },
      });
      return { ...candidate, ...patch };
    });
  }

  /** Publishes every release whose turn it is; returns how many reached a final state. */
  async publishDue(): Promise<number> {
    let done = 0;
    for (let i = 0; i < 50; i++) {
      const claimed = await this.#claim();
      if (claimed === undefined) break;
      this.#emit('publishing');
      if (await this.#publishClaimed(claimed)) done++;
    }
    return done;
  }

  async #publishClaimed(row: ReleasesTable): Promise<boolean> {
    const { manifest, access, provenance } = JSON.parse(row.manifest) as {
      manifest: Record<string, unknown>;
      access: string | null;
      provenance?: string;
    };
    try {
      // The kill switch wins over an approval that came before it.
      await this.#o.assertOpen?.({ package: row.package, identity: row.requester_id });
      // Re-read from the content-addressed store: the bytes are verified against the approved digest.
      const tarball = await this.#o.blobs.get(sha512HexOf(row.integrity));
      // The gate re-verifies its own signed attestation against these exact bytes before they leave.
      const release = toRelease(row);
      const attestation = await this.#o.attestations?.verifyBeforePublish(release, tarball);
      const sigstore = this.#sigstoreAttachment(release, provenance, attestation);
      const outcome = await this.#o.registry.publish({
        name: row.package,
        version: row.version,
        tag: row.tag,
        access,
        manifest,
        tarball,
        integrity: row.integrity,
        ...(sigstore === undefined ? {} : { sigstore }),
      });
      await this.#finishPublish(
        row,
        'published',
        { actor: 'gate', data: { outcome, instance: this.#o.instanceId } },
        () => ({ published_at: this.#now().toISOString(), lease_owner: null, lease_until: null }),
      );
      this.#o.logger.info(
        { release: row.id, package: row.package, version: row.version, outcome },
        'release published',
      );
      return true;
    } catch (error) {
      const code = error instanceof PubgateError ? error.code : 'ERR_INTERNAL';
      const permanent =
        code === 'ERR_UPSTREAM_VERSION_CONFLICT' ||
        code === 'ERR_BLOB_CORRUPT' ||
        code === 'ERR_BLOB_MISSING' ||
        code === 'ERR_LOCKDOWN' ||
        code === 'ERR_RELEASE_ATTESTATION_INVALID';
      if (permanent || row.attempts >= this.#o.publishMaxAttempts) {
        await this.#finishPublish(
          row,
          'failed',
          { actor: 'gate', reason: `publish failed: ${code}`, data: { code } },
          () => ({ lease_owner: null, lease_until: null }),
        );
        this.#o.logger.error({ release: row.id, code }, 'release failed');
        return true;
      }
      const backoffMs = Math.min(60_000, 1000 * 2 ** (row.attempts - 1));
      await this.#finishPublish(
        row,
        'approved',
        {
          actor: 'gate',
          reason: `publish attempt ${row.attempts} failed: ${code}; retrying`,
          data: { code },
        },
        () => ({
          lease_owner: null,
          lease_until: null,
          next_attempt_at: new Date(this.#now().getTime() + backoffMs).toISOString(),
        }),
      );
      this.#o.logger.warn(
        { release: row.id, code, attempt: row.attempts },
        'publish attempt failed; will retry',
      );
      return false;
    }
  }

  /** The `.sigstore` attachment for the upstream, as configured: the build's provenance as received, or our attestation. */
  #sigstoreAttachment(
    release: Release,
    provenance: string | undefined,
    attestation: unknown,
  ): string | undefined {
    const mode = this.#o.sigstoreAttachment ?? 'none';
    if (mode === 'build-provenance') {
      // Only certificate-signed (Sigstore) provenance: a registry such as npmjs refuses a build key's
      // statement, and the release would fail upstream after its approval.
      return buildProvenanceOf(release)?.kind === 'certificate' ? provenance : undefined;
    }
    if (mode === 'release-attestation' && attestation !== undefined) return JSON.stringify(attestation);
    return undefined;
  }

  async #finishPublish(
    row: ReleasesTable,
    to: ReleaseState,
    event: { actor: string; reason?: string; data?: Record<string, unknown> },
    extra: () => Partial<ReleasesTable>,
  ): Promise<void> {
    try {
      await this.#transition(row.id, to, event, extra, ['publishing']);
    } catch (error) {
      // Our lease was taken over (we were too slow); the new owner finishes the release.
      if (!(error instanceof ConflictError)) throw error;
    }
  }

  /**
   * Publishes an approved jit-mode release now, for a just-in-time credential that was just
   * consumed. Resolves with the release in its final state (published, or failed).
   */
  async publishForJit(id: string, actor: string): Promise<Release> {
    const now = this.#now().toISOString();
    await this.#o.store.transaction(async (tx) => {
      const updated = await tx
        .updateTable('releases')
        .set({ publish_mode: 'gate', next_attempt_at: now, updated_at: now })
        .where('id', '=', id)
        .where('state', '=', 'approved')
        .where('publish_mode', '=', 'jit')
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1)
        throw new ConflictError(
          'ERR_RELEASE_STATE',
          `release ${id} is not an approved release waiting for its pipeline`,
        );
      await this.#o.audit.appendIn(tx, {
        actor,
        action: 'release.jit_publish',
        subject: `release:${id}`,
        data: {},
      });
    });
    await this.publishDue();
    // Usually this instance published it just now; otherwise another instance's worker is on it.
    for (let i = 0; i < 3000; i++) {
      const release = await this.get(id);
      if (release.state === 'published' || release.state === 'failed') return release;
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.get(id);
  }

  /** Releases leases held by this instance's previous life (single-instance SQLite restarts resume at once). */
  async releaseOwnLeases(): Promise<number> {
    const result = await this.#o.store.db
      .updateTable('releases')
      .set({ lease_until: new Date(0).toISOString() })
      .where('state', '=', 'publishing')
      .where('lease_owner', '=', this.#o.instanceId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * For npm's web-auth poll: once published, a one-time token that lets npm's retried PUT succeed.
   * Undefined while the release is still on its way.
   */
  async issueCompletionToken(id: string): Promise<string | undefined> {
    const release = await this.get(id);
    // Also for rejected, expired and failed releases: npm's retried PUT then gets a 403 that
    // says why, which npm shows (it shows nothing useful for an error on the poll itself).
    if (!FINAL_STATES.has(release.state)) return undefined;
    const token = randomBytes(32).toString('base64url');
    await this.#o.store.db
      .updateTable('releases')
      .set({ completion_hash: hashToken(token) })
      .where('id', '=', id)
      .execute();
    return token;
  }

  /** Consumes a completion token once, for the matching digest only; the release may be published or not. */
  async consumeCompletionToken(token: string, integrity: string): Promise<Release | undefined> {
    const result = await this.#o.store.transaction(async (tx) => {
      const row = await this.#o.store
        .forUpdate(tx.selectFrom('releases').selectAll().where('completion_hash', '=', hashToken(token)))
        .executeTakeFirst();
      if (row === undefined || !FINAL_STATES.has(row.state as ReleaseState) || row.integrity !== integrity)
        return undefined;
      await tx.updateTable('releases').set({ completion_hash: null }).where('id', '=', row.id).execute();
      return row;
    });
    return result === undefined ? undefined : toRelease(result);
  }

  /** True when the release is in a final state. */
  static isFinal(release: Release): boolean {
    return FINAL_STATES.has(release.state);
  }
}
