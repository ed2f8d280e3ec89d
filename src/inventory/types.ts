/** The inventory's data model: identities, credentials, what each may do, and where each was seen. */

/** What an identity or credential may do to releases. */
export type Capability =
  | 'install'
  | 'request'
  | 'publish'
  | 'approve'
  | 'sign'
  | 'change-policy'
  | 'attach-evidence'
  | 'report-scan'
  | 'read-audit';

/** Every capability, in display order. */
export const CAPABILITIES: readonly Capability[] = Object.freeze([
  'install',
  'request',
  'publish',
  'approve',
  'sign',
  'change-policy',
  'attach-evidence',
  'report-scan',
  'read-audit',
]);

/** Kinds of inventory items. */
export type ItemKind =
  | 'person'
  | 'trusted-publisher'
  | 'pubgate-credential'
  | 'sealed-secret'
  | 'gate'
  | 'signing-key'
  | 'registry-token'
  | 'ci-secret'
  | 'ci-identity'
  | 'signing-service'
  | 'chat-ops-bot'
  | 'bot'
  | 'ai-agent';

/** Kinds an external identities file may declare. */
export const EXTERNAL_KINDS: readonly ItemKind[] = Object.freeze([
  'registry-token',
  'ci-secret',
  'ci-identity',
  'signing-service',
  'signing-key',
  'chat-ops-bot',
  'bot',
  'ai-agent',
]);

/** Kinds that are never a human, whoever holds them. */
export const NON_HUMAN_KINDS: readonly ItemKind[] = Object.freeze([
  'trusted-publisher',
  'ci-identity',
  'chat-ops-bot',
  'bot',
  'ai-agent',
  'signing-service',
]);

/** A place a secret was seen (a sighting: by fingerprint, never the value). */
export interface Sighting {
  readonly host: string;
  readonly context: string;
  readonly path: string;
  readonly line: number;
  readonly ruleId: string;
  readonly reporter: string;
  readonly at: string;
}

/** Lifecycle of a credential (absent for people and publishers). */
export interface CredentialFacts {
  /** `request`, `read`, `jit`, … for pubgate credentials; `classic`, `granular`, … for external ones. */
  readonly type: string;
  readonly createdAt: string | null;
  /** null: never expires. */
  readonly expiresAt: string | null;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
  /** Keyed fingerprint (as the scanner computes it), to join with sightings. Never the secret. */
  readonly fingerprint: string | null;
}

/** One identity or credential pubgate knows of. */
export interface InventoryItem {
  /** Stable id: `person:<name>`, `credential:<uuid>`, `publisher:<id>`, `vault:<name>`, `external:<file>#<id>`. */
  readonly id: string;
  readonly kind: ItemKind;
  readonly name: string;
  readonly source: 'pubgate' | 'external';
  /** The human this item is (a person, a person's own token, or an explicit `person:` link). */
  readonly person: string | null;
  /** Who answers for it (offboarding); for pubgate credentials named after a person, that person. */
  readonly owner: string | null;
  readonly capabilities: readonly Capability[];
  /** Package patterns it covers (`*`, `@scope/*`, names). */
  readonly packages: readonly string[];
  /** Hosts, pipelines and registries it is declared on (external) — sightings are separate. */
  readonly places: readonly string[];
  readonly credential: CredentialFacts | null;
  readonly seen: readonly Sighting[];
  /** Secret-free facts for display (roles, groups, passkeys, claims, registry). */
  readonly details: Readonly<Record<string, unknown>>;
}

/** A person as the inventory knows them (present, disabled, or enrolled once and since removed). */
export interface KnownPerson {
  readonly name: string;
  readonly status: 'active' | 'disabled' | 'removed';
}

/** Everything the inventory holds at one moment. */
export interface Inventory {
  readonly generatedAt: string;
  readonly items: readonly InventoryItem[];
  readonly people: readonly KnownPerson[];
  /** Packages the gate protects (released through it, in a policy rule or a trusted publisher). */
  readonly protectedPackages: readonly string[];
  /** Every sighting by fingerprint (for reuse across places). */
  readonly sightings: ReadonlyArray<
    Sighting & { readonly fingerprint: string; readonly credentialId: string | null }
  >;
  /** Names pubgate could not list, with why (e.g. gate signing keys before they are wired). */
  readonly notes: readonly string[];
}

/** How bad a finding is. */
export type Severity = 'critical' | 'high' | 'medium' | 'low';

/** Severities from worst to mildest. */
export const SEVERITIES: readonly Severity[] = Object.freeze(['critical', 'high', 'medium', 'low']);

/** Kinds of findings. */
export type FindingKind =
  | 'toxic-approve-publish'
  | 'toxic-approve-sign'
  | 'toxic-sign-publish'
  | 'nonhuman-can-approve'
  | 'person-standing-publish-token'
  | 'secret-reused'
  | 'install-and-publish-credential'
  | 'credential-too-long-lived'
  | 'credential-stale'
  | 'credential-orphaned'
  | 'upstream-accepts-other-token';

/** One problem with its fix. */
export interface Finding {
  /** Stable id (kind + subjects), so a finding keeps its id from report to report. */
  readonly id: string;
  readonly kind: FindingKind;
  readonly severity: Severity;
  readonly title: string;
  readonly detail: string;
  readonly fix: string;
  /** Inventory item ids involved. */
  readonly subjects: readonly string[];
  /** The principal (person or identity) the finding is about, when there is one. */
  readonly principal: string | null;
  /** Packages affected, when known. */
  readonly packages: readonly string[];
  /** Since when it holds, when known (for the findings-over-time chart). */
  readonly since: string | null;
}
