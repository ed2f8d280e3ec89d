import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { generateToken } from '../tokens/index.ts';
import { checksummed } from '../../test/fixtures/scan/secrets.ts';
import { scanPaths } from './scan-paths.ts';
import { createScanner } from './scanner.ts';
import { scanStream } from './stream-scan.ts';
import { scanTarball, ScanInputError } from './index.ts';

const npmToken = (): string => checksummed(['npm', '_'].join(''));

async function tarball(entries: Record<string, string | Buffer>): Promise<Buffer> {
  const p = pack();
  for (const [name, body] of Object.entries(entries)) p.entry({ name }, body);
  p.finalize();
  const parts: Buffer[] = [];
  for await (const chunk of p as AsyncIterable<Buffer>) parts.push(chunk);
  return gzipSync(Buffer.concat(parts));
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'pubgate-scan-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

void describe('sources', () => {
  void describe('directories', () => {
    void it('respects .gitignore unless noIgnore, skips .git and binary files', async () => {
      const root = join(dir, 'tree');
      mkdirSync(join(root, 'sub', 'ignored'), { recursive: true });
      mkdirSync(join(root, '.git'), { recursive: true });
      writeFileSync(join(root, '.gitignore'), 'secret.env\n');
      writeFileSync(join(root, 'sub', '.gitignore'), 'ignored/\n');
      writeFileSync(join(root, 'secret.env'), `TOKEN=${generateToken()}\n`);
      writeFileSync(join(root, 'sub', 'ignored', 'a.txt'), `TOKEN=${generateToken()}\n`);
      writeFileSync(join(root, '.git', 'config'), `TOKEN=${generateToken()}\n`);
      writeFileSync(join(root, 'sub', 'kept.txt'), `\n\nTOKEN=${generateToken()}\n`);
      writeFileSync(
        join(root, 'image.bin'),
        Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(`TOKEN=${generateToken()}`)]),
      );
      const respected = await scanPaths([root], { workers: 1 });
      assert.deepEqual(
        respected.findings.map((f) => `${f.path.slice(root.length)}:${f.line}`),
        ['/sub/kept.txt:3'],
      );
      assert.equal(respected.binarySkipped, 1);
      const all = await scanPaths([root], { workers: 1, noIgnore: true });
      assert.equal(all.findings.length, 3);
    });

    void it('gives the same findings on worker threads as in one thread', async () => {
      const root = join(dir, 'many');
      mkdirSync(root, { recursive: true });
      const filler = 'const x = 1;\n'.repeat(40_000);
      for (let i = 0; i < 12; i++)
        writeFileSync(join(root, `f${i}.js`), `${filler}const t = "${generateToken()}";\n`);
      const one = await scanPaths([root], { workers: 1, fingerprintKey: 'k'.repeat(32) });
      const pooled = await scanPaths([root], { workers: 2, fingerprintKey: 'k'.repeat(32) });
      assert.equal(one.findings.length, 12);
      assert.deepEqual(pooled.findings, one.findings);
    });
  });

  void describe('streams', () => {
    void it('finds secrets across chunk boundaries with the right line numbers', async () => {
      const scanner = createScanner();
      const tokens = Array.from({ length: 6 }, () => generateToken());
      const lines: string[] = [];
      for (let i = 0; i < 6; i++) lines.push('x'.repeat(1_500_000), `t=${tokens[i]}`);
      const text = Buffer.from(lines.join('\n'));
      const chunks = Array.from({ length: Math.ceil(text.length / 65_536) }, (_, i) =>
        text.subarray(i * 65_536, (i + 1) * 65_536),
      );
      const result = await scanStream(scanner, Readable.from(chunks), 'big.txt');
      assert.deepEqual(
        result.findings.map((f) => `${f.line}:${f.column}`),
        ['2:3', '4:3', '6:3', '8:3', '10:3', '12:3'],
      );
    });

    void it('reads standard input for the path -', async () => {
      const report = await scanPaths(['-'], {
        stdin: Readable.from([Buffer.from(`a\nNPM_TOKEN=${npmToken()}\n`)]),
      });
      assert.deepEqual(
        report.findings.map((f) => `${f.path}:${f.line}:${f.ruleId}`),
        ['<stdin>:2:npm-access-token'],
      );
    });
  });

  void describe('tarballs', () => {
    void it('scans every text entry in memory and reports the entry path', async () => {
      const bytes = await tarball({
        'package/package.json': '{"name":"x","version":"1.0.0"}',
        'package/.npmrc': `//registry.npmjs.org/:_authToken=${npmToken()}\n`,
        'package/lib/index.js': `\nmodule.exports = "${generateToken()}";\n`,
        'package/logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]),
      });
      const findings = await scanTarball(bytes);
      assert.deepEqual(findings.map((f) => `${f.path}:${f.line}:${f.ruleId}`).sort(), [
        'package/.npmrc:1:npm-access-token',
        'package/lib/index.js:2:pubgate-token',
      ]);
    });
    void it('reads plain (not gzip) tar too', async () => {
      const p = pack();
      p.entry({ name: 'package/.env' }, `NPM_TOKEN=${npmToken()}\n`);
      p.finalize();
      const parts: Buffer[] = [];
      for await (const chunk of p as AsyncIterable<Buffer>) parts.push(chunk);
      assert.equal((await scanTarball(Buffer.concat(parts))).length, 1);
    });
    void it('refuses a corrupt tarball with ERR_SCAN_TARBALL_CORRUPT', async () => {
      await assert.rejects(
        scanTarball(Buffer.from([0x1f, 0x8b, 1, 2, 3, 4, 5])),
        (e: unknown) => e instanceof ScanInputError && e.code === 'ERR_SCAN_TARBALL_CORRUPT',
      );
    });
    void it('stops a tarball that unpacks beyond the limit with ERR_SCAN_TARBALL_TOO_LARGE', async () => {
      const bytes = await tarball({ 'package/a.txt': 'a'.repeat(100_000) });
      await assert.rejects(
        scanTarball(bytes, { maxBytes: 1000 }),
        (e: unknown) => e instanceof ScanInputError && e.code === 'ERR_SCAN_TARBALL_TOO_LARGE',
      );
    });
  });

  void describe('git history', () => {
    const git = (repo: string, ...args: string[]): string =>
      execFileSync('git', args, {
        cwd: repo,
        encoding: 'utf8',
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@t',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@t',
        },
      });
    void it('finds a secret added then deleted, at the commit that added it, on every ref', async () => {
      const repo = join(dir, 'repo');
      mkdirSync(repo, { recursive: true });
      git(repo, 'init', '-q', '-b', 'main');
      writeFileSync(join(repo, 'README.md'), 'hello\n');
      git(repo, 'add', '.');
      git(repo, 'commit', '-q', '-m', 'first');
      const base = git(repo, 'rev-parse', 'HEAD').trim();
      writeFileSync(
        join(repo, 'config.js'),
        `// config\nmodule.exports = {\n  token: "${generateToken()}",\n};\n`,
      );
      git(repo, 'add', '.');
      git(repo, 'commit', '-q', '-m', 'add config');
      const added = git(repo, 'rev-parse', 'HEAD').trim();
      writeFileSync(join(repo, 'config.js'), 'module.exports = {};\n');
      git(repo, 'commit', '-q', '-am', 'remove the token');
      git(repo, 'checkout', '-q', '-b', 'side', base);
      writeFileSync(join(repo, 'side.env'), `NPM_TOKEN=${npmToken()}\n`);
      git(repo, 'add', '.');
      git(repo, 'commit', '-q', '-m', 'side branch');
      const side = git(repo, 'rev-parse', 'HEAD').trim();
      git(repo, 'checkout', '-q', 'main');
      const report = await scanPaths([repo], { git: true });
      assert.deepEqual(
        report.findings.map((f) => `${f.commit}:${f.path}:${f.line}:${f.ruleId}`).sort(),
        [`${added}:config.js:3:pubgate-token`, `${side}:side.env:1:npm-access-token`].sort(),
      );
      assert.equal(report.commits, 4);
      const since = await scanPaths([repo], { git: true, since: added });
      assert.deepEqual(
        since.findings.map((f) => f.ruleId),
        ['npm-access-token'],
      );
    });
    void it('refuses a folder that is not a repository with ERR_SCAN_NOT_A_REPOSITORY', async () => {
      const plain = mkdtempSync(join(tmpdir(), 'pubgate-norepo-'));
      try {
        await assert.rejects(
          scanPaths([plain], { git: true }),
          (e: unknown) => e instanceof ScanInputError && e.code === 'ERR_SCAN_NOT_A_REPOSITORY',
        );
      } finally {
        rmSync(plain, { recursive: true, force: true });
      }
    });
  });
});
