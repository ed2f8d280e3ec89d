import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditRepository, toAuditConfig } from './index.ts';
import { isPubgateError } from '../errors/index.ts';

describe('per-file limits', () => {
  let root = '';
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'pubgate-audit-limits-'));
    const wf = join(root, '.github', 'workflows');
    mkdirSync(wf, { recursive: true });
    const steps = Array.from({ length: 40_000 }, (_, i) => `      - run: echo step ${i}`).join('\n');
    writeFileSync(
      join(wf, 'huge.yml'),
      `on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n${steps}\n`,
    );
    writeFileSync(join(wf, 'binary.yml'), Buffer.from([0x6f, 0x6e, 0x3a, 0x00, 0xff, 0xfe, 0x00, 0x01]));
    writeFileSync(
      join(wf, 'ok.yml'),
      'on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: evil/thing@main\n',
    );
    mkdirSync(join(root, 'scripts'));
    writeFileSync(
      join(root, 'scripts', 'release.sh'),
      Buffer.concat([Buffer.from('#!/bin/sh\n'), Buffer.alloc(16, 0)]),
    );
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('gives huge and binary files a clear per-file error and audits the rest', () => {
    const report = auditRepository(root, { config: toAuditConfig({ maxFileBytes: 512 * 1024 }) });
    const codes = Object.fromEntries(report.errors.map((e) => [e.file, e.code]));
    assert.equal(codes['.github/workflows/huge.yml'], 'ERR_AUDIT_FILE_TOO_LARGE');
    assert.equal(codes['.github/workflows/binary.yml'], 'ERR_AUDIT_FILE_BINARY');
    assert.equal(codes['scripts/release.sh'], 'ERR_AUDIT_FILE_BINARY');
    assert.ok(
      report.findings.some(
        (f) => f.ruleId === 'unpinned-action' && f.location.file === '.github/workflows/ok.yml',
      ),
    );
  });

  it('audits a large but allowed file', () => {
    const report = auditRepository(root, { config: toAuditConfig({ maxFileBytes: 8 * 1024 * 1024 }) });
    assert.equal(
      report.errors.find((e) => e.file === '.github/workflows/huge.yml'),
      undefined,
    );
  });

  it('refuses a missing root with ERR_AUDIT_ROOT_NOT_FOUND', () => {
    assert.throws(
      () => auditRepository(join(root, 'nope')),
      (e: unknown) => isPubgateError(e, 'ERR_AUDIT_ROOT_NOT_FOUND'),
    );
  });

  it('never reads outside the root through a traversal path in a workflow', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pubgate-audit-trav-'));
    try {
      mkdirSync(join(dir, '.github', 'workflows'), { recursive: true });
      writeFileSync(
        join(dir, '.github', 'workflows', 'x.yml'),
        'on: push\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: make -C ../../../../etc publish && ../../../../etc/passwd.sh\n      - uses: ./../../../../tmp\n',
      );
      const report = auditRepository(dir);
      assert.deepEqual(report.errors, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
