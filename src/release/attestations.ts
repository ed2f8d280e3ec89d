/**
 * Release attestations: when a release is approved the gate signs an in-toto statement (subject
 * `pkg:npm/<name>@<version>` with its sha512) recording the policy, requester, each approver's
 * passkey assertion hash, the build identity and the checks, as a Sigstore bundle; and right before
 * every upstream publish it verifies that attestation against the bytes it is about to send.
 */
import {
  asProvenanceBundle,
  RELEASE_PREDICATE_TYPE,
  signNpmRegistrySignature,
  signReleaseAttestation,
  verifyRelease,
  type KeyRing,
  type NpmRegistrySignature,
  type ReleaseCheck,
  type ReleaseCheckResult,
  type SigstoreBundleJson,
} from '../signing/index.ts';
import type { AuditLog } from '../auditlog/index.ts';
import { IntegrityError } from '../errors/index.ts';
import type { Store } from '../store/index.ts';
import { buildProvenanceOf } from './provenance.ts';
import { sha512HexOf, type Release } from './release-service.ts';

/** The release's checks as the attestation records them; build provenance says what was verified and what not. */
function toAttestedChecks(release: Release): ReleaseCheck[] {
  const provenance = buildProvenanceOf(release);
  return release.checks
    .filter((c) => c.name !== 'diff' && c.name !== 'request' && c.name !== 'policy')
    .map((check) => {
      const result: ReleaseCheckResult = check.ok ? 'pass' : 'fail';
      if (check.name !== 'build-provenance') return { name: check.name, result };
      if (provenance === undefined)
        return { name: check.name, result: 'skipped', details: 'no build provenance attached' };
      const id = provenance.identity;
      const who = [id.repository, id.workflowPath, id.ref, id.commit].filter(Boolean).join(' ');
      const signer = provenance.kind === 'build-key' ? `build key ${provenance.keyId ?? '?'}` : 'certificate';
      const chain =
        provenance.kind === 'certificate'
          ? `; chain ${provenance.certificateChainVerified ? 'verified' : 'not verified'}; transparency log not checked`
          : '';
      return { name: check.name, result, details: `${signer}: ${who}${chain}`.slice(0, 500) };
    });
}

/** Signs, stores, serves and checks release attestations. */
export class AttestationService {
  readonly #store: Store;
  readonly #keys: KeyRing;
  readonly #audit: AuditLog;
  readonly #now: () => Date;

  constructor(options: { store: Store; keys: KeyRing; audit: AuditLog; now?: () => Date }) {
    this.#store = options.store;
    this.#keys = options.keys;
    this.#audit = options.audit;
    this.#now = options.now ?? (() => new Date());
  }

  /** The key ring (for /keys and verification). */
  get keys(): KeyRing {
    return this.#keys;
  }

  /** The stored attestation bundle of a release, or undefined. */
  async get(releaseId: string): Promise<SigstoreBundleJson | undefined> {
    const row = await this.#store.db
      .selectFrom('attestations')
      .select('bundle')
      .where('release_id', '=', releaseId)
      .executeTakeFirst();
    return row === undefined ? undefined : (JSON.parse(row.bundle) as SigstoreBundleJson);
  }

  /**
   * The attestation of the published package@version, or undefined; with the build provenance that
   * came with the release (as a bundle), when there was one.
   */
  async forVersion(
    name: string,
    version: string,
  ): Promise<
    { releaseId: string; bundle: SigstoreBundleJson; buildProvenance?: SigstoreBundleJson } | undefined
  > {
    const row = await this.#store.db
      .selectFrom('attestations')
      .innerJoin('releases', 'releases.id', 'attestations.release_id')
      .select(['attestations.release_id', 'attestations.bundle', 'releases.manifest'])
      .where('attestations.package', '=', name)
      .where('attestations.version', '=', version)
      .where('releases.state', '=', 'published')
      .orderBy('attestations.created_at', 'desc')
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const { provenance } = JSON.parse(row.manifest) as { provenance?: string };
    return {
      releaseId: row.release_id,
      bundle: JSON.parse(row.bundle) as SigstoreBundleJson,
      ...(provenance === undefined
        ? {}
        : { buildProvenance: asProvenanceBundle(JSON.parse(provenance)) as SigstoreBundleJson }),
    };
  }

