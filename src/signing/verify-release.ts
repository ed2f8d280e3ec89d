/**
 * Our verifier of release attestations: parses the bundle itself, checks the DSSE signature with Node
 * crypto, judges the key's validity at the signed time, then subject, digest and policy; and finally
 * cross-checks the signature with `@sigstore/verify`. Each refusal has its own code (see errors.ts).
 */
import { createPublicKey } from 'node:crypto';
import { computeSha512Hex, type ArtifactSource } from './digest.ts';
import { IN_TOTO_PAYLOAD_TYPE, verifyDsseSignature, type DsseEnvelope } from './dsse.ts';
import { fail } from './errors.ts';
import { parseDsseBundle } from './bundle-parser.ts';
import type { KeyLookup, KeyRecord } from './key-ring.ts';
import { isKeyValidAt } from './key-ring.ts';
import {
  findQuorumProblems,
  findReleasePredicateProblems,
  isPlainObject,
  RELEASE_PREDICATE_TYPE,
  type ReleasePredicate,
} from './release-predicate.ts';
import type { ReleaseStatement } from './attest.ts';
import { checkBundleWithSigstore } from './sigstore-bundle.ts';
import { IN_TOTO_STATEMENT_TYPE, isSha512Hex, toNpmPurl } from './statement.ts';

/** A policy's verdict, in the shape of `src/policy`'s `Decision`. */
export interface PolicyDecision {
  readonly allow: boolean;
  readonly reasons: readonly string[];
}

/** Judges whether the recorded policy (id, version, M) is the one that applied to this package. */
export type PolicyCheck = (
  predicate: ReleasePredicate,
  statement: ReleaseStatement,
) => PolicyDecision | Promise<PolicyDecision>;

/** Options of `verifyRelease`. */
export interface VerifyReleaseOptions {
  /** The Sigstore bundle, parsed JSON or its text. */
  readonly bundle: unknown;
  /** The tarball (bytes, `{path}`, `{stream}`) or its sha512 (`{sha512}`, hex). */
  readonly artifact: ArtifactSource;
  /** The release the caller means; the statement must name exactly this. */
  readonly expected: { readonly name: string; readonly version: string };
  /** The key set (a `KeyRing`, or one read from `/keys` with `keySetFromJson`). */
  readonly keys: KeyLookup;
  /** Extra policy judgement by the caller, after the built-in quorum rule. */
  readonly policyCheck?: PolicyCheck;
  /** Also verify with `@sigstore/verify`; default true. */
  readonly crossCheckWithSigstore?: boolean;
  /** The verifier's clock, to refuse statements dated in the future; default now. */
  readonly now?: Date;
}

/** What a successful verification established. */
export interface VerifiedRelease {
  readonly statement: ReleaseStatement;
  readonly predicate: ReleasePredicate;
  readonly keyId: string;
  /** `times.attestedAt`: the signing time the key's window was judged at. */
  readonly signedAt: Date;
  /** SHA-512 (hex) of the tarball, equal to the subject's. */
  readonly sha512: string;
}

