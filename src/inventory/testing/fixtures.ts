/** Test builders: inventories made by hand, so each finding has a small positive and a clean negative. */
import { capabilitiesOfRoles } from '../collect.ts';
import type { ExternalImport } from '../external.ts';
import type { Inventory, InventoryItem, KnownPerson, Sighting } from '../types.ts';

/** The frozen clock of the unit tests. */
export const NOW = new Date('2026-11-28T12:00:00.000Z');

/** ISO time `days` before {@link NOW} (negative: after). */
export function daysAgo(days: number): string {
  return new Date(NOW.getTime() - days * 86_400_000).toISOString();
}

/** A person item with roles. */
export function person(
  name: string,
  roles: string[],
  status: KnownPerson['status'] = 'active',
): InventoryItem {
  return {
    id: `person:${name}`,
    kind: 'person',
    name,
    source: 'pubgate',
    person: name,
    owner: name,
    capabilities: status === 'active' ? capabilitiesOfRoles(roles, false) : [],
    packages: ['*'],
    places: [],
    credential: null,
    seen: [],
    details: { roles, groups: ['approvers'], createdAt: daysAgo(100), status },
  };
}

/** A pubgate credential item. */
export function credential(
  id: string,
  kind: string,
  identity: string,
  options: {
    person?: string | null;
    created?: string;
    expires?: string;
    lastUsed?: string | null;
    revoked?: string | null;
    caps?: InventoryItem['capabilities'];
    packages?: string[];
  } = {},
): InventoryItem {
  const caps =
    options.caps ??
    (
      {
        request: ['request'],
        read: ['install'],
        jit: ['publish'],
        bot: ['request'],
        build: ['request'],
      } as Record<string, InventoryItem['capabilities']>
    )[kind] ??
    [];
  return {
    id: `credential:${id}`,
    kind: 'pubgate-credential',
    name: `${kind} credential of ${identity}`,
    source: 'pubgate',
    person: options.person ?? null,
    owner: options.person ?? null,
    capabilities: caps,
    packages: options.packages ?? ['*'],
    places: [],
    credential: {
      type: kind,
      createdAt: options.created ?? daysAgo(1),
      expiresAt: options.expires ?? daysAgo(-10),
      lastUsedAt: options.lastUsed === undefined ? daysAgo(0.5) : options.lastUsed,
      revokedAt: options.revoked ?? null,
      fingerprint: null,
    },
    seen: [],
    details: { identity, credentialKind: kind },
  };
}

/** An inventory of `items` (and imported files), with people statuses derived from person items and `extraPeople`. */
export function inventoryOf(
  items: InventoryItem[],
  options: {
    imports?: readonly ExternalImport[];
    extraPeople?: KnownPerson[];
    sightings?: Array<Sighting & { fingerprint: string; credentialId: string | null }>;
    protectedPackages?: string[];
  } = {},
): Inventory {
  const people = new Map<string, KnownPerson>();
  for (const i of items)
    if (i.kind === 'person')
      people.set(i.name, {
        name: i.name,
        status: (i.details['status'] as KnownPerson['status'] | undefined) ?? 'active',
      });
  for (const p of options.extraPeople ?? []) people.set(p.name, p);
  for (const imp of options.imports ?? [])
    for (const name of imp.offboarded) people.set(name, { name, status: 'removed' });
  return {
    generatedAt: NOW.toISOString(),
    items: [...items, ...(options.imports ?? []).flatMap((i) => i.items)],
    people: [...people.values()],
    protectedPackages: options.protectedPackages ?? ['@acme/web'],
    sightings: options.sightings ?? [],
    notes: [],
  };
}

/** A sighting of `fingerprint` on `host`. */
export function sighting(
  fingerprint: string,
  host: string,
  at = daysAgo(2),
  credentialId: string | null = null,
): Sighting & { fingerprint: string; credentialId: string | null } {
  return {
    fingerprint,
    credentialId,
    host,
    context: 'laptop',
    path: '.npmrc',
    line: 1,
    ruleId: 'npm-token',
    reporter: 'agent',
    at,
  };
}
