/**
 * Reading the signed-in person from the session cookie, for route modules other than ui-routes.ts
 * (same cookie, same checks: a live session of an enabled person).
 */
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import type { HttpBindings } from '@hono/node-server';
import { AuthError } from '../errors/index.ts';
import type { Person, Role } from '../identity/index.ts';
import type { WebDeps } from './deps.ts';

type Ctx = Context<{ Bindings: HttpBindings }>;

/** Name of the session cookie set by the UI's sign-in. */
export const SESSION_COOKIE = 'pubgate_session';

/** A signed-in person and the session's CSRF token. */
export interface SignedInPerson {
  readonly person: Person;
  readonly csrf: string;
}

/** The signed-in person, or undefined (no, expired or unknown session; disabled person). */
export async function resolveSignedIn(
  c: Ctx,
  deps: Pick<WebDeps, 'sessions' | 'people'>,
): Promise<SignedInPerson | undefined> {
  const session = await deps.sessions.resolve(getCookie(c, SESSION_COOKIE));
  if (session === undefined) return undefined;
  const person = await deps.people.get(session.userId).catch(() => undefined);
  if (person === undefined || person.disabledAt !== null) return undefined;
  return { person, csrf: session.csrf };
}

/** Throws `ERR_AUTH_FORBIDDEN` unless the person holds one of `roles`. */
export function assertHasRole(person: Person, roles: readonly Role[]): void {
  if (!person.roles.some((r) => roles.includes(r)))
    throw new AuthError('ERR_AUTH_FORBIDDEN', `needs one of: ${roles.join(', ')}`);
}
