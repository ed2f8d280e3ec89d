import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateToken, hashToken } from '../../src/tokens/index.ts';
import { runAgent, scanEndpoint, ScanAgentError, type AgentReport } from '../../src/scan/index.ts';
import { checksummed, randomBase62 } from '../fixtures/scan/secrets.ts';

const j = (...parts: string[]): string => parts.join('');

let root: string;
let home: string;
const secrets = {
  npm: '',
  pgt: '',
  gh: '',
  aws: '',
  history: '',
  env: '',
  runner: '',
};

before(() => {
  root = mkdtempSync(join(tmpdir(), 'pubgate-endpoint-'));
  home = join(root, 'home');
  secrets.npm = checksummed(j('npm', '_'));
  secrets.pgt = generateToken();
  secrets.gh = checksummed(j('gh', 'o_'));
  secrets.aws = randomBase62(40);
  secrets.history = checksummed(j('gh', 'p_'));
  secrets.env = generateToken();
  secrets.runner = checksummed(j('npm', '_'));
  const files: Record<string, string> = {
    '.npmrc': `//registry.npmjs.org/:_authToken=${secrets.npm}\n`,
    '.config/pubgate/credentials': `token=${secrets.pgt}\n`,
    '.config/gh/hosts.yml': `github.com:\n    oauth_token: ${secrets.gh}\n    user: octocat\n`,
    '.aws/credentials': `[default]\naws_access_key_id = AKIA${randomBase62(16)
      .toUpperCase()
      .replace(/[^A-Z2-7]/g, 'Q')}\naws_secret_access_key = ${secrets.aws}\n`,
    '.bash_history': `ls\ncurl -H "Authorization: token ${secrets.history}" https://api.github.com/user\n`,
    'code/app/.env': `PUBGATE_TOKEN=${secrets.env}\n`,
    'code/app/node_modules/x/.env': `PUBGATE_TOKEN=${generateToken()}\n`,
    '.docker/config.json': '{"auths":{"https://index.docker.io/v1/":{}},"credsStore":"desktop"}\n',
  };
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(join(home, name, '..'), { recursive: true });
    writeFileSync(join(home, name), body);
  }
  mkdirSync(join(root, 'runner', '_work', '_temp'), { recursive: true });
  writeFileSync(
    join(root, 'runner', '_work', '_temp', '.npmrc'),
    `//registry.npmjs.org/:_authToken=${secrets.runner}\n`,
  );
});
after(() => rmSync(root, { recursive: true, force: true }));

void describe('endpoint mode on a fake home folder', () => {
  void it('finds credentials in dotfiles, histories, .env files and runner folders, never under node_modules', async () => {
    const report = await scanEndpoint({ home, runnerDirs: [join(root, 'runner', '_work')] });
    const secretsFound = report.findings
      .filter((f) => f.kind === 'secret')
      .map((f) => `${f.path.replace(root, '<root>')}:${f.ruleId}`);
    assert.deepEqual(secretsFound.sort(), [
      '<root>/runner/_work/_temp/.npmrc:npm-access-token',
      '~/.aws/credentials:aws-access-key-id',
      '~/.aws/credentials:aws-secret-access-key',
      '~/.bash_history:github-classic-pat',
      '~/.config/gh/hosts.yml:github-oauth-token',
      '~/.npmrc:npm-access-token',
      '~/code/app/.env:pubgate-token',
    ]);
    assert.ok(!JSON.stringify(report).includes(secrets.npm));
  });

  void it('adds a hygiene finding for each long-lived publish token kept in a plain file', async () => {
    const report = await scanEndpoint({ home, runnerDirs: [join(root, 'runner', '_work')] });
    const hygiene = report.findings
      .filter((f) => f.kind === 'hygiene')
      .map((f) => f.path.replace(root, '<root>'));
    assert.deepEqual(hygiene.sort(), [
      '<root>/runner/_work/_temp/.npmrc',
      '~/.bash_history',
      '~/.npmrc',
      '~/code/app/.env',
    ]);
    assert.ok(
      report.findings
        .filter((f) => f.kind === 'hygiene')
        .every((f) => f.ruleId === 'endpoint-plaintext-publish-token'),
    );
  });
});

