/** Where a publish goes: resolving the registry URL and deciding whether it is the gate, a protected registry, or neither. */
import type { AuditConfig } from './config.ts';
import type { Ecosystem } from './shell-commands.ts';

/** Where a publish lands, relative to the gate. */
export type RegistryTarget = 'gate' | 'protected' | 'other' | 'unknown';

/** A resolved registry: the URL (when known) and what said so. */
export interface ResolvedRegistry {
  readonly url: string | undefined;
  /** `--registry flag`, `publishConfig.registry`, `.npmrc`, `setup-node registry-url`, `default`, … */
  readonly source: string;
}

/** Each client's built-in default upload URL. */
export const DEFAULT_REGISTRY_URLS: Readonly<Record<Ecosystem, string>> = Object.freeze({
  npm: 'https://registry.npmjs.org/',
  pypi: 'https://upload.pypi.org/legacy/',
  rubygems: 'https://rubygems.org/',
  crates: 'https://crates.io/',
});

/** Well-known repository names (`twine -r pypi`, `cargo publish --registry crates-io`). */
export const NAMED_REGISTRIES: Readonly<Record<string, string>> = Object.freeze({
  pypi: 'https://upload.pypi.org/legacy/',
  testpypi: 'https://test.pypi.org/legacy/',
  'crates-io': 'https://crates.io/',
});

// registry.yarnpkg.com serves the npm registry; a publish there lands on registry.npmjs.org.
const HOST_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  'registry.yarnpkg.com': 'registry.npmjs.org',
  'pypi.org': 'upload.pypi.org',
});

/** True when the value still holds an unexpanded variable or expression. */
export function isUnresolved(value: string): boolean {
  return value.includes('${{') || value.includes('$') || value.includes('%');
}

/** Classifies a resolved registry URL against the config. */
export function classifyRegistry(url: string | undefined, config: AuditConfig): RegistryTarget {
  if (url === undefined || isUnresolved(url)) return 'unknown';
  const parsed = parseUrl(url);
  if (parsed === undefined) return 'unknown';
  for (const gate of config.gates) {
    const g = parseUrl(gate);
    if (g === undefined) continue;
    if (
      g.host === parsed.host &&
      (g.path === '' || parsed.path === g.path || parsed.path.startsWith(`${g.path}/`))
    )
      return 'gate';
  }
  const host = HOST_ALIASES[parsed.host] ?? parsed.host;
  for (const entry of config.protectedRegistries) {
    const p = parseUrl(entry.includes('://') ? entry : `https://${entry}`);
    if (p !== undefined && (HOST_ALIASES[p.host] ?? p.host) === host) return 'protected';
  }
  return 'other';
}

/** The host of a URL for messages (never a userinfo part). */
export function toDisplayRegistry(url: string | undefined): string {
  if (url === undefined) return 'an unknown registry';
  return parseUrl(url)?.host ?? url;
}

function parseUrl(value: string): { host: string; path: string } | undefined {
  const withScheme = /^[a-z]+:\/\//i.test(value)
    ? value
    : value.startsWith('//')
      ? `https:${value}`
      : `https://${value}`;
  try {
    const u = new URL(withScheme);
    return { host: u.host.toLowerCase(), path: u.pathname.replace(/\/+$/, '') };
  } catch {
    return undefined;
  }
}
