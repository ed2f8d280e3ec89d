/**
 * The gate's controls and their mapping, with exact identifiers, to OWASP NHI Top 10 (2025), NIST
 * CSF 2.0, NIST SP 800-218 (SSDF), SLSA v1.0 build levels and the NIST AI RMF. Each control names
 * the audit actions that are its evidence and the findings that break it.
 */
import { INVENTORY_ERROR_CODES, InventoryError } from './errors.ts';
import { isValidControlId, type FrameworkId } from './frameworks.ts';
import type { FindingKind } from './types.ts';

/** One mapping of a control to a framework identifier. */
export interface ControlMapping {
  readonly framework: FrameworkId;
  readonly id: string;
}

/** How a control is judged. */
export type ControlKind =
  /** Enforced by the gate's code for every release; broken only by the findings listed. */
  | 'by-design'
  /** Holds when no finding of the listed kinds exists. */
  | 'hygiene'
  /** Holds when the audit chain verifies. */
  | 'audit-chain'
  /** Enforced when configured (trusted publishers). */
  | 'configured'
  /** Not yet wired into the gate (release signing). */
  | 'signing';

/** A control of the gate. */
export interface Control {
  readonly id: string;
  readonly title: string;
  readonly statement: string;
  /** `package`: judged for each protected package too; `gate`: once for the whole gate. */
  readonly scope: 'package' | 'gate';
  readonly kind: ControlKind;
  /** Audit actions that are evidence of the control working. */
  readonly evidence: readonly string[];
  /** Findings that break the control. */
  readonly brokenBy: readonly FindingKind[];
  readonly mappings: readonly ControlMapping[];
}

const m = (framework: FrameworkId, ...ids: string[]): ControlMapping[] =>
  ids.map((id) => ({ framework, id }));

