/**
 * OIDC token handling (`verifyWorkloadToken`): any string is refused with a coded `OidcError` that
 * never repeats the token; every mutation of a validly signed token is refused, while the token
 * itself is accepted once and then refused as a replay; a signed token with random GitHub claims is
 * accepted only when it meets every pinned claim of the trusted publisher. Keys are local (ES256,
 * `StaticJwksProvider`), so nothing is fetched.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import {
  MemoryJtiStore,
  OidcError,
  StaticJwksProvider,
  verifyWorkloadToken,
  type TrustedPublisherConfig,
  type WorkloadIdentity,
} from '../../../src/identity/oidc/index.ts';
import { asyncProperty, expectCodedError, outcomeOf, type FuzzProperty, type Outcome } from '../harness.ts';

const CODED = /^ERR_OIDC_/;
const ISSUER = 'https://token.actions.githubusercontent.com';
const AUDIENCE = 'npm:registry.example';
const PACKAGE = '@acme/widget';
/** A fixed clock, so a replayed case sees the same times. */
const NOW_SECONDS = Math.floor(Date.parse('2026-03-01T12:00:00Z') / 1000);
const now = (): Date => new Date(NOW_SECONDS * 1000);

const WORKFLOW_REF = 'acme/widget/.github/workflows/release.yml@refs/tags/v1.2.3';
/** What the publisher pins: ids, the workflow, the ref and the environment (owner id as a number). */
const PINNED = Object.freeze({
  repository_id: '123456789',
  repository_owner_id: 987654,
  workflow_ref: WORKFLOW_REF,
  ref: 'refs/tags/v1.2.3',
  environment: 'release',
});
const PUBLISHER: TrustedPublisherConfig = Object.freeze({
  packages: ['@acme/*'],
  provider: 'github',
  issuer: ISSUER,
  audience: AUDIENCE,
  claims: PINNED,
});

/** GitHub Actions claims of a tag-triggered release job that the publisher trusts. */
const GOOD_CLAIMS: Readonly<Record<string, string>> = Object.freeze({
  sub: 'repo:acme/widget:environment:release',
  repository: 'acme/widget',
  repository_id: '123456789',
  repository_owner: 'acme',
  repository_owner_id: '987654',
  repository_visibility: 'private',
  ref: 'refs/tags/v1.2.3',
  ref_type: 'tag',
  sha: 'a3f1c2d4e5b60718293a4b5c6d7e8f9012345678',
  workflow: 'Release',
  workflow_ref: WORKFLOW_REF,
  job_workflow_ref: WORKFLOW_REF,
  environment: 'release',
  event_name: 'push',
  head_ref: '',
  base_ref: '',
  run_id: '9000000001',
  runner_environment: 'github-hosted',
  actor: 'alice',
});

interface Fixture {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly keys: StaticJwksProvider;
}

let fixture: Promise<Fixture> | undefined;

/** One ES256 key per thread, its public JWK the issuer's whole key set. */
function loadFixture(): Promise<Fixture> {
  fixture ??= (async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = randomBytes(8).toString('hex');
    const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
    return { kid, privateKey, keys: new StaticJwksProvider({ [ISSUER]: { keys: [jwk] } }) };
  })();
  return fixture;
}

let jtiCounter = 0;
/** A jti no earlier case used (shrinks and replays included). */
const freshJti = (): string => `fuzz-${process.pid}-${Date.now()}-${++jtiCounter}`;

/** Signs `claims` (over valid time claims, issuer, audience and a fresh jti) with the trusted key. */
function mint(key: Fixture, claims: Readonly<Record<string, unknown>>): Promise<string> {
  const merged: Record<string, unknown> = {
    iss: ISSUER,
    aud: AUDIENCE,
    iat: NOW_SECONDS,
    nbf: NOW_SECONDS - 300,
    exp: NOW_SECONDS + 300,
    jti: freshJti(),
    ...claims,
  };
  for (const [name, value] of Object.entries(merged)) if (value === undefined) delete merged[name];
  return new SignJWT(merged)
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: key.kid })
    .sign(key.privateKey);
}

