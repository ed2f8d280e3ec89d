/**
 * Build provenance (issue 6, point 2): a staged tarball may come with (a) a DSSE-signed in-toto
 * statement from a build key registered for the trusted publisher, or (b) npm's provenance bundle
 * (`<name>-<version>.sigstore`: SLSA provenance v1 in DSSE, signed by a Fulcio certificate).
 *
 * Verified offline: bundle shape, the DSSE signature (by the build key, or by the certificate's key),
 * the subject (name and sha512 equal to the staged tarball's), and the identity claims (certificate
 * extensions and the statement's workflow parameters) against the trusted publisher.
 * NOT verified offline: that the certificate was issued by the public-good Fulcio (unless the operator
 * supplies its root and intermediate as `trustedCertificates`), SCTs, the Rekor inclusion proof or
 * signed entry timestamp, and therefore the signing time. Without a trusted chain the identity in a
 * certificate is a claim anyone can write; the gate's authenticated OIDC identity of the stager is the
 * evidence, and this check makes the provenance consistent with it.
 */
import { createPublicKey } from 'node:crypto';
import { parseDsseBundle, SIGSTORE_BUNDLE_V02_MEDIA_TYPE } from './bundle-parser.ts';
import { IN_TOTO_PAYLOAD_TYPE, verifyDsseSignature } from './dsse.ts';
import { fail } from './errors.ts';
import { isKeyValidAt, type KeyLookup } from './key-ring.ts';
import { isPlainObject } from './release-predicate.ts';
import { SIGSTORE_BUNDLE_V03_MEDIA_TYPE } from './sigstore-bundle.ts';
import { IN_TOTO_STATEMENT_TYPE, isSha512Hex, toNpmPurl, type Statement } from './statement.ts';
import { chainsToTrusted, readCertificate } from './x509.ts';

/** The predicate type of SLSA provenance v1, which npm publishes. */
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';

/** The trusted publisher the provenance must come from; absent fields are not checked. */
export interface TrustedPublisher {
  /** OIDC issuer, e.g. `https://token.actions.githubusercontent.com` (checked for certificates). */
  readonly issuer: string;
  /** Source repository URL, e.g. `https://github.com/acme/widget`. */
  readonly repository?: string;
  /** Immutable repository id (GitHub `repository_id`). */
  readonly repositoryId?: string;
  /** Immutable owner id (GitHub `repository_owner_id`). */
  readonly repositoryOwnerId?: string;
  /** Workflow file path in the repository, e.g. `.github/workflows/release.yml`. */
  readonly workflowPath?: string;
  /** Allowed git refs; a trailing `*` matches a prefix (`refs/tags/v*`). */
  readonly refs?: readonly string[];
  /** Required deployment environment (GitHub `environment`). */
  readonly environment?: string;
  /** Required runner environment, e.g. `github-hosted`. */
  readonly runnerEnvironment?: string;
  /** The source commit (when the gate knows the exact run, from its OIDC token's `sha`). */
  readonly commit?: string;
  /** The pipeline definition as a URI (Fulcio's Build Config URI); a trailing `*` matches a prefix. */
  readonly buildConfigUri?: string;
  /** The workflow that signed (Fulcio's Build Signer URI, a reusable workflow); a trailing `*` matches a prefix. */
  readonly buildSignerUri?: string;
  /** What triggered the build (GitHub `event_name`, GitLab `pipeline_source`). */
  readonly trigger?: string;
  /** The ref must start with this (`refs/tags/` for a publisher pinned to tags). */
  readonly refPrefix?: string;
  /** The repository URL must start with this (an owner or namespace: `https://github.com/acme/`). */
  readonly repositoryPrefix?: string;
}

/** Identity claims read from the certificate or the statement, normalised. */
export interface BuildIdentityClaims {
  readonly issuer?: string;
  readonly repository?: string;
  readonly repositoryId?: string;
  readonly repositoryOwnerId?: string;
  readonly workflowPath?: string;
  readonly ref?: string;
  readonly environment?: string;
  readonly runnerEnvironment?: string;
  readonly trigger?: string;
  readonly commit?: string;
  readonly buildConfigUri?: string;
  readonly buildSignerUri?: string;
}

