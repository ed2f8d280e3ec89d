import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sarifSchemaErrors } from '../../test/support/sarif-schema.ts';
import {
  AUDIT_RULES,
  auditRepository,
  formatAuditJson,
  formatAuditSarif,
  formatAuditText,
  loadAuditConfig,
  toAuditConfig,
  DEFAULT_AUDIT_CONFIG,
} from './index.ts';

const root = fileURLToPath(new URL('../../test/fixtures/pipeline/hidden-publish', import.meta.url));

describe('audit reports', () => {
  const report = auditRepository(root, { config: loadAuditConfig(root) });

  it('writes SARIF 2.1.0 that validates against the schema, with rules, regions and fingerprints', () => {
    const log = JSON.parse(formatAuditSarif(report, DEFAULT_AUDIT_CONFIG)) as {
      runs: {
        tool: { driver: { rules: unknown[] } };
        results: {
          locations: { physicalLocation: { region: { startLine: number } } }[];
          partialFingerprints: Record<string, string>;
        }[];
      }[];
    };
    assert.deepEqual(sarifSchemaErrors(log), []);
    const run = log.runs[0];
    assert.equal(run?.tool.driver.rules.length, AUDIT_RULES.length);
    assert.equal(run?.results.length, report.findings.length);
    assert.ok((run?.results[0]?.locations[0]?.physicalLocation.region.startLine ?? 0) >= 1);
    assert.ok(run?.results[0]?.partialFingerprints['pubgate/v1']);
  });

  it('writes SARIF with per-file errors as tool notifications, still valid', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pubgate-audit-sarif-'));
    mkdirSync(join(dir, '.github', 'workflows'), { recursive: true });
    writeFileSync(join(dir, '.github', 'workflows', 'a.yml'), 'on: [push\n');
    writeFileSync(join(dir, '.github', 'workflows', 'b.yml'), Buffer.from([0, 1, 2]));
    const withErrors = auditRepository(dir);
    rmSync(dir, { recursive: true, force: true });
    const log = JSON.parse(formatAuditSarif(withErrors, DEFAULT_AUDIT_CONFIG)) as {
      runs: { invocations: { executionSuccessful: boolean; toolExecutionNotifications: unknown[] }[] }[];
    };
    assert.deepEqual(sarifSchemaErrors(log), []);
    assert.equal(log.runs[0]?.invocations[0]?.executionSuccessful, false);
    assert.equal(log.runs[0]?.invocations[0]?.toolExecutionNotifications.length, 2);
  });

  it('writes JSON with the explanation and the fix, the gate URL filled in', () => {
    const config = toAuditConfig({ gates: ['https://gate.acme.test/npm/'] });
    const json = JSON.parse(formatAuditJson(report, config)) as {
      findings: { ruleId: string; explanation: string; fix: string; location: { file: string } }[];
      summary: { findings: number };
    };
    assert.equal(json.summary.findings, report.findings.length);
    const bypass = json.findings.find((f) => f.ruleId === 'publish-bypasses-gate');
    assert.ok(bypass?.explanation.length);
    assert.match(
      bypass?.fix ?? '',
      /npm stage publish \.\/\*\.tgz --registry https:\/\/gate\.acme\.test\/npm\//,
    );
    assert.match(bypass?.fix ?? '', /id-token: write/);
  });

  it('writes text grouped by file, without colour codes when colour is off', () => {
    const text = formatAuditText(report, { color: false, config: DEFAULT_AUDIT_CONFIG });
    assert.doesNotMatch(text, /\u001b\[/);
    assert.match(text, /^\.github\/workflows\/release\.yml$/m);
    assert.match(text, /via \.github\/workflows\/release\.yml:30/);
    assert.match(text, /Why and how to fix/);
    assert.match(formatAuditText(report, { color: true, config: DEFAULT_AUDIT_CONFIG }), /\u001b\[/);
  });

  it('never writes a secret value: fixtures hold none, and output names secrets only', () => {
    const all =
      formatAuditJson(report, DEFAULT_AUDIT_CONFIG) + formatAuditSarif(report, DEFAULT_AUDIT_CONFIG);
    assert.doesNotMatch(all, /npm_[A-Za-z0-9]{36}|ghp_[A-Za-z0-9]{36}|AKIA[0-9A-Z]{16}/);
  });
});

describe('audit config', () => {
  it('fills defaults: the four protected registries, actions/* and github/* allowed unpinned', () => {
    const config = toAuditConfig({});
    assert.deepEqual(config.protectedRegistries, [
      'registry.npmjs.org',
      'upload.pypi.org',
      'rubygems.org',
      'crates.io',
    ]);
    assert.deepEqual(config.allowUnpinned, ['actions/*', 'github/*']);
    assert.ok(Object.isFrozen(config));
  });

  it('lists every bad field with ERR_AUDIT_CONFIG_INVALID', () => {
    assert.throws(
      () =>
        toAuditConfig({
          gates: ['ftp://x'],
          rules: { 'unpinned-action': 'loud' },
          ignore: [{ rule: 'x', path: 'y' }],
          extra: 1,
        }),
      (e: unknown) => {
        const err = e as { code?: string; details?: { problems?: string[] } };
        return err.code === 'ERR_AUDIT_CONFIG_INVALID' && (err.details?.problems?.length ?? 0) >= 4;
      },
    );
  });

  it('applies rule overrides: off drops the rule, a severity replaces it', () => {
    const off = auditRepository(root, {
      config: toAuditConfig({
        rules: { 'publish-bypasses-gate': 'off', 'long-lived-registry-credential': 'critical' },
      }),
    });
    assert.equal(off.findings.filter((f) => f.ruleId === 'publish-bypasses-gate').length, 0);
    assert.ok(
      off.findings
        .filter((f) => f.ruleId === 'long-lived-registry-credential')
        .every((f) => f.severity === 'critical'),
    );
  });

  it('treats a publish to a configured gate as going through the gate', () => {
    const gated = auditRepository(root, {
      config: toAuditConfig({ gates: ['https://registry.npmjs.org/'] }),
    });
    assert.equal(
      gated.findings.filter((f) => f.ruleId === 'publish-bypasses-gate' && f.message.includes('npm')).length,
      0,
    );
  });

  it('lets allowUnpinned: [] require pins for actions/* too', () => {
    const strict = auditRepository(root, { config: toAuditConfig({ allowUnpinned: [] }) });
    assert.ok(
      strict.findings.some((f) => f.ruleId === 'unpinned-action' && f.message.includes('actions/checkout')),
    );
  });
});
