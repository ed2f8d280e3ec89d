/**
 * Values that look like secrets but are not: template placeholders, masked values, documented
 * example keys, hashes, UUIDs and commit ids.
 */
import { createHash } from 'node:crypto';

// sha256 of keys published in vendor documentation (GitHub, Stripe, jwt.io, the Azurite storage
// emulator, Slack). Kept as hashes so that no credential-shaped literal lives in the repository.
const DOCUMENTED_EXAMPLE_HASHES = new Set([
  '3543c50b0cb9cea8e55eb1f529b79f043cb250d485fde7b66cabbb5183add7da',
  'bc3ae723f57c6b9e3fd80b699fcc420f6074b0b1718039669d22631d508ac0a7',
  '2cafc0970149a84f3b9e62eaf169f36f59907a3b3e31f7b82e68c69cd27f7326',
  'f2d6ca16515033e5dce14eba840b979d27b5cbae24bb3e5bf484339667f86397',
  '7f75367e7881255134e1375e723d1dea8ad5f6a4fdb79d938df1f1754a830606',
  '0011cc25eb4320717494d2703e8cba85743e71b500283c21c8b88147992f9059',
  '2ddc147f3a3b5a1722b8ed6be3c45c49a7156b17fca5d11410137a6d04def6eb',
]);

/** True when `value` is a key published in vendor documentation (AWS marks its examples with `EXAMPLE`). */
export function isDocumentedExample(value: string): boolean {
  if (value.includes('EXAMPLE')) return true;
  return DOCUMENTED_EXAMPLE_HASHES.has(createHash('sha256').update(value).digest('hex'));
}

// Template and variable syntaxes of shells, GitHub Actions, Helm/Jinja/Mustache, Python, Ruby, and
// placeholders as people write them in docs.
const TEMPLATE =
  /\$\{|\$\(|\{\{|\}\}|<[A-Za-z_ -]+>|%\([\w-]+\)s|^\$[A-Za-z_][A-Za-z0-9_]*$|^%[A-Za-z_]+%$|#\{|process\.env|os\.environ|getenv|ENV\[|secrets\./;
const MASKED = /[xX]{4,}|\*{3,}|\.{3}|…|#{4,}|_{4,}|-{4,}|•/;
const WORDS =
  /example|placeholder|your[_-]?(?:own|api|token|key|secret|pass|access|name|user|email|org|project|app)|yourtoken|changeme|change[_-]me|redacted|replace[_-]?me|insert[_-]|dummy|<token>|token[_-]?here|key[_-]?here|goes[_-]?here|put[_-]|fake|notreal|not[_-]a[_-]real/i;

/** True when `value` is a template variable, a masked value or an obvious placeholder. */
export function isPlaceholder(value: string): boolean {
  if (value.length === 0) return true;
  if (TEMPLATE.test(value) || MASKED.test(value) || WORDS.test(value)) return true;
  if (/^(.)\1*$/.test(value)) return true;
  return false;
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const SRI = /^sha(?:1|256|384|512)-[A-Za-z0-9+/]+={0,2}$/;
const PASSWORD_HASH = /^\$(?:2[abxy]?|5|6|argon2(?:id|i|d)|scrypt|pbkdf2(?:-sha\d+)?|y|7)\$/;

/** True for a UUID. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** True for values that are hashes rather than secrets: SRI integrity strings, password hashes, prefixed digests. */
export function isHashLike(value: string): boolean {
  return SRI.test(value) || PASSWORD_HASH.test(value) || /^(?:sha\d+|md5|sha):[0-9a-fA-F]{32,}$/i.test(value);
}

/** True for a commit id (40 or 64 hex). */
export function isCommitId(value: string): boolean {
  return /^[0-9a-f]{40}$/.test(value) || /^[0-9a-f]{64}$/.test(value);
}