function verify(key: Fixture, jti: MemoryJtiStore, token: string): Promise<WorkloadIdentity> {
  return verifyWorkloadToken(token, {
    packageName: PACKAGE,
    publishers: [PUBLISHER],
    keys: key.keys,
    jti,
    now,
  });
}

/** Texts derived from the token that must never show in an error (short pieces could occur by chance). */
function secretPieces(token: string): string[] {
  return [token, ...token.split('.')].filter((piece) => piece.length >= 12);
}

/** Fails unless `error` is an `OidcError` coded ERR_OIDC_* whose message and details do not repeat the token. */
function assertSafeRefusal(error: unknown, token: string): string {
  if (!(error instanceof OidcError))
    throw new Error(`expected an OidcError, got ${String((error as Error)?.name)}`, { cause: error });
  const code = expectCodedError(error, CODED);
  const visible = `${error.message}\n${JSON.stringify(error.details ?? {})}`;
  if (secretPieces(token).some((piece) => visible.includes(piece)))
    throw new Error(`the ${code} refusal repeats the token`);
  return code;
}

/** Runs the verifier; an acceptance or a safe refusal comes back, anything else fails the case. */
async function attempt(key: Fixture, jti: MemoryJtiStore, token: string): Promise<Outcome<WorkloadIdentity>> {
  try {
    return { ok: true, value: await verify(key, jti, token) };
  } catch (error) {
    return { ok: false, code: assertSafeRefusal(error, token) };
  }
}

// ---- arbitraries -------------------------------------------------------------------------------

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const segmentArb = fc.string({ unit: fc.constantFrom(...B64URL), maxLength: 120 });
const b64 = (value: string | Uint8Array): string => Buffer.from(value).toString('base64url');

const headerArb = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record(
      {
        alg: fc.oneof(
          fc.constantFrom('ES256', 'RS256', 'none', 'None', 'HS256', 'EdDSA', 'PS256', ''),
          fc.jsonValue({ maxDepth: 1 }),
        ),
        kid: fc.oneof(fc.constant('$KID'), fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 1 })),
        typ: fc.constantFrom('JWT', 'jwt', 'at+jwt', 'JOSE', 7),
        crit: fc.constant(['b64']),
        b64: fc.boolean(),
        jku: fc.constantFrom('https://attacker.example/jwks'),
        jwk: fc.constant({ kty: 'oct', k: 'c2VjcmV0' }),
      },
      { requiredKeys: ['alg'] },
    ),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 1,
    arbitrary: fc.constant(JSON.parse('{"alg":"ES256","kid":"$KID","__proto__":{"alg":"none"}}')),
  },
);

const payloadArb = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record(
      {
        iss: fc.oneof(fc.constant(ISSUER), fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 1 })),
        aud: fc.oneof(fc.constant(AUDIENCE), fc.array(fc.constant(AUDIENCE)), fc.jsonValue({ maxDepth: 1 })),
        exp: fc.oneof(fc.constant(NOW_SECONDS + 300), fc.double(), fc.jsonValue({ maxDepth: 1 })),
        iat: fc.oneof(fc.constant(NOW_SECONDS), fc.integer(), fc.jsonValue({ maxDepth: 1 })),
        jti: fc.oneof(fc.string({ maxLength: 300 }), fc.jsonValue({ maxDepth: 1 })),
        repository_id: fc.oneof(fc.constant('123456789'), fc.jsonValue({ maxDepth: 1 })),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** Random JSON header and payload, base64url-encoded (or raw bytes), with a random signature. */
const jsonTokenArb = fc
  .record({
    header: fc.oneof(
      { weight: 4, arbitrary: headerArb.map((h) => JSON.stringify(h)) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    ),
    payload: fc.oneof(
      { weight: 4, arbitrary: payloadArb.map((p) => JSON.stringify(p)) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    ),
    signature: fc.oneof(fc.uint8Array({ maxLength: 96 }), fc.uint8Array({ minLength: 64, maxLength: 64 })),
  })
  .map(({ header, payload, signature }) => ({ header, payload, signature: b64(signature) }));

/** What the verifier is handed: arbitrary text, three base64url parts, or encoded JSON. */
const anyTokenArb = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: fc.constantFrom(...B64URL, '.', '=', '+', '/', ' '), maxLength: 200 }),
  fc.tuple(segmentArb, segmentArb, segmentArb).map((parts) => parts.join('.')),
  jsonTokenArb,
);

