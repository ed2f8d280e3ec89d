/** Coded errors of the signing capability: `ERR_SIGN_*` when producing, `ERR_VERIFY_*` when checking. */
import { PubgateError } from '../errors/index.ts';

/** Every code `verifyRelease` and `verifyBuildProvenance` can throw; one per kind of refusal. */
export const VERIFY_ERROR_CODES = Object.freeze({
  /** The bundle is not a Sigstore bundle v0.3 with a DSSE envelope and a key hint we can read. */
  malformedBundle: 'ERR_VERIFY_MALFORMED_BUNDLE',
  /** The envelope carries no signature (stripped). */
  unsigned: 'ERR_VERIFY_UNSIGNED',
  /** The signature does not verify: statement tampered, or signed by another key than the hint names. */
  badSignature: 'ERR_VERIFY_BAD_SIGNATURE',
  /** The key hint names no key in the key set. */
  keyUnknown: 'ERR_VERIFY_KEY_UNKNOWN',
  /** The key was outside its validity window at the signing time the statement records. */
  keyNotValidAtSigning: 'ERR_VERIFY_KEY_NOT_VALID_AT_SIGNING',
  /** The key was retired (rotated out / withdrawn): nothing it signed is trusted any more. */
  keyRetired: 'ERR_VERIFY_KEY_RETIRED',
  /** The payload is not an in-toto Statement v1 with our release predicate. */
  malformedStatement: 'ERR_VERIFY_MALFORMED_STATEMENT',
  /** The statement is about another package or version. */
  subjectMismatch: 'ERR_VERIFY_SUBJECT_MISMATCH',
  /** The tarball's sha512 is not the one the statement names. */
  digestMismatch: 'ERR_VERIFY_DIGEST_MISMATCH',
  /** The approvals recorded do not meet the policy (quorum, requester approved, duplicates). */
  policyNotMet: 'ERR_VERIFY_POLICY_NOT_MET',
  /** Our verifier accepted but `@sigstore/verify` refused: the two implementations disagree. */
  sigstoreRejected: 'ERR_VERIFY_SIGSTORE_REJECTED',
  /** A build provenance bundle's signer identity is not the trusted publisher. */
  identityMismatch: 'ERR_VERIFY_IDENTITY_MISMATCH',
  /** A build provenance certificate does not chain to a supplied trusted root, or is expired. */
  untrustedCertificate: 'ERR_VERIFY_UNTRUSTED_CERTIFICATE',
});

/** Every code raised while producing signatures or managing keys. */
export const SIGN_ERROR_CODES = Object.freeze({
  /** No key in the ring is valid now, so nothing can be signed. */
  noActiveKey: 'ERR_SIGN_NO_ACTIVE_KEY',
  /** The key asked for does not exist in the ring. */
  keyUnknown: 'ERR_SIGN_KEY_UNKNOWN',
  /** A sealed private key did not open or does not match its public key. */
  keyUnusable: 'ERR_SIGN_KEY_UNUSABLE',
  /** The PKCS#11 module, token, PIN or key could not be used. */
  pkcs11: 'ERR_SIGN_PKCS11',
  /** The release facts given to the attestation builder are incomplete or malformed. */
  invalidRelease: 'ERR_SIGN_INVALID_RELEASE',
});

/** A release attestation or build provenance failed verification; `code` says why. */
export class AttestationVerificationError extends PubgateError {}

/** Producing a signature or managing a signing key failed; `code` says why. */
export class SigningError extends PubgateError {}

/** Builds the coded verification error for a refusal. */
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
