/**
 * Content-addressed blob store on the file system, keyed by sha512 (hex). Writes go to a temporary
 * file, are fsynced and renamed into place, so a crash never leaves a partial blob under a real name;
 * every read re-hashes, so what leaves the store is exactly what was checked.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { IntegrityError, NotFoundError } from '../errors/index.ts';

/** Where tarballs live. */
export interface BlobStore {
  /** Stores bytes and returns their sha512 hex. Idempotent. */
  put(bytes: Uint8Array): Promise<string>;
  /** Returns the bytes, verified against their address; throws `ERR_BLOB_MISSING` or `ERR_BLOB_CORRUPT`. */
  get(sha512Hex: string): Promise<Buffer>;
  has(sha512Hex: string): Promise<boolean>;
}

const HEX512 = /^[0-9a-f]{128}$/;

/** A {@link BlobStore} in a folder: `<dir>/sha512/<first two hex>/<hex>`. */
export class FsBlobStore implements BlobStore {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  #path(hex: string): string {
    if (!HEX512.test(hex)) throw new TypeError('blob address must be 128 lowercase hex characters');
    return join(this.#dir, 'sha512', hex.slice(0, 2), hex);
  }

  async put(bytes: Uint8Array): Promise<string> {
    const hex = createHash('sha512').update(bytes).digest('hex');
    const path = this.#path(hex);
    if (await this.has(hex)) return hex;
    await mkdir(join(this.#dir, 'sha512', hex.slice(0, 2)), { recursive: true });
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return hex;
  }

  async get(hex: string): Promise<Buffer> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.#path(hex));
    } catch (cause) {
      throw new NotFoundError(
        'ERR_BLOB_MISSING',
        `blob ${hex.slice(0, 16)}… is missing from the blob store`,
        { cause },
      );
    }
    if (createHash('sha512').update(bytes).digest('hex') !== hex) {
      throw new IntegrityError(
        'ERR_BLOB_CORRUPT',
        `blob ${hex.slice(0, 16)}… does not match its digest; it was changed on disk`,
      );
    }
    return bytes;
  }

  async has(hex: string): Promise<boolean> {
    try {
      await stat(this.#path(hex));
      return true;
    } catch {
      return false;
    }
  }
}
