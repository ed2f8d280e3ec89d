/**
 * The one module that touches sigstore-js (`@sigstore/sign`, `@sigstore/bundle`, `@sigstore/verify`):
 * building Sigstore bundles v0.3 around a DSSE envelope signed by our `Signer`, and verifying them
 * offline with a public key (no Fulcio, Rekor or TSA: all thresholds are 0, see DESIGN.md Choices).
 */
import { createPublicKey } from 'node:crypto';
import { bundleFromJSON, bundleToJSON } from '@sigstore/bundle';
import { DSSEBundleBuilder, type Signer as SigstoreSigner } from '@sigstore/sign';
import { toSignedEntity, Verifier, type TrustMaterial } from '@sigstore/verify';
import type { Signer } from './signer.ts';

/** The media type of a Sigstore bundle v0.3. */
export const SIGSTORE_BUNDLE_V03_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/** A Sigstore bundle in its JSON form, as stored, served and attached as `<name>-<version>.sigstore`. */
export interface SigstoreBundleJson {
  readonly mediaType: string;
  readonly verificationMaterial: Readonly<Record<string, unknown>>;
  readonly dsseEnvelope?: {
    readonly payload: string;
    readonly payloadType: string;
    readonly signatures: readonly { readonly sig: string; readonly keyid: string }[];
  };
  readonly [field: string]: unknown;
}

/** Signs `payload` as a DSSE envelope with `signer` and packs it in a v0.3 bundle whose key hint is the key id. */
export async function createDsseBundle(
  signer: Signer,
  payload: Uint8Array,
  payloadType: string,
): Promise<SigstoreBundleJson> {
  const adapter: SigstoreSigner = {
    sign: async (data: Buffer) => ({
      signature: Buffer.from(await signer.sign(data)),
      key: { $case: 'publicKey', publicKey: signer.publicKeyPem, hint: signer.keyId },
    }),
  };
  // No witnesses: offline there is no Rekor or TSA; the gate's own key and key set carry the trust.
  const builder = new DSSEBundleBuilder({ signer: adapter, witnesses: [] });
  const bundle = await builder.create({ data: Buffer.from(payload), type: payloadType });
  return bundleToJSON(bundle) as unknown as SigstoreBundleJson;
}

/**
 * Verifies a public-key bundle with `@sigstore/verify` (thresholds 0). Returns an error message when
 * sigstore-js refuses it, or undefined when it verifies. `publicKeyPem` is the key the hint resolved to.
 */
export function checkBundleWithSigstore(
  bundleJson: unknown,
  hint: string,
  publicKeyPem: string,
): string | undefined {
  try {
    const bundle = bundleFromJSON(bundleJson);
    const key = createPublicKey(publicKeyPem);
    const trust: TrustMaterial = {
      certificateAuthorities: [],
      timestampAuthorities: [],
      tlogs: [],
      ctlogs: [],
      publicKey: (requested: string) => {
        if (requested !== hint) throw new Error(`unexpected key hint`);
        // With no timestamps sigstore-js never asks for validity; our verifier judges the window itself.
        return { publicKey: key, validFor: () => true };
      },
    };
    new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(
      toSignedEntity(bundle),
    );
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : 'refused';
  }
}