  /** Signs the attestation of an approved release once; returns the stored bundle. */
  async ensure(release: Release): Promise<SigstoreBundleJson> {
    const existing = await this.get(release.id);
    if (existing !== undefined) return existing;
    const signed = await this.#sign(release);
    const now = this.#now().toISOString();
    await this.#store.transaction(async (tx) => {
      const inserted = await tx
        .insertInto('attestations')
        .values({
          release_id: release.id,
          package: release.package,
          version: release.version,
          key_id: signed.keyId,
          bundle: JSON.stringify(signed.bundle),
          created_at: now,
          registry_signature: JSON.stringify(signed.registrySignature),
        })
        .onConflict((oc) => oc.column('release_id').doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0) {
        await this.#audit.appendIn(tx, {
          actor: 'gate',
          action: 'release.attested',
          subject: `release:${release.id}`,
          data: { keyId: signed.keyId, predicateType: RELEASE_PREDICATE_TYPE, approvers: signed.approvers },
        });
      }
    });
    // Another instance may have signed first; the stored one is the attestation.
    return (await this.get(release.id))!;
  }

  /**
   * Signs again, with the current key, every attestation that `keyId` made (after that key was
   * retired as compromised): the same facts from the store, a new signature and signing time.
   * Returns the release ids re-attested.
   */
  async reattestSignedBy(
    keyId: string,
    actor: string,
    load: (id: string) => Promise<Release>,
  ): Promise<string[]> {
    // Releases still on their way are re-attested too: the gate re-verifies before it publishes.
    const rows = await this.#store.db
      .selectFrom('attestations')
      .innerJoin('releases', 'releases.id', 'attestations.release_id')
      .select('attestations.release_id')
      .where('attestations.key_id', '=', keyId)
      .where('releases.state', 'in', ['approved', 'publishing', 'published'])
      .execute();
    const done: string[] = [];
    for (const { release_id: id } of rows) {
      const signed = await this.#sign(await load(id));
      await this.#store.transaction(async (tx) => {
        const updated = await tx
          .updateTable('attestations')
          .set({
            key_id: signed.keyId,
            bundle: JSON.stringify(signed.bundle),
            registry_signature: JSON.stringify(signed.registrySignature),
          })
          .where('release_id', '=', id)
          .where('key_id', '=', keyId)
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) === 1) {
          await this.#audit.appendIn(tx, {
            actor,
            action: 'release.reattested',
            subject: `release:${id}`,
            data: { keyId: signed.keyId, replaces: keyId },
          });
          done.push(id);
        }
      });
    }
    return done;
  }

  /** The attestation and npm registry signature of a release, signed now with the active key. */
  async #sign(release: Release): Promise<{
    keyId: string;
    bundle: SigstoreBundleJson;
    registrySignature: NpmRegistrySignature;
    approvers: number;
  }> {
    const approvals = await this.#store.db
      .selectFrom('approvals')
      .innerJoin('users', 'users.id', 'approvals.user_id')
      .select(['users.name', 'approvals.credential_id', 'approvals.assertion_sha256', 'approvals.at'])
      .where('approvals.release_id', '=', release.id)
      .where('approvals.decision', '=', 'approve')
      .orderBy('approvals.at')
      .execute();
    const approvedEvent = await this.#store.db
      .selectFrom('audit_events')
      .select('at')
      .where('subject', '=', `release:${release.id}`)
      .where('action', '=', 'release.approved')
      .orderBy('seq', 'desc')
      .executeTakeFirst();
    const workload =
      (
        release.checks.find((c) => c.name === 'request')?.details as
          { workload?: Record<string, string> | null } | undefined
      )?.workload ?? null;
    const signer = await this.#keys.activeSigner();
    const { bundle } = await signReleaseAttestation({
      signer,
      now: this.#now(),
      release: {
        name: release.package,
        version: release.version,
        sha512: sha512HexOf(release.integrity),
        predicate: {
          releaseId: release.id,
          policy: {
            id: String(release.policy.rule ?? 'default'),
            version: String(release.policy.policyVersion ?? ''),
            requiredApprovals: release.requiredApprovals,
          },
          requester: { identity: `${release.requester.kind}:${release.requester.id}` },
          approvers: approvals.map((a) => ({
            identity: a.name,
            credentialId: a.credential_id,
            assertionSha256: a.assertion_sha256,
            at: a.at,
          })),
          build:
            workload === null
              ? null
              : {
                  identity: `${workload['provider'] ?? 'oidc'}:${workload['repository'] ?? ''}`,
                  issuer: workload['issuer'] ?? '',
                  claims: { ...workload },
                },
          checks: toAttestedChecks(release),
          times: {
            requestedAt: release.createdAt,
            approvedAt: approvedEvent?.at ?? this.#now().toISOString(),
          },
        },
      },
    });
    // The same key vouches for the release in npm's own terms: `npm audit signatures` checks this one.
    const registrySignature = await signNpmRegistrySignature(signer, {
      name: release.package,
      version: release.version,
      integrity: release.integrity,
    });
    return { keyId: signer.keyId, bundle, registrySignature, approvers: approvals.length };
  }

  /**
   * Adds the gate's npm registry signature to each version of a packument that the gate released with
   * exactly that integrity. Versions that did not pass the gate get none, so `npm audit signatures`
   * against the gate reports them as missing a signature: it doubles as a bypass detector.
   */
  async addRegistrySignatures(name: string, packument: Record<string, unknown>): Promise<void> {
    const versions = packument['versions'];
    if (typeof versions !== 'object' || versions === null) return;
    const rows = await this.#store.db
      .selectFrom('attestations')
      .innerJoin('releases', 'releases.id', 'attestations.release_id')
      .select(['attestations.version', 'attestations.registry_signature', 'releases.integrity'])
      .where('attestations.package', '=', name)
      .where('attestations.registry_signature', 'is not', null)
      // Only what the gate actually published: an approved release that then failed or was locked
      // down must not lend its signature to the same bytes arriving upstream around the gate.
      .where('releases.state', '=', 'published')
      .execute();
    for (const row of rows) {
      if (!Object.hasOwn(versions, row.version)) continue;
      const entry = (versions as Record<string, unknown>)[row.version];
      if (typeof entry !== 'object' || entry === null) continue;
      const manifest = entry as Record<string, unknown>;
      const dist = (manifest['dist'] ?? {}) as Record<string, unknown>;
      if (dist['integrity'] !== row.integrity) continue;
      const signature = JSON.parse(row.registry_signature!) as NpmRegistrySignature;
      const existing = Array.isArray(dist['signatures']) ? (dist['signatures'] as unknown[]) : [];
      manifest['dist'] = { ...dist, signatures: [...existing, signature] };
    }
  }

  /**
   * Verifies a release's attestation against the exact bytes about to be published and returns it
   * (it may go upstream with them); throws `ERR_RELEASE_ATTESTATION_INVALID`.
   */
  async verifyBeforePublish(release: Release, tarball: Buffer): Promise<SigstoreBundleJson> {
    const bundle = await this.ensure(release);
    try {
      await verifyRelease({
        bundle,
        artifact: tarball,
        expected: { name: release.package, version: release.version },
        keys: this.#keys,
        now: this.#now(),
      });
    } catch (cause) {
      throw new IntegrityError(
        'ERR_RELEASE_ATTESTATION_INVALID',
        `the release attestation of ${release.id} does not verify; not publishing`,
        { cause },
      );
    }
    return bundle;
  }
}