/** Options of `verifyBuildProvenance`. */
export interface VerifyBuildProvenanceOptions {
  /** SHA-512 (hex) of the staged tarball. */
  readonly sha512: string;
  /** The package and version being staged; the subject must name it. */
  readonly expected: { readonly name: string; readonly version: string };
  readonly publisher: TrustedPublisher;
  /** Keys registered for this publisher's DSSE-signed statements (case a). */
  readonly buildKeys?: KeyLookup;
  /** PEM certificates (e.g. Fulcio's root and intermediate) to check the certificate chain offline. */
  readonly trustedCertificates?: readonly string[];
  /** Refuse certificate bundles unless their chain verifies against `trustedCertificates`. */
  readonly requireCertificateChain?: boolean;
  readonly now?: Date;
}

/** What was verified, and what was not. */
export interface VerifiedBuildProvenance {
  readonly kind: 'build-key' | 'certificate';
  readonly statement: Statement<unknown>;
  readonly identity: BuildIdentityClaims;
  /** The build key's id (case a). */
  readonly keyId?: string;
  /** True only when the certificate chained to `trustedCertificates`. */
  readonly certificateChainVerified: boolean;
  /** Always false offline: no Rekor inclusion proof or SET is checked. */
  readonly transparencyLogVerified: false;
}

const GITHUB_EVENTS_REFUSED: ReadonlySet<string> = new Set(['pull_request_target']);

/** Verifies build provenance for a staged tarball; throws an `AttestationVerificationError` with a distinct code. */
export async function verifyBuildProvenance(
  bundle: unknown,
  options: VerifyBuildProvenanceOptions,
): Promise<VerifiedBuildProvenance> {
  if (!isSha512Hex(options.sha512)) throw new TypeError('sha512 must be 128 lowercase hex characters');
  const parsed = parseDsseBundle(
    asProvenanceBundle(bundle),
    new Set([SIGSTORE_BUNDLE_V03_MEDIA_TYPE, SIGSTORE_BUNDLE_V02_MEDIA_TYPE]),
  );
  const now = options.now ?? new Date();
  let kind: VerifiedBuildProvenance['kind'];
  let certificateClaims: BuildIdentityClaims | undefined;
  let certificateChainVerified = false;
  let keyId: string | undefined;

  if (parsed.material.kind === 'publicKey') {
    kind = 'build-key';
    keyId = parsed.material.hint;
    const key = await options.buildKeys?.getKey(keyId);
    if (key === undefined)
      throw fail('keyUnknown', `no build key ${keyId} is registered for this publisher`, { keyId });
    if (!verifyDsseSignature(parsed.envelope, parsed.sig, createPublicKey(key.publicKeyPem))) {
      throw fail('badSignature', `the provenance signature does not verify with build key ${keyId}`, {
        keyId,
      });
    }
    if (key.retiredAt !== undefined) throw fail('keyRetired', `build key ${keyId} was retired`, { keyId });
    // A statement carries no trusted signing time; the build key must be valid when the artifact is staged.
    if (!isKeyValidAt(key, now))
      throw fail('keyNotValidAtSigning', `build key ${keyId} is not valid now`, { keyId });
  } else {
    kind = 'certificate';
    const { leaf, chain } = parsed.material;
    let cert;
    try {
      cert = readCertificate(leaf);
    } catch (cause) {
      throw fail('malformedBundle', 'the bundle certificate does not parse', undefined, cause);
    }
    if (!verifyDsseSignature(parsed.envelope, parsed.sig, cert.publicKey)) {
      throw fail('badSignature', 'the provenance signature does not verify with the certificate key');
    }
    const trusted = options.trustedCertificates ?? [];
    if (trusted.length > 0) {
      if (!chainsToTrusted(leaf, chain, trusted)) {
        throw fail('untrustedCertificate', 'the signing certificate does not chain to a trusted certificate');
      }
      // The tlog time is the only signing time in the bundle, and offline it is not authenticated.
      const signedAt =
        parsed.integratedTime === undefined ? undefined : new Date(parsed.integratedTime * 1000);
      if (signedAt !== undefined && (signedAt < cert.notBefore || signedAt > cert.notAfter)) {
        throw fail('untrustedCertificate', 'the certificate was not valid at the recorded integration time');
      }
      certificateChainVerified = true;
    } else if (options.requireCertificateChain === true) {
      throw fail(
        'untrustedCertificate',
        'policy requires a verified certificate chain and no trusted certificates are configured',
      );
    }
    const f = cert.fulcio;
    certificateClaims = {
      issuer: f.issuer ?? f.issuerV1,
      repository: f.sourceRepositoryUri,
      repositoryId: f.sourceRepositoryIdentifier,
      repositoryOwnerId: f.sourceRepositoryOwnerIdentifier,
      workflowPath: workflowPathOf(f.buildConfigUri, f.sourceRepositoryUri),
      ref: f.sourceRepositoryRef,
      environment: f.deploymentEnvironment,
      runnerEnvironment: f.runnerEnvironment,
      trigger: f.buildTrigger,
      commit: f.sourceRepositoryDigest,
      buildConfigUri: f.buildConfigUri,
      buildSignerUri: f.buildSignerUri,
    };
  }

  const statement = parseProvenanceStatement(parsed.envelope.payloadType, parsed.envelope.payload);
  const subjectName = toNpmPurl(options.expected.name, options.expected.version);
  const subject = statement.subject.find((s) => s.name === subjectName);
  if (subject === undefined) {
    throw fail('subjectMismatch', `the provenance is not about ${subjectName}`, { expected: subjectName });
  }
  if (subject.digest.sha512 !== options.sha512) {
    throw fail('digestMismatch', `the provenance subject digest is not the staged tarball's sha512`);
  }
  const statementClaims = slsaGithubClaims(statement);
  if (certificateClaims !== undefined) assertConsistent(certificateClaims, statementClaims);
  const identity = certificateClaims ?? statementClaims;
  assertPublisher(identity, options.publisher, kind);
  return {
    kind,
    statement,
    identity,
    ...(keyId === undefined ? {} : { keyId }),
    certificateChainVerified,
    transparencyLogVerified: false,
  };
}

