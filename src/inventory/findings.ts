/**
 * The findings engine: toxic combinations, bots that approve, people with standing publish tokens,
 * secret reuse, install+publish credentials, long-lived, stale and orphaned credentials, and
 * protected packages whose upstream still accepts a token other than the gate's. Pure: the same
 * inventory, options and clock give the same findings.
 */
import { createHash } from 'node:crypto';
import { scopeCovers } from '../tokens/index.ts';
import { DEFAULT_INVENTORY_OPTIONS, formatDuration, type InventoryOptions } from './options.ts';
import {
  NON_HUMAN_KINDS,
  SEVERITIES,
  type Capability,
  type Finding,
  type FindingKind,
  type Inventory,
  type InventoryItem,
  type Severity,
} from './types.ts';

/** What each finding kind means and how to fix it (also rendered in docs/inventory.md). */
export const FINDING_CATALOG: Readonly<
  Record<FindingKind, { readonly severity: Severity; readonly title: string; readonly fix: string }>
> = Object.freeze({
  'toxic-approve-publish': {
    severity: 'critical',
    title: 'One principal can approve and publish',
    fix: 'Remove the publish credential (publish only through the gate or a just-in-time credential) or take the approver role away; one human must never both approve and publish.',
  },
  'toxic-approve-sign': {
    severity: 'high',
    title: 'One principal can approve and sign',
    fix: 'Let only the gate sign release attestations; revoke the signing key or service access of approvers.',
  },
  'toxic-sign-publish': {
    severity: 'high',
    title: 'One principal can sign and publish',
    fix: 'Split signing and publishing: the gate signs after approval and publishes with its sealed credential; revoke the other path.',
  },
  'nonhuman-can-approve': {
    severity: 'critical',
    title: 'A bot, agent or CI identity can approve',
    fix: 'Remove the approve capability: approvals are fresh passkey step-ups by humans of the approver group; bots and AI agents may request and comment only.',
  },
  'person-standing-publish-token': {
    severity: 'high',
    title: 'A person holds a standing publish token',
    fix: 'Revoke the token (`npm token revoke <id>`); people publish through the gate (`npm publish --registry <gate>/npm/`) and approve with a passkey.',
  },
  'secret-reused': {
    severity: 'high',
    title: 'One secret is used in several places',
    fix: 'Rotate the secret and give each host, pipeline and registry its own short-lived credential (OIDC trusted publishing needs none).',
  },
  'install-and-publish-credential': {
    severity: 'medium',
    title: 'One credential both installs and publishes',
    fix: 'Use a read-only credential for installs and let publishing go through the gate; revoke the publish-capable one.',
  },
  'credential-too-long-lived': {
    severity: 'medium',
    title: 'Credential lives longer than the policy maximum',
    fix: 'Reissue it with an expiry within the maximum lifetime (`pubgate token create --ttl`), or replace it with OIDC trusted publishing; rotate sealed secrets.',
  },
  'credential-stale': {
    severity: 'low',
    title: 'Credential unused for too long',
    fix: 'Revoke it (`pubgate token revoke <id>` or at the registry); issue a new one when it is needed again.',
  },
  'credential-orphaned': {
    severity: 'high',
    title: 'Credential whose owner is gone',
    fix: 'Revoke it now and, if a workload still needs it, reissue it to a current owner; make revocation part of offboarding.',
  },
  'upstream-accepts-other-token': {
    severity: 'high',
    title: 'The upstream registry accepts a publish token other than the gate’s for a protected package',
    fix: 'Revoke the token at the registry, enable the registry’s “require 2FA and disallow tokens” publishing setting or trusted publishing to the gate only, and keep the gate’s sealed credential the only publish credential.',
  },
});

/** True when a credential (or a person) can act now: not revoked, not expired. */
export function isLive(item: InventoryItem, now: Date): boolean {
  const c = item.credential;
  if (c === null) return true;
  if (c.revokedAt !== null) return false;
  return c.expiresAt === null || Date.parse(c.expiresAt) > now.getTime();
}

/** True when the item is never a human (bots, agents, CI, signing services; workload credentials). */
export function isNonHuman(item: InventoryItem): boolean {
  if (NON_HUMAN_KINDS.includes(item.kind)) return true;
  return (
    item.kind === 'pubgate-credential' &&
    item.person === null &&
    ['build', 'bot', 'agent', 'test', 'jit'].includes(String(item.details['credentialKind']))
  );
}

/** The principal an item acts for: the person (through any of their identities), else the identity. */
export function principalOf(item: InventoryItem): string {
  if (item.person !== null) return `person:${item.person}`;
  if (item.kind === 'pubgate-credential') return `identity:${String(item.details['identity'])}`;
  return item.id;
}

