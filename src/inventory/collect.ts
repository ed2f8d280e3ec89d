/**
 * Collects what pubgate knows: people with their passkeys, roles and groups; trusted publishers;
 * credentials it issued (never the token or its hash); sealed secrets by name only (never opened);
 * signing keys once the app exposes them; where each secret was seen; and external identities.
 */
import type { AuditLog } from '../auditlog/index.ts';
import type { PeopleService, PublisherRegistry } from '../identity/index.ts';
import type { PolicyConfig } from '../policy/index.ts';
import type { Store } from '../store/index.ts';
import type { ExternalImport } from './external.ts';
import type { Capability, Inventory, InventoryItem, KnownPerson, Sighting } from './types.ts';

/** A signing key as the inventory lists it (public facts only). */
export interface SigningKeyFacts {
  readonly keyId: string;
  readonly algorithm: string;
  readonly createdAt: string | null;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
}

/** A key ring's public record, as `KeyRing.listKeys()` returns it. */
export interface KeyRecordLike {
  readonly keyId: string;
  readonly algorithm: string;
  readonly notBefore: string;
  readonly notAfter: string | null;
  readonly retiredAt?: string | undefined;
}

/** Converts key-ring records to the inventory's signing-key facts (the validity window is the lifetime). */
export function toSigningKeyFacts(records: readonly KeyRecordLike[]): SigningKeyFacts[] {
  return records.map((k) => ({
    keyId: k.keyId,
    algorithm: k.algorithm,
    createdAt: k.notBefore,
    expiresAt: k.notAfter,
    revokedAt: k.retiredAt ?? null,
  }));
}

/** What the inventory reads from the gate (the `App` satisfies it, with `policy` from its config). */
export interface InventorySource {
  readonly store: Store;
  readonly people: Pick<PeopleService, 'list' | 'listPasskeys'>;
  readonly publishers: Pick<PublisherRegistry, 'list'>;
  readonly audit: Pick<AuditLog, 'events' | 'verify'>;
  readonly policy?: Pick<PolicyConfig, 'adminsMayApprove' | 'rules'> | undefined;
  /** The gate's own signing keys, once signing is wired into the app. */
  readonly signingKeys?: (() => Promise<readonly SigningKeyFacts[]>) | undefined;
}

/** Options of {@link collectInventory}. */
export interface CollectInventoryOptions {
  readonly imports?: readonly ExternalImport[];
  readonly now?: Date;
}

/** What each kind of pubgate credential may do (src/tokens: none of them approves). */
export const CREDENTIAL_CAPABILITIES: Readonly<Record<string, readonly Capability[]>> = Object.freeze({
  request: ['request'],
  build: ['request'],
  bot: ['request'],
  read: ['install'],
  agent: ['report-scan'],
  test: ['attach-evidence'],
  jit: ['publish'],
});

/** Capabilities of a person's roles. */
export function capabilitiesOfRoles(roles: readonly string[], adminsMayApprove: boolean): Capability[] {
  const caps = new Set<Capability>();
  if (roles.includes('approver')) caps.add('approve');
  if (roles.includes('maintainer')) caps.add('request');
  if (roles.includes('admin')) {
    caps.add('change-policy');
    caps.add('read-audit');
    if (adminsMayApprove && roles.includes('approver')) caps.add('approve');
  }
  if (roles.includes('auditor')) caps.add('read-audit');
  return [...caps];
}

