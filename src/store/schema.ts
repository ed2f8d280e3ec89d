/** Table types shared by both backends. Times are ISO-8601 UTC strings (they sort as text). */
import type { Generated } from 'kysely';

/** A release moving through the gate. */
export interface ReleasesTable {
  id: string;
  package: string;
  version: string;
  /** `sha512-<base64>` of the tarball: the digest everything is bound to. */
  integrity: string;
  shasum: string;
  size: number;
  state: string;
  tag: string;
  /** `publish` (npm publish) or `stage` (npm stage publish). */
  channel: string;
  requester_kind: string;
  requester_id: string;
  /** JSON: the version document as received (validated). */
  manifest: string;
  /** JSON: secret-free check results. */
  checks: string;
  reason: string | null;
  created_at: string;
  updated_at: string;
  expires_at: string;
  published_at: string | null;
  attempts: number;
  lease_owner: string | null;
  lease_until: string | null;
  next_attempt_at: string | null;
  /** sha256 of the one-time token that lets npm's retried PUT succeed after publish. */
  completion_hash: string | null;
}

/** The hash-chained audit log. */
export interface AuditEventsTable {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  data: string;
  prev_hash: string;
  hash: string;
}

/** Credentials issued by pubgate; only the hash is stored. */
export interface CredentialsTable {
  id: string;
  token_hash: string;
  kind: string;
  identity: string;
  scope: string;
  created_at: string;
  expires_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  uses: Generated<number>;
  max_uses: number | null;
}

/** Secrets sealed under the master key. */
export interface VaultSecretsTable {
  name: string;
  sealed: string;
  master_key_id: string;
  updated_at: string;
}

/** Packuments of packages served from pubgate's own storage (no upstream configured). */
export interface LocalPackagesTable {
  name: string;
  packument: string;
  updated_at: string;
}

/** The whole database. */
export interface Database {
  releases: ReleasesTable;
  audit_events: AuditEventsTable;
  credentials: CredentialsTable;
  vault_secrets: VaultSecretsTable;
  local_packages: LocalPackagesTable;
}
