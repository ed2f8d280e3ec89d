import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sarifSchemaErrors } from '../support/sarif-schema.ts';
import { main } from '../../src/cli/main.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = join(repo, 'test', 'fixtures', 'pipeline');

/** Runs the CLI in-process, capturing stdout/stderr and leaving process.exitCode as it found it. */
async function pubgate(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const writeOut = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  const saved = process.exitCode;
  process.exitCode = undefined;
  process.stdout.write = ((chunk: string | Uint8Array) => (
    out.push(String(chunk)),
    true
  )) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (
    err.push(String(chunk)),
    true
  )) as typeof process.stderr.write;
  try {
    const status = await main(['node', 'pubgate', ...args]);
    return { status, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
    process.exitCode = saved;
  }
}

describe('pubgate audit (CLI)', () => {
  it('explains options, formats, exit codes, suppression and config in --help', async () => {
    const r = await pubgate('audit', '--help');
    assert.equal(r.status, 0);
    for (const word of [
      '--format',
      'sarif',
      '--fail-on',
      '--config',
      '--output',
      'Exit codes',
      'pubgate-audit-ignore',
      'gates:',
    ])
      assert.ok(r.stdout.includes(word), word);
  });

  it('exits 0 on a clean repository and 1 when findings reach --fail-on', async () => {
    assert.equal((await pubgate('audit', join(fixtures, 'gated-oidc'))).status, 0);
    const dirty = await pubgate('audit', join(fixtures, 'npm-token-publish'));
    assert.equal(dirty.status, 1);
    assert.match(dirty.stdout, /publish-bypasses-gate/);
    assert.equal((await pubgate('audit', join(fixtures, 'permissions'), '--fail-on', 'critical')).status, 0);
  });

  it('exits 2 on a bad config, a missing path, or files it could not audit', async () => {
    assert.equal((await pubgate('audit', join(fixtures, 'nope'))).status, 2);
    const bad = await pubgate(
      'audit',
      join(fixtures, 'gated-oidc'),
      '--config',
      join(fixtures, 'gated-oidc', 'package.json'),
    );
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /ERR_AUDIT_CONFIG_INVALID/);
    const dir = mkdtempSync(join(tmpdir(), 'pubgate-audit-cli-broken-'));
    try {
      mkdirSync(join(dir, '.github', 'workflows'), { recursive: true });
      writeFileSync(join(dir, '.github', 'workflows', 'bad.yml'), 'on: [push\n');
      const broken = await pubgate('audit', dir, '--fail-on', 'none');
      assert.equal(broken.status, 2);
      assert.match(broken.stderr, /ERR_AUDIT_YAML_INVALID/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes valid SARIF to --output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pubgate-audit-cli-'));
    try {
      const out = join(dir, 'audit.sarif');
      const r = await pubgate(
        'audit',
        join(fixtures, 'changesets'),
        '--format',
        'sarif',
        '--output',
        out,
        '--fail-on',
        'none',
      );
      assert.equal(r.status, 0);
      assert.equal(r.stdout, '');
      assert.deepEqual(sarifSchemaErrors(JSON.parse(readFileSync(out, 'utf8'))), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
