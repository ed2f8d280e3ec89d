/**
 * External identities: a declarative file (YAML or JSON) of registry tokens, CI secrets, signing
 * services, chat-ops bots and AI agents with what each may do, and the output of
 * `npm token list --json` (objects with `key`, a redacted `token`, `created`, `readonly`,
 * `cidr_whitelist`, and in newer npm `type`, `scopes`, `expires`). The redacted token preview is
 * never kept: only the first characters of the key, which is itself a hash.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { INVENTORY_ERROR_CODES, InventoryError } from './errors.ts';
import { CAPABILITIES, EXTERNAL_KINDS, type Capability, type InventoryItem, type ItemKind } from './types.ts';

/** What one file contributed. */
export interface ExternalImport {
  readonly items: readonly InventoryItem[];
  /** People the file says were offboarded (outside pubgate too). */
  readonly offboarded: readonly string[];
}

/** Largest import file read (bytes). */
export const MAX_IMPORT_BYTES = 5 * 1024 * 1024;
const ID = /^[A-Za-z0-9._@:/+-]{1,128}$/;
const NAME = /^[A-Za-z0-9._@-]{1,64}$/;
const PATTERN = /^(\*|@[a-z0-9][a-z0-9._~-]*\/(\*|[a-z0-9._~-]+)|[a-z0-9][a-z0-9._~-]*)$/;
const FINGERPRINT = /^[0-9a-f]{16,128}$/;

type Problems = string[];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function own(record: Record<string, unknown>, key: string): unknown {
  // Only own data properties: a `__proto__` key in JSON is data, never the prototype.
  return Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

function optionalText(
  record: Record<string, unknown>,
  key: string,
  path: string,
  problems: Problems,
  max = 200,
): string | null {
  const value = own(record, key);
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    problems.push(`${path}.${key}: a string of 1-${max} characters`);
    return null;
  }
  return value;
}

function optionalTime(
  record: Record<string, unknown>,
  key: string,
  path: string,
  problems: Problems,
): string | null {
  const value = own(record, key);
  if (value === undefined || value === null || value === false) return null;
  const text = value instanceof Date ? value.toISOString() : typeof value === 'string' ? value : undefined;
  const ms = text === undefined ? Number.NaN : Date.parse(text);
  if (Number.isNaN(ms)) {
    problems.push(`${path}.${key}: an ISO-8601 date`);
    return null;
  }
  return new Date(ms).toISOString();
}

function textList(
  record: Record<string, unknown>,
  key: string,
  path: string,
  problems: Problems,
  check: RegExp | undefined,
  max = 200,
): string[] {
  const value = own(record, key);
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > 1000) {
    problems.push(`${path}.${key}: a list`);
    return [];
  }
  const out: string[] = [];
  value.forEach((v, i) => {
    if (typeof v !== 'string' || v.length === 0 || v.length > max || (check !== undefined && !check.test(v)))
      problems.push(`${path}.${key}[${i}]: not valid`);
    else out.push(v);
  });
  return out;
}

function personName(
  record: Record<string, unknown>,
  key: string,
  path: string,
  problems: Problems,
): string | null {
  const value = optionalText(record, key, path, problems, 64);
  if (value !== null && !NAME.test(value)) {
    problems.push(`${path}.${key}: a person's name (a-z 0-9 . _ @ -)`);
    return null;
  }
  return value;
}

function registryPlace(registry: string | null): string[] {
  if (registry === null) return [];
  try {
    return [`registry:${new URL(registry).host}`];
  } catch {
    return [`registry:${registry}`];
  }
}

