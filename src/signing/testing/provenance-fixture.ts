/**
 * Test helper: build provenance as npm attaches it (`<name>-<version>.sigstore`): SLSA provenance v1
 * shaped like GitHub Actions' workflow build type, in a DSSE envelope signed by a short-lived leaf
 * certificate from a self-made CA carrying Fulcio's extensions. No public fixture is copied.
 */
import { X509Certificate, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { preAuthEncoding } from '../dsse.ts';
import { buildCertificate } from './x509-builder.ts';

/** The GitHub workflow identity a provenance fixture claims. */
export interface WorkflowIdentity {
  readonly repository: string;
  readonly workflowPath: string;
  readonly ref: string;
  readonly repositoryId: string;
  readonly ownerId: string;
  readonly commit: string;
  readonly event: string;
}

/** The identity the fixtures use unless told otherwise. */
export const TEST_WORKFLOW: WorkflowIdentity = Object.freeze({
  repository: 'https://github.com/acme/widget',
  workflowPath: '.github/workflows/release.yml',
  ref: 'refs/tags/v1.2.3',
  repositoryId: '1234',
  ownerId: '99',
  commit: 'c'.repeat(40),
  event: 'push',
});

/** A CA and a leaf certificate with Fulcio-style extensions for a GitHub workflow identity. */
export interface Fulcioish {
  readonly caPem: string;
  readonly leafDer: Buffer;
  readonly leafKey: KeyObject;
}

/** Issues a CA and a ten-minute leaf for `identity`; `extensions` overrides single Fulcio OIDs. */
export function makeFulcioish(
  options: { now?: Date; identity?: Partial<WorkflowIdentity>; extensions?: Record<string, string> } = {},
): Fulcioish {
  const now = options.now ?? new Date();
  const id = { ...TEST_WORKFLOW, ...options.identity };
  const ca = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const leaf = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const caDer = buildCertificate({
    subject: 'pubgate test CA',
    issuer: 'pubgate test CA',
    publicKey: ca.publicKey,
    signingKey: ca.privateKey,
    notBefore: new Date(now.getTime() - 86_400_000),
    notAfter: new Date(now.getTime() + 86_400_000),
    isCA: true,
  });
  const workflowUri = `${id.repository}/${id.workflowPath}@${id.ref}`;
  const leafDer = buildCertificate({
    subject: '',
    issuer: 'pubgate test CA',
    publicKey: leaf.publicKey,
    signingKey: ca.privateKey,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + 540_000),
    serial: 42,
    sanUri: workflowUri,
    utf8Extensions: {
      '1.3.6.1.4.1.57264.1.8': 'https://token.actions.githubusercontent.com',
      '1.3.6.1.4.1.57264.1.9': workflowUri,
      '1.3.6.1.4.1.57264.1.11': 'github-hosted',
      '1.3.6.1.4.1.57264.1.12': id.repository,
      '1.3.6.1.4.1.57264.1.13': id.commit,
      '1.3.6.1.4.1.57264.1.14': id.ref,
      '1.3.6.1.4.1.57264.1.15': id.repositoryId,
      '1.3.6.1.4.1.57264.1.17': id.ownerId,
      '1.3.6.1.4.1.57264.1.18': workflowUri,
      '1.3.6.1.4.1.57264.1.20': id.event,
      ...options.extensions,
    },
  });
  return { caPem: new X509Certificate(caDer).toString(), leafDer, leafKey: leaf.privateKey };
}

/** A SLSA provenance v1 statement about `subject` (a purl) with `sha512`, from `identity`. */
export function slsaStatement(
  subject: { name: string; sha512: string },
  identity: Partial<WorkflowIdentity> = {},
): Record<string, unknown> {
  const id = { ...TEST_WORKFLOW, ...identity };
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: subject.name, digest: { sha512: subject.sha512 } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: {
        buildType: 'https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1',
        externalParameters: {
          workflow: { ref: id.ref, repository: id.repository, path: id.workflowPath },
        },
        internalParameters: {
          github: {
            event_name: id.event,
            repository_id: id.repositoryId,
            repository_owner_id: id.ownerId,
            runner_environment: 'github-hosted',
          },
        },
        resolvedDependencies: [{ uri: `git+${id.repository}@${id.ref}`, digest: { gitCommit: id.commit } }],
      },
      runDetails: {
        builder: { id: 'https://github.com/actions/runner/github-hosted' },
        metadata: { invocationId: `${id.repository}/actions/runs/1/attempts/1` },
      },
    },
  };
}

/** The shape of a provenance bundle as npm sends it. */
export interface ProvenanceBundleJson {
  mediaType: string;
  verificationMaterial: Record<string, unknown>;
  dsseEnvelope: {
    payload: string;
    payloadType: string;
    signatures: { sig: string; keyid: string }[];
  };
}

/** An npm-style provenance bundle: DSSE envelope signed by the leaf, certificate in the verification material. */
export function npmProvenanceBundle(
  f: Fulcioish,
  statement: object,
  options: { version?: '0.2' | '0.3'; now?: Date } = {},
): ProvenanceBundleJson {
  const payload = Buffer.from(JSON.stringify(statement));
  const sig = sign('sha256', preAuthEncoding('application/vnd.in-toto+json', payload), {
    key: f.leafKey,
    dsaEncoding: 'der',
  });
  const rawBytes = f.leafDer.toString('base64');
  const integratedTime = String(Math.floor((options.now ?? new Date()).getTime() / 1000));
  const tlogEntries = [{ logIndex: '1', integratedTime, canonicalizedBody: 'e30=' }];
  const v03 = (options.version ?? '0.3') === '0.3';
  return {
    mediaType: v03
      ? 'application/vnd.dev.sigstore.bundle.v0.3+json'
      : 'application/vnd.dev.sigstore.bundle+json;version=0.2',
    verificationMaterial: v03
      ? { certificate: { rawBytes }, tlogEntries }
      : { x509CertificateChain: { certificates: [{ rawBytes }] }, tlogEntries },
    dsseEnvelope: {
      payload: payload.toString('base64'),
      payloadType: 'application/vnd.in-toto+json',
      signatures: [{ sig: sig.toString('base64'), keyid: '' }],
    },
  };
}
