/**
 * The CLI as a user runs it: --help, init, serve's config errors, token issue, release list/show/
 * reject/wait, and the audit log's verify and export, including tamper detection at the edited event.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { renderConfigReference } from '../src/config/index.ts';
import { writeGateConfig, spawnGate, type ChildGate } from './support/gate.ts';
import { escapedName, packageTarball, publishDoc } from './support/publish-doc.ts';

const root = new URL('..', import.meta.url).pathname;

function pubgate(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; input?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [join(root, 'bin/pubgate.js'), ...args],
      { cwd: options.cwd ?? root, env: { ...process.env, ...options.env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          stdout,
          stderr,
        });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

describe('cli', () => {
  it('explains itself with --help', async () => {
    const result = await pubgate(['--help']);
    assert.equal(result.code, 0);
    for (const command of ['init', 'serve', 'release', 'log', 'token', 'upstream', 'config'])
      assert.match(result.stdout, new RegExp(`\\b${command}\\b`));
    const wait = await pubgate(['release', 'wait', '--help']);
    assert.match(wait.stdout, /Exit 0 only when it was published/);
  });

  it('keeps docs/config.md equal to the schema', () => {
    assert.equal(
      readFileSync(join(root, 'docs/config.md'), 'utf8'),
      renderConfigReference(),
      'run `npx pubgate config reference > docs/config.md`',
    );
  });

  it('init writes a commented config and a 0600 master key, and refuses to overwrite them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pubgate-init-'));
    const result = await pubgate(['init', '--dir', dir]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(readFileSync(join(dir, 'pubgate.yaml'), 'utf8'), /# Database backend/);
    assert.equal(statSync(join(dir, 'pubgate-data/master.key')).mode & 0o777, 0o600);
    const again = await pubgate(['init', '--dir', dir]);
    assert.equal(again.code, 3);
    assert.match(again.stderr, /ERR_CONFIG_EXISTS/);
    const check = await pubgate(['config', 'check', '--config', join(dir, 'pubgate.yaml')]);
    assert.equal(check.code, 0, check.stderr);
    assert.equal((JSON.parse(check.stdout) as { dataDir: string }).dataDir, join(dir, 'pubgate-data'));
    rmSync(dir, { recursive: true, force: true });
  });

  it('admin enroll prints a one-time enrolment link for the first admin', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pubgate-enrol-'));
    assert.equal((await pubgate(['init', '--dir', dir])).code, 0);
    const result = await pubgate(['admin', 'enroll', '--config', join(dir, 'pubgate.yaml')]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^http:\/\/localhost:8470\/ui\/enroll\/[A-Za-z0-9_-]{43}\n$/);
    assert.match(result.stderr, /works once, until/);
    rmSync(dir, { recursive: true, force: true });
  });

  it("serve prints the first admin's enrolment link on first start, and not once someone is enrolled", async () => {
    const { file } = writeGateConfig({});
    const port = String(20000 + Math.floor(Math.random() * 20000));
    const child = execFile(
      process.execPath,
      [join(root, 'bin/pubgate.js'), 'serve', '--config', file, '--port', port],
      { env: { ...process.env, PUBGATE_LOG_LEVEL: 'silent' } },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const deadline = Date.now() + 30_000;
      while (!/ui\/enroll\//.test(stderr) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      assert.match(
        stderr,
        /The first admin enrols here \(works once, until [^)]+\):\n {2}http:\/\/localhost:\d+\/ui\/enroll\/[A-Za-z0-9_-]{43}/,
      );
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });

  it('serve exits with every bad field listed by its path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pubgate-badcfg-'));
    writeFileSync(
      join(dir, 'bad.yaml'),
      'server:\n  port: 99999\n  colour: blue\nstore:\n  driver: oracle\nlimits:\n  tarballBytes: -1\n',
    );
    const result = await pubgate(['serve', '--config', join(dir, 'bad.yaml')]);
    assert.equal(result.code, 3);
    for (const path of ['server.port', 'server', 'store.driver', 'limits.tarballBytes'])
      assert.match(result.stderr, new RegExp(`- ${path.replace('.', '\\.')}`));
    assert.match(result.stderr, /ERR_CONFIG_INVALID/);
    rmSync(dir, { recursive: true, force: true });
  });

  describe('against a running gate', () => {
    let file: string;
    let gate: ChildGate;
    let token: string;

    before(async () => {
      file = writeGateConfig({}).file;
      gate = await spawnGate(file);
      const created = await pubgate([
        'token',
        'create',
        '--identity',
        'alice',
        '--scope',
        'cli-*',
        'cli-pkg',
        '--ttl',
        '1h',
        '--config',
        file,
      ]);
      assert.notEqual(created.code, 0, 'a malformed scope pattern is refused');
      const ok = await pubgate([
        'token',
        'create',
        '--identity',
        'alice',
        '--scope',
        'cli-pkg',
        'cli-other',
        '--ttl',
        '1h',
        '--config',
        file,
      ]);
      assert.equal(ok.code, 0, ok.stderr);
      token = ok.stdout.trim();
      assert.match(token, /^pgt_[0-9A-Za-z]{46}$/);
    });
    after(async () => {
      await gate?.kill('SIGTERM');
    });

    async function hold(name: string): Promise<string> {
      const doc = publishDoc(name, '1.0.0', await packageTarball(name, '1.0.0'));
      const response = await fetch(`${gate.url}/npm/${escapedName(name)}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(doc),
      });
      return ((await response.json()) as { release: string }).release;
    }

    it('lists, shows and rejects releases; wait exits 1 for a rejected release', async () => {
      const id = await hold('cli-pkg');
      const list = await pubgate(['release', 'list', '--config', file]);
      assert.match(list.stdout, new RegExp(`${id}\\s+awaiting_approval\\s+cli-pkg@1\\.0\\.0`));
      const show = await pubgate(['release', 'show', id, '--json', '--config', file]);
      const shown = JSON.parse(show.stdout) as { state: string; history: Array<{ action: string }> };
      assert.deepEqual(
        shown.history.map((h) => h.action),
        ['release.received', 'release.checked', 'release.awaiting_approval'],
      );
      const waitTimeout = await pubgate([
        'release',
        'wait',
        id,
        '--timeout',
        '1s',
        '--interval',
        '1s',
        '--config',
        file,
      ]);
      assert.equal(waitTimeout.code, 124);
      const reject = await pubgate(['release', 'reject', id, '--reason', 'not ours', '--config', file]);
      assert.equal(reject.code, 0, reject.stderr);
      const wait = await pubgate(['release', 'wait', id, '--server', gate.url, '--timeout', '10s'], {
        env: { PUBGATE_TOKEN: token },
      });
      assert.equal(wait.code, 1);
      assert.match(wait.stderr, /rejected: not ours/);
      const again = await pubgate(['release', 'reject', id, '--reason', 'twice', '--config', file]);
      assert.equal(again.code, 2);
      assert.match(again.stderr, /ERR_RELEASE_STATE/);
    });

    it('seals the upstream token from stdin and never prints it', async () => {
      const secret = 'upstream-secret-value-' + Math.random().toString(36).slice(2);
      const result = await pubgate(['upstream', 'set-token', '--config', file], { input: secret });
      assert.equal(result.code, 0, result.stderr);
      assert.ok(!(result.stdout + result.stderr).includes(secret));
      const db = new BetterSqlite3(join(file, '..', 'data', 'pubgate.sqlite'), { readonly: true });
      const dump = JSON.stringify(db.prepare('select * from vault_secrets').all());
      db.close();
      assert.ok(!dump.includes(secret), 'not in the database in clear');
      assert.ok(dump.includes('upstream/npm/token'));
    });

    it('log checkpoint signs the head; log verify --checkpoint catches events cut from the end', async () => {
      const checkpoint = join(mkdtempSync(join(tmpdir(), 'pubgate-checkpoint-')), 'head.json');
      const made = await pubgate(['log', 'checkpoint', '--output', checkpoint, '--config', file]);
      assert.equal(made.code, 0, made.stderr);
      const bundle = JSON.parse(readFileSync(checkpoint, 'utf8')) as { dsseEnvelope: { payload: string } };
      const { seq } = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString()) as {
        seq: number;
      };
      const path = join(file, '..', 'data', 'pubgate.sqlite');
      const db = new BetterSqlite3(path);
      const tail = db.prepare('select * from audit_events where seq >= ? order by seq').all(seq);
      db.prepare('delete from audit_events where seq >= ?').run(seq);
      db.close();
      try {
        assert.equal(
          (await pubgate(['log', 'verify', '--config', file])).code,
          0,
          'alone, the cut chain verifies',
        );
        const caught = await pubgate(['log', 'verify', '--checkpoint', checkpoint, '--config', file]);
        assert.equal(caught.code, 1);
        assert.match(caught.stdout, new RegExp(`covers event ${seq}: events were removed from its end`));
      } finally {
        const restore = new BetterSqlite3(path);
        const insert = restore.prepare(
          'insert into audit_events (seq, at, actor, action, subject, data, prev_hash, hash) values (@seq, @at, @actor, @action, @subject, @data, @prev_hash, @hash)',
        );
        for (const row of tail) insert.run(row);
        restore.close();
      }
      const whole = await pubgate(['log', 'verify', '--checkpoint', checkpoint, '--config', file]);
      assert.equal(whole.code, 0, whole.stdout);
    });

    it('log verify passes, export writes JSON lines, and an edited event is reported at that event', async () => {
      const verified = await pubgate(['log', 'verify', '--json', '--config', file]);
      assert.equal(verified.code, 0);
      const events = (JSON.parse(verified.stdout) as { events: number }).events;
      assert.ok(events >= 5);
      const out = join(mkdtempSync(join(tmpdir(), 'pubgate-export-')), 'log.jsonl');
      const exported = await pubgate(['log', 'export', '--output', out, '--config', file]);
      assert.equal(exported.code, 0, exported.stderr);
      const lines = readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { seq: number; hash: string });
      assert.equal(lines.length, events);
      assert.ok(!readFileSync(out, 'utf8').includes(token), 'no credential in the log');

      const db = new BetterSqlite3(join(file, '..', 'data', 'pubgate.sqlite'));
      db.prepare("update audit_events set data = replace(data, 'cli-pkg', 'cli-evil') where seq = 3").run();
      db.close();
      const broken = await pubgate(['log', 'verify', '--json', '--config', file]);
      assert.equal(broken.code, 1);
      assert.deepEqual(JSON.parse(broken.stdout), {
        ok: false,
        events: 2,
        brokenAt: 3,
        problem: 'event 3 was modified after it was written',
      });

      const db2 = new BetterSqlite3(join(file, '..', 'data', 'pubgate.sqlite'));
      db2.prepare("update audit_events set data = replace(data, 'cli-evil', 'cli-pkg') where seq = 3").run();
      db2.prepare('delete from audit_events where seq = 4').run();
      db2.close();
      const deleted = await pubgate(['log', 'verify', '--config', file]);
      assert.equal(deleted.code, 1);
      assert.match(deleted.stdout, /BROKEN at event 4: event 4 is missing/);
      assert.ok(existsSync(out));
    });
  });
});