function toIdentity(
  value: unknown,
  index: number,
  origin: string,
  problems: Problems,
): InventoryItem | undefined {
  const path = `identities[${index}]`;
  if (!isRecord(value)) {
    problems.push(`${path}: an object`);
    return undefined;
  }
  const before = problems.length;
  const id = own(value, 'id');
  if (typeof id !== 'string' || !ID.test(id))
    problems.push(`${path}.id: 1-128 characters of A-Z a-z 0-9 . _ @ : / + -`);
  const kind = own(value, 'kind');
  if (typeof kind !== 'string' || !EXTERNAL_KINDS.includes(kind as ItemKind))
    problems.push(`${path}.kind: one of ${EXTERNAL_KINDS.join(', ')}`);
  const capabilities = textList(value, 'capabilities', path, problems, undefined, 40);
  for (const c of capabilities)
    if (!CAPABILITIES.includes(c as Capability))
      problems.push(
        `${path}.capabilities: unknown capability ${JSON.stringify(c.slice(0, 40))} (use ${CAPABILITIES.join(', ')})`,
      );
  const packages = textList(value, 'packages', path, problems, PATTERN);
  const registry = optionalText(value, 'registry', path, problems, 300);
  const fingerprint = optionalText(value, 'fingerprint', path, problems, 128);
  if (fingerprint !== null && !FINGERPRINT.test(fingerprint))
    problems.push(
      `${path}.fingerprint: a hex keyed fingerprint (as \`pubgate scan\` prints), never a secret`,
    );
  const places = [
    ...textList(value, 'hosts', path, problems, undefined).map((h) => `host:${h}`),
    ...textList(value, 'pipelines', path, problems, undefined).map((p) => `pipeline:${p}`),
    ...textList(value, 'registries', path, problems, undefined).flatMap((r) => registryPlace(r)),
    ...registryPlace(registry),
  ];
  const person = personName(value, 'person', path, problems);
  const owner = personName(value, 'owner', path, problems);
  const name = optionalText(value, 'name', path, problems) ?? (typeof id === 'string' ? id : '');
  const createdAt = optionalTime(value, 'created', path, problems);
  const expiresAt = optionalTime(value, 'expires', path, problems);
  const lastUsedAt = optionalTime(value, 'lastUsed', path, problems);
  const revokedAt = optionalTime(value, 'revoked', path, problems);
  const description = optionalText(value, 'description', path, problems, 500);
  if (problems.length > before) return undefined;
  const hasCredential = own(value, 'secret') !== false && kind !== 'ci-identity';
  return {
    id: `external:${origin}#${String(id)}`,
    kind: kind as ItemKind,
    name,
    source: 'external',
    person,
    owner: owner ?? person,
    capabilities: CAPABILITIES.filter((c) => capabilities.includes(c)),
    packages,
    places: [...new Set(places)],
    credential: hasCredential
      ? { type: String(kind), createdAt, expiresAt, lastUsedAt, revokedAt, fingerprint }
      : null,
    seen: [],
    details: {
      origin,
      ...(registry === null ? {} : { registry }),
      ...(description === null ? {} : { description }),
    },
  };
}

function toNpmToken(
  value: unknown,
  index: number,
  origin: string,
  list: { person: string | null; registry: string | null; packages: readonly string[] },
  path: string,
  problems: Problems,
): InventoryItem | undefined {
  const at = `${path}[${index}]`;
  if (!isRecord(value)) {
    problems.push(`${at}: an object`);
    return undefined;
  }
  const before = problems.length;
  const key = own(value, 'key');
  if (typeof key !== 'string' || !/^[A-Za-z0-9_-]{6,256}$/.test(key))
    problems.push(`${at}.key: the token key npm lists`);
  const readonly = own(value, 'readonly');
  if (readonly !== undefined && typeof readonly !== 'boolean') problems.push(`${at}.readonly: true or false`);
  const createdAt = optionalTime(value, 'created', at, problems);
  const expiresAt = optionalTime(value, 'expires', at, problems);
  const type = optionalText(value, 'type', at, problems, 40);
  const cidr = textList(value, 'cidr_whitelist', at, problems, /^[0-9./:a-fA-F]{1,64}$/);
  const scopes = textList(value, 'scopes', at, problems, undefined)
    .filter((s) => s.startsWith('@'))
    .map((s) => (s.includes('/') ? s : `${s}/*`));
  const named = textList(value, 'packages', at, problems, PATTERN);
  if (problems.length > before) return undefined;
  // A token that is not read-only can publish (npm: `readonly: false`); without a package list it
  // covers every package its owner may publish.
  const publish = readonly !== true;
  const short = String(key).slice(0, 12);
  const packages =
    named.length + scopes.length > 0
      ? [...named, ...scopes]
      : list.packages.length > 0
        ? [...list.packages]
        : ['*'];
  return {
    id: `external:${origin}#npm-token:${short}`,
    kind: 'registry-token',
    name: `npm token ${short}${list.person === null ? '' : ` of ${list.person}`}`,
    source: 'external',
    person: list.person,
    owner: list.person,
    capabilities: publish ? ['install', 'publish'] : ['install'],
    packages,
    places: registryPlace(list.registry),
    credential: {
      type: type ?? (publish ? 'publish' : 'read-only'),
      createdAt,
      expiresAt,
      lastUsedAt: null,
      revokedAt: null,
      fingerprint: null,
    },
    seen: [],
    details: {
      origin,
      format: 'npm token list',
      ...(list.registry === null ? {} : { registry: list.registry }),
      ...(cidr.length === 0 ? {} : { cidrWhitelist: cidr }),
    },
  };
}