void describe('agent client against an in-test gate', () => {
  const agentToken = `agent-${randomBytes(16).toString('hex')}`;
  const key = randomBytes(32);
  let server: Server;
  let url: string;
  const reports: AgentReport[] = [];
  const bodies: string[] = [];
  const read = async (req: IncomingMessage): Promise<string> => {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    return body;
  };
  before(async () => {
    server = createServer((req, res) => {
      void (async () => {
        res.setHeader('content-type', 'application/json');
        if (req.headers.authorization !== `Bearer ${agentToken}`) {
          res.statusCode = 401;
          res.end(JSON.stringify({ error: 'unknown agent', code: 'ERR_AUTH_AGENT' }));
          return;
        }
        if (req.method === 'GET' && req.url === '/api/v1/scan/key') {
          res.end(JSON.stringify({ keyId: 'k1', key: key.toString('base64') }));
          return;
        }
        if (req.method === 'POST' && req.url === '/api/v1/scan/reports') {
          const body = await read(req);
          bodies.push(body);
          const report = JSON.parse(body) as AgentReport;
          reports.push(report);
          const revoked = report.findings.filter((f) => f.pubgateTokenHash !== undefined).length;
          res.end(JSON.stringify({ accepted: report.findings.length, revoked }));
          return;
        }
        res.statusCode = 404;
        res.end(JSON.stringify({ error: 'not found', code: 'ERR_NOT_FOUND' }));
      })();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  void it('reports keyed fingerprints, the token hash of pgt_ credentials, and never a secret', async () => {
    const repo = join(root, 'repo');
    mkdirSync(repo, { recursive: true });
    const repoSecret = generateToken();
    writeFileSync(join(repo, 'deploy.sh'), `#!/bin/sh\nexport PUBGATE_TOKEN=${repoSecret}\n`);
    const result = await runAgent({
      server: url,
      token: agentToken,
      once: true,
      home,
      runnerDirs: [],
      watch: [repo],
      context: 'laptop',
      host: 'dev-laptop-1',
    });
    assert.equal(result.cycles, 1);
    assert.deepEqual(
      reports.map((r) => r.context),
      ['laptop', 'repository'],
    );
    assert.ok(reports.every((r) => r.keyId === 'k1' && r.host === 'dev-laptop-1'));
    const laptop = reports[0]!.findings;
    const pgt = laptop.find((f) => f.ruleId === 'pubgate-token' && f.path === '~/code/app/.env');
    assert.ok(pgt !== undefined, 'pgt finding missing');
    assert.equal(pgt.fingerprint, createHmac('sha256', key).update(secrets.env).digest('hex'));
    assert.equal(pgt.pubgateTokenHash, hashToken(secrets.env));
    const repoFinding = reports[1]!.findings[0]!;
    assert.equal(repoFinding.pubgateTokenHash, hashToken(repoSecret));
    assert.equal(repoFinding.line, 2);
    assert.equal(result.revoked, laptop.filter((f) => f.pubgateTokenHash !== undefined).length + 1);
    for (const body of bodies) {
      for (const value of [...Object.values(secrets), repoSecret])
        assert.ok(!body.includes(value), 'a report carried a raw secret');
      assert.ok(!body.includes(agentToken));
    }
  });

  void it('refuses to run with a token the gate does not know (ERR_SCAN_AGENT_UNAUTHORIZED)', async () => {
    await assert.rejects(
      runAgent({ server: url, token: 'wrong', once: true, home, runnerDirs: [] }),
      (e: unknown) =>
        e instanceof ScanAgentError &&
        e.code === 'ERR_SCAN_AGENT_UNAUTHORIZED' &&
        e.details?.['gateCode'] === 'ERR_AUTH_AGENT',
    );
  });

  void it('reports only new findings on the next cycle of continuous mode', async () => {
    reports.length = 0;
    const controller = new AbortController();
    const repo = join(root, 'watched');
    mkdirSync(repo, { recursive: true });
    writeFileSync(join(repo, 'a.env'), `T=${generateToken()}\n`);
    let cycles = 0;
    const run = runAgent({
      server: url,
      token: agentToken,
      intervalSeconds: 1,
      noEndpoint: true,
      watch: [repo],
      signal: controller.signal,
      log: () => {
        cycles++;
        if (cycles === 1) writeFileSync(join(repo, 'b.env'), `T=${generateToken()}\n`);
        if (cycles === 2) controller.abort();
      },
    });
    const result = await run;
    assert.equal(result.cycles, 2);
    assert.deepEqual(
      reports.map((r) => r.findings.map((f) => f.path.slice(repo.length))),
      [['/a.env'], ['/b.env']],
    );
  });
});