/**
 * A build key's bare DSSE envelope (`{payloadType, payload, signatures: [{keyid, sig}]}`) becomes a
 * v0.3 bundle whose key hint is the signature's keyid; anything else is returned as it is.
 */
export function asProvenanceBundle(value: unknown): unknown {
  if (!isPlainObject(value) || value.mediaType !== undefined || !Array.isArray(value.signatures))
    return value;
  const first: unknown = value.signatures[0];
  const keyid = isPlainObject(first) && typeof first.keyid === 'string' ? first.keyid : '';
  return {
    mediaType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: { publicKey: { hint: keyid } },
    dsseEnvelope: { payloadType: value.payloadType, payload: value.payload, signatures: value.signatures },
  };
}

function parseProvenanceStatement(payloadType: string, payload: Buffer): Statement<unknown> {
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE)
    throw fail('malformedStatement', `payloadType is not ${IN_TOTO_PAYLOAD_TYPE}`);
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch (cause) {
    throw fail('malformedStatement', 'the payload is not JSON', undefined, cause);
  }
  // npm's provenance used Statement v0.1 before v1; both carry the same subject shape.
  const types = [IN_TOTO_STATEMENT_TYPE, 'https://in-toto.io/Statement/v0.1'];
  if (
    !isPlainObject(value) ||
    !types.includes(value._type as string) ||
    typeof value.predicateType !== 'string'
  ) {
    throw fail('malformedStatement', 'the payload is not an in-toto statement');
  }
  const subjects = value.subject;
  if (
    !Array.isArray(subjects) ||
    subjects.length === 0 ||
    !subjects.every((s: unknown) => isPlainObject(s) && typeof s.name === 'string' && isPlainObject(s.digest))
  ) {
    throw fail('malformedStatement', 'the statement has no valid subject');
  }
  return value as unknown as Statement<unknown>;
}

/** Claims from a SLSA v1 predicate of GitHub's workflow build type (externalParameters / internalParameters). */
function slsaGithubClaims(statement: Statement<unknown>): BuildIdentityClaims {
  if (statement.predicateType !== SLSA_PROVENANCE_V1 || !isPlainObject(statement.predicate)) return {};
  const def = statement.predicate.buildDefinition;
  if (!isPlainObject(def)) return {};
  const workflow = isPlainObject(def.externalParameters) ? def.externalParameters.workflow : undefined;
  const github = isPlainObject(def.internalParameters) ? def.internalParameters.github : undefined;
  const w = isPlainObject(workflow) ? workflow : {};
  const g = isPlainObject(github) ? github : {};
  const deps = Array.isArray(def.resolvedDependencies) ? def.resolvedDependencies : [];
  const first: unknown = deps[0];
  const commit = isPlainObject(first) && isPlainObject(first.digest) ? first.digest.gitCommit : undefined;
  return compact({
    repository: str(w.repository),
    workflowPath: str(w.path),
    ref: str(w.ref),
    repositoryId: str(g.repository_id),
    repositoryOwnerId: str(g.repository_owner_id),
    runnerEnvironment: str(g.runner_environment),
    trigger: str(g.event_name),
    commit: str(commit),
  });
}

