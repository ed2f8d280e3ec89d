/**
 * A local OIDC issuer on 127.0.0.1 for tests: discovery document, JWKS, key rotation, and tokens
 * shaped like GitHub Actions' and GitLab CI's, plus the hostile variants (alg `none`, HS256 keyed
 * with the public key, forged signatures, unknown kid, any time claims). `startActionsTokenEndpoint`
 * serves GitHub's ID-token request endpoint the way npm's CLI calls it.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK } from 'jose';

/** Signing algorithms the issuer's own keys can use. */
export type IssuerAlgorithm = 'RS256' | 'ES256';

/** Which CI system's claims a token starts from. */
export type TokenShape = 'github' | 'gitlab';

/** Options of `startOidcIssuer`. */
export interface StartOidcIssuerOptions {
  readonly algorithm?: IssuerAlgorithm;
  /** Path of the key set; GitHub serves it at `/.well-known/jwks`. */
  readonly jwksPath?: string;
  /** Path appended to the origin to form the issuer, e.g. `/enterprise` (default none). */
  readonly issuerPath?: string;
}

/** Ways the issuer's endpoints can misbehave, for the fetcher's tests. */
export interface IssuerMisbehaviour {
  /** `stall` sends headers and never the body; `oversize` sends a 1 MiB key set; a number is a status. */
  jwks?: 'stall' | 'oversize' | 'redirect' | number;
  /** The issuer named in the discovery document. */
  discoveryIssuer?: string;
  /** The `jwks_uri` named in the discovery document. */
  discoveryJwksUri?: string;
  /** Extra entries published in the key set (e.g. a private or symmetric key). */
  extraKeys?: readonly Record<string, unknown>[];
}

/** Options of `LocalOidcIssuer.mint`. */
export interface MintOptions {
  /** Start from GitHub's or GitLab's claims (default github). */
  readonly shape?: TokenShape;
  /** `aud` (default `npm:127.0.0.1`, what npm requests for a registry on 127.0.0.1). */
  readonly audience?: string | readonly string[];
  /** `iss` (default the issuer's URL). */
  readonly issuer?: string;
  /** The clock the time claims are computed from (default now). */
  readonly now?: Date;
  /** Absolute overrides, in seconds since the epoch. */
  readonly iat?: number;
  readonly nbf?: number;
  readonly exp?: number;
  /** `kid` header (default the current key's). */
  readonly kid?: string;
  /** Sign with a key of the issuer other than the current one (a kid from `kids`). */
  readonly signWithKid?: string;
  /**
   * Hostile variants: `none` (unsigned), `hs256-public-key` (HMAC keyed with the public key's PEM),
   * `forged` (signed by a key the issuer never published, under the current kid).
   */
  readonly attack?: 'none' | 'hs256-public-key' | 'forged';
  /** Extra protected header parameters (e.g. `typ`, `crit`). */
  readonly header?: Readonly<Record<string, unknown>>;
}

/** A running local issuer. */
export interface LocalOidcIssuer {
  /** The issuer URL, the tokens' `iss`. */
  readonly url: string;
  readonly jwksUri: string;
  /** How often each endpoint was asked. */
  readonly requests: { discovery: number; jwks: number };
  /** The kid new tokens are signed with. */
  readonly currentKid: string;
  /** Every published kid, oldest first. */
  readonly kids: readonly string[];
  /** The current key's private JWK, for tests that publish it where it must be refused. */
  privateJwk(): Promise<JWK>;
  /** Makes endpoints misbehave; pass `{}` to restore. */
  misbehave(misbehaviour: IssuerMisbehaviour): void;
  /** Creates a new current key; the previous one stays published unless `retirePrevious`. */
  rotate(options?: { retirePrevious?: boolean }): Promise<string>;
  /** The default claims of a shape (without time claims or `jti`). */
  claims(shape?: TokenShape): Record<string, unknown>;
  /** A signed token; `claims` override the shape's defaults, and an `undefined` value removes one. */
  mint(claims?: Readonly<Record<string, unknown>>, options?: MintOptions): Promise<string>;
  close(): Promise<void>;
}

interface IssuerKey {
  readonly kid: string;
  readonly alg: IssuerAlgorithm;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly jwk: JWK;
}

const SHA = 'a3f1c2d4e5b60718293a4b5c6d7e8f9012345678';

async function newKey(alg: IssuerAlgorithm): Promise<IssuerKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomBytes(8).toString('hex');
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, jwk };
}

