/** Building and signing the release attestation the gate makes when a release is approved. */
import { SIGN_ERROR_CODES, SigningError } from './errors.ts';
import { IN_TOTO_PAYLOAD_TYPE } from './dsse.ts';
import {
  findReleasePredicateProblems,
  RELEASE_PREDICATE_TYPE,
  type ReleasePredicate,
  type ReleaseTimes,
} from './release-predicate.ts';
import { createDsseBundle, type SigstoreBundleJson } from './sigstore-bundle.ts';
import type { Signer } from './signer.ts';
import { IN_TOTO_STATEMENT_TYPE, isSha512Hex, toNpmPurl, type Statement } from './statement.ts';

/** The in-toto statement of a pubgate release. */
export type ReleaseStatement = Statement<ReleasePredicate>;

/** What the gate knows about an approved release; `times.attestedAt` is filled in at signing. */
export interface ReleaseAttestationInput {
  readonly name: string;
  readonly version: string;
  /** SHA-512 of the staged tarball, lowercase hex (see `sha512HexFromIntegrity`). */
  readonly sha512: string;
  readonly predicate: Omit<ReleasePredicate, 'times'> & { readonly times: Omit<ReleaseTimes, 'attestedAt'> };
}

/** Options of `signReleaseAttestation`. */
export interface SignReleaseAttestationOptions {
  readonly signer: Signer;
  readonly release: ReleaseAttestationInput;
  /** The signing instant recorded as `times.attestedAt`; defaults to now. */
  readonly now?: Date;
}

/** A signed attestation: the Sigstore bundle to store and serve, and the statement inside it. */
export interface SignedReleaseAttestation {
  readonly bundle: SigstoreBundleJson;
  readonly statement: ReleaseStatement;
}

/** Builds the in-toto Statement v1 of a release (subject `pkg:npm/<name>@<version>` with its sha512). */
export function buildReleaseStatement(release: ReleaseAttestationInput, attestedAt: Date): ReleaseStatement {
  if (!isSha512Hex(release.sha512)) {
    throw new SigningError(SIGN_ERROR_CODES.invalidRelease, 'sha512 must be 128 lowercase hex characters');
  }
  let subjectName: string;
  try {
    subjectName = toNpmPurl(release.name, release.version);
  } catch (cause) {
    throw new SigningError(
      SIGN_ERROR_CODES.invalidRelease,
      'the release name or version is not valid for a package URL',
      { cause },
    );
  }
  const predicate: ReleasePredicate = {
    ...release.predicate,
    times: { ...release.predicate.times, attestedAt: attestedAt.toISOString() },
  };
  const problems = findReleasePredicateProblems(predicate);
  if (problems.length > 0) {
    throw new SigningError(
      SIGN_ERROR_CODES.invalidRelease,
      `the release predicate is invalid at ${problems.join(', ')}`,
      {
        details: { fields: problems },
      },
    );
  }
  return {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: [{ name: subjectName, digest: { sha512: release.sha512 } }],
    predicateType: RELEASE_PREDICATE_TYPE,
    predicate,
  };
}

/** Builds, signs (DSSE) and bundles (Sigstore v0.3, key hint = key id) the attestation of an approved release. */
export async function signReleaseAttestation(
  options: SignReleaseAttestationOptions,
): Promise<SignedReleaseAttestation> {
  const statement = buildReleaseStatement(options.release, options.now ?? new Date());
  const payload = Buffer.from(JSON.stringify(statement), 'utf8');
  const bundle = await createDsseBundle(options.signer, payload, IN_TOTO_PAYLOAD_TYPE);
  return { bundle, statement };
}