function assertConsistent(cert: BuildIdentityClaims, statement: BuildIdentityClaims): void {
  for (const field of [
    'repository',
    'workflowPath',
    'ref',
    'repositoryId',
    'repositoryOwnerId',
    'trigger',
    'commit',
  ] as const) {
    const a = cert[field];
    const b = statement[field];
    if (a !== undefined && b !== undefined && a !== b) {
      throw fail('identityMismatch', `the statement's ${field} disagrees with the signing certificate`, {
        field,
      });
    }
  }
}

function assertPublisher(
  identity: BuildIdentityClaims,
  publisher: TrustedPublisher,
  kind: VerifiedBuildProvenance['kind'],
): void {
  const mismatches: string[] = [];
  // A build key is registered to its publisher, so a claim its statement omits is not contradicted;
  // a certificate must carry every claim the publisher pins.
  const lenient = kind === 'build-key';
  const need = (field: string, actual: string | undefined, expected: string | undefined): void => {
    if (expected === undefined || (lenient && actual === undefined)) return;
    if (actual !== expected) mismatches.push(field);
  };
  // A build key stands for its publisher's issuer; a certificate must name it.
  if (kind === 'certificate') need('issuer', identity.issuer, publisher.issuer);
  need('repository', identity.repository, publisher.repository);
  need('repositoryId', identity.repositoryId, publisher.repositoryId);
  need('repositoryOwnerId', identity.repositoryOwnerId, publisher.repositoryOwnerId);
  need('workflowPath', identity.workflowPath, publisher.workflowPath);
  need('environment', identity.environment, publisher.environment);
  need('runnerEnvironment', identity.runnerEnvironment, publisher.runnerEnvironment);
  need('commit', identity.commit, publisher.commit);
  need('trigger', identity.trigger, publisher.trigger);
  const pattern = (field: string, actual: string | undefined, expected: string | undefined): void => {
    if (expected === undefined || (lenient && actual === undefined)) return;
    if (!matchesUriPattern(actual, expected)) mismatches.push(field);
  };
  pattern('buildConfigUri', identity.buildConfigUri, publisher.buildConfigUri);
  pattern('buildSignerUri', identity.buildSignerUri, publisher.buildSignerUri);
  if (publisher.refs !== undefined && !publisher.refs.some((p) => matchesRef(identity.ref, p)))
    mismatches.push('ref');
  if (publisher.refPrefix !== undefined && identity.ref?.startsWith(publisher.refPrefix) !== true)
    mismatches.push('ref');
  if (
    publisher.repositoryPrefix !== undefined &&
    identity.repository?.startsWith(publisher.repositoryPrefix) !== true
  )
    mismatches.push('repository');
  if (identity.trigger !== undefined && GITHUB_EVENTS_REFUSED.has(identity.trigger))
    mismatches.push('trigger');
  if (mismatches.length > 0) {
    throw fail(
      'identityMismatch',
      `the provenance identity does not match the trusted publisher (${mismatches.join(', ')})`,
      {
        fields: mismatches,
      },
    );
  }
}

/** Like a ref pattern, but what the `*` stands for may not hold an `@`: a file named `a.yml@refs/tags/x` cannot pose as a ref. */
function matchesUriPattern(uri: string | undefined, pattern: string): boolean {
  if (uri === undefined) return false;
  if (!pattern.endsWith('*')) return uri === pattern;
  const prefix = pattern.slice(0, -1);
  return uri.startsWith(prefix) && !uri.slice(prefix.length).includes('@');
}

function matchesRef(ref: string | undefined, pattern: string): boolean {
  if (ref === undefined) return false;
  return pattern.endsWith('*') ? ref.startsWith(pattern.slice(0, -1)) : ref === pattern;
}

/** `.github/workflows/x.yml` from `https://github.com/o/r/.github/workflows/x.yml@refs/...`. */
function workflowPathOf(
  buildConfigUri: string | undefined,
  repository: string | undefined,
): string | undefined {
  if (
    buildConfigUri === undefined ||
    repository === undefined ||
    !buildConfigUri.startsWith(`${repository}/`)
  )
    return undefined;
  const rest = buildConfigUri.slice(repository.length + 1);
  const at = rest.lastIndexOf('@');
  return at === -1 ? rest : rest.slice(0, at);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

function compact(claims: Record<string, string | undefined>): BuildIdentityClaims {
  return Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined)) as BuildIdentityClaims;
}
