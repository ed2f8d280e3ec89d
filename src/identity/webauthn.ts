/**
 * The one module that talks to @simplewebauthn/server. User verification, counters and
 * challenges are checked here or by our own code, each with its own error code, so that
 * a failed check is never confused with another.
 */
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { AuthError, ValidationError } from '../errors/index.ts';

export type {
  AuthenticationResponseJSON,
  RegistrationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
};

/** Where WebAuthn ceremonies are valid. */
export interface RelyingParty {
  readonly id: string;
  readonly name: string;
  readonly origin: string;
}

/** A stored passkey as the verifier needs it. */
export interface StoredPasskey {
  readonly id: string;
  readonly publicKey: string;
  readonly counter: number;
  readonly transports: readonly string[];
}

/** Options for creating a passkey; user verification and a resident key are required. */
export async function makeRegistrationOptions(
  rp: RelyingParty,
  user: { id: string; name: string },
  challenge: Uint8Array,
  exclude: readonly StoredPasskey[],
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: user.name,
    userID: new TextEncoder().encode(user.id),
    challenge: Uint8Array.from(challenge),
    attestationType: 'none',
    excludeCredentials: exclude.map((p) => ({ id: p.id })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    timeout: 120_000,
  });
}

/** Verifies a registration; returns the credential to store. */
export async function checkRegistration(
  rp: RelyingParty,
  response: unknown,
  expectedChallenge: string,
): Promise<StoredPasskey> {
  let result;
  try {
    result = await verifyRegistrationResponse({
      response: response as RegistrationResponseJSON,
      expectedChallenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: false,
    });
  } catch (cause) {
    throw new AuthError('ERR_WEBAUTHN_INVALID', 'the passkey registration did not verify', { cause });
  }
  if (!result.verified || result.registrationInfo === undefined)
    throw new AuthError('ERR_WEBAUTHN_INVALID', 'the passkey registration did not verify');
  if (!result.registrationInfo.userVerified)
    throw new AuthError(
      'ERR_WEBAUTHN_UV_REQUIRED',
      'the authenticator did not verify the user (PIN or biometrics); pubgate requires it',
    );
  const credential = result.registrationInfo.credential;
  return {
    id: credential.id,
    publicKey: Buffer.from(credential.publicKey).toString('base64url'),
    counter: credential.counter,
    transports: credential.transports ?? [],
  };
}

/** Options for an assertion with user verification required. */
export async function makeAssertionOptions(
  rp: RelyingParty,
  challenge: Uint8Array,
  allow: readonly StoredPasskey[],
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({
    rpID: rp.id,
    challenge: Uint8Array.from(challenge),
    userVerification: 'required',
    allowCredentials: allow.map((p) => ({
      id: p.id,
      transports: p.transports as NonNullable<
        Parameters<typeof generateAuthenticationOptions>[0]['allowCredentials']
      >[number]['transports'],
    })),
    timeout: 120_000,
  });
}

/** The challenge an assertion or registration response claims to answer (from clientDataJSON), unverified. */
export function claimedChallenge(response: unknown): string {
  const clientData = (response as { response?: { clientDataJSON?: unknown } } | null)?.response
    ?.clientDataJSON;
  if (typeof clientData !== 'string' || clientData.length > 4096)
    throw new ValidationError('ERR_WEBAUTHN_MALFORMED', 'the passkey response has no client data');
  try {
    const parsed = JSON.parse(Buffer.from(clientData, 'base64url').toString('utf8')) as {
      challenge?: unknown;
    };
    if (typeof parsed.challenge !== 'string') throw new Error('no challenge');
    return parsed.challenge;
  } catch (cause) {
    throw new ValidationError('ERR_WEBAUTHN_MALFORMED', 'the passkey response client data is not valid', {
      cause,
    });
  }
}

/** The credential id a response names, unverified. */
export function claimedCredentialId(response: unknown): string {
  const id = (response as { id?: unknown } | null)?.id;
  if (typeof id !== 'string' || id.length === 0 || id.length > 1024)
    throw new ValidationError('ERR_WEBAUTHN_MALFORMED', 'the passkey response names no credential');
  return id;
}

/** Verifies an assertion against a stored passkey; returns the new counter. */
export async function checkAssertion(
  rp: RelyingParty,
  response: unknown,
  expectedChallenge: string,
  passkey: StoredPasskey,
): Promise<{ newCounter: number }> {
  let result;
  try {
    // Counter and user verification are checked below with codes of their own.
    result = await verifyAuthenticationResponse({
      response: response as AuthenticationResponseJSON,
      expectedChallenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      credential: { id: passkey.id, publicKey: Buffer.from(passkey.publicKey, 'base64url'), counter: 0 },
      requireUserVerification: false,
    });
  } catch (cause) {
    throw new AuthError('ERR_WEBAUTHN_INVALID', 'the passkey assertion did not verify', { cause });
  }
  if (!result.verified) throw new AuthError('ERR_WEBAUTHN_INVALID', 'the passkey assertion did not verify');
  const info = result.authenticationInfo;
  if (!info.userVerified)
    throw new AuthError(
      'ERR_WEBAUTHN_UV_REQUIRED',
      'the authenticator did not verify the user (PIN or biometrics); pubgate requires it',
    );
  // W3C WebAuthn §6.1.1: a counter that does not grow (when either side is non-zero) signals a cloned authenticator.
  if ((info.newCounter > 0 || passkey.counter > 0) && info.newCounter <= passkey.counter) {
    throw new AuthError(
      'ERR_WEBAUTHN_COUNTER_REGRESSION',
      'the passkey signature counter went backwards; the authenticator may be cloned',
    );
  }
  return { newCounter: info.newCounter };
}
