/** Bearer authentication with pubgate credentials, shared by the npm protocol and the JSON API. */
import type { Context } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import { AuthError } from '../errors/index.ts';
import type { Principal } from '../tokens/index.ts';
import type { WebDeps } from './deps.ts';

type Ctx = Context<{ Bindings: HttpBindings }>;

/** The caller's principal from `authorization: Bearer pgt_…`; undefined when absent and not required. */
export async function authenticate(c: Ctx, deps: WebDeps, required: boolean): Promise<Principal | undefined> {
  const header = c.req.header('authorization');
  if (header === undefined) {
    if (required)
      throw new AuthError(
        'ERR_AUTH_MISSING',
        'this needs a pubgate credential: add `//<gate>/npm/:_authToken=<token>` to .npmrc (`pubgate token create`)',
      );
    return undefined;
  }
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (match === null) throw new AuthError('ERR_AUTH_BAD_TOKEN', 'use a Bearer pubgate credential');
  return deps.credentials.authenticate(match[1]!);
}

/** Narrows to a principal of one of `kinds`, or throws `ERR_AUTH_*`. */
export function requireKind(principal: Principal | undefined, kinds: readonly string[]): Principal {
  if (principal === undefined) throw new AuthError('ERR_AUTH_MISSING', 'this needs a pubgate credential');
  if (!kinds.includes(principal.kind))
    throw new AuthError('ERR_AUTH_FORBIDDEN', `a ${principal.kind} credential may not do this`);
  return principal;
}