function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** Builds the inventory from the store and the parsed import files. */
export async function collectInventory(
  source: InventorySource,
  options: CollectInventoryOptions = {},
): Promise<Inventory> {
  const now = options.now ?? new Date();
  const db = source.store.db;
  const adminsMayApprove = source.policy?.adminsMayApprove ?? false;
  const items: InventoryItem[] = [];
  const notes: string[] = [];

  // People: present ones, and names enrolled once that are gone now (removed: offboarding).
  const people = await source.people.list();
  const known = new Map<string, KnownPerson>();
  for (const p of people)
    known.set(p.name, { name: p.name, status: p.disabledAt === null ? 'active' : 'disabled' });
  const enrolled = await db
    .selectFrom('audit_events')
    .select(['data'])
    .where('action', '=', 'person.enrolled')
    .execute();
  for (const row of enrolled) {
    const name = parseJson<{ name?: unknown }>(row.data, {}).name;
    if (typeof name === 'string' && !known.has(name)) known.set(name, { name, status: 'removed' });
  }
  for (const imported of options.imports ?? []) {
    for (const name of imported.offboarded) {
      const current = known.get(name);
      if (current === undefined || current.status === 'active') known.set(name, { name, status: 'removed' });
    }
  }
  for (const p of people) {
    const passkeys = await source.people.listPasskeys(p.id);
    const status = known.get(p.name)?.status ?? 'active';
    items.push({
      id: `person:${p.name}`,
      kind: 'person',
      name: p.name,
      source: 'pubgate',
      person: p.name,
      owner: p.name,
      capabilities: status === 'active' ? capabilitiesOfRoles(p.roles, adminsMayApprove) : [],
      packages: ['*'],
      places: [],
      credential: null,
      seen: [],
      details: {
        roles: p.roles,
        groups: p.groups,
        createdAt: p.createdAt,
        disabledAt: p.disabledAt,
        status,
        offboarded: status !== 'active',
        passkeys: passkeys.map((k) => ({ label: k.label, createdAt: k.createdAt, lastUsedAt: k.lastUsedAt })),
      },
    });
  }

  // Trusted publishers: CI identities that stage their packages with no stored secret.
  for (const listed of await source.publishers.list()) {
    const p = listed.publisher;
    items.push({
      id: `publisher:${listed.id}`,
      kind: 'trusted-publisher',
      name: `${p.provider} ${String(p.claims['repository'] ?? p.claims['project_path'] ?? p.claims['repository_id'] ?? listed.id)}`,
      source: 'pubgate',
      person: null,
      owner: listed.createdBy?.replace(/^user:/, '') ?? null,
      capabilities: ['request'],
      packages: p.packages,
      places: [],
      credential: null,
      seen: [],
      details: {
        provider: p.provider,
        issuer: p.issuer,
        audience: p.audience,
        claims: p.claims,
        from: listed.source,
        createdAt: listed.createdAt ?? null,
      },
    });
  }

  // Sightings, by credential and by fingerprint.
  const sightingRows = await db
    .selectFrom('secret_sightings')
    .select(['fingerprint', 'rule_id', 'path', 'line', 'host', 'context', 'reporter', 'credential_id', 'at'])
    .orderBy('at')
    .execute();
  const sightings = sightingRows.map((r) => ({
    fingerprint: r.fingerprint,
    credentialId: r.credential_id,
    host: r.host,
    context: r.context,
    path: r.path,
    line: Number(r.line),
    ruleId: r.rule_id,
    reporter: r.reporter,
    at: r.at,
  }));
  const seenBy = (pick: (s: (typeof sightings)[number]) => boolean): Sighting[] =>
    sightings.filter(pick).map((s) => ({
      host: s.host,
      context: s.context,
      path: s.path,
      line: s.line,
      ruleId: s.ruleId,
      reporter: s.reporter,
      at: s.at,
    }));

  // Credentials issued by pubgate: every column except the token hash.
  const credentials = await db
    .selectFrom('credentials')
    .select([
      'id',
      'kind',
      'identity',
      'scope',
      'created_at',
      'expires_at',
      'last_used_at',
      'revoked_at',
      'uses',
      'max_uses',
      'role',
      'claims',
      'binding',
    ])
    .orderBy('created_at')
    .execute();
  for (const c of credentials) {
    // `pubgate token create --identity <name>`: a credential named after a person is that person's.
    const person = known.has(c.identity) ? c.identity : null;
    const claims = parseJson<Record<string, unknown> | null>(c.claims, null);
    items.push({
      id: `credential:${c.id}`,
      kind: 'pubgate-credential',
      name: `${c.kind} credential of ${c.identity}`,
      source: 'pubgate',
      person,
      owner: person,
      capabilities: CREDENTIAL_CAPABILITIES[c.kind] ?? [],
      packages: parseJson<string[]>(c.scope, []),
      places: [],
      credential: {
        type: c.kind,
        createdAt: c.created_at,
        expiresAt: c.expires_at,
        lastUsedAt: c.last_used_at,
        revokedAt: c.revoked_at,
        fingerprint: null,
      },
      seen: seenBy((s) => s.credentialId === c.id),
      details: {
        identity: c.identity,
        credentialKind: c.kind,
        role: c.role,
        uses: Number(c.uses),
        maxUses: c.max_uses,
        ...(claims === null
          ? {}
          : {
              repository: claims['repository'] ?? null,
              workflow: claims['workflow_ref'] ?? claims['job_workflow_ref'] ?? null,
            }),
        ...(c.binding === null ? {} : { binding: parseJson<Record<string, unknown>>(c.binding, {}) }),
      },
    });
  }

  // Sealed secrets: names and dates only; the vault is never opened here.
  const sealed = await db
    .selectFrom('vault_secrets')
    .select(['name', 'updated_at'])
    .orderBy('name')
    .execute();
  const upstreamSealed = sealed.some((s) => s.name.startsWith('upstream/'));
  for (const s of sealed) {
    const publishes = s.name.startsWith('upstream/');
    items.push({
      id: `vault:${s.name}`,
      kind: 'sealed-secret',
      name: s.name,
      source: 'pubgate',
      person: null,
      owner: null,
      capabilities: publishes ? ['publish'] : [],
      packages: publishes ? ['*'] : [],
      places: [],
      credential: {
        type: 'sealed',
        createdAt: s.updated_at,
        expiresAt: null,
        lastUsedAt: null,
        revokedAt: null,
        fingerprint: null,
      },
      seen: [],
      details: {
        heldBy: 'gate',
        purpose: publishes
          ? 'upstream publish credential'
          : s.name.startsWith('scan/')
            ? 'scanner fingerprint key'
            : 'sealed secret',
        sealedAt: s.updated_at,
      },
    });
  }

  // Signing keys of the gate, when the app exposes them.
  const keys = source.signingKeys === undefined ? undefined : await source.signingKeys();
  if (keys === undefined)
    notes.push(
      'Gate signing keys are not listed: src/signing is not wired into the app yet; they appear here once it is. Signing keys declared in an imported file are listed.',
    );
  for (const k of keys ?? []) {
    items.push({
      id: `signing-key:${k.keyId}`,
      kind: 'signing-key',
      name: `gate signing key ${k.keyId.slice(0, 16)}`,
      source: 'pubgate',
      person: null,
      owner: null,
      capabilities: ['sign'],
      packages: ['*'],
      places: [],
      credential: {
        type: k.algorithm,
        createdAt: k.createdAt,
        expiresAt: k.expiresAt,
        lastUsedAt: null,
        revokedAt: k.revokedAt,
        fingerprint: null,
      },
      seen: [],
      details: { heldBy: 'gate', algorithm: k.algorithm },
    });
  }

  // The gate itself: publishes with the sealed credential (or into its own storage), only on a recorded decision.
  items.push({
    id: 'gate:pubgate',
    kind: 'gate',
    name: 'pubgate (the gate)',
    source: 'pubgate',
    person: null,
    owner: null,
    capabilities: keys !== undefined && keys.length > 0 ? ['publish', 'sign'] : ['publish'],
    packages: ['*'],
    places: [],
    credential: null,
    seen: [],
    details: { actsOnlyOnRecordedDecision: true, upstreamCredentialSealed: upstreamSealed },
  });

  for (const imported of options.imports ?? []) {
    for (const item of imported.items) {
      const fingerprint = item.credential?.fingerprint ?? null;
      items.push(
        fingerprint === null
          ? item
          : { ...item, seen: [...item.seen, ...seenBy((s) => s.fingerprint === fingerprint)] },
      );
    }
  }

  // Packages the gate protects.
  const released = await db.selectFrom('releases').select('package').distinct().execute();
  const local = await db.selectFrom('local_packages').select('name').execute();
  const protectedPackages = new Set<string>([...released.map((r) => r.package), ...local.map((r) => r.name)]);
  for (const rule of source.policy?.rules ?? [])
    for (const p of rule.packages) if (p !== '*') protectedPackages.add(p);
  for (const item of items)
    if (item.kind === 'trusted-publisher')
      for (const p of item.packages) if (p !== '*') protectedPackages.add(p);

  return {
    generatedAt: now.toISOString(),
    items,
    people: [...known.values()].sort((a, b) => a.name.localeCompare(b.name)),
    protectedPackages: [...protectedPackages].sort(),
    sightings,
    notes,
  };
}