type Mutation =
  | { readonly kind: 'flip'; readonly part: 0 | 1 | 2; readonly index: number; readonly bit: number }
  | { readonly kind: 'truncate'; readonly keep: number }
  | { readonly kind: 'swap'; readonly order: readonly [number, number, number] };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    part: fc.constantFrom(0 as const, 1 as const, 2 as const),
    index: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
  fc.record({
    kind: fc.constant('swap' as const),
    order: fc.constantFrom(
      [1, 0, 2] as const,
      [0, 2, 1] as const,
      [2, 1, 0] as const,
      [1, 2, 0] as const,
      [2, 0, 1] as const,
    ),
  }),
);

/** The token changed by `mutation`; never the token itself. */
function mutate(token: string, mutation: Mutation): string {
  const parts = token.split('.') as [string, string, string];
  if (mutation.kind === 'truncate') return token.slice(0, mutation.keep % token.length);
  if (mutation.kind === 'swap') return mutation.order.map((i) => parts[i]).join('.');
  const bytes = Buffer.from(parts[mutation.part], 'base64url');
  const at = mutation.index % bytes.length;
  bytes[at] = (bytes[at] ?? 0) ^ (1 << mutation.bit);
  parts[mutation.part] = bytes.toString('base64url');
  return parts.join('.');
}

const FORBIDDEN_EVENTS = [
  'pull_request_target',
  'pull_request',
  'pull_request_review',
  'pull_request_review_comment',
];

/** A claim value: the trusted one, a near miss, another type, or anything. */
function claimValueArb(good: string): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant(good) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        `${good} `,
        ` ${good}`,
        good.toUpperCase(),
        good.slice(0, -1),
        `${good}*`,
        `${good}\u0000`,
        good.normalize('NFD') === good ? `${good}\u200b` : good.normalize('NFD'),
        '',
        '*',
      ),
    },
    { weight: 1, arbitrary: fc.constantFrom(Number(good), [good], { value: good }, null, true) },
    { weight: 2, arbitrary: fc.string({ maxLength: 30 }) },
  );
}

const CLAIM_NAMES = Object.keys(GOOD_CLAIMS);
const MISSING = Symbol('missing');

/** Any value for claim `name`, or MISSING. */
function anyClaimArb(name: string): fc.Arbitrary<unknown> {
  const good = GOOD_CLAIMS[name]!;
  const arbitrary =
    name === 'event_name'
      ? fc.oneof(claimValueArb(good), fc.constantFrom(...FORBIDDEN_EVENTS, 'workflow_dispatch'))
      : name === 'runner_environment'
        ? fc.oneof(claimValueArb(good), fc.constant('self-hosted'))
        : claimValueArb(good);
  return fc.oneof({ weight: 4, arbitrary }, { weight: 1, arbitrary: fc.constant(MISSING) });
}

/** The set without the claims drawn as MISSING. */
function present(drawn: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(drawn).filter(([, value]) => value !== MISSING));
}

/**
 * GitHub claim sets: every claim drawn (trusted, a near miss, another type, anything, or missing),
 * or the trusted set with a few claims redrawn, so that acceptances are common too.
 */
const claimSetArb: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record(Object.fromEntries(CLAIM_NAMES.map((name) => [name, anyClaimArb(name)]))).map(present),
  fc
    .uniqueArray(fc.constantFrom(...CLAIM_NAMES), { maxLength: 3 })
    .chain((names) => fc.tuple(fc.constant(names), fc.tuple(...names.map((name) => anyClaimArb(name)))))
    .map(([names, values]) => {
      const claims: Record<string, unknown> = { ...GOOD_CLAIMS };
      names.forEach((name, i) => (claims[name] = values[i]));
      return present(claims);
    }),
);