/** GitHub Actions claims of a tag-triggered release job in `acme/widget` (environment `release`). */
function githubClaims(): Record<string, unknown> {
  const ref = 'refs/tags/v1.2.3';
  return {
    sub: 'repo:acme/widget:environment:release',
    repository: 'acme/widget',
    repository_id: '123456789',
    repository_owner: 'acme',
    repository_owner_id: '987654',
    // npm turns provenance on for public repositories, which needs the public Sigstore services.
    repository_visibility: 'private',
    ref,
    ref_type: 'tag',
    ref_protected: 'false',
    sha: SHA,
    workflow: 'Release',
    workflow_ref: `acme/widget/.github/workflows/release.yml@${ref}`,
    workflow_sha: SHA,
    job_workflow_ref: `acme/widget/.github/workflows/release.yml@${ref}`,
    job_workflow_sha: SHA,
    environment: 'release',
    event_name: 'push',
    head_ref: '',
    base_ref: '',
    run_id: '9000000001',
    run_number: '42',
    run_attempt: '1',
    runner_environment: 'github-hosted',
    actor: 'alice',
    actor_id: '4242',
    triggering_actor: 'alice',
  };
}

/** GitLab CI claims of a tag pipeline in `acme/widget` on the instance at `host`. */
function gitlabClaims(host: string): Record<string, unknown> {
  return {
    sub: 'project_path:acme/widget:ref_type:tag:ref:v1.2.3',
    namespace_id: '72',
    namespace_path: 'acme',
    project_id: '4242',
    project_path: 'acme/widget',
    project_visibility: 'private',
    user_id: '5',
    user_login: 'alice',
    user_email: 'alice@example.test',
    user_access_level: 'maintainer',
    pipeline_id: '1001',
    pipeline_source: 'push',
    job_id: '2002',
    ref: 'v1.2.3',
    ref_type: 'tag',
    ref_path: 'refs/tags/v1.2.3',
    ref_protected: 'true',
    environment: 'release',
    environment_protected: 'true',
    deployment_tier: 'production',
    runner_id: 17,
    runner_environment: 'gitlab-hosted',
    sha: SHA,
    ci_config_ref_uri: `${host}/acme/widget//.gitlab-ci.yml@refs/tags/v1.2.3`,
    ci_config_sha: SHA,
  };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

/** Starts an issuer on 127.0.0.1 with one key. */
export async function startOidcIssuer(options: StartOidcIssuerOptions = {}): Promise<LocalOidcIssuer> {
  const alg = options.algorithm ?? 'RS256';
  const jwksPath = options.jwksPath ?? '/.well-known/jwks';
  const issuerPath = options.issuerPath ?? '';
  const keys: IssuerKey[] = [await newKey(alg)];
  const stranger = await newKey(alg);
  const requests = { discovery: 0, jwks: 0 };
  let misbehaviour: IssuerMisbehaviour = {};
  let url = '';

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    if (path === `${issuerPath}/.well-known/openid-configuration`) {
      requests.discovery += 1;
      return sendJson(response, 200, {
        issuer: misbehaviour.discoveryIssuer ?? url,
        jwks_uri:
          misbehaviour.discoveryJwksUri ?? `${url.slice(0, url.length - issuerPath.length)}${jwksPath}`,
        subject_types_supported: ['public', 'pairwise'],
        response_types_supported: ['id_token'],
        id_token_signing_alg_values_supported: [alg],
        scopes_supported: ['openid'],
        claims_supported: Object.keys(githubClaims()),
      });
    }
    if (path === jwksPath) {
      requests.jwks += 1;
      const mode = misbehaviour.jwks;
      if (mode === 'stall') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write('{"keys":[');
        return undefined;
      }
      if (mode === 'oversize') {
        return sendJson(response, 200, {
          keys: keys.map((key) => key.jwk),
          padding: 'x'.repeat(1024 * 1024),
        });
      }
      if (mode === 'redirect') {
        response.writeHead(302, { location: `${url}/elsewhere` });
        return response.end();
      }
      if (typeof mode === 'number') return sendJson(response, mode, { error: 'misbehaving' });
      return sendJson(response, 200, {
        keys: [...keys.map((key) => key.jwk), ...(misbehaviour.extraKeys ?? [])],
      });
    }
    return sendJson(response, 404, { error: 'not found' });
  });
  const port = await listen(server);
  url = `http://127.0.0.1:${port}${issuerPath}`;
  const host = `127.0.0.1:${port}`;

  const current = (): IssuerKey => keys[keys.length - 1] as IssuerKey;
  const claimsOf = (shape: TokenShape = 'github'): Record<string, unknown> =>
    shape === 'github' ? githubClaims() : gitlabClaims(host);

  const mint = async (
    overrides: Readonly<Record<string, unknown>> = {},
    mintOptions: MintOptions = {},
  ): Promise<string> => {
    const shape = mintOptions.shape ?? 'github';
    const nowSeconds = Math.floor((mintOptions.now ?? new Date()).getTime() / 1000);
    // GitHub: valid from 5 minutes before issue to 5 minutes after; GitLab: until the job timeout (1 h).
    const times =
      shape === 'github'
        ? { iat: nowSeconds, nbf: nowSeconds - 300, exp: nowSeconds + 300 }
        : { iat: nowSeconds, nbf: nowSeconds - 5, exp: nowSeconds + 3600 };
    const audience = mintOptions.audience ?? 'npm:127.0.0.1';
    const merged: Record<string, unknown> = {
      jti: randomUUID(),
      ...claimsOf(shape),
      aud: typeof audience === 'string' ? audience : [...audience],
      iss: mintOptions.issuer ?? url,
      iat: mintOptions.iat ?? times.iat,
      nbf: mintOptions.nbf ?? times.nbf,
      exp: mintOptions.exp ?? times.exp,
    };
    for (const [name, value] of Object.entries(overrides)) {
      if (value === undefined) delete merged[name];
      else merged[name] = value;
    }
    const signer =
      mintOptions.signWithKid === undefined
        ? current()
        : keys.find((key) => key.kid === mintOptions.signWithKid);
    if (signer === undefined) throw new Error('no such key');
    const kid = mintOptions.kid ?? signer.kid;
    const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

    if (mintOptions.attack === 'none') {
      return `${encode({ alg: 'none', typ: 'JWT', ...mintOptions.header })}.${encode(merged)}.`;
    }
    if (mintOptions.attack === 'hs256-public-key') {
      // The classic confusion: a verifier that takes `alg` from the token would HMAC with the PEM it holds.
      const input = `${encode({ alg: 'HS256', typ: 'JWT', kid, ...mintOptions.header })}.${encode(merged)}`;
      const secret = await exportSPKI(signer.publicKey);
      return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
    }
    const signingKey = mintOptions.attack === 'forged' ? stranger : signer;
    return new SignJWT(merged)
      .setProtectedHeader({ alg: signer.alg, typ: 'JWT', kid, ...mintOptions.header })
      .sign(signingKey.privateKey);
  };

  return {
    url,
    get jwksUri() {
      return `http://${host}${jwksPath}`;
    },
    requests,
    get currentKid() {
      return current().kid;
    },
    get kids() {
      return keys.map((key) => key.kid);
    },
    misbehave(next: IssuerMisbehaviour) {
      misbehaviour = { ...next };
    },
    async rotate(rotateOptions: { retirePrevious?: boolean } = {}) {
      const key = await newKey(alg);
      if (rotateOptions.retirePrevious === true) keys.splice(0, keys.length);
      keys.push(key);
      return key.kid;
    },
    privateJwk: async () => ({ ...(await exportJWK(current().privateKey)), kid: current().kid, alg }),
    claims: claimsOf,
    mint,
    close: () => close(server),
  };
}

