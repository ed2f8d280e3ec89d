/** Loading and writing the master key file (32 random bytes, base64, mode 0600). */
import { readFileSync, writeFileSync, statSync } from 'node:fs';
import { ConfigError } from '../errors/index.ts';
import { generateMasterKey } from './envelope.ts';

/** Reads the master key from `path`; refuses a file readable by group or others. */
export function loadMasterKey(path: string): Buffer {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(
      'ERR_CONFIG_MASTER_KEY_MISSING',
      `cannot read the master key at ${path}; run \`pubgate init\` to create one`,
      { cause },
    );
  }
  if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) {
    throw new ConfigError(
      'ERR_CONFIG_MASTER_KEY_MODE',
      `master key ${path} is readable by others; run \`chmod 600 ${path}\``,
    );
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) {
    throw new ConfigError('ERR_CONFIG_MASTER_KEY_INVALID', `master key ${path} must hold 32 bytes in base64`);
  }
  return key;
}

/** Writes a new master key to `path` (mode 0600); refuses to overwrite an existing one. */
export function writeNewMasterKey(path: string): void {
  const key = generateMasterKey();
  try {
    writeFileSync(path, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (cause) {
    throw new ConfigError(
      'ERR_CONFIG_MASTER_KEY_EXISTS',
      `a master key already exists at ${path}; refusing to overwrite it`,
      { cause },
    );
  } finally {
    key.fill(0);
  }
}