/** The claim as the verifier compares it: a string, or the text of a safe integer or boolean. */
function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return undefined;
}

/** Whether a token with these claims should pass, judged independently of the verifier. */
function trusted(claims: Readonly<Record<string, unknown>>): boolean {
  const text = (name: string): string | undefined =>
    Object.hasOwn(claims, name) ? asText(claims[name]) : undefined;
  const pinsMatch = Object.entries(PINNED).every(([name, pinned]) => text(name) === String(pinned));
  const event = text('event_name');
  const headRef = text('head_ref');
  return (
    pinsMatch &&
    text('runner_environment') === 'github-hosted' &&
    (event === undefined || !FORBIDDEN_EVENTS.includes(event)) &&
    (headRef === undefined || headRef === '')
  );
}

/** The OIDC token handling properties. */
export const oidcProperties: readonly FuzzProperty[] = [
  {
    name: 'any string, three base64url parts or encoded JSON is refused with an OidcError ERR_OIDC_* that never repeats the token',
    ciRuns: 1000,
    caseTimeoutMs: 2_000,
    build: async () => {
      const key = await loadFixture();
      const jti = new MemoryJtiStore({ now });
      return asyncProperty(anyTokenArb, async (generated) => {
        const token =
          typeof generated === 'string'
            ? generated
            : `${b64(generated.header.replaceAll('$KID', key.kid))}.${b64(generated.payload)}.${generated.signature}`;
        try {
          await verify(key, jti, token);
        } catch (error) {
          assertSafeRefusal(error, token);
          return;
        }
        throw new Error('an unsigned or randomly signed token was accepted');
      });
    },
  },
  {
    name: 'a mutated token (bit flip, truncation, swapped parts) is refused; the token itself is accepted once, then ERR_OIDC_REPLAYED',
    ciRuns: 500,
    caseTimeoutMs: 2_000,
    build: async () => {
      const key = await loadFixture();
      const jti = new MemoryJtiStore({ now });
      return asyncProperty(mutationArb, async (mutation) => {
        const token = await mint(key, GOOD_CLAIMS);
        const mutated = mutate(token, mutation);
        if (mutated === token) throw new Error('the mutation left the token unchanged');
        const forged = await attempt(key, jti, mutated);
        if (forged.ok) throw new Error('a mutated token was accepted');
        if (forged.code === 'ERR_OIDC_REPLAYED') throw new Error('a mutated token reached the replay check');
        const first = await attempt(key, jti, token);
        if (!first.ok) throw new Error(`the valid token was refused with ${first.code}`);
        const second = await attempt(key, jti, token);
        if (second.ok || second.code !== 'ERR_OIDC_REPLAYED')
          throw new Error(`a replay gave ${second.ok ? 'acceptance' : second.code}`);
      });
    },
  },
  {
    name: 'a signed token with random GitHub claims is accepted exactly when every pinned claim matches, else a coded refusal',
    ciRuns: 600,
    caseTimeoutMs: 2_000,
    build: async () => {
      const key = await loadFixture();
      const jti = new MemoryJtiStore({ now });
      return asyncProperty(claimSetArb, async (claims) => {
        const token = await mint(key, claims);
        const outcome = await outcomeOf(() => verify(key, jti, token), CODED);
        const expected = trusted(claims);
        if (!outcome.ok) {
          if (expected) throw new Error(`a token meeting every pin was refused with ${outcome.code}`);
          return;
        }
        if (!expected) throw new Error('a token that misses a pin (or runs untrusted code) was accepted');
        const identity = outcome.value;
        if (identity.publisher !== PUBLISHER) throw new Error('another publisher matched');
        if (identity.repositoryId !== PINNED.repository_id)
          throw new Error('repositoryId differs from the pin');
        if (identity.workflowRef !== PINNED.workflow_ref) throw new Error('workflowRef differs from the pin');
        if (identity.ownerId !== String(PINNED.repository_owner_id))
          throw new Error('ownerId differs from the pin');
        if (identity.ref !== PINNED.ref || identity.environment !== PINNED.environment)
          throw new Error('ref or environment differs from the pin');
      });
    },
  },
];
