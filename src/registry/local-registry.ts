/**
 * pubgate's own storage as the registry, used when no upstream is configured: released packages
 * are served from here, so publish → approve → `npm install` works on one machine.
 */
import { ConflictError } from '../errors/index.ts';
import type { Store } from '../store/index.ts';
import {
  type BlobStore,
  gateTarballUrl,
  tarballFileName,
  type PublishInput,
  type PublishOutcome,
  type Registry,
  type TarballResponse,
  type VersionState,
} from './registry.ts';

interface StoredVersion {
  readonly manifest: Record<string, unknown>;
  readonly integrity: string;
  readonly sha512Hex: string;
  readonly file: string;
  readonly time: string;
}

interface StoredPackument {
  readonly name: string;
  readonly distTags: Record<string, string>;
  readonly versions: Record<string, StoredVersion>;
  readonly created: string;
}

/** The local registry. */
export class LocalRegistry implements Registry {
  readonly kind = 'local' as const;
  readonly #store: Store;
  readonly #blobs: BlobStore;
  readonly #now: () => Date;

  constructor(store: Store, blobs: BlobStore, now: () => Date = () => new Date()) {
    this.#store = store;
    this.#blobs = blobs;
    this.#now = now;
  }

  async #load(name: string): Promise<StoredPackument | undefined> {
    const row = await this.#store.db
      .selectFrom('local_packages')
      .select('packument')
      .where('name', '=', name)
      .executeTakeFirst();
    return row === undefined ? undefined : (JSON.parse(row.packument) as StoredPackument);
  }

  async getPackument(name: string, gateBase: string): Promise<Record<string, unknown> | undefined> {
    const stored = await this.#load(name);
    if (stored === undefined) return undefined;
    // Null-prototype maps: version and tag keys come from publishes and must stay plain data.
    const versions: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    const time: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, {
      created: stored.created,
    });
    let modified = stored.created;
    for (const [version, entry] of Object.entries(stored.versions)) {
      versions[version] = {
        ...entry.manifest,
        dist: {
          ...(entry.manifest['dist'] as Record<string, unknown>),
          integrity: entry.integrity,
          tarball: gateTarballUrl(gateBase, name, entry.file),
        },
      };
      time[version] = entry.time;
      if (entry.time > modified) modified = entry.time;
    }
    time['modified'] = modified;
    return {
      _id: name,
      name,
      'dist-tags': { ...stored.distTags },
      versions: { ...versions },
      time: { ...time },
    };
  }

  async getTarball(name: string, file: string): Promise<TarballResponse | undefined> {
    const stored = await this.#load(name);
    const entry =
      stored === undefined ? undefined : Object.values(stored.versions).find((v) => v.file === file);
    if (entry === undefined) return undefined;
    const bytes = await this.#blobs.get(entry.sha512Hex);
    return { body: bytes, size: bytes.length };
  }

  async versionState(name: string, version: string): Promise<VersionState> {
    const stored = await this.#load(name);
    if (stored === undefined || !Object.hasOwn(stored.versions, version)) return { exists: false };
    return { exists: true, integrity: stored.versions[version]!.integrity };
  }

  async publish(input: PublishInput): Promise<PublishOutcome> {
    const sha512Hex = await this.#blobs.put(input.tarball);
    return this.#store.transaction(async (tx) => {
      const row = await this.#store
        .forUpdate(tx.selectFrom('local_packages').select('packument').where('name', '=', input.name))
        .executeTakeFirst();
      const now = this.#now().toISOString();
      const current: StoredPackument =
        row === undefined
          ? { name: input.name, distTags: {}, versions: {}, created: now }
          : (JSON.parse(row.packument) as StoredPackument);
      if (Object.hasOwn(current.versions, input.version)) {
        if (current.versions[input.version]!.integrity === input.integrity) return 'already-published';
        throw new ConflictError(
          'ERR_UPSTREAM_VERSION_CONFLICT',
          `${input.name}@${input.version} already exists with different contents`,
        );
      }
      const next: StoredPackument = {
        ...current,
        distTags: { ...current.distTags, [input.tag]: input.version },
        versions: {
          ...current.versions,
          [input.version]: {
            manifest: { ...input.manifest },
            integrity: input.integrity,
            sha512Hex,
            file: tarballFileName(input.name, input.version),
            time: now,
          },
        },
      };
      const packument = JSON.stringify(next);
      if (row === undefined) {
        await tx
          .insertInto('local_packages')
          .values({ name: input.name, packument, updated_at: now })
          .execute();
      } else {
        await tx
          .updateTable('local_packages')
          .set({ packument, updated_at: now })
          .where('name', '=', input.name)
          .execute();
      }
      return 'published';
    });
  }
}
