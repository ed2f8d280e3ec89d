/**
 * An npm registry over HTTP (npmjs, Verdaccio, Artifactory...). The publish credential is asked
 * for just before each request and never kept, logged or put in an error.
 */
import { ConflictError, UpstreamError } from '../errors/index.ts';
import {
  gateTarballUrl,
  tarballFileName,
  type PublishInput,
  type PublishOutcome,
  type Registry,
  type TarballResponse,
  type VersionState,
} from './registry.ts';

/** Options of {@link NpmHttpRegistry}. */
export interface NpmHttpRegistryOptions {
  readonly url: string;
  readonly timeoutMs: number;
  /** Returns the upstream token, unsealed just in time; undefined for anonymous. */
  readonly credential: () => Promise<string | undefined>;
  /** Send the credential on reads too (a private upstream); by default it goes only with publishes. */
  readonly authenticateReads?: boolean;
  /** Observes upstream latency (metrics). */
  readonly observe?: (operation: string, seconds: number, ok: boolean) => void;
}

function escapeName(name: string): string {
  // npm's wire form: the scope's slash is percent-encoded (`@scope%2fname`).
  return name.startsWith('@') ? `@${encodeURIComponent(name.slice(1))}` : encodeURIComponent(name);
}

function mediaTypeOf(bundleText: string): string {
  try {
    const parsed = JSON.parse(bundleText) as { mediaType?: unknown };
    if (typeof parsed.mediaType === 'string') return parsed.mediaType;
  } catch {
    // Stored bundles were parsed at staging; fall through to the generic type.
  }
  return 'application/json';
}

/** An npm keys document is a few hundred bytes per key; past this it is not read at all. */
const MAX_KEYS_BYTES = 1024 * 1024;

