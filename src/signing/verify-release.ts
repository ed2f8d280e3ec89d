/**
 * Our verifier of release attestations: parses the bundle itself, checks the DSSE signature with Node
 * crypto, judges the key's validity at the signed time, then subject, digest and policy; and finally
 * cross-checks the signature with `@sigstore/verify`. Each refusal has its own code (see errors.ts).
 */
import { createPublicKey } from 'node:crypto';
import { computeSha512Hex, type ArtifactSource } from './digest.ts';
import { decodeBase64Strict, IN_TOTO_PAYLOAD_TYPE, verifyDsseSignature, type DsseEnvelope } from './dsse.ts';
import { AttestationVerificationError, VERIFY_ERROR_CODES } from './errors.ts';
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
import { checkBundleWithSigstore, SIGSTORE_BUNDLE_V03_MEDIA_TYPE } from './sigstore-bundle.ts';
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
// An attestation is a few kilobytes; anything this large is hostile, and JSON.parse on it is costly.
const MAX_BUNDLE_CHARS = 1 << 20;

/** Verifies a release attestation; resolves to what it proved, or throws an `AttestationVerificationError`. */
export async function verifyRelease(options: VerifyReleaseOptions): Promise<VerifiedRelease> {
  const expectedPurl = toNpmPurl(options.expected.name, options.expected.version);
  // Hash while the signature is checked; abort the read if the signature already fails.
  const controller = new AbortController();
  const hashing = computeSha512Hex(options.artifact, controller.signal);
  hashing.catch(() => undefined);
  try {
    const { hint, envelope, sig, json } = parseKeyedDsseBundle(options.bundle);
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

/** A bundle decoded by our own parser: the key hint, the envelope, and its one signature. */
interface KeyedDsseBundle {
  readonly hint: string;
  readonly envelope: DsseEnvelope;
  readonly sig: Buffer;
  readonly json: Record<string, unknown>;
}

/** Parses a Sigstore bundle v0.3 with a public-key hint and a DSSE envelope, without sigstore-js. */
export function parseKeyedDsseBundle(input: unknown): KeyedDsseBundle {
  const json = parseJsonObject(input);
  if (json.mediaType !== SIGSTORE_BUNDLE_V03_MEDIA_TYPE) {
    throw fail('malformedBundle', `the bundle's mediaType is not ${SIGSTORE_BUNDLE_V03_MEDIA_TYPE}`);
  }
  const material = json.verificationMaterial;
  const hint =
    isPlainObject(material) && isPlainObject(material.publicKey) ? material.publicKey.hint : undefined;
  if (typeof hint !== 'string' || hint.length === 0 || hint.length > 256) {
    throw fail('malformedBundle', 'the bundle names no public key (verificationMaterial.publicKey.hint)');
  }
  const dsse = json.dsseEnvelope;
  if (!isPlainObject(dsse)) throw fail('malformedBundle', 'the bundle holds no DSSE envelope');
  const payload = decodeBase64Strict(dsse.payload);
  if (payload === undefined || typeof dsse.payloadType !== 'string') {
    throw fail('malformedBundle', 'the DSSE envelope has no base64 payload or no payloadType');
  }
  const signatures = dsse.signatures;
  if (signatures === undefined || (Array.isArray(signatures) && signatures.length === 0)) {
    throw fail('unsigned', 'the DSSE envelope carries no signature');
  }
  if (!Array.isArray(signatures) || signatures.length !== 1 || !isPlainObject(signatures[0])) {
    throw fail('malformedBundle', 'a bundle carries exactly one DSSE signature');
  }
  const entry = signatures[0];
  if (entry.sig === undefined || entry.sig === '') throw fail('unsigned', 'the DSSE signature is empty');
  const sig = decodeBase64Strict(entry.sig);
  if (sig === undefined) throw fail('malformedBundle', 'the DSSE signature is not base64');
  // npm reads signatures[0].keyid and sigstore-js reads the hint; both must name the same key.
  if (entry.keyid !== undefined && entry.keyid !== '' && entry.keyid !== hint) {
    throw fail('malformedBundle', 'the signature keyid and the bundle key hint differ');
  }
  return {
    hint,
    envelope: { payloadType: dsse.payloadType, payload, signatures: [{ keyid: hint, sig }] },
    sig,
    json,
  };
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

function parseJsonObject(input: unknown): Record<string, unknown> {
  let value = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
    if (text.length > MAX_BUNDLE_CHARS) throw fail('malformedBundle', 'the bundle is too large');
    try {
      value = JSON.parse(text);
    } catch (cause) {
      throw fail('malformedBundle', 'the bundle is not JSON', undefined, cause);
    }
  }
  if (!isPlainObject(value)) throw fail('malformedBundle', 'the bundle is not a JSON object');
  return value;
}

/** Builds the coded error for a refusal. */
export function fail(
  reason: keyof typeof VERIFY_ERROR_CODES,
  message: string,
  details?: Record<string, unknown>,
  cause?: unknown,
): AttestationVerificationError {
  return new AttestationVerificationError(VERIFY_ERROR_CODES[reason], message, {
    ...(details === undefined ? {} : { details }),
    ...(cause === undefined ? {} : { cause }),
  });
}