// A statement dated further ahead than this of the verifier's clock was not signed "now" by an honest gate.
const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** Verifies a release attestation; resolves to what it proved, or throws an `AttestationVerificationError`. */
export async function verifyRelease(options: VerifyReleaseOptions): Promise<VerifiedRelease> {
  const expectedPurl = toNpmPurl(options.expected.name, options.expected.version);
  // Hash while the signature is checked; abort the read if the signature already fails.
  const controller = new AbortController();
  const hashing = computeSha512Hex(options.artifact, controller.signal);
  hashing.catch(() => undefined);
  try {
    const parsed = parseDsseBundle(options.bundle);
    if (parsed.material.kind !== 'publicKey') {
      throw fail(
        'malformedBundle',
        'a release attestation names its key by hint (verificationMaterial.publicKey)',
      );
    }
    const { envelope, sig, json } = parsed;
    const hint = parsed.material.hint;
    const key = await options.keys.getKey(hint);
    if (key === undefined) throw fail('keyUnknown', `no key ${hint} in the key set`, { keyId: hint });
    const publicKey = createPublicKey(key.publicKeyPem);
    if (!verifyDsseSignature(envelope, sig, publicKey)) {
      throw fail('badSignature', `the signature does not verify with key ${hint}`, { keyId: hint });
    }
    if (key.retiredAt !== undefined) {
      throw fail('keyRetired', `key ${hint} was retired at ${key.retiredAt}`, {
        keyId: hint,
        retiredAt: key.retiredAt,
      });
    }
    if (options.crossCheckWithSigstore ?? true) {
      const refusal = checkBundleWithSigstore(json, hint, key.publicKeyPem);
      if (refusal !== undefined)
        throw fail('sigstoreRejected', `@sigstore/verify refused the bundle: ${refusal}`);
    }
    const statement = parseReleaseStatement(envelope);
    const signedAt = new Date(statement.predicate.times.attestedAt);
    assertKeyValidAt(key, signedAt, options.now ?? new Date());
    const subject = statement.subject[0]!;
    if (subject.name !== expectedPurl) {
      throw fail('subjectMismatch', `the attestation is for ${subject.name}, not ${expectedPurl}`, {
        expected: expectedPurl,
        actual: subject.name,
      });
    }
    const sha512 = await hashing;
    if (sha512 !== subject.digest.sha512) {
      throw fail('digestMismatch', `the tarball's sha512 is not the one attested for ${expectedPurl}`);
    }
    const reasons = findQuorumProblems(statement.predicate);
    if (options.policyCheck !== undefined) {
      const decision = await options.policyCheck(statement.predicate, statement);
      if (!decision.allow) reasons.push(...decision.reasons);
    }
    if (reasons.length > 0) {
      throw fail('policyNotMet', `the approvals do not meet the policy: ${reasons.join('; ')}`, { reasons });
    }
    return { statement, predicate: statement.predicate, keyId: hint, signedAt, sha512 };
  } finally {
    controller.abort();
  }
}

function parseReleaseStatement(envelope: DsseEnvelope): ReleaseStatement {
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw fail('malformedStatement', `payloadType is ${envelope.payloadType}, not ${IN_TOTO_PAYLOAD_TYPE}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(envelope.payload.toString('utf8'));
  } catch (cause) {
    throw fail('malformedStatement', 'the payload is not JSON', undefined, cause);
  }
  if (!isPlainObject(value) || value._type !== IN_TOTO_STATEMENT_TYPE) {
    throw fail('malformedStatement', `the payload is not an in-toto Statement v1`);
  }
  if (value.predicateType !== RELEASE_PREDICATE_TYPE) {
    throw fail('malformedStatement', `predicateType is not ${RELEASE_PREDICATE_TYPE}`);
  }
  const subjects = value.subject;
  if (
    !Array.isArray(subjects) ||
    subjects.length !== 1 ||
    !isPlainObject(subjects[0]) ||
    typeof subjects[0].name !== 'string' ||
    !isPlainObject(subjects[0].digest) ||
    !isSha512Hex(subjects[0].digest.sha512)
  ) {
    throw fail('malformedStatement', 'the statement must have one subject with a sha512 digest');
  }
  const problems = findReleasePredicateProblems(value.predicate);
  if (problems.length > 0) {
    throw fail('malformedStatement', `the release predicate is invalid at ${problems.join(', ')}`, {
      fields: problems,
    });
  }
  return value as unknown as ReleaseStatement;
}

function assertKeyValidAt(key: KeyRecord, signedAt: Date, now: Date): void {
  if (signedAt.getTime() > now.getTime() + MAX_CLOCK_SKEW_MS) {
    throw fail('keyNotValidAtSigning', `the attestation is dated ${signedAt.toISOString()}, in the future`, {
      keyId: key.keyId,
      signedAt: signedAt.toISOString(),
    });
  }
  if (!isKeyValidAt(key, signedAt)) {
    throw fail(
      'keyNotValidAtSigning',
      `key ${key.keyId} was not valid at ${signedAt.toISOString()} (valid ${key.notBefore} to ${key.notAfter ?? 'open'})`,
      {
        keyId: key.keyId,
        signedAt: signedAt.toISOString(),
        notBefore: key.notBefore,
        notAfter: key.notAfter,
      },
    );
  }
}
