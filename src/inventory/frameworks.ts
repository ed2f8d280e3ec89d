/**
 * The fixed list of valid control identifiers of each framework the report maps to. The mapping
 * table (controls.ts) is checked against this list, so a made-up or outdated id (e.g. CSF 1.1's
 * PR.AC-4, which CSF 2.0 replaced with PR.AA-05) fails the test and the report.
 */

/** Frameworks the compliance report maps to. */
export type FrameworkId =
  'owasp-nhi-2025' | 'nist-csf-2.0' | 'nist-ssdf-1.1' | 'slsa-1.0' | 'nist-ai-rmf-1.0';

/** One framework: name, source, and every identifier we accept with its title. */
export interface Framework {
  readonly id: FrameworkId;
  readonly name: string;
  readonly source: string;
  readonly identifiers: Readonly<Record<string, string>>;
}

const freeze = <T extends object>(value: T): Readonly<T> => Object.freeze(value);

/** The frameworks and their valid identifiers. */
export const FRAMEWORKS: Readonly<Record<FrameworkId, Framework>> = freeze({
  'owasp-nhi-2025': freeze({
    id: 'owasp-nhi-2025',
    name: 'OWASP Non-Human Identities Top 10 (2025)',
    source: 'https://owasp.org/www-project-non-human-identities-top-10/2025/',
    identifiers: freeze({
      'NHI1:2025': 'Improper Offboarding',
      'NHI2:2025': 'Secret Leakage',
      'NHI3:2025': 'Vulnerable Third-Party NHI',
      'NHI4:2025': 'Insecure Authentication',
      'NHI5:2025': 'Overprivileged NHI',
      'NHI6:2025': 'Insecure Cloud Deployment Configurations',
      'NHI7:2025': 'Long-Lived Secrets',
      'NHI8:2025': 'Environment Isolation',
      'NHI9:2025': 'NHI Reuse',
      'NHI10:2025': 'Human Use of NHI',
    }),
  }),
  'nist-csf-2.0': freeze({
    id: 'nist-csf-2.0',
    name: 'NIST Cybersecurity Framework 2.0',
    source: 'https://doi.org/10.6028/NIST.CSWP.29',
    identifiers: freeze({
      'PR.AA-01':
        'Identities and credentials for authorized users, services, and hardware are managed by the organization',
      'PR.AA-02': 'Identities are proofed and bound to credentials based on the context of interactions',
      'PR.AA-03': 'Users, services, and hardware are authenticated',
      'PR.AA-04': 'Identity assertions are protected, conveyed, and verified',
      'PR.AA-05':
        'Access permissions, entitlements, and authorizations are defined in a policy, managed, enforced, and reviewed, and incorporate the principles of least privilege and separation of duties',
      'PR.PS-04': 'Log records are generated and made available for continuous monitoring',
      'PR.PS-06':
        'Secure software development practices are integrated, and their performance is monitored throughout the software development life cycle',
      'ID.RA-09':
        'The authenticity and integrity of hardware and software are assessed prior to acquisition and use',
      'DE.CM-03': 'Personnel activity and technology usage are monitored to find potentially adverse events',
      'DE.CM-09':
        'Computing hardware and software, runtime environments, and their data are monitored to find potentially adverse events',
      'RS.MI-01': 'Incidents are contained',
    }),
  }),
  'nist-ssdf-1.1': freeze({
    id: 'nist-ssdf-1.1',
    name: 'NIST SP 800-218 Secure Software Development Framework 1.1',
    source: 'https://doi.org/10.6028/NIST.SP.800-218',
    identifiers: freeze({
      'PO.5.1': 'Separate and protect each environment involved in software development',
      'PO.5.2': 'Secure and harden development endpoints',
      'PS.1.1':
        'Store all forms of code based on the principle of least privilege so that only authorized personnel, tools, services, etc. have access',
      'PS.2.1': 'Make software integrity verification information available to software acquirers',
      'PS.3.1':
        'Securely archive the necessary files and supporting data to be retained for each software release',
      'PS.3.2':
        'Collect, safeguard, maintain, and share provenance data for all components of each software release',
    }),
  }),
  'slsa-1.0': freeze({
    id: 'slsa-1.0',
    name: 'SLSA v1.0 Build track',
    source: 'https://slsa.dev/spec/v1.0/levels',
    identifiers: freeze({
      'Build L0': 'No guarantees',
      'Build L1': 'Provenance exists',
      'Build L2': 'Hosted build platform, signed provenance',
      'Build L3': 'Hardened builds',
    }),
  }),
  'nist-ai-rmf-1.0': freeze({
    id: 'nist-ai-rmf-1.0',
    name: 'NIST AI Risk Management Framework 1.0 (AI 100-1)',
    source: 'https://doi.org/10.6028/NIST.AI.100-1',
    identifiers: freeze({
      'GOVERN 1.6': 'Mechanisms are in place to inventory AI systems',
      'GOVERN 2.1':
        'Roles and responsibilities and lines of communication related to mapping, measuring, and managing AI risks are documented',
      'GOVERN 3.2':
        'Policies and procedures define and differentiate roles and responsibilities for human-AI configurations and oversight of AI systems',
      'MAP 3.5': 'Processes for human oversight are defined, assessed, and documented',
      'MANAGE 2.4':
        'Mechanisms are in place to supersede, disengage, or deactivate AI systems that demonstrate outcomes inconsistent with intended use',
    }),
  }),
});

/** Every framework id, in report order. */
export const FRAMEWORK_IDS: readonly FrameworkId[] = Object.freeze([
  'owasp-nhi-2025',
  'nist-csf-2.0',
  'nist-ssdf-1.1',
  'slsa-1.0',
  'nist-ai-rmf-1.0',
]);

/** True when `id` is an exact, valid identifier of `framework`. */
export function isValidControlId(framework: string, id: string): boolean {
  const f = (FRAMEWORKS as Readonly<Record<string, Framework>>)[framework];
  return f !== undefined && Object.prototype.hasOwnProperty.call(f.identifiers, id);
}

/** The title of a valid identifier (undefined when not valid). */
export function titleOfControlId(framework: FrameworkId, id: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(FRAMEWORKS[framework].identifiers, id)
    ? FRAMEWORKS[framework].identifiers[id]
    : undefined;
}
