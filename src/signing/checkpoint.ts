/**
 * Signed audit-log checkpoints: the gate's key signs the chain's head (sequence number and hash) as
 * a DSSE envelope in a Sigstore bundle. Kept outside the gate (a ticket, another system), a
 * checkpoint makes a log cut short detectable: the chain verifies on its own, but no longer
 * reaches the signed head.
 */
import { createPublicKey } from 'node:crypto';
import { parseDsseBundle } from './bundle-parser.ts';
import { verifyDsseSignature } from './dsse.ts';
import { fail } from './errors.ts';
import { isKeyValidAt, type KeyLookup } from './key-ring.ts';
import { isPlainObject } from './release-predicate.ts';
import { createDsseBundle, type SigstoreBundleJson } from './sigstore-bundle.ts';
import type { Signer } from './signer.ts';

/** The payload type of a checkpoint; a new shape gets a new type. */
export const CHECKPOINT_PAYLOAD_TYPE = 'application/vnd.pubgate.audit-checkpoint.v1+json';

/** What a checkpoint states: the chain had `seq` events and the last one hashed to `hash`, at `at`. */
export interface AuditCheckpoint {
  readonly seq: number;
  readonly hash: string;
  readonly at: string;
}

/** Signs a checkpoint of the audit chain's head. */
export function signAuditCheckpoint(
  signer: Signer,
  checkpoint: AuditCheckpoint,
): Promise<SigstoreBundleJson> {
  const payload = Buffer.from(
    JSON.stringify({ seq: checkpoint.seq, hash: checkpoint.hash, at: checkpoint.at }),
    'utf8',
  );
  return createDsseBundle(signer, payload, CHECKPOINT_PAYLOAD_TYPE);
}

/** Verifies a checkpoint bundle against the gate's keys; throws `ERR_VERIFY_*`, returns what it states. */
export async function verifyAuditCheckpoint(bundle: unknown, keys: KeyLookup): Promise<AuditCheckpoint> {
  const parsed = parseDsseBundle(bundle);
  if (parsed.material.kind !== 'publicKey')
    throw fail('malformedBundle', 'a checkpoint is signed by a gate key, not a certificate');
  const keyId = parsed.material.hint;
  const key = await keys.getKey(keyId);
  if (key === undefined) throw fail('keyUnknown', `no gate key ${keyId}`, { keyId });
  if (!verifyDsseSignature(parsed.envelope, parsed.sig, createPublicKey(key.publicKeyPem)))
    throw fail('badSignature', `the checkpoint signature does not verify with ${keyId}`, { keyId });
  if (key.retiredAt !== undefined) throw fail('keyRetired', `gate key ${keyId} was retired`, { keyId });
  if (parsed.envelope.payloadType !== CHECKPOINT_PAYLOAD_TYPE)
    throw fail('malformedStatement', `the payload is not a ${CHECKPOINT_PAYLOAD_TYPE}`);
  let value: unknown;
  try {
    value = JSON.parse(parsed.envelope.payload.toString('utf8'));
  } catch (cause) {
    throw fail('malformedStatement', 'the checkpoint payload is not JSON', undefined, cause);
  }
  if (
    !isPlainObject(value) ||
    !Number.isSafeInteger(value.seq) ||
    (value.seq as number) < 0 ||
    typeof value.hash !== 'string' ||
    !/^[0-9a-f]{64}$/.test(value.hash) ||
    typeof value.at !== 'string' ||
    Number.isNaN(Date.parse(value.at))
  ) {
    throw fail('malformedStatement', 'the checkpoint payload is not {seq, hash, at}');
  }
  if (!isKeyValidAt(key, new Date(value.at)))
    throw fail('keyNotValidAtSigning', `gate key ${keyId} was not valid at ${value.at}`, { keyId });
  return { seq: value.seq as number, hash: value.hash, at: value.at };
}
