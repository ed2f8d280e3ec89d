/** The list of rules as documentation and SARIF show them (built-in, file-level and hygiene rules). */
import { BUILTIN_RULES } from './rules.ts';
import type { Severity } from './types.ts';

/** A rule as shown to people. */
export interface RuleInfo {
  readonly id: string;
  readonly title: string;
  readonly severity: Severity;
  readonly description: string;
}

/** Rules that are not regex rules: whole files and endpoint hygiene. */
export const EXTRA_RULES: readonly RuleInfo[] = Object.freeze([
  {
    id: 'pkcs12-file',
    title: 'PKCS#12 keystore file',
    severity: 'high',
    description: 'A .p12 / .pfx keystore (DER): it holds a private key.',
  },
  {
    id: 'endpoint-plaintext-publish-token',
    title: 'Long-lived publish token in a plain file',
    severity: 'medium',
    description:
      'Endpoint hygiene: a credential that can publish packages is stored unencrypted in a dotfile; use OIDC trusted publishing or pubgate just-in-time credentials.',
  },
]);

/** Every rule pubgate can report, in documentation order. */
export function listRules(): RuleInfo[] {
  return [
    ...BUILTIN_RULES.map((rule) => ({
      id: rule.id,
      title: rule.title,
      severity: rule.severity,
      description: rule.description ?? rule.title,
    })),
    ...EXTRA_RULES,
  ];
}
