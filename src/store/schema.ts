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
  /** M: approvals needed, fixed when the release was held (exposure tier included). */
  required_approvals: number;
  approver_group: string;
  /** JSON: the policy decision recorded at hold time (rule, version, tier, reasons). */
  policy: string;
  /** When the requester authenticated the request with a passkey (npm web-auth step-up). */
  requester_verified_at: string | null;
  /** `gate` publishes on approval; `jit` waits for the pipeline's single-use publish credential. */
  publish_mode: string;
}

/** People: passkey-only accounts. */
export interface UsersTable {
  id: string;
  name: string;
  /** JSON array of roles: admin, maintainer, approver, auditor. */
  roles: string;
  /** JSON array of approver groups. */
  groups: string;
  created_at: string;
  disabled_at: string | null;
}

/** WebAuthn credentials. */
export interface PasskeysTable {
  /** Credential id, base64url. */
  id: string;
  user_id: string;
  /** COSE public key, base64url. */
  public_key: string;
  counter: number;
  transports: string;
  label: string;
  created_at: string;
  last_used_at: string | null;
}

/** Browser sessions; only a hash of the cookie value is stored. */
export interface SessionsTable {
  id_hash: string;
  user_id: string;
  csrf: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
}

/** Issued WebAuthn challenges: single use, short-lived, bound to what they authorise. */
export interface WebauthnChallengesTable {
  challenge: string;
  purpose: string;
  user_id: string | null;
  subject: string | null;
  binding: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

/** One-time enrolment links (first admin, invitations). */
export interface EnrolmentsTable {
  id: string;
  token_hash: string;
  name: string | null;
  roles: string;
  groups: string;
  created_by: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

/** Approval decisions, one per person per release. */
export interface ApprovalsTable {
  release_id: string;
  user_id: string;
  decision: string;
  credential_id: string;
  assertion_sha256: string;
  challenge: string;
  at: string;
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
  /** JSON binding of a just-in-time credential: {action, package, version, integrity}. */
  binding: string | null;
  /** Workload role (build, test, bot) or null for people's credentials. */
  role: string | null;
  /** JSON: the OIDC claims of the workload the credential was minted for. */
  claims: string | null;
}

/** OIDC token ids seen (replay protection). */
export interface OidcJtisTable {
  issuer: string;
  jti: string;
  expires_at: string;
}

/** Kill-switch records: a target (package, @scope/*, identity:<name>, all) locked until lifted. */
export interface LockdownsTable {
  id: string;
  target: string;
  reason: string;
  created_by: string;
  created_at: string;
  lifted_at: string | null;
  lifted_by: string | null;
}

/** Where a secret (by keyed fingerprint, never its value) was seen. */
export interface SecretSightingsTable {
  id: string;
  fingerprint: string;
  rule_id: string;
  path: string;
  line: number;
  host: string;
  context: string;
  reporter: string;
  credential_id: string | null;
  at: string;
}

/** Evidence attached to a release by a test identity (test results, CI logs: summaries only). */
export interface ReleaseEvidenceTable {
  id: string;
  release_id: string;
  kind: string;
  name: string;
  identity: string;
  summary: string;
  at: string;
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
  users: UsersTable;
  passkeys: PasskeysTable;
  sessions: SessionsTable;
  webauthn_challenges: WebauthnChallengesTable;
  enrolments: EnrolmentsTable;
  approvals: ApprovalsTable;
  oidc_jtis: OidcJtisTable;
  lockdowns: LockdownsTable;
  secret_sightings: SecretSightingsTable;
  release_evidence: ReleaseEvidenceTable;
  trusted_publishers: TrustedPublishersTable;
  signing_keys: SigningKeysTable;
  attestations: AttestationsTable;
}

/** Signing keys: the stored record (public key, validity, custody; a private key only sealed). */
export interface SigningKeysTable {
  key_id: string;
  stored: string;
}

/** Signed release attestations (Sigstore bundle JSON). */
export interface AttestationsTable {
  release_id: string;
  package: string;
  version: string;
  key_id: string;
  bundle: string;
  created_at: string;
  /** JSON `{keyid, sig}`: npm's registry signature of the release; null for attestations made before it existed. */
  registry_signature: string | null;
}

/** Trusted publishers added through the admin API (JSON of the publisher). */
export interface TrustedPublishersTable {
  id: string;
  config: string;
  created_by: string;
  created_at: string;
  removed_at: string | null;
}
