import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isPubgateError } from '../errors/index.ts';
import { detectFindings } from './findings.ts';
import { buildWebhookPayload, sendFindingsWebhook } from './webhook.ts';
import { NOW, credential, inventoryOf, person, sighting } from './testing/fixtures.ts';

describe('findings webhook', () => {
  let server: Server;
  let url = '';
  const received: Array<{ path: string; type: string; body: string }> = [];
  let status = 200;

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push({ path: req.url ?? '', type: req.headers['content-type'] ?? '', body });
        res.writeHead(status).end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/T000/B000/secretpath`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const toxic = () =>
    detectFindings(
      inventoryOf(
        [
          person('alice', ['approver']),
          credential('j1', 'jit', 'alice', { person: 'alice' }),
          credential('c2', 'read', 'ci:x', {
            lastUsed: '2026-09-01T00:00:00.000Z',
            created: '2026-09-01T00:00:00.000Z',
          }),
        ],
        { sightings: [sighting('aa11bb22cc33dd44', 'h1'), sighting('aa11bb22cc33dd44', 'h2')] },
      ),
      {},
      NOW,
    );

  it('posts Slack-compatible JSON naming high-severity findings and their fixes', async () => {
    received.length = 0;
    const outcome = await sendFindingsWebhook(url, toxic());
    assert.equal(outcome.sent, true);
    assert.equal(received.length, 1);
    assert.equal(received[0]?.type, 'application/json');
    const payload = JSON.parse(received[0]!.body) as {
      text: string;
      blocks: Array<{ type: string; text?: { text: string } }>;
    };
    assert.match(payload.text, /2 high-severity/);
    const all = payload.blocks.map((b) => b.text?.text ?? '').join('\n');
    assert.match(all, /approve and publish/);
    assert.match(all, /Fix:/);
    assert.doesNotMatch(all, /stale|Credential unused/, 'low severity stays out');
  });

  it('carries no token, fingerprint or link, so a receiver can approve nothing', async () => {
    received.length = 0;
    const findings = toxic().map((f) => ({
      ...f,
      detail: `${f.detail} see https://gate.example/ui/releases/1/approve <!channel>`,
    }));
    await sendFindingsWebhook(url, findings);
    const body = received[0]!.body;
    assert.doesNotMatch(body, /https?:\/\//);
    assert.doesNotMatch(body, /<!channel>/);
    assert.doesNotMatch(body, /pgt_|aa11bb22cc33dd44|approve"|\/approve/);
  });

  it('sends nothing when no finding is high', async () => {
    received.length = 0;
    assert.deepEqual(await sendFindingsWebhook(url, []), { sent: false, findings: 0 });
    assert.equal(received.length, 0);
  });

  it('fails with ERR_INVENTORY_WEBHOOK_FAILED on a non-2xx answer, without echoing the URL path', async () => {
    status = 500;
    try {
      await sendFindingsWebhook(url, toxic());
      assert.fail('accepted');
    } catch (error) {
      assert.ok(isPubgateError(error, 'ERR_INVENTORY_WEBHOOK_FAILED'));
      assert.doesNotMatch(error.message, /secretpath/);
    } finally {
      status = 200;
    }
  });

  it('refuses a non-http URL with ERR_INVENTORY_WEBHOOK_URL', async () => {
    await assert.rejects(sendFindingsWebhook('file:///etc/passwd', toxic()), (e) =>
      isPubgateError(e, 'ERR_INVENTORY_WEBHOOK_URL'),
    );
  });

  it('limits the number of findings per message', () => {
    const many = Array.from({ length: 30 }, () => toxic()[0]!);
    assert.ok(buildWebhookPayload(many).blocks.length <= 22);
  });
});