/** True when two package patterns can name the same package. */
export function patternsOverlap(a: string, b: string): boolean {
  if (a === '*' || b === '*') return true;
  if (a.endsWith('/*') && b.endsWith('/*')) return a === b;
  if (a.endsWith('/*')) return scopeCovers([a], b);
  if (b.endsWith('/*')) return scopeCovers([b], a);
  return a === b;
}

function findingId(kind: FindingKind, subjects: readonly string[], extra = ''): string {
  return `${kind}:${createHash('sha256')
    .update(JSON.stringify([kind, [...subjects].sort(), extra]))
    .digest('hex')
    .slice(0, 16)}`;
}

function sinceOf(item: InventoryItem): string | null {
  return (
    item.credential?.createdAt ??
    (typeof item.details['createdAt'] === 'string' ? item.details['createdAt'] : null)
  );
}

function latest(dates: ReadonlyArray<string | null>): string | null {
  const known = dates.filter((d): d is string => d !== null).sort();
  return known.at(-1) ?? null;
}

function make(
  kind: FindingKind,
  subjects: readonly string[],
  detail: string,
  extra: {
    principal?: string | null;
    packages?: readonly string[];
    since?: string | null;
    severity?: Severity;
    idExtra?: string;
  } = {},
): Finding {
  const entry = FINDING_CATALOG[kind];
  return {
    id: findingId(kind, subjects, extra.idExtra),
    kind,
    severity: extra.severity ?? entry.severity,
    title: entry.title,
    detail,
    fix: entry.fix,
    subjects: [...subjects],
    principal: extra.principal ?? null,
    packages: [...(extra.packages ?? [])],
    since: extra.since ?? null,
  };
}

const TOXIC: ReadonlyArray<readonly [FindingKind, Capability, Capability]> = [
  ['toxic-approve-publish', 'approve', 'publish'],
  ['toxic-approve-sign', 'approve', 'sign'],
  ['toxic-sign-publish', 'sign', 'publish'],
];

