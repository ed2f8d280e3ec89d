/** The shape of a detection rule. Built-in rules live in `rules.ts`; custom ones come from config. */
import type { Severity } from './types.ts';

/** What a rule's check sees around a candidate. */
export interface RuleContext {
  /** The whole scanned text (or decoded segment). */
  readonly text: string;
  /** Offset of the secret in `text`. */
  readonly start: number;
  /** The regular-expression match. */
  readonly match: RegExpExecArray;
  /** The path being scanned. */
  readonly path: string;
}

/** A secret pulled out by a structured extractor (used by rules that need more than one regex). */
export interface Extracted {
  readonly start: number;
  readonly secret: string;
}

/** One detection rule. */
export interface Rule {
  /** Stable kebab-case id, e.g. `npm-access-token`. */
  readonly id: string;
  readonly title: string;
  readonly severity: Severity;
  /** Literal, case-sensitive strings; the rule runs only near one of them (the prefilter). */
  readonly keywords: readonly string[];
  /** Global regular expression. The secret is the named group `secret`, else the whole match. */
  readonly pattern?: RegExp;
  /** Capture group (name or number) that holds the secret, when not the named group `secret`. */
  readonly secretGroup?: string | number;
  /** Structured extraction instead of (or after) `pattern`: receives the text and the keyword offset. */
  readonly extract?: (text: string, at: number, path: string) => readonly Extracted[];
  /** Characters searched before the keyword (default 0: the keyword starts the match). */
  readonly before?: number;
  /** Characters searched after the keyword (default 512). */
  readonly after?: number;
  /** Whether the match may span lines (PEM blocks). */
  readonly multiline?: boolean;
  /** Only files whose path matches are searched with this rule. */
  readonly paths?: RegExp;
  /** Extra validation (checksums, structure). */
  readonly validate?: (secret: string, context: RuleContext) => boolean;
  /** Minimum Shannon entropy (bits per character) of the secret. */
  readonly minEntropy?: number;
  /** Whether to reject placeholders and documented examples (default true). */
  readonly checkPlaceholder?: boolean;
  /** Public prefix length shown in the preview (e.g. 4 for `npm_`). */
  readonly reveal?: number;
  /** Higher wins when two rules match the same characters (token formats 3, context 2, generic 1). */
  readonly priority?: number;
  /** A credential that can publish packages; kept in a plain file it is a hygiene finding on endpoints. */
  readonly publishToken?: boolean;
  /** The same format as a ripgrep (Rust regex) pattern, for the benchmark. */
  readonly portable?: string;
  /** One-line description for docs and SARIF. */
  readonly description?: string;
}