/** The control table. */
export const CONTROLS: readonly Control[] = Object.freeze([
  {
    id: 'PG-APPROVAL-QUORUM',
    title: 'Human passkey quorum',
    statement:
      'M distinct humans of the approver group approve each release with a fresh user-verified passkey assertion bound to its digest; tokens, bots and agents never approve.',
    scope: 'package',
    kind: 'by-design',
    evidence: ['release.approval', 'release.approved'],
    brokenBy: ['nonhuman-can-approve'],
    mappings: [
      ...m('nist-csf-2.0', 'PR.AA-03', 'PR.AA-04', 'PR.AA-05'),
      ...m('nist-ssdf-1.1', 'PS.1.1'),
      ...m('owasp-nhi-2025', 'NHI5:2025'),
      ...m('nist-ai-rmf-1.0', 'MAP 3.5'),
    ],
  },
  {
    id: 'PG-NO-SELF-APPROVAL',
    title: 'Separation of requester and approver',
    statement:
      'The requester of a release (and whoever triggered its build) never approves it; one principal never both approves and publishes, approves and signs, or signs and publishes.',
    scope: 'package',
    kind: 'by-design',
    evidence: ['release.approval', 'release.requester_verified'],
    brokenBy: ['toxic-approve-publish', 'toxic-approve-sign', 'toxic-sign-publish'],
    mappings: [
      ...m('nist-csf-2.0', 'PR.AA-05'),
      ...m('nist-ssdf-1.1', 'PS.1.1'),
      ...m('owasp-nhi-2025', 'NHI5:2025'),
    ],
  },
  {
    id: 'PG-GATE-ONLY-PUBLISH',
    title: 'Only the gate publishes',
    statement:
      'The upstream publish credential is sealed in the gate and held by nobody else, or a just-in-time credential publishes one approved package@version+digest once; no person holds a standing publish token.',
    scope: 'package',
    kind: 'by-design',
    evidence: ['release.published', 'credential.jit_minted', 'release.jit_publish'],
    brokenBy: ['upstream-accepts-other-token', 'person-standing-publish-token'],
    mappings: [
      ...m('owasp-nhi-2025', 'NHI7:2025', 'NHI10:2025'),
      ...m('nist-csf-2.0', 'PR.AA-01', 'PR.AA-05'),
      ...m('nist-ssdf-1.1', 'PS.1.1', 'PO.5.1'),
    ],
  },
  {
    id: 'PG-ARTIFACT-INTEGRITY',
    title: 'Published bytes are the checked bytes',
    statement:
      'The tarball is validated and stored by sha512; the gate publishes exactly the approved digest and keeps the release archive.',
    scope: 'package',
    kind: 'by-design',
    evidence: ['release.checked', 'release.published'],
    brokenBy: [],
    mappings: [...m('nist-csf-2.0', 'ID.RA-09'), ...m('nist-ssdf-1.1', 'PS.2.1', 'PS.3.1')],
  },
  {
    id: 'PG-TARBALL-SECRET-SCAN',
    title: 'Every tarball is scanned for secrets',
    statement:
      'Each received tarball is scanned; leaked pubgate credentials are revoked before anyone could install them.',
    scope: 'package',
    kind: 'by-design',
    evidence: ['release.checked', 'credential.revoked_leaked'],
    brokenBy: [],
    mappings: [...m('owasp-nhi-2025', 'NHI2:2025'), ...m('nist-csf-2.0', 'DE.CM-09', 'PR.PS-06')],
  },
  {
    id: 'PG-SHORT-LIVED-CREDENTIALS',
    title: 'Credentials are short-lived',
    statement:
      'No live credential lives longer than the policy maximum; CI builds get 15-minute credentials from OIDC; publish credentials are single-use.',
    scope: 'gate',
    kind: 'hygiene',
    evidence: ['credential.issued', 'oidc.exchanged', 'credential.jit_minted'],
    brokenBy: ['credential-too-long-lived'],
    mappings: [...m('owasp-nhi-2025', 'NHI7:2025'), ...m('nist-csf-2.0', 'PR.AA-01')],
  },
  {
    id: 'PG-STALE-CREDENTIALS',
    title: 'Unused credentials are revoked',
    statement: 'No live credential stays unused longer than the stale threshold.',
    scope: 'gate',
    kind: 'hygiene',
    evidence: ['credential.revoked'],
    brokenBy: ['credential-stale'],
    mappings: [...m('owasp-nhi-2025', 'NHI1:2025', 'NHI7:2025'), ...m('nist-csf-2.0', 'PR.AA-01')],
  },
  {
    id: 'PG-OFFBOARDING',
    title: 'Offboarding revokes credentials',
    statement:
      'Every credential has a current owner; credentials of removed or disabled people no longer work.',
    scope: 'gate',
    kind: 'hygiene',
    evidence: ['person.roles_changed', 'credential.revoked', 'lockdown.set'],
    brokenBy: ['credential-orphaned'],
    mappings: [...m('owasp-nhi-2025', 'NHI1:2025'), ...m('nist-csf-2.0', 'PR.AA-01', 'PR.AA-05')],
  },
  {
    id: 'PG-NO-SECRET-REUSE',
    title: 'Secrets are not reused',
    statement:
      'No secret fingerprint is seen on more than one host, pipeline or registry (scan agents and the gate report sightings by keyed fingerprint).',
    scope: 'gate',
    kind: 'hygiene',
    evidence: ['scan.report'],
    brokenBy: ['secret-reused'],
    mappings: [
      ...m('owasp-nhi-2025', 'NHI9:2025', 'NHI2:2025'),
      ...m('nist-csf-2.0', 'DE.CM-09', 'PR.AA-01'),
      ...m('nist-ssdf-1.1', 'PO.5.2'),
    ],
  },
  {
    id: 'PG-INSTALL-PUBLISH-SEPARATION',
    title: 'Install and publish intent never mix',
    statement: 'A credential that requests or publishes never installs; installs take a read credential.',
    scope: 'gate',
    kind: 'hygiene',
    evidence: [],
    brokenBy: ['install-and-publish-credential'],
    mappings: [
      ...m('owasp-nhi-2025', 'NHI5:2025', 'NHI8:2025'),
      ...m('nist-csf-2.0', 'PR.AA-05'),
      ...m('nist-ssdf-1.1', 'PO.5.1'),
    ],
  },
  {
    id: 'PG-TRUSTED-PUBLISHING',
    title: 'CI authenticates with OIDC, not stored secrets',
    statement:
      'Builds exchange their CI ID token (exact discrete claims, no replay) for a 15-minute credential of their packages; the workload claims are recorded on each release.',
    scope: 'gate',
    kind: 'configured',
    evidence: ['oidc.exchanged', 'publisher.added', 'publisher.removed'],
    brokenBy: [],
    mappings: [
      ...m('owasp-nhi-2025', 'NHI4:2025', 'NHI6:2025'),
      ...m('nist-csf-2.0', 'PR.AA-02', 'PR.AA-03'),
      ...m('nist-ssdf-1.1', 'PS.3.2'),
      ...m('slsa-1.0', 'Build L1'),
    ],
  },
  {
    id: 'PG-RELEASE-ATTESTATION',
    title: 'Signed release attestation',
    statement:
      'The gate signs an in-toto release attestation over the digest and the decision, and the signature verifies before publishing.',
    scope: 'gate',
    kind: 'signing',
    evidence: ['release.attested'],
    brokenBy: ['toxic-approve-sign', 'toxic-sign-publish'],
    mappings: [
      ...m('slsa-1.0', 'Build L2'),
      ...m('nist-ssdf-1.1', 'PS.2.1', 'PS.3.2'),
      ...m('nist-csf-2.0', 'ID.RA-09'),
    ],
  },
  {
    id: 'PG-AUDIT-CHAIN',
    title: 'Tamper-evident audit log',
    statement:
      'Every decision, credential and change is an event in a hash chain that `pubgate log verify` walks.',
    scope: 'gate',
    kind: 'audit-chain',
    evidence: [],
    brokenBy: [],
    mappings: [...m('nist-csf-2.0', 'PR.PS-04', 'DE.CM-03'), ...m('nist-ssdf-1.1', 'PS.3.1')],
  },
  {
    id: 'PG-KILL-SWITCH',
    title: 'Kill switch',
    statement:
      'A lockdown of all, a package, a scope or an identity revokes its credentials, rejects its pending releases and refuses new ones until lifted.',
    scope: 'gate',
    kind: 'by-design',
    evidence: ['lockdown.set', 'lockdown.lifted'],
    brokenBy: [],
    mappings: [...m('nist-csf-2.0', 'RS.MI-01'), ...m('nist-ai-rmf-1.0', 'MANAGE 2.4')],
  },
  {
    id: 'PG-AUTONOMOUS-TOOLING',
    title: 'Governance of bots and AI agents',
    statement:
      'Release bots, chat-ops bots and AI agents may request and comment only; a human quorum approves, the gate signs and publishes, and each agent identity can be locked down alone.',
    scope: 'gate',
    kind: 'hygiene',
    evidence: ['release.comment', 'lockdown.set'],
    brokenBy: ['nonhuman-can-approve'],
    mappings: [
      ...m('nist-ai-rmf-1.0', 'GOVERN 2.1', 'GOVERN 3.2', 'MAP 3.5', 'MANAGE 2.4'),
      ...m('owasp-nhi-2025', 'NHI3:2025', 'NHI5:2025'),
    ],
  },
  {
    id: 'PG-IDENTITY-INVENTORY',
    title: 'Inventory of identities and credentials',
    statement:
      'Every human and non-human identity touching releases is listed with its capabilities, owner, age, expiry, last use and sightings (this report).',
    scope: 'gate',
    kind: 'by-design',
    evidence: [],
    brokenBy: [],
    mappings: [...m('nist-csf-2.0', 'PR.AA-01'), ...m('nist-ai-rmf-1.0', 'GOVERN 1.6')],
  },
] satisfies Control[]);

/** Throws `ERR_INVENTORY_UNKNOWN_CONTROL_ID` naming every mapping whose identifier is not an exact, valid one. */
export function assertValidControlMappings(controls: readonly Control[]): void {
  const bad = controls.flatMap((c) =>
    c.mappings
      .filter((mp) => !isValidControlId(mp.framework, mp.id))
      .map((mp) => `${c.id} → ${mp.framework} ${mp.id}`),
  );
  if (bad.length > 0)
    throw new InventoryError(
      INVENTORY_ERROR_CODES.unknownControlId,
      `unknown control identifiers: ${bad.join('; ')}`,
      { details: { bad } },
    );
}
