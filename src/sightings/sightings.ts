/**
 * Where secrets were seen, by keyed fingerprint (never the value): reports from scan agents on
 * laptops, CI runners and repositories, and findings in tarballs and CI logs the gate scanned.
 * A pubgate credential seen anywhere is revoked at once.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { AuditLog } from '../auditlog/index.ts';
import { ValidationError } from '../errors/index.ts';
import type { Store } from '../store/index.ts';
import type { VaultStore } from '../vault/index.ts';

/** One finding as a reporter sends it (no secret). */
export interface SightingInput {
  readonly ruleId: string;
  readonly fingerprint: string;
  readonly path: string;
  readonly line: number;
  /** sha256 hex of a pgt_ token, only for pubgate credentials. */
  readonly pubgateTokenHash?: string | undefined;
}

/** What a report did. */
export interface ReportOutcome {
  readonly accepted: number;
  readonly revoked: number;
}

const FINGERPRINT_KEY = 'scan/fingerprint-key';
const CONTEXTS = new Set(['laptop', 'ci-runner', 'repository', 'tarball', 'ci-log']);

/** Records sightings and revokes leaked pubgate credentials. */
export class SightingService {
  readonly #store: Store;
  readonly #audit: AuditLog;
  readonly #vault: VaultStore;
  readonly #now: () => Date;
  #fingerprintKey: Promise<{ keyId: string; key: Buffer }> | undefined;

  constructor(options: { store: Store; audit: AuditLog; vault: VaultStore; now?: () => Date }) {
    this.#store = options.store;
    this.#audit = options.audit;
    this.#vault = options.vault;
    this.#now = options.now ?? (() => new Date());
  }

  /**
   * The HMAC key agents fingerprint with (sealed in the vault; created on first use, by whichever
   * instance is first). Opened once per process: it never changes, and every tarball scan needs it.
   */
  fingerprintKey(): Promise<{ keyId: string; key: Buffer }> {
    this.#fingerprintKey ??= this.#openFingerprintKey().catch((error: unknown) => {
      this.#fingerprintKey = undefined;
      throw error;
    });
    return this.#fingerprintKey;
  }

  async #openFingerprintKey(): Promise<{ keyId: string; key: Buffer }> {
    await this.#vault.putIfAbsent(FINGERPRINT_KEY, randomBytes(32));
    const key = (await this.#vault.get(FINGERPRINT_KEY))!;
    // The id names the key without revealing it: first bytes of its own HMAC over a constant.
    return { keyId: createHmac('sha256', key).update('pubgate scan key id').digest('hex').slice(0, 16), key };
  }

  /** Records a report; revokes every live pubgate credential among the findings. */
  async report(
    reporter: string,
    input: { host: string; context: string; findings: readonly SightingInput[] },
  ): Promise<ReportOutcome> {
    if (!CONTEXTS.has(input.context))
      throw new ValidationError(
        'ERR_SCAN_REPORT_BAD_CONTEXT',
        `context must be one of ${[...CONTEXTS].join(', ')}`,
      );
    if (!/^[A-Za-z0-9._:@/-]{1,253}$/.test(input.host))
      throw new ValidationError('ERR_SCAN_REPORT_BAD_HOST', 'host must be a host name');
    if (input.findings.length > 10_000)
      throw new ValidationError('ERR_SCAN_REPORT_TOO_LARGE', 'at most 10,000 findings per report');
    for (const f of input.findings) {
      if (!/^[0-9a-f]{16,128}$/.test(f.fingerprint))
        throw new ValidationError(
          'ERR_SCAN_REPORT_BAD_FINGERPRINT',
          'fingerprints are hex HMACs, never secrets',
        );
      if (
        typeof f.ruleId !== 'string' ||
        f.ruleId.length > 100 ||
        typeof f.path !== 'string' ||
        f.path.length > 4096 ||
        !Number.isInteger(f.line)
      ) {
        throw new ValidationError(
          'ERR_SCAN_REPORT_BAD_FINDING',
          'each finding needs ruleId, fingerprint, path and line',
        );
      }
      if (f.pubgateTokenHash !== undefined && !/^[0-9a-f]{64}$/.test(f.pubgateTokenHash))
        throw new ValidationError('ERR_SCAN_REPORT_BAD_FINDING', 'pubgateTokenHash is a sha256 hex');
    }
    const at = this.#now().toISOString();
    let revoked = 0;
    await this.#store.transaction(async (tx) => {
      for (const f of input.findings) {
        let credentialId: string | null = null;
        if (f.pubgateTokenHash !== undefined) {
          const row = await tx
            .selectFrom('credentials')
            .select(['id', 'revoked_at', 'identity'])
            .where('token_hash', '=', f.pubgateTokenHash)
            .executeTakeFirst();
          if (row !== undefined) {
            credentialId = row.id;
            if (row.revoked_at === null) {
              await tx
                .updateTable('credentials')
                .set({ revoked_at: at })
                .where('id', '=', row.id)
                .where('revoked_at', 'is', null)
                .execute();
              await this.#audit.appendIn(tx, {
                actor: reporter,
                action: 'credential.revoked_leaked',
                subject: `credential:${row.id}`,
                data: {
                  identity: row.identity,
                  host: input.host,
                  context: input.context,
                  path: f.path.slice(0, 300),
                  line: f.line,
                  rule: f.ruleId,
                },
              });
              revoked++;
            }
          }
        }
        await tx
          .insertInto('secret_sightings')
          .values({
            id: randomUUID(),
            fingerprint: f.fingerprint,
            rule_id: f.ruleId,
            path: f.path.slice(0, 4096),
            line: f.line,
            host: input.host,
            context: input.context,
            reporter,
            credential_id: credentialId,
            at,
          })
          .execute();
      }
      await this.#audit.appendIn(tx, {
        actor: reporter,
        action: 'scan.report',
        subject: `host:${input.host}`,
        data: { context: input.context, findings: input.findings.length, revoked },
      });
    });
    return { accepted: input.findings.length, revoked };
  }

  /** Fingerprints seen in more than one place (host or context): reuse. */
  async reused(): Promise<Array<{ fingerprint: string; ruleId: string; places: number }>> {
    const rows = await this.#store.db
      .selectFrom('secret_sightings')
      .select(['fingerprint', 'rule_id'])
      .select((eb) => eb.fn.count<number>('host').distinct().as('places'))
      .groupBy(['fingerprint', 'rule_id'])
      .execute();
    return rows
      .filter((r) => Number(r.places) > 1)
      .map((r) => ({ fingerprint: r.fingerprint, ruleId: r.rule_id, places: Number(r.places) }));
  }
}
