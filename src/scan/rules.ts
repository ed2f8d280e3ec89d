/**
 * The built-in rules. Token formats with a public prefix come first (priority 3), then secrets
 * recognised by their surroundings (priority 2), then the generic assignment rule (priority 1).
 * Formats follow the vendors' documentation; checksums are verified where they are documented.
 */
import { isWellFormedToken } from '../tokens/index.ts';
import {
  hasKeyMaterial,
  hasValidPrefixedChecksum,
  isBase64UserPassword,
  isJwt,
  isRandomEnough,
  isSampleJwt,
  decodePrintableBase64,
} from './checks.ts';
import { shannonEntropy } from './entropy.ts';
import { isDocumentedExample, isHashLike, isPlaceholder, isUuid } from './placeholders.ts';
import type { Extracted, Rule, RuleContext } from './rule.ts';

const NOT_ALNUM_BEFORE = '(?<![A-Za-z0-9])';
const NOT_ALNUM_AFTER = '(?![A-Za-z0-9])';
const NOT_TOKEN_AFTER = '(?![A-Za-z0-9_-])';

function prefixed(prefix: string, body: string, after = NOT_ALNUM_AFTER): RegExp {
  return new RegExp(`${NOT_ALNUM_BEFORE}${prefix}${body}${after}`, 'g');
}

function githubRule(id: string, title: string, prefix: string): Rule {
  return {
    id,
    title,
    severity: 'critical',
    keywords: [prefix],
    pattern: prefixed(prefix, '[A-Za-z0-9]{36}'),
    validate: (secret) => hasValidPrefixedChecksum(secret, prefix.length),
    // A verified checksum outweighs words like "fake" that random bodies sometimes contain.
    checkPlaceholder: false,
    reveal: prefix.length,
    priority: 3,
    publishToken: prefix === 'ghp_',
    description: `GitHub ${title.replace(/^GitHub /, '')} (${prefix}…, CRC-32 checksum verified).`,
  };
}

