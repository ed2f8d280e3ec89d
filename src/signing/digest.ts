/** Streaming SHA-512 of a tarball given as bytes, a file path or a stream. */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { isSha512Hex } from './statement.ts';

/** A tarball to check: its bytes, a file, a stream, or an already computed sha512 (hex). */
export type ArtifactSource =
  | Uint8Array
  | { readonly path: string }
  | { readonly stream: AsyncIterable<Uint8Array> }
  | { readonly sha512: string };

// 1 MiB reads: few syscalls, and small enough to stay in cache while hashing.
const CHUNK_BYTES = 1 << 20;

/** The lowercase hex SHA-512 of the artifact; reads files and streams chunk by chunk, never whole. */
export async function computeSha512Hex(source: ArtifactSource, signal?: AbortSignal): Promise<string> {
  if (source instanceof Uint8Array) return createHash('sha512').update(source).digest('hex');
  if ('sha512' in source) {
    if (!isSha512Hex(source.sha512)) throw new TypeError('sha512 must be 128 lowercase hex characters');
    return source.sha512;
  }
  const hash = createHash('sha512');
  if ('path' in source) {
    const file = await open(source.path, 'r');
    try {
      const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
      for (;;) {
        signal?.throwIfAborted();
        const { bytesRead } = await file.read(buffer, 0, CHUNK_BYTES, null);
        if (bytesRead === 0) break;
        hash.update(buffer.subarray(0, bytesRead));
      }
    } finally {
      await file.close();
    }
  } else {
    for await (const chunk of source.stream) {
      signal?.throwIfAborted();
      hash.update(chunk);
    }
  }
  return hash.digest('hex');
}