/** The body as text, or undefined once it grows past `max` bytes. */
async function readBounded(response: Response, max: number): Promise<string | undefined> {
  const reader = response.body?.getReader();
  if (reader === undefined) return undefined;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Only npm's five fields of a key are served on. */
function npmKeyFields(key: Record<string, unknown>): Record<string, unknown> {
  return {
    expires: key['expires'],
    keyid: key['keyid'],
    keytype: key['keytype'],
    scheme: key['scheme'],
    key: key['key'],
  };
}

/** An entry of npm's keys endpoint, bounded so a hostile upstream cannot inflate ours. */
function isNpmKey(value: unknown): value is Record<string, unknown> {
  if (!isRecord(value)) return false;
  const text = (v: unknown, max: number): boolean => typeof v === 'string' && v.length > 0 && v.length <= max;
  return (
    text(value['keyid'], 200) &&
    text(value['key'], 2000) &&
    text(value['keytype'], 64) &&
    text(value['scheme'], 64) &&
    (value['expires'] === null || text(value['expires'], 64))
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The upstream npm registry. */
export class NpmHttpRegistry implements Registry {
  readonly kind = 'npm-http' as const;
  readonly #options: NpmHttpRegistryOptions;

  constructor(options: NpmHttpRegistryOptions) {
    this.#options = options;
  }

  async #fetch(
    operation: string,
    path: string,
    init: RequestInit = {},
    timeoutMs = this.#options.timeoutMs,
  ): Promise<Response> {
    // The publish credential leaves the gate only when it is needed: publishes (and reads of a
    // private upstream when configured).
    const token =
      operation === 'publish' || this.#options.authenticateReads === true
        ? await this.#options.credential()
        : undefined;
    const headers = new Headers(init.headers);
    if (token !== undefined) headers.set('authorization', `Bearer ${token}`);
    headers.set('user-agent', 'pubgate/0.1');
    const started = performance.now();
    try {
      const response = await fetch(`${this.#options.url}/${path}`, {
        ...init,
        headers,
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
      });
      this.#options.observe?.(operation, (performance.now() - started) / 1000, response.status < 500);
      return response;
    } catch (cause) {
      this.#options.observe?.(operation, (performance.now() - started) / 1000, false);
      throw new UpstreamError(
        'ERR_UPSTREAM_UNREACHABLE',
        `the upstream registry did not answer (${operation})`,
        { cause },
      );
    }
  }

  #keys: { readonly at: number; readonly keys: readonly Record<string, unknown>[] } | undefined;
  #keysInFlight: Promise<readonly Record<string, unknown>[]> | undefined;

  npmSigningKeys(): Promise<readonly Record<string, unknown>[]> {
    // Keys change rarely: asked at most once an hour, or every five minutes while the upstream fails;
    // concurrent callers share one request.
    const now = Date.now();
    if (this.#keys !== undefined && now - this.#keys.at < (this.#keys.keys.length > 0 ? 3_600_000 : 300_000))
      return Promise.resolve(this.#keys.keys);
    this.#keysInFlight ??= this.#fetchKeys().finally(() => {
      this.#keysInFlight = undefined;
    });
    return this.#keysInFlight;
  }

  async #fetchKeys(): Promise<readonly Record<string, unknown>[]> {
    let keys: Record<string, unknown>[] = [];
    try {
      const response = await this.#fetch(
        'keys',
        '-/npm/v1/keys',
        { headers: { accept: 'application/json' } },
        Math.min(5_000, this.#options.timeoutMs),
      );
      const text = response.ok ? await readBounded(response, MAX_KEYS_BYTES) : undefined;
      if (!response.ok) await response.body?.cancel();
      const body: unknown = text === undefined ? undefined : JSON.parse(text);
      if (isRecord(body) && Array.isArray(body['keys']))
        keys = body['keys'].filter(isNpmKey).slice(0, 20).map(npmKeyFields);
    } catch {
      // No keys from the upstream (down, slow, too large, not JSON): only the gate's own are served.
    }
    this.#keys = { at: Date.now(), keys };
    return keys;
  }

  async #packumentRaw(name: string): Promise<Record<string, unknown> | undefined> {
    const response = await this.#fetch('packument', escapeName(name), {
      headers: { accept: 'application/json' },
    });
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new UpstreamError(
        'ERR_UPSTREAM_STATUS',
        `the upstream registry answered ${response.status} for a package document`,
      );
    }
    const body: unknown = await response.json();
    if (!isRecord(body))
      throw new UpstreamError('ERR_UPSTREAM_BAD_RESPONSE', 'the upstream package document is not an object');
    return body;
  }

  async getPackument(name: string, gateBase: string): Promise<Record<string, unknown> | undefined> {
    const packument = await this.#packumentRaw(name);
    if (packument === undefined) return undefined;
    const versions = packument['versions'];
    if (isRecord(versions)) {
      for (const manifest of Object.values(versions)) {
        if (!isRecord(manifest) || !isRecord(manifest['dist'])) continue;
        const dist = manifest['dist'];
        if (typeof dist['tarball'] === 'string') {
          // One malformed URL in the upstream's document must not take the whole package down.
          const file = URL.canParse(dist['tarball'])
            ? (new URL(dist['tarball']).pathname.split('/').pop() ?? '')
            : '';
          dist['tarball'] = gateTarballUrl(gateBase, name, file);
        }
      }
    }
    return packument;
  }

  async getTarball(name: string, file: string): Promise<TarballResponse | undefined> {
    const response = await this.#fetch('tarball', `${name}/-/${encodeURIComponent(file)}`);
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok || response.body === null) {
      await response.body?.cancel();
      throw new UpstreamError(
        'ERR_UPSTREAM_STATUS',
        `the upstream registry answered ${response.status} for a tarball`,
      );
    }
    const length = response.headers.get('content-length');
    return { body: response.body, size: length === null ? undefined : Number(length) };
  }

  async versionState(name: string, version: string): Promise<VersionState> {
    const packument = await this.#packumentRaw(name);
    const versions = packument?.['versions'];
    if (!isRecord(versions) || !Object.hasOwn(versions, version)) return { exists: false };
    const manifest = versions[version];
    const dist = isRecord(manifest) && isRecord(manifest['dist']) ? manifest['dist'] : {};
    return { exists: true, integrity: typeof dist['integrity'] === 'string' ? dist['integrity'] : undefined };
  }

  async publish(input: PublishInput): Promise<PublishOutcome> {
    const file = `${input.name}-${input.version}.tgz`;
    const manifest = {
      ...input.manifest,
      dist: {
        ...(input.manifest['dist'] as Record<string, unknown>),
        tarball: `${this.#options.url}/${input.name}/-/${tarballFileName(input.name, input.version)}`,
      },
    };
    const body = JSON.stringify({
      _id: input.name,
      name: input.name,
      ...(typeof input.manifest['description'] === 'string'
        ? { description: input.manifest['description'] }
        : {}),
      'dist-tags': { [input.tag]: input.version },
      versions: { [input.version]: manifest },
      ...(input.access === null ? {} : { access: input.access }),
      _attachments: {
        [file]: {
          content_type: 'application/octet-stream',
          data: input.tarball.toString('base64'),
          length: input.tarball.length,
        },
        // npm's shape for provenance: the bundle as JSON text, its length in UTF-16 units.
        ...(input.sigstore === undefined
          ? {}
          : {
              [`${input.name}-${input.version}.sigstore`]: {
                content_type: mediaTypeOf(input.sigstore),
                data: input.sigstore,
                length: input.sigstore.length,
              },
            }),
      },
    });
    const response = await this.#fetch('publish', escapeName(input.name), {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'npm-command': 'publish' },
      body,
    });
    await response.body?.cancel();
    if (response.ok) return 'published';
    if (response.status === 409 || response.status === 403) {
      // A 409 (or npmjs's 403 "cannot publish over") after a crash means our own earlier PUT may have
      // landed: compare digests instead of retrying blindly.
      const state = await this.versionState(input.name, input.version);
      if (state.exists && state.integrity === input.integrity) return 'already-published';
      if (state.exists) {
        throw new ConflictError(
          'ERR_UPSTREAM_VERSION_CONFLICT',
          `${input.name}@${input.version} already exists upstream with different contents`,
        );
      }
    }
    throw new UpstreamError(
      'ERR_UPSTREAM_PUBLISH_FAILED',
      `the upstream registry answered ${response.status} to the publish`,
    );
  }
}