/** Every finding for `inventory` at `now`, worst first. */
export function detectFindings(
  inventory: Inventory,
  options: Partial<InventoryOptions> = {},
  now: Date = new Date(inventory.generatedAt),
): Finding[] {
  const { maxLifetimeSeconds, staleAfterSeconds } = { ...DEFAULT_INVENTORY_OPTIONS, ...options };
  const findings: Finding[] = [];
  // The gate, its sealed secrets and its signing keys sign and publish by design, only on a recorded
  // decision; their rotation is the gate's (docs/deploy.md), not a finding about a holder.
  const live = inventory.items.filter(
    (i) =>
      isLive(i, now) && i.kind !== 'gate' && i.kind !== 'sealed-secret' && i.details['heldBy'] !== 'gate',
  );
  const people = new Map(inventory.people.map((p) => [p.name, p.status]));

  // Toxic combinations, per principal (one person through several identities counts once).
  const byPrincipal = new Map<string, InventoryItem[]>();
  for (const item of live)
    byPrincipal.set(principalOf(item), [...(byPrincipal.get(principalOf(item)) ?? []), item]);
  for (const [principal, group] of byPrincipal) {
    for (const [kind, a, b] of TOXIC) {
      const withA = group.filter((i) => i.capabilities.includes(a));
      const withB = group.filter((i) => i.capabilities.includes(b));
      if (withA.length === 0 || withB.length === 0) continue;
      const subjects = [...new Set([...withA, ...withB].map((i) => i.id))];
      findings.push(
        make(
          kind,
          subjects,
          `${principal} can ${a} (${withA.map((i) => i.name).join(', ')}) and ${b} (${withB.map((i) => i.name).join(', ')})`,
          {
            principal,
            packages: [...new Set(withB.flatMap((i) => i.packages))],
            since: latest([...withA, ...withB].map(sinceOf)),
          },
        ),
      );
    }
  }

  for (const item of live) {
    const caps = item.capabilities;
    const c = item.credential;
    if (isNonHuman(item) && caps.includes('approve')) {
      findings.push(
        make(
          'nonhuman-can-approve',
          [item.id],
          `${item.name} (${item.kind}) is not a human and can approve releases`,
          { principal: principalOf(item), packages: item.packages, since: sinceOf(item) },
        ),
      );
    }
    if (c !== null && item.person !== null && caps.includes('publish') && c.type !== 'jit') {
      findings.push(
        make(
          'person-standing-publish-token',
          [item.id],
          `${item.person} holds ${item.name}, which can publish ${item.packages.join(', ')} without the gate`,
          { principal: `person:${item.person}`, packages: item.packages, since: c.createdAt },
        ),
      );
    }
    if (c !== null && caps.includes('install') && caps.includes('publish')) {
      findings.push(
        make('install-and-publish-credential', [item.id], `${item.name} can both install and publish`, {
          principal: principalOf(item),
          packages: item.packages,
          since: c.createdAt,
        }),
      );
    }
    if (c === null || caps.length === 0) continue;
    const created = c.createdAt === null ? undefined : Date.parse(c.createdAt);
    if (c.expiresAt === null) {
      // No expiry: a sealed secret is judged by its age (rotation); anything else never ends.
      findings.push(
        make(
          'credential-too-long-lived',
          [item.id],
          `${item.name} never expires (policy maximum ${formatDuration(maxLifetimeSeconds)})`,
          {
            principal: principalOf(item),
            packages: item.packages,
            since: c.createdAt,
            severity: caps.includes('publish') ? 'high' : 'medium',
          },
        ),
      );
    } else if (created !== undefined && (Date.parse(c.expiresAt) - created) / 1000 > maxLifetimeSeconds) {
      const lifetime = Math.round((Date.parse(c.expiresAt) - created) / 1000);
      findings.push(
        make(
          'credential-too-long-lived',
          [item.id],
          `${item.name} lives ${formatDuration(lifetime)}, more than the policy maximum of ${formatDuration(maxLifetimeSeconds)}`,
          { principal: principalOf(item), packages: item.packages, since: c.createdAt },
        ),
      );
    }
    const lastUse = c.lastUsedAt ?? c.createdAt;
    if (lastUse !== null && (now.getTime() - Date.parse(lastUse)) / 1000 > staleAfterSeconds) {
      const idle = Math.round((now.getTime() - Date.parse(lastUse)) / 1000);
      findings.push(
        make(
          'credential-stale',
          [item.id],
          `${item.name} was ${c.lastUsedAt === null ? 'never used since it was issued' : 'last used'} ${formatDuration(idle)} ago (stale after ${formatDuration(staleAfterSeconds)})`,
          {
            principal: principalOf(item),
            packages: item.packages,
            since: new Date(Date.parse(lastUse) + staleAfterSeconds * 1000).toISOString(),
          },
        ),
      );
    }
    const owner = item.owner ?? item.person;
    const status = owner === null ? undefined : people.get(owner);
    if (owner !== null && (status === 'removed' || status === 'disabled')) {
      findings.push(
        make(
          'credential-orphaned',
          [item.id],
          `${item.name} belongs to ${owner}, who was ${status === 'removed' ? 'removed (offboarded)' : 'disabled'}, and it still works`,
          { principal: `person:${owner}`, packages: item.packages, since: c.createdAt },
        ),
      );
    } else if (owner === null && item.source === 'external') {
      findings.push(
        make(
          'credential-orphaned',
          [item.id],
          `${item.name} has no owner: nobody answers for it or revokes it at offboarding`,
          { principal: principalOf(item), packages: item.packages, since: c.createdAt, severity: 'medium' },
        ),
      );
    }
    if (item.kind === 'registry-token' && caps.includes('publish')) {
      const hit = inventory.protectedPackages.filter((p) => item.packages.some((q) => patternsOverlap(q, p)));
      if (hit.length > 0) {
        findings.push(
          make(
            'upstream-accepts-other-token',
            [item.id],
            `the upstream registry still accepts ${item.name} to publish ${hit.join(', ')}, which the gate protects (from the imported file: the gate cannot ask the registry offline)`,
            {
              principal: principalOf(item),
              packages: hit,
              since: c.createdAt,
            },
          ),
        );
      }
    }
  }

  // Reuse: one fingerprint in several places (scanner sightings, plus declared places of imported secrets).
  const places = new Map<string, { places: Set<string>; subjects: Set<string>; at: string[] }>();
  const entry = (fp: string) => {
    let e = places.get(fp);
    if (e === undefined) places.set(fp, (e = { places: new Set(), subjects: new Set(), at: [] }));
    return e;
  };
  for (const s of inventory.sightings) {
    const e = entry(s.fingerprint);
    e.places.add(`host:${s.host}`);
    e.at.push(s.at);
    if (s.credentialId !== null) e.subjects.add(`credential:${s.credentialId}`);
  }
  for (const item of inventory.items) {
    const fp = item.credential?.fingerprint;
    if (fp === null || fp === undefined) continue;
    const e = entry(fp);
    for (const p of item.places) e.places.add(p);
    e.subjects.add(item.id);
  }
  for (const [fp, e] of places) {
    if (e.places.size < 2) continue;
    const sorted = [...e.places].sort();
    findings.push(
      make(
        'secret-reused',
        [...e.subjects],
        `secret ${fp.slice(0, 12)}… is seen in ${sorted.length} places: ${sorted.join(', ')}`,
        { since: e.at.sort()[1] ?? e.at[0] ?? null, idExtra: fp },
      ),
    );
  }

  return findings.sort(
    (a, b) =>
      SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
      a.kind.localeCompare(b.kind) ||
      a.id.localeCompare(b.id),
  );
}

/** True when the severity is high or worse (these trigger the webhook). */
export function isHighSeverity(finding: Finding): boolean {
  return finding.severity === 'critical' || finding.severity === 'high';
}