function npmTokenList(value: unknown, origin: string, path: string, problems: Problems): InventoryItem[] {
  // Accepted: a bare array (`npm token list --json`), the registry's `{objects: [...]}`, or
  // `{person, registry, packages, tokens: [...]}` naming whose tokens they are.
  let tokens: unknown = value;
  let person: string | null = null;
  let registry: string | null = null;
  let packages: string[] = [];
  if (isRecord(value)) {
    person = personName(value, 'person', path, problems);
    registry = optionalText(value, 'registry', path, problems, 300);
    packages = textList(value, 'packages', path, problems, PATTERN);
    tokens = own(value, 'tokens') ?? own(value, 'objects');
  }
  if (!Array.isArray(tokens) || tokens.length > 10_000) {
    problems.push(`${path}: a list of tokens as \`npm token list --json\` prints`);
    return [];
  }
  return tokens
    .map((t, i) =>
      toNpmToken(
        t,
        i,
        origin,
        { person, registry, packages },
        `${path}${isRecord(value) ? '.tokens' : ''}`,
        problems,
      ),
    )
    .filter((t): t is InventoryItem => t !== undefined);
}

/** Parses one import file's text; throws `ERR_INVENTORY_IMPORT_PARSE` or `ERR_INVENTORY_IMPORT_INVALID` (listing every problem). */
export function parseExternalIdentities(text: string, origin: string): ExternalImport {
  let document: unknown;
  try {
    document = origin.endsWith('.json') ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 50 });
  } catch (cause) {
    throw new InventoryError(
      INVENTORY_ERROR_CODES.importParse,
      `${origin} is not valid ${origin.endsWith('.json') ? 'JSON' : 'YAML or JSON'}`,
      { cause: cause instanceof Error ? new Error(cause.message.slice(0, 200)) : undefined },
    );
  }
  const problems: Problems = [];
  const items: InventoryItem[] = [];
  let offboarded: string[] = [];
  if (
    Array.isArray(document) ||
    (isRecord(document) &&
      (own(document, 'objects') !== undefined || own(document, 'tokens') !== undefined) &&
      own(document, 'identities') === undefined)
  ) {
    items.push(...npmTokenList(document, origin, '(npm token list)', problems));
  } else if (isRecord(document)) {
    const version = own(document, 'version');
    if (version !== undefined && version !== 1) problems.push('version: 1');
    const identities = own(document, 'identities') ?? [];
    if (!Array.isArray(identities) || identities.length > 10_000) problems.push('identities: a list');
    else
      identities.forEach((value, i) => {
        const item = toIdentity(value, i, origin, problems);
        if (item !== undefined) items.push(item);
      });
    const lists = own(document, 'npmTokens') ?? [];
    if (!Array.isArray(lists)) problems.push('npmTokens: a list of token lists');
    else lists.forEach((list, i) => items.push(...npmTokenList(list, origin, `npmTokens[${i}]`, problems)));
    offboarded = textList(document, 'offboarded', '', problems, NAME);
    for (const key of Object.keys(document))
      if (!['version', 'identities', 'npmTokens', 'offboarded'].includes(key))
        problems.push(`${key.slice(0, 40)}: unknown key`);
  } else {
    problems.push('(file): an object with `identities`, or the output of `npm token list --json`');
  }
  const ids = new Set<string>();
  for (const item of items) {
    if (ids.has(item.id)) problems.push(`duplicate id ${item.id.slice(0, 160)}`);
    ids.add(item.id);
  }
  if (problems.length > 0) {
    throw new InventoryError(
      INVENTORY_ERROR_CODES.importInvalid,
      `${origin}: ${problems.slice(0, 20).join('; ')}${problems.length > 20 ? `; and ${problems.length - 20} more` : ''}`,
      { details: { problems: problems.slice(0, 100) } },
    );
  }
  return { items, offboarded };
}

/** Reads and parses an import file (at most {@link MAX_IMPORT_BYTES}). */
export function readExternalIdentities(file: string): ExternalImport {
  let text: string;
  try {
    if (statSync(file).size > MAX_IMPORT_BYTES)
      throw new InventoryError(
        INVENTORY_ERROR_CODES.importUnreadable,
        `${basename(file)} is larger than ${MAX_IMPORT_BYTES} bytes`,
      );
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    if (cause instanceof InventoryError) throw cause;
    throw new InventoryError(INVENTORY_ERROR_CODES.importUnreadable, `cannot read ${basename(file)}`, {
      details: { code: (cause as { code?: string }).code ?? 'unknown' },
    });
  }
  return parseExternalIdentities(text, basename(file));
}
