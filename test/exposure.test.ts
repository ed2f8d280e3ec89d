/** Exposure-scaled quorum: M rises with weekly downloads from the registry's counts API or from config, and the tier is recorded. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestGate, type TestGate } from './support/gate.ts';
import { escapedName, packageTarball, publishDoc } from './support/publish-doc.ts';

describe('exposure-scaled quorum', () => {
  let counts: Server;
  let gate: TestGate;
  let token: string;
  const asked: string[] = [];

  before(async () => {
    // Shaped like api.npmjs.org's /downloads/point/last-week/<pkg>.
    counts = createServer((req, res) => {
      asked.push(req.url ?? '');
      const name = decodeURIComponent((req.url ?? '').replace('/downloads/point/last-week/', ''));
      const downloads = name === '@acme/huge' ? 5_000_000 : name === '@acme/mid' ? 50_000 : 10;
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ downloads, package: name }));
    });
    await new Promise<void>((r) => counts.listen(0, '127.0.0.1', r));
    gate = await startTestGate({
      policy: {
        approvers: 1,
        downloadsUrl: `http://127.0.0.1:${(counts.address() as AddressInfo).port}`,
        weeklyDownloads: { '@acme/configured': 20_000 },
        rules: [
          {
            packages: ['@acme/*'],
            approvers: 2,
            exposure: [
              { weeklyDownloadsAbove: 10_000, approvers: 3 },
              { weeklyDownloadsAbove: 1_000_000, approvers: 4 },
            ],
          },
        ],
      },
    });
    token = await gate.issueToken('alice');
  });
  after(async () => {
    await gate?.stop();
    await new Promise((r) => counts?.close(r));
  });

  async function hold(name: string) {
    const body = JSON.stringify(publishDoc(name, '1.0.0', await packageTarball(name, '1.0.0')));
    const response = await fetch(`${gate.url}/npm/${escapedName(name)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    });
    const id = ((await response.json()) as { release: string }).release;
    return gate.app.releases.get(id);
  }

  it('raises M by the registry download counts and records the tier on the release', async () => {
    const huge = await hold('@acme/huge');
    assert.equal(huge.requiredApprovals, 4);
    assert.equal(huge.policy.exposureTier, '>1000000/week');
    const mid = await hold('@acme/mid');
    assert.equal(mid.requiredApprovals, 3);
    const small = await hold('@acme/small');
    assert.deepEqual([small.requiredApprovals, small.policy.exposureTier], [2, 'base']);
    assert.ok(asked.some((u) => u.endsWith('/downloads/point/last-week/@acme/huge')));
  });
});
