import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sarifSchemaErrors } from '../support/sarif-schema.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = join(repo, 'test', 'fixtures', 'pipeline');

function pubgate(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(repo, 'bin', 'pubgate.js'), ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('pubgate audit (CLI)', () => {
  it('explains options, formats, exit codes, suppression and config in --help', () => {
    const r = pubgate('audit', '--help');
    assert.equal(r.status, 0);
    for (const word of ['--format', 'sarif', '--fail-on', '--config', '--output', 'Exit codes', 'pubgate-audit-ignore', 'gates:']) assert.ok(r.stdout.includes(word), word);
  });

  it('exits 0 on a clean repository and 1 when findings reach --fail-on', () => {
    assert.equal(pubgate('audit', join(fixtures, 'gated-oidc')).status, 0);
    const dirty = pubgate('audit', join(fixtures, 'npm-token-publish'));
    assert.equal(dirty.status, 1);
    assert.match(dirty.stdout, /publish-bypasses-gate/);
    assert.equal(pubgate('audit', join(fixtures, 'permissions'), '--fail-on', 'critical').status, 0);
  });

  it('exits 2 on a bad config, a missing path, or files it could not audit', () => {
    assert.equal(pubgate('audit', join(fixtures, 'nope')).status, 2);
    const bad = pubgate('audit', join(fixtures, 'gated-oidc'), '--config', join(fixtures, 'gated-oidc', 'package.json'));
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /ERR_AUDIT_CONFIG_INVALID/);
    const broken = pubgate('audit', join(fixtures, 'broken'), '--fail-on', 'none');
    assert.equal(broken.status, 2);
    assert.match(broken.stderr, /ERR_AUDIT_YAML_INVALID/);
  });

  it('writes valid SARIF to --output', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pubgate-audit-cli-'));
    try {
      const out = join(dir, 'audit.sarif');
      const r = pubgate('audit', join(fixtures, 'changesets'), '--format', 'sarif', '--output', out, '--fail-on', 'none');
      assert.equal(r.status, 0);
      assert.equal(r.stdout, '');
      assert.deepEqual(sarifSchemaErrors(JSON.parse(readFileSync(out, 'utf8'))), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
