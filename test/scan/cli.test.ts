import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sarifSchemaErrors } from '../support/sarif-schema.ts';
import { plantedSecrets } from '../fixtures/scan/secrets.ts';
import { generateToken } from '../../src/tokens/index.ts';
import { main } from '../../src/cli/main.ts';

const bin = new URL('../../bin/pubgate.js', import.meta.url).pathname;

/** Runs the real executable (slow: a fresh process compiles the CLI). */
function spawnPubgate(args: string[], input?: string): { code: number; out: string; err: string } {
  const result = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    input,
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: result.status ?? -1, out: result.stdout, err: result.stderr };
}

/** Runs the CLI in this process; the report goes to a file (stdout belongs to the test runner). */
async function pubgate(args: string[]): Promise<{ code: number; out: string }> {
  const output = join(dir, `out-${Math.random().toString(36).slice(2)}.txt`);
  process.exitCode = undefined;
  try {
    const code = await main(['node', 'pubgate', ...args, '--output', output]);
    let out = '';
    try {
      out = readFileSync(output, 'utf8');
    } catch {
      // No report was written (usage error or baseline written).
    }
    return { code, out };
  } finally {
    process.exitCode = undefined;
  }
}

let dir: string;
let planted: ReturnType<typeof plantedSecrets>;
const outputs = new Map<string, { code: number; out: string; err: string }>();
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'pubgate-cli-'));
  planted = plantedSecrets();
  mkdirSync(join(dir, 'leaks', 'home', '.cargo'), { recursive: true });
  mkdirSync(join(dir, 'leaks', 'home', '.aws'), { recursive: true });
  planted.forEach((item, i) => writeFileSync(join(dir, 'leaks', item.path ?? `case-${i}.txt`), item.text));
  mkdirSync(join(dir, 'clean'));
  writeFileSync(join(dir, 'clean', 'README.md'), '# nothing here\npassword: ${DB_PASSWORD}\n');
  for (const format of ['text', 'json', 'sarif'])
    outputs.set(format, spawnPubgate(['scan', join(dir, 'leaks'), '--format', format]));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Every form of every planted secret that must never be printed. */
function leaked(output: string): string[] {
  return planted
    .filter((item) => item.secret.length >= 8 && output.includes(item.secret))
    .map((item) => item.ruleId);
}

void describe('pubgate scan (CLI)', () => {
  void it('exits 1 on findings and prints no planted secret in any format', async () => {
    for (const format of ['text', 'json', 'sarif']) {
      const result = outputs.get(format)!;
      assert.equal(result.code, 1, `${format}: exit code`);
      assert.deepEqual(leaked(result.out + result.err), [], `${format}: output contains planted secrets`);
    }
  });

  void it('reports every planted rule in JSON', async () => {
    const result = outputs.get('json')!;
    const report = JSON.parse(result.out) as { findings: Array<{ ruleId: string }> };
    const found = new Set(report.findings.map((f) => f.ruleId));
    assert.deepEqual(
      planted.map((item) => item.ruleId).filter((id) => !found.has(id)),
      [],
    );
  });

  void it('writes SARIF that is valid against the 2.1.0 schema', async () => {
    const result = outputs.get('sarif')!;
    const log = JSON.parse(result.out) as { runs: Array<{ results: unknown[] }> };
    assert.deepEqual(sarifSchemaErrors(log), []);
    assert.ok(log.runs[0]!.results.length >= planted.length);
  });

  void it('exits 0 on a clean tree', async () => {
    const result = await pubgate(['scan', join(dir, 'clean')]);
    assert.equal(result.code, 0);
    assert.match(result.out, /No secrets found/);
  });

  void it('exits 2 on a usage error and on an unreadable path', async () => {
    assert.equal((await pubgate(['scan', '--no-such-flag'])).code, 2);
    assert.equal((await pubgate(['scan', join(dir, 'missing')])).code, 2);
  });

  void it('scans standard input for the path -', async () => {
    const token = generateToken();
    const result = spawnPubgate(['scan', '-', '--format', 'json'], `log line\ntoken=${token}\n`);
    assert.equal(result.code, 1);
    assert.ok(!result.out.includes(token));
    assert.equal(
      (JSON.parse(result.out) as { findings: Array<{ path: string }> }).findings[0]?.path,
      '<stdin>',
    );
  });

  void describe('with a baseline', () => {
    void it('hides known findings and reports only new ones', async () => {
      const repo = join(dir, 'baseline-repo');
      mkdirSync(repo);
      writeFileSync(join(repo, 'old.env'), `TOKEN=${generateToken()}\n`);
      const baseline = join(dir, 'baseline.json');
      const write = await pubgate(['scan', repo, '--write-baseline', baseline]);
      assert.equal(write.code, 0);
      const stored = readFileSync(baseline, 'utf8');
      assert.equal((JSON.parse(stored) as { findings: unknown[] }).findings.length, 1);
      assert.equal((await pubgate(['scan', repo, '--baseline', baseline])).code, 0);
      writeFileSync(join(repo, 'new.env'), `TOKEN=${generateToken()}\n`);
      const after = await pubgate(['scan', repo, '--baseline', baseline, '--format', 'json']);
      assert.equal(after.code, 1);
      assert.deepEqual(
        (JSON.parse(after.out) as { findings: Array<{ path: string }> }).findings.map((f) =>
          f.path.slice(repo.length),
        ),
        ['/new.env'],
      );
    });
    void it('refuses a file that is not a baseline with exit 2', async () => {
      const bad = join(dir, 'bad-baseline.json');
      writeFileSync(bad, '{"version": 9}');
      assert.equal((await pubgate(['scan', join(dir, 'clean'), '--baseline', bad])).code, 2);
    });
  });

  void describe('with custom rules from config', () => {
    void it('reports what a custom regex rule matches, with keywords and entropy', async () => {
      const repo = join(dir, 'custom');
      mkdirSync(repo);
      const value = `acme_${'Zq9'.repeat(4)}${generateToken().slice(4, 24)}`;
      writeFileSync(join(repo, 'app.cfg'), `key = ${value}\nother = acme_aaaaaaaaaaaaaaaaaaaaaaaa\n`);
      const config = join(dir, 'scan.yml');
      writeFileSync(
        config,
        'scan:\n  rules:\n    - id: acme-key\n      title: ACME key\n      regex: "acme_[A-Za-z0-9]{24,}"\n      keywords: [acme_]\n      entropy: 3.5\n',
      );
      const result = await pubgate(['scan', repo, '--config', config, '--format', 'json']);
      assert.equal(result.code, 1);
      const findings = (JSON.parse(result.out) as { findings: Array<{ ruleId: string; line: number }> })
        .findings;
      assert.deepEqual(
        findings.map((f) => `${f.ruleId}:${f.line}`),
        ['acme-key:1'],
      );
      assert.ok(!result.out.includes(value));
    });
    void it('refuses an invalid custom rule with exit 2', async () => {
      const config = join(dir, 'bad.yml');
      writeFileSync(config, 'rules:\n  - id: Bad Id\n    regex: "("\n');
      const result = await pubgate(['scan', join(dir, 'clean'), '--config', config]);
      assert.equal(result.code, 2);
    });
  });
});
