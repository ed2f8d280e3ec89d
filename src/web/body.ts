/** Reading request bodies with a hard byte limit, refusing early on a declared oversize. */
import type { IncomingMessage } from 'node:http';
import { ValidationError } from '../errors/index.ts';

/** Reads the whole body of `request`, or throws `ERR_PUBLISH_TOO_LARGE` past `limit` bytes. */
export async function readBody(
  request: IncomingMessage,
  limit: number,
  code = 'ERR_PUBLISH_TOO_LARGE',
): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    request.resume();
    throw new ValidationError(code, `the request body is larger than the ${limit}-byte limit`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    total += buffer.length;
    if (total > limit) {
      request.resume();
      throw new ValidationError(code, `the request body is larger than the ${limit}-byte limit`);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, total);
}
