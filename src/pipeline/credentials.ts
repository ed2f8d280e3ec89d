/** Recognises long-lived registry credentials by name, and secret references in expressions and shell text. */
import { matchesGlob } from './config.ts';

const REGISTRY_WORD =
  /(^|_)(NPM|NODE_AUTH|YARN_NPM|NPMJS|PYPI|TWINE|RUBYGEMS|GEM_HOST|GEM|CARGO_REGISTRY|CARGO|CRATES|CRATES_IO|UV_PUBLISH|POETRY_PYPI|POETRY_HTTP_BASIC_PYPI|FLIT|HATCH_INDEX|MATURIN)(_|$)/;
const SECRET_WORD = /(TOKEN|PASSWORD|PASS|PASSWD|API_?KEY|AUTH|SECRET|AUTHTOKEN)(_[A-Z0-9]+)?$/;
// Short-lived tokens minted per run: not long-lived registry credentials.
const SHORT_LIVED = new Set([
  'GITHUB_TOKEN',
  'CI_JOB_TOKEN',
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
  'ACTIONS_RUNTIME_TOKEN',
  'CI_REGISTRY_PASSWORD',
]);

/** True when a secret or variable name looks like a long-lived registry publish credential. */
export function isRegistryCredentialName(name: string, extra: readonly string[] = []): boolean {
  const upper = name.toUpperCase();
  if (SHORT_LIVED.has(upper)) return false;
  if (extra.some((p) => matchesGlob(upper, p.toUpperCase()))) return true;
  if (
    upper.includes('GITHUB') ||
    upper.startsWith('GH_') ||
    upper.includes('DOCKER') ||
    upper.includes('GHCR')
  )
    return false;
  return (
    REGISTRY_WORD.test(upper) && SECRET_WORD.test(upper) && !/(^|_)REGISTRY_(URL|HOST|SERVER)$/.test(upper)
  );
}

/** A `secrets.NAME` reference inside an expression, with its offset in the scanned text. */
export interface SecretReference {
  readonly name: string;
  readonly offset: number;
  readonly length: number;
}

const SECRET_REF = /\bsecrets\s*\.\s*([A-Za-z_][A-Za-z0-9_-]*)|\bsecrets\s*\[\s*'([^']+)'\s*\]/g;

/** Every `secrets.NAME` / `secrets['NAME']` inside `${{ }}` in `text`. */
export function findSecretReferences(text: string): SecretReference[] {
  if (!text.includes('secrets')) return [];
  const out: SecretReference[] = [];
  for (const expr of findExpressions(text)) {
    SECRET_REF.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = SECRET_REF.exec(expr.inner)) !== null) {
      out.push({ name: m[1] ?? m[2] ?? '', offset: expr.innerOffset + m.index, length: m[0].length });
    }
  }
  return out;
}

/** A `${{ … }}` expression in text. */
export interface Expression {
  readonly inner: string;
  readonly offset: number;
  readonly innerOffset: number;
  readonly length: number;
}

/** Every `${{ … }}` expression in `text`. */
export function findExpressions(text: string): Expression[] {
  const out: Expression[] = [];
  let at = text.indexOf('${{');
  while (at !== -1) {
    const close = text.indexOf('}}', at + 3);
    if (close === -1) break;
    out.push({ inner: text.slice(at + 3, close), offset: at, innerOffset: at + 3, length: close + 2 - at });
    at = text.indexOf('${{', close + 2);
  }
  return out;
}

/** A `$NAME` / `${NAME}` shell variable reference. */
export interface VariableReference {
  readonly name: string;
  readonly offset: number;
  readonly length: number;
}

const VAR_REF = /\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g;

/** Every shell variable reference in `text` (not `${{ }}` expressions). */
export function findVariableReferences(text: string): VariableReference[] {
  if (!text.includes('$')) return [];
  const out: VariableReference[] = [];
  VAR_REF.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = VAR_REF.exec(text)) !== null) {
    if (text[m.index + 1] === '{' && text[m.index + 2] === '{') continue;
    out.push({ name: m[1] ?? '', offset: m.index, length: m[0].length });
  }
  return out;
}
