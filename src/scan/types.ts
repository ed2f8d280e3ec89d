/** Shared shapes of the secret scanner: findings and scan options. */
import type { CustomRuleSpec } from './custom-rules.ts';

/** How bad a finding is; maps to SARIF levels and GitHub security severity. */
export type Severity = 'critical' | 'high' | 'medium' | 'low';

/** Where a finding was hidden, when it was found only after decoding. */
export type Encoding = 'base64' | 'url' | 'escape';

/** Whether a finding is a leaked secret or a hygiene problem (a long-lived token kept in a plain file). */
export type FindingKind = 'secret' | 'hygiene';

/** A secret-free description of one match. Never holds the secret itself. */
export interface ScanFinding {
  readonly ruleId: string;
  readonly ruleTitle: string;
  readonly severity: Severity;
  readonly kind: FindingKind;
  /** Path as given by the source: relative file path, tarball entry path, or `<stdin>`. */
  readonly path: string;
  /** 1-based line of the first character of the secret. */
  readonly line: number;
  /** 1-based column (in characters) of the first character of the secret. */
  readonly column: number;
  /** Redacted preview such as `npm_ab…(40 chars)`; never the whole value. */
  readonly preview: string;
  /** HMAC-SHA256 hex of the secret under the scan's fingerprint key. */
  readonly fingerprint: string;
  /** sha256 hex of a leaked pubgate (`pgt_`) token, as the token store keeps it; only for `pubgate-token`. */
  readonly pubgateTokenHash?: string;
  /** The encoding the secret was hidden in, when it was found after decoding. */
  readonly encoding?: Encoding;
  /** Git history: the commit that added the secret. */
  readonly commit?: string;
  /** Extra secret-free remark (for example an allow comment that was ignored for lack of a reason). */
  readonly note?: string;
}

/** A secret located in a text, before redaction. Internal to the scanner: never leaves it. */
export interface RawMatch {
  readonly ruleId: string;
  /** Offset of the secret in the scanned text. */
  readonly start: number;
  readonly end: number;
  /** The secret value. Only used to fingerprint and to redact. */
  readonly secret: string;
  readonly encoding?: Encoding;
  /** Number of characters that are a public, non-secret prefix (shown in the preview). */
  readonly reveal: number;
}

/** Options shared by every scanning entry point. */
export interface ScanOptions {
  /** Key for finding fingerprints (HMAC-SHA256). Defaults to a random key for this process. */
  readonly fingerprintKey?: Uint8Array | string;
  /** Extra rules from config, added to the built-in ones (plain data: it crosses into worker threads). */
  readonly customRules?: readonly CustomRuleSpec[];
  /** Rule ids to switch off. */
  readonly disabledRules?: readonly string[];
}