/** A running stand-in for GitHub's `ACTIONS_ID_TOKEN_REQUEST_URL` endpoint. */
export interface ActionsTokenEndpoint {
  /** The value for `ACTIONS_ID_TOKEN_REQUEST_URL` (already carries a query, as GitHub's does). */
  readonly url: string;
  /** The value for `ACTIONS_ID_TOKEN_REQUEST_TOKEN`; requests without it are answered 401. */
  readonly requestToken: string;
  /** Environment that makes npm believe it runs in GitHub Actions with `id-token: write`. */
  readonly env: Readonly<Record<string, string>>;
  /** The `audience` of each authorised request, in order (null when none was asked). */
  readonly audiences: readonly (string | null)[];
  close(): Promise<void>;
}

/**
 * Serves `GET <url>&audience=<aud>` with `Authorization: Bearer <requestToken>` → `{"value": "<jwt>"}`,
 * the exchange npm's `lib/utils/oidc.js` performs; the token carries the requested audience.
 */
export async function startActionsTokenEndpoint(
  issuer: LocalOidcIssuer,
  claims: Readonly<Record<string, unknown>> = {},
  options: Omit<MintOptions, 'audience'> = {},
): Promise<ActionsTokenEndpoint> {
  const requestToken = randomBytes(24).toString('base64url');
  const audiences: (string | null)[] = [];
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.headers.authorization !== `Bearer ${requestToken}`) {
      return sendJson(response, 401, { message: 'Bad credentials' });
    }
    const audience = new URL(request.url ?? '/', 'http://127.0.0.1').searchParams.get('audience');
    audiences.push(audience);
    // Without an audience GitHub uses the repository owner's URL.
    issuer.mint(claims, { ...options, audience: audience ?? 'https://github.com/acme' }).then(
      (value) => sendJson(response, 200, { count: 1, value }),
      () => sendJson(response, 500, { message: 'mint failed' }),
    );
    return undefined;
  });
  const port = await listen(server);
  const url = `http://127.0.0.1:${port}/_apis/distributedtask/hubs/Actions/plans/p/jobs/j/idtoken?api-version=2.0`;
  return {
    url,
    requestToken,
    env: Object.freeze({
      GITHUB_ACTIONS: 'true',
      ACTIONS_ID_TOKEN_REQUEST_URL: url,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken,
    }),
    audiences,
    close: () => close(server),
  };
}