/** Does the line around the match start with the assigned name (a config file line, not code)? */
function isConfigLine(context: RuleContext): boolean {
  const lineStart = context.text.lastIndexOf('\n', context.match.index) + 1;
  const head = context.text.slice(lineStart, context.match.index);
  return /^\s*(?:export\s+|set\s+|-\s+|\$env:)?["']?$/i.test(head);
}

const VALUE_STOP_WORDS =
  /password|passwd|secret|token|test|sample|demo|default|admin|qwerty|letmein|123456|abc123|foobar|hunter2|changeit|welcome|mypass|localhost|undefined|function|return/i;
const NAME_STOP_WORDS =
  /csrf|xsrf|page|next|continuation|cancel|sync|pagination|cursor|lexer|parse|hash|digest|checksum|integrity|commit|sha\d*|public|nonce|verifier|challenge|author|max|min|len|type|file|path|prefix|label|placeholder|field|param|input|sample|example|dummy|fake|mock|test/i;
const KNOWN_PREFIX =
  /^(?:npm_|gh[pousr]_|pgt_|github_pat_|gl(?:pat|dt|ptt|rt|cbt)-|pypi-|rubygems_|dckr_|xox[a-z]-|sk-|[sr]k_(?:live|test)_|hf_|hv[sbr]\.|AKIA|AIza|AKCp)/;
const NAME_PASSWORD = /passw(?:or)?d|pwd|credentials?|auth$/i;

/** The generic rule's acceptance test for an assigned value (exported for tests of look-alikes). */
export function isGenericSecretValue(
  name: string,
  value: string,
  quoted: boolean,
  context?: RuleContext,
): boolean {
  if (NAME_STOP_WORDS.test(name.replace(/(?:passw(?:or)?d|pwd|secret|token|credentials?|auth|key)$/i, '')))
    return false;
  if (isPlaceholder(value) || isDocumentedExample(value) || isUuid(value) || isHashLike(value)) return false;
  // A value in a known token format that its own rule rejected (bad checksum, fake body) stays rejected.
  if (KNOWN_PREFIX.test(value)) return false;
  if (/^(?:https?:|file:|\/|\.\.?\/|~\/|[A-Za-z]:\\)/.test(value)) return false;
  if (
    /^(?:true|false|null|nil|none|empty|required|optional|string|number|boolean|object|bytes)$/i.test(value)
  )
    return false;
  if (VALUE_STOP_WORDS.test(value)) return false;
  // Code, not a literal: dotted member chains and plain words or camelCase identifiers.
  if (/^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/.test(value)) return false;
  if (/^[A-Za-z_$][\w$]*$/.test(value) && !/\d/.test(value)) return false;
  // Identifiers with a numeric suffix (CompositeKey_1) and SCREAMING_CASE constants (SOCKS5_NO_AUTH).
  if (
    /^[A-Z]?[a-z]+(?:[A-Z][a-z]+)*(?:_?\d{1,3})?$/.test(value) ||
    /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/.test(value)
  )
    return false;
  // Words, possibly hyphenated or with one leading/trailing symbol: '@authenticated', 'WWW-Authenticate'.
  if (/^[^A-Za-z0-9]?[A-Za-z\u0080-\u024f]+(?:[-_. ][A-Za-z\u0080-\u024f]+)*[^A-Za-z0-9]?$/.test(value))
    return false;
  if (!quoted && context !== undefined && !isConfigLine(context)) return false;
  const classes =
    Number(/[a-z]/.test(value)) +
    Number(/[A-Z]/.test(value)) +
    Number(/\d/.test(value)) +
    Number(/[^A-Za-z0-9]/.test(value));
  const entropy = shannonEntropy(value);
  if (NAME_PASSWORD.test(name)) return value.length >= 8 && classes >= 2 && entropy >= 2.5;
  if (value.length < 16 || classes < 2) return false;
  return entropy >= (value.length >= 24 ? 3.3 : 3.0);
}

const GENERIC_NAME =
  '(?<name>[A-Za-z0-9_.-]{0,40}?(?:passw(?:or)?d|pwd|secret|token|credentials?|auth|(?:api|access|secret|private|client|auth|encryption|signing|master|app|service|account|admin|consumer|license|session|webhook|shared)[_.-]?key))';

function caseVariants(words: readonly string[]): string[] {
  return words.flatMap((w) => [w, w[0]!.toUpperCase() + w.slice(1), w.toUpperCase()]);
}

function kubernetesSecretValues(text: string, at: number): Extracted[] {
  // Walk the YAML document that holds `kind: Secret` and pull each value under data / stringData.
  const docStart = Math.max(text.lastIndexOf('\n---', at) + 1, at - 65536, 0);
  let docEnd = text.indexOf('\n---', at);
  if (docEnd === -1 || docEnd - at > 65536) docEnd = Math.min(text.length, at + 65536);
  const out: Extracted[] = [];
  const lineRe = /^([ \t]*)(data|stringData):[ \t]*\r?$/gm;
  lineRe.lastIndex = docStart;
  let header: RegExpExecArray | null;
  while ((header = lineRe.exec(text)) !== null && header.index < docEnd) {
    const indent = header[1]!.length;
    const isData = header[2] === 'data';
    let offset = header.index + header[0].length + 1;
    while (offset < docEnd) {
      const lineEnd = text.indexOf('\n', offset) === -1 ? text.length : text.indexOf('\n', offset);
      const line = text.slice(offset, lineEnd);
      const entry = /^([ \t]+)[\w.-]+:[ \t]*["']?([^"'\s#]+)["']?\s*$/.exec(line);
      if (entry === null || entry[1]!.length <= indent) break;
      const value = entry[2]!;
      const decoded = isData ? decodePrintableBase64(value) : value;
      if (
        decoded !== undefined &&
        decoded.length >= 4 &&
        !isPlaceholder(decoded) &&
        value !== '|' &&
        value !== '>'
      ) {
        out.push({ start: offset + line.indexOf(value, entry[1]!.length), secret: value });
      }
      offset = lineEnd + 1;
    }
  }
  return out;
}

const URL_PASSWORD_STOP =
  /^(?:pass|password|passwd|pwd|secret|changeme|admin|root|user|guest|test|token|foo|bar|baz|null|none|mypassword|yourpassword|p@ssw0rd|s3cret|pw|pass123|password123|x-oauth-basic)$/i;
const EXAMPLE_HOST =
  /(?:^|\.)(?:example\.(?:com|org|net)|example|host|hostname|domain\.com|domain|server|your-?host|your-?domain\.com|foo\.com|bar\.com)$/i;

function isUrlCredential(secret: string, context: RuleContext): boolean {
  const user = context.match.groups?.['user'] ?? '';
  const host = context.match.groups?.['host'] ?? '';
  let password = secret;
  try {
    password = decodeURIComponent(secret);
  } catch {
    // Not valid percent-encoding: keep the raw value.
  }
  if (password.length < 4 || URL_PASSWORD_STOP.test(password) || /password/i.test(password)) return false;
  if (password === user || isPlaceholder(password) || isPlaceholder(user) || EXAMPLE_HOST.test(host))
    return false;
  if (/^\d{1,5}$/.test(password) || /^[$%]/.test(password)) return false;
  return true;
}

/** Every built-in rule. */
export const BUILTIN_RULES: readonly Rule[] = Object.freeze([
  {
    id: 'pubgate-token',
    title: 'pubgate credential',
    severity: 'critical',
    keywords: ['pgt_'],
    pattern: prefixed('pgt_', '[0-9A-Za-z]{46}'),
    validate: (secret) => isWellFormedToken(secret),
    checkPlaceholder: false,
    reveal: 4,
    priority: 3,
    publishToken: true,
    description: 'A pubgate credential (pgt_…, checksum verified). The gate revokes it when reported.',
  },
  {
    id: 'npm-access-token',
    title: 'npm access token',
    severity: 'critical',
    keywords: ['npm_'],
    pattern: prefixed('npm_', '[A-Za-z0-9]{36}'),
    validate: (secret) => hasValidPrefixedChecksum(secret, 4),
    checkPlaceholder: false,
    reveal: 4,
    priority: 3,
    publishToken: true,
    description: 'npm access token (npm_…, CRC-32 checksum verified).',
  },
  {
    id: 'npmrc-auth-token',
    title: 'npm registry token in .npmrc',
    severity: 'critical',
    keywords: ['_authToken'],
    pattern: /_authToken\s*=\s*["']?(?<secret>[^\s"'#;]{8,})/g,
    before: 0,
    // Registry tokens are URL-safe; anything else is code that mentions `_authToken=`.
    validate: (secret) => /^[A-Za-z0-9._~+/=-]+$/.test(secret),
    reveal: 0,
    priority: 2,
    publishToken: true,
    description: 'A registry token assigned with `_authToken=` (also legacy UUID tokens).',
  },
  {
    id: 'npmrc-auth',
    title: 'npm basic auth in .npmrc',
    severity: 'high',
    keywords: ['_auth'],
    pattern: /(?<![A-Za-z0-9])_auth\s*=\s*["']?(?<secret>[A-Za-z0-9+/]{8,}={0,2})/g,
    validate: (secret) => isBase64UserPassword(secret),
    priority: 2,
    publishToken: true,
    description: '`_auth=` in .npmrc: base64 of user:password.',
  },
  {
    id: 'npmrc-password',
    title: 'npm password in .npmrc',
    severity: 'high',
    keywords: ['_password'],
    pattern: /(?<![A-Za-z0-9])_password\s*=\s*["']?(?<secret>[A-Za-z0-9+/]{4,}={0,2})/g,
    validate: (secret) =>
      decodePrintableBase64(secret) !== undefined && !isPlaceholder(decodePrintableBase64(secret) ?? ''),
    priority: 2,
    publishToken: true,
    description: '`_password=` in .npmrc (base64 of the password).',
  },
  {
    id: 'yarnrc-auth-token',
    title: 'Yarn registry token in .yarnrc.yml',
    severity: 'critical',
    keywords: ['npmAuthToken', 'npmAuthIdent'],
    pattern: /npmAuth(?:Token|Ident)\s*:\s*["']?(?<secret>[^\s"'#]{8,})/g,
    priority: 2,
    publishToken: true,
    description: '`npmAuthToken` / `npmAuthIdent` in .yarnrc.yml.',
  },
  githubRule('github-classic-pat', 'GitHub classic personal access token', 'ghp_'),
  githubRule('github-oauth-token', 'GitHub OAuth access token', 'gho_'),
  githubRule('github-user-token', 'GitHub user-to-server token', 'ghu_'),
  githubRule('github-app-token', 'GitHub App installation token', 'ghs_'),
  githubRule('github-refresh-token', 'GitHub refresh token', 'ghr_'),
  {
    id: 'github-fine-grained-pat',
    title: 'GitHub fine-grained personal access token',
    severity: 'critical',
    keywords: ['github_pat_'],
    pattern: prefixed('github_pat_', '[A-Za-z0-9]{22}_[A-Za-z0-9]{59}'),
    validate: (secret) => isRandomEnough(secret, 11),
    reveal: 11,
    priority: 3,
    publishToken: true,
    description: 'GitHub fine-grained PAT (github_pat_ + 22 + _ + 59 characters).',
  },
  {
    id: 'gitlab-personal-token',
    title: 'GitLab personal access token',
    severity: 'critical',
    keywords: ['glpat-'],
    pattern: prefixed('glpat-', '[A-Za-z0-9_-]{20,300}(?:\\.[0-9a-z]{2}\\.[0-9a-z]{7,10})?', NOT_TOKEN_AFTER),
    validate: (secret) => isRandomEnough(secret.split('.')[0]!, 6),
    reveal: 6,
    priority: 3,
    publishToken: true,
    description: 'GitLab personal, project or group access token (glpat-).',
  },
  {
    id: 'gitlab-deploy-token',
    title: 'GitLab deploy token',
    severity: 'high',
    keywords: ['gldt-'],
    pattern: prefixed('gldt-', '[A-Za-z0-9_-]{20,300}(?:\\.[0-9a-z]{2}\\.[0-9a-z]{7,10})?', NOT_TOKEN_AFTER),
    validate: (secret) => isRandomEnough(secret.split('.')[0]!, 5),
    reveal: 5,
    priority: 3,
    publishToken: true,
    description: 'GitLab deploy token (gldt-).',
  },
  {
    id: 'gitlab-pipeline-trigger-token',
    title: 'GitLab pipeline trigger token',
    severity: 'high',
    keywords: ['glptt-'],
    pattern: prefixed('glptt-', '(?:[0-9a-f]{40}|[A-Za-z0-9_-]{20,300})', NOT_TOKEN_AFTER),
    validate: (secret) => isRandomEnough(secret, 6),
    reveal: 6,
    priority: 3,
    description: 'GitLab pipeline trigger token (glptt-).',
  },
  {
    id: 'gitlab-runner-token',
    title: 'GitLab runner token',
    severity: 'high',
    keywords: ['glrt-', 'GR1348941'],
    pattern:
      /(?<![A-Za-z0-9])(?:glrt-(?:t\d_)?[A-Za-z0-9_-]{20,300}(?:\.[0-9a-z]{2}\.[0-9a-z]{7,10})?|GR1348941[A-Za-z0-9_-]{20})(?![A-Za-z0-9_-])/g,
    validate: (secret) => isRandomEnough(secret, secret.startsWith('GR') ? 9 : 5),
    reveal: 5,
    priority: 3,
    description: 'GitLab runner authentication (glrt-) or registration (GR1348941) token.',
  },
  {
    id: 'gitlab-ci-job-token',
    title: 'GitLab CI/CD job token',
    severity: 'high',
    keywords: ['glcbt-'],
    pattern: prefixed('glcbt-', '(?:[0-9a-fA-F]{1,5}_)?[A-Za-z0-9_-]{20,300}', NOT_TOKEN_AFTER),
    validate: (secret) => isRandomEnough(secret, 6),
    reveal: 6,
    priority: 3,
    description: 'GitLab CI/CD job token (glcbt-).',
  },
  {
    id: 'pypi-token',
    title: 'PyPI API token',
    severity: 'critical',
    keywords: ['pypi-AgE'],
    // The body is a base64 macaroon whose location field is "pypi.org" or "test.pypi.org".
    pattern: prefixed('pypi-AgE', '[A-Za-z0-9_-]{50,}', NOT_TOKEN_AFTER),
    validate: (secret) => isRandomEnough(secret, 24),
    reveal: 5,
    priority: 3,
    publishToken: true,
    description: 'PyPI / TestPyPI API token (pypi-AgE…).',
  },
  {
    id: 'pypirc-password',
    title: 'Password in .pypirc',
    severity: 'high',
    keywords: ['password'],
    paths: /(?:^|[/\\])\.pypirc$/,
    pattern: /^[ \t]*password[ \t]*[:=][ \t]*(?<secret>\S{6,})/gm,
    before: 64,
    priority: 2,
    publishToken: true,
    description: 'A password in the [pypi] section of ~/.pypirc.',
  },
  {
    id: 'rubygems-api-key',
    title: 'RubyGems API key',
    severity: 'critical',
    keywords: ['rubygems_'],
    pattern: prefixed('rubygems_', '[0-9a-f]{48}'),
    validate: (secret) => isRandomEnough(secret, 9),
    reveal: 9,
    priority: 3,
    publishToken: true,
    description: 'RubyGems API key (rubygems_ + 48 hex).',
  },
  {
    id: 'rubygems-credentials',
    title: 'RubyGems key in ~/.gem/credentials',
    severity: 'critical',
    keywords: [':rubygems_api_key:'],
    pattern: /:rubygems_api_key:\s*["']?(?<secret>[0-9a-f]{32})(?![0-9a-f])/g,
    priority: 2,
    publishToken: true,
    description: 'A legacy (32 hex) RubyGems API key in ~/.gem/credentials.',
  },
  {
    id: 'crates-io-token',
    title: 'crates.io API token',
    severity: 'critical',
    keywords: ['cio'],
    pattern: prefixed('cio', '[A-Za-z0-9]{32}'),
    validate: (secret) =>
      isRandomEnough(secret, 3) && /\d/.test(secret) && /[A-Z]/.test(secret) && /[a-z]/.test(secret.slice(3)),
    reveal: 3,
    priority: 3,
    publishToken: true,
    description: 'crates.io API token (cio + 32 characters).',
  },
  {
    id: 'cargo-credentials',
    title: 'Token in ~/.cargo/credentials.toml',
    severity: 'critical',
    keywords: ['token'],
    paths: /(?:^|[/\\])\.cargo[/\\]credentials(?:\.toml)?$/,
    pattern: /^[ \t]*token[ \t]*=[ \t]*["'](?<secret>[^"'\s]{16,})["']/gm,
    before: 32,
    priority: 2,
    publishToken: true,
    description: 'A registry token in ~/.cargo/credentials.toml.',
  },
  {
    id: 'nuget-config-password',
    title: 'Password in NuGet.Config',
    severity: 'high',
    keywords: ['Password'],
    pattern: /<add\s+key\s*=\s*["'](?:ClearText)?Password["']\s+value\s*=\s*["'](?<secret>[^"']{4,})["']/gi,
    before: 64,
    priority: 2,
    publishToken: true,
    description:
      '`<add key="ClearTextPassword" value="…">` (or `Password`) in NuGet.Config packageSourceCredentials.',
  },
  {
    id: 'nuget-api-key',
    title: 'NuGet API key',
    severity: 'critical',
    keywords: ['oy2'],
    pattern: prefixed('oy2', '[a-z0-9]{43}'),
    validate: (secret) => isRandomEnough(secret, 3) && /\d/.test(secret.slice(3)),
    reveal: 3,
    priority: 3,
    publishToken: true,
    description: 'nuget.org API key (oy2 + 43 characters).',
  },
  {
    id: 'artifactory-api-key',
    title: 'JFrog Artifactory API key',
    severity: 'high',
    keywords: ['AKCp'],
    pattern: prefixed('AKCp', '[A-Za-z0-9]{69}'),
    validate: (secret) => isRandomEnough(secret, 4),
    reveal: 4,
    priority: 3,
    publishToken: true,
    description: 'JFrog Artifactory API key (AKCp…).',
  },
  {
    id: 'artifactory-reference-token',
    title: 'JFrog Artifactory reference token',
    severity: 'high',
    keywords: ['cmVmdGtu'],
    // "cmVmdGtu" is base64 of "reftkn".
    pattern: prefixed('cmVmdGtu', '[A-Za-z0-9]{56}'),
    validate: (secret) => isRandomEnough(secret, 8),
    reveal: 8,
    priority: 3,
    publishToken: true,
    description: 'JFrog Artifactory reference token (base64 of reftkn:…).',
  },
  {
    id: 'docker-hub-token',
    title: 'Docker Hub access token',
    severity: 'critical',
    keywords: ['dckr_pat_', 'dckr_oat_'],
    pattern: prefixed('dckr_(?:pat|oat)_', '[A-Za-z0-9_-]{27,}', NOT_TOKEN_AFTER),
    validate: (secret) => isRandomEnough(secret, 9),
    reveal: 9,
    priority: 3,
    publishToken: true,
    description: 'Docker Hub personal or organisation access token (dckr_pat_, dckr_oat_).',
  },
  {
    id: 'docker-config-auth',
    title: 'Registry credentials in Docker config.json',
    severity: 'high',
    keywords: ['"auth"', '"identitytoken"'],
    pattern: /"(?:auth|identitytoken)"\s*:\s*"(?<secret>[A-Za-z0-9+/._-]{8,}={0,2})"/g,
    validate: (secret, context) =>
      context.match[0].startsWith('"auth"') ? isBase64UserPassword(secret) : secret.length >= 16,
    priority: 2,
    publishToken: true,
    description:
      '`auths.<registry>.auth` (base64 user:password) or `identitytoken` in ~/.docker/config.json.',
  },
  {
    id: 'aws-access-key-id',
    title: 'AWS access key id',
    severity: 'high',
    keywords: ['AKIA', 'ASIA', 'ABIA', 'ACCA'],
    pattern: /(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?![A-Z0-9])/g,
    validate: (secret) => isRandomEnough(secret, 4),
    reveal: 4,
    priority: 3,
    description: 'AWS access key id (AKIA/ASIA…, the public half of a key pair).',
  },
  {
    id: 'aws-secret-access-key',
    title: 'AWS secret access key',
    severity: 'critical',
    keywords: caseVariants([
      'secret_access_key',
      'secretaccesskey',
      'secretAccessKey',
      'secret-access-key',
      'aws_secret',
      'SecretKey',
    ]),
    pattern:
      /(?:aws)?[_.-]?secret[_.-]?(?:access[_.-]?)?key(?:[_.-]?id)?["']?\s*(?::=|=>|=|:)\s*["']?(?<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/gi,
    before: 16,
    validate: (secret) =>
      isRandomEnough(secret, 0) && /[A-Z]/.test(secret) && /[a-z]/.test(secret) && /\d/.test(secret),
    priority: 2,
    description: 'AWS secret access key (40 characters) assigned to an aws_secret_access_key-like name.',
  },
  {
    id: 'gcp-service-account-key',
    title: 'GCP service account key',
    severity: 'critical',
    keywords: ['"private_key"'],
    pattern:
      /"private_key"\s*:\s*"(?<secret>-----BEGIN (?:RSA )?PRIVATE KEY-----[^"]{64,}?-----END (?:RSA )?PRIVATE KEY-----(?:\\n)?)"/g,
    after: 8192,
    validate: (secret, context) =>
      hasKeyMaterial(secret) &&
      /service_account|gserviceaccount\.com/.test(
        context.text.slice(Math.max(0, context.start - 4096), context.start + secret.length + 4096),
      ),
    checkPlaceholder: false,
    reveal: 27,
    priority: 3,
    description: 'The private key of a Google Cloud service-account JSON key file.',
  },
  {
    id: 'gcp-api-key',
    title: 'Google API key',
    severity: 'high',
    keywords: ['AIza'],
    pattern: prefixed('AIza', '[0-9A-Za-z_-]{35}', NOT_TOKEN_AFTER),
    validate: (secret) => isRandomEnough(secret, 4),
    reveal: 4,
    priority: 3,
    description: 'Google Cloud / Firebase API key (AIza…).',
  },
  {
    id: 'azure-ad-client-secret',
    title: 'Azure AD client secret',
    severity: 'critical',
    keywords: ['Q~'],
    pattern: /(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])/g,
    before: 4,
    validate: (secret) => isRandomEnough(secret.slice(6), 0) && shannonEntropy(secret) >= 3.5,
    reveal: 0,
    priority: 3,
    description: 'Microsoft Entra ID (Azure AD) application client secret (…Q~…).',
  },
  {
    id: 'azure-storage-key',
    title: 'Azure storage or service bus key',
    severity: 'critical',
    keywords: ['AccountKey=', 'SharedAccessKey='],
    pattern: /(?:AccountKey=(?<secret>[A-Za-z0-9+/]{86}==)|SharedAccessKey=(?<sas>[A-Za-z0-9+/]{43}=))/g,
    priority: 2,
    description:
      'AccountKey= in an Azure storage connection string, or SharedAccessKey= (Service Bus, Event Hubs).',
  },
  {
    id: 'azure-devops-pat',
    title: 'Azure DevOps personal access token',
    severity: 'critical',
    keywords: [
      'AZDO',
      'dev.azure.com',
      'visualstudio.com',
      ...caseVariants(['azure_devops', 'azdo', 'devops_pat', 'vsts']),
    ],
    pattern:
      /(?:(?<![A-Za-z0-9])(?<cask>[A-Za-z0-9]{52}JQQJ9[0-9A-Za-z]{19}AZDO[A-Za-z0-9]{4})(?![A-Za-z0-9])|https?:\/\/(?:[^\s:@/]*:)?(?<url>[a-z2-7]{52})@(?:dev\.azure\.com|[\w-]+\.visualstudio\.com)|(?:azure[_-]?devops|azdo|vsts|devops)[\w-]{0,20}(?:pat|token)["']?\s*[:=]\s*["']?(?<legacy>[a-z2-7]{52})(?![a-z0-9]))/gi,
    before: 96,
    after: 256,
    validate: (secret) => isRandomEnough(secret, 0),
    priority: 3,
    publishToken: true,
    description:
      'Azure DevOps PAT: the 84-character format (…JQQJ9…AZDO…), or a 52-character legacy PAT next to its name or in a dev.azure.com URL.',
  },
  {
    id: 'slack-token',
    title: 'Slack token',
    severity: 'high',
    keywords: ['xoxb-', 'xoxp-', 'xoxa-', 'xoxo-', 'xoxr-', 'xoxs-', 'xoxe', 'xapp-'],
    pattern:
      /(?<![A-Za-z0-9])(?:xox[abposr]-(?:\d+-){1,3}[A-Za-z0-9]{24,64}|xoxe(?:\.xox[bp])?-\d-[A-Za-z0-9]{140,}|xapp-\d-[A-Z0-9]+-\d+-[a-f0-9]{64})(?![A-Za-z0-9-])/g,
    validate: (secret) => isRandomEnough(secret.slice(secret.lastIndexOf('-') + 1), 0),
    reveal: 5,
    priority: 3,
    description: 'Slack bot, user, app-level, configuration or refresh token.',
  },
  {
    id: 'slack-webhook',
    title: 'Slack incoming webhook',
    severity: 'high',
    keywords: ['hooks.slack.com'],
    pattern:
      /https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/T[A-Z0-9]{6,12}\/[A-Z0-9]{8,12}\/[A-Za-z0-9]{20,32}/g,
    before: 8,
    validate: (secret) =>
      isRandomEnough(secret.slice(secret.lastIndexOf('/') + 1), 0) && !/\/T0{6,}\//.test(secret),
    reveal: 24,
    priority: 3,
    description: 'Slack incoming webhook / workflow URL.',
  },
  {
    id: 'huggingface-token',
    title: 'Hugging Face token',
    severity: 'high',
    keywords: ['hf_', 'api_org_'],
    pattern: /(?<![A-Za-z0-9_])(?:hf_|api_org_)[A-Za-z]{34}(?![A-Za-z0-9])/g,
    validate: (secret) => {
      const body = secret.slice(secret.startsWith('hf_') ? 3 : 8);
      return (
        isRandomEnough(body, 0) && /[A-Z]/.test(body) && /[a-z]/.test(body) && shannonEntropy(body) >= 3.8
      );
    },
    reveal: 3,
    priority: 3,
    description: 'Hugging Face user (hf_) or organisation (api_org_) access token.',
  },
  {
    id: 'openai-api-key',
    title: 'OpenAI API key',
    severity: 'high',
    keywords: ['T3BlbkFJ'],
    // "T3BlbkFJ" is base64 of "OpenAI" and sits inside every OpenAI key.
    pattern:
      /(?<![A-Za-z0-9_-])sk-(?:(?:proj|svcacct|admin|None)-)?[A-Za-z0-9_-]{16,}T3BlbkFJ[A-Za-z0-9_-]{16,}(?![A-Za-z0-9_-])/g,
    before: 200,
    validate: (secret) => isRandomEnough(secret.replace(/^sk-(?:\w+-)?/, ''), 0),
    reveal: 3,
    priority: 3,
    description: 'OpenAI API key (sk-…T3BlbkFJ…, project, service-account and admin keys).',
  },
  {
    id: 'anthropic-api-key',
    title: 'Anthropic API key',
    severity: 'high',
    keywords: ['sk-ant-'],
    pattern: prefixed('sk-ant-', '(?:api|admin|oat|ort|sid)\\d{2}-[A-Za-z0-9_-]{80,120}', NOT_TOKEN_AFTER),
    validate: (secret) => isRandomEnough(secret.slice(14), 0),
    reveal: 7,
    priority: 3,
    description: 'Anthropic API or admin key (sk-ant-api03-…, sk-ant-admin01-…).',
  },
  {
    id: 'stripe-secret-key',
    title: 'Stripe secret or restricted key',
    severity: 'high',
    keywords: ['sk_live_', 'sk_test_', 'rk_live_', 'rk_test_'],
    pattern: prefixed('[sr]k_(?:live|test)_', '[0-9A-Za-z]{20,247}'),
    validate: (secret) => isRandomEnough(secret, 8),
    reveal: 8,
    priority: 3,
    description: 'Stripe secret (sk_) or restricted (rk_) key, live or test mode.',
  },
  {
    id: 'stripe-webhook-secret',
    title: 'Stripe webhook signing secret',
    severity: 'medium',
    keywords: ['whsec_'],
    pattern: prefixed('whsec_', '[A-Za-z0-9+/=]{32,}'),
    validate: (secret) => isRandomEnough(secret, 6),
    reveal: 6,
    priority: 3,
    description: 'Stripe (or Svix) webhook signing secret (whsec_).',
  },
  {
    id: 'private-key',
    title: 'Private key',
    severity: 'critical',
    keywords: ['-----BEGIN'],
    pattern:
      /-----BEGIN[ A-Z0-9]{0,20}PRIVATE KEY(?: BLOCK)?-----(?<body>[\s\S]{64,16384}?)-----END[ A-Z0-9]{0,20}PRIVATE KEY(?: BLOCK)?-----/g,
    multiline: true,
    after: 17000,
    validate: (secret, context) => hasKeyMaterial(context.match.groups?.['body'] ?? secret),
    checkPlaceholder: false,
    reveal: 0,
    priority: 2,
    description: 'PEM, PKCS#8, OpenSSH, or PGP private key block with key material.',
  },
  {
    id: 'putty-private-key',
    title: 'PuTTY private key',
    severity: 'critical',
    keywords: ['PuTTY-User-Key-File-'],
    pattern:
      /PuTTY-User-Key-File-\d: [^\r\n]+[\s\S]{0,4096}?Private-Lines: \d+\r?\n(?<secret>[A-Za-z0-9+/=\r\n]{40,})/g,
    multiline: true,
    after: 8192,
    validate: (secret) => hasKeyMaterial(secret),
    checkPlaceholder: false,
    priority: 3,
    description: 'PuTTY .ppk private key.',
  },
  {
    id: 'jwt',
    title: 'JSON Web Token',
    severity: 'medium',
    keywords: ['eyJ'],
    pattern:
      /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}(?![A-Za-z0-9_-])/g,
    after: 8192,
    validate: (secret) => isJwt(secret) && !isSampleJwt(secret),
    reveal: 3,
    priority: 3,
    description:
      'A signed JWT (header with alg other than none, JSON payload); bearer credentials are secrets.',
  },
  {
    id: 'vault-token',
    title: 'HashiCorp Vault token',
    severity: 'critical',
    keywords: ['hvs.', 'hvb.', 'hvr.', ...caseVariants(['vault_token'])],
    pattern:
      /(?:(?<![A-Za-z0-9])hv[sbr]\.[A-Za-z0-9_-]{24,}(?![A-Za-z0-9_-])|VAULT_TOKEN["']?\s*[:=]\s*["']?(?<legacy>[sbr]\.[A-Za-z0-9]{24})(?![A-Za-z0-9]))/gi,
    before: 0,
    validate: (secret) => isRandomEnough(secret.slice(4), 0),
    reveal: 4,
    priority: 3,
    description:
      'HashiCorp Vault service, batch or recovery token (hvs., hvb., hvr.; legacy s. next to VAULT_TOKEN).',
  },
  {
    id: 'terraform-cloud-token',
    title: 'Terraform Cloud / Enterprise token',
    severity: 'critical',
    keywords: ['.atlasv1.'],
    pattern: /(?<![A-Za-z0-9])[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}(?![A-Za-z0-9_=-])/g,
    before: 15,
    validate: (secret) => isRandomEnough(secret.slice(23), 0),
    reveal: 0,
    priority: 3,
    description: 'Terraform Cloud / Enterprise API token (….atlasv1.…).',
  },
  {
    id: 'git-credentials',
    title: 'Credentials in .git-credentials',
    severity: 'critical',
    keywords: ['://'],
    paths: /(?:^|[/\\])\.git-credentials$/,
    pattern: /^[ \t]*[a-z][a-z0-9+.-]*:\/\/(?<user>[^:\s/@]*):(?<secret>[^@\s]+)@/gm,
    before: 32,
    validate: (secret) => !isPlaceholder(secret),
    priority: 3,
    publishToken: true,
    description: 'A URL with a password or token in a git credential store file.',
  },
  {
    id: 'url-credentials',
    title: 'Password in URL',
    severity: 'high',
    keywords: ['://'],
    pattern:
      /(?<![A-Za-z0-9+.-])[a-zA-Z][a-zA-Z0-9+.-]{1,20}:\/\/(?<user>[^\s:/?#@'"`<>[\]{}\\]{0,128}):(?<secret>[^\s/?#@'"`<>\\]{3,256})@(?<host>[A-Za-z0-9._~-]+|\[[0-9a-fA-F:.]+\])/g,
    before: 24,
    validate: (secret, context) => isUrlCredential(secret, context),
    priority: 2,
    description: 'Credentials in a URL (https://user:secret@host, postgres://…, redis://…).',
  },
  {
    id: 'kubernetes-secret',
    title: 'Kubernetes Secret manifest value',
    severity: 'high',
    keywords: ['kind: Secret', 'kind: "Secret"', "kind: 'Secret'"],
    extract: (text, at) => kubernetesSecretValues(text, at),
    priority: 2,
    description: 'A value under data / stringData of a Kubernetes `kind: Secret` manifest.',
  },
  {
    id: 'generic-secret',
    title: 'Secret assigned in code or config',
    severity: 'medium',
    // Key names need a qualifier (api_key, accessKey…): a bare "key" is everywhere in code.
    keywords: [
      ...caseVariants([
        'password',
        'passwd',
        'pwd',
        'secret',
        'token',
        'credential',
        'auth',
        'apikey',
        'api_key',
        'api-key',
        'access_key',
        'private_key',
      ]),
      ...[
        'apiKey',
        'accessKey',
        'AccessKey',
        'privateKey',
        'PrivateKey',
        'appKey',
        'AppKey',
        'masterKey',
        'clientKey',
        'encryptionKey',
        'signingKey',
        'licenseKey',
        'sessionKey',
        'consumerKey',
      ],
      ...['_key', '_KEY', '-key', '-KEY'],
    ],
    pattern: new RegExp(
      `${GENERIC_NAME}["'\\]]?[ \\t]*(?::=|=>|\\?=|=|:)[ \\t]*(?<q>["'\`]?)(?<secret>[^\\s"'\`;,()<>\\[\\]{}\\\\]{6,256})\\k<q>(?![^\\s,;)\\]}])`,
      'gi',
    ),
    before: 64,
    after: 320,
    validate: (secret, context) =>
      isGenericSecretValue(
        context.match.groups?.['name'] ?? '',
        secret,
        (context.match.groups?.['q'] ?? '') !== '',
        context,
      ),
    reveal: 0,
    priority: 1,
    description:
      'A high-entropy value assigned to a secret-sounding name (password, token, api_key…), with stop words.',
  },
]);
