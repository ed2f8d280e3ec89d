/**
 * Crash safety: the gate is SIGKILLed between approval and upstream success. After a restart the
 * release completes, exactly once, and the audit chain still verifies.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { buildApp, createLogger, type App } from '../src/app.ts';
import { loadConfig } from '../src/config/index.ts';
import { startVerdaccio, type Verdaccio } from './support/verdaccio.ts';
import {
  sealUpstreamToken,
  spawnGate,
  writeGateConfig,
  issueToken,
  approveWithQuorum,
} from './support/gate.ts';
import { startHoldProxy, type HoldProxy } from './support/hold-proxy.ts';
import { escapedName, packageTarball, publishDoc } from './support/publish-doc.ts';
import { eventually } from './support/net.ts';
import { backendNames, backendStore } from './support/backends.ts';

for (const backend of backendNames())
  describe(`crash safety on ${backend}`, () => {
    let verdaccio: Verdaccio;
    let proxy: HoldProxy;
    let file: string;
    let admin: App;
    let token: string;

    before(async () => {
      verdaccio = await startVerdaccio();
      proxy = await startHoldProxy(verdaccio.url);
      file = writeGateConfig({
        upstream: { url: proxy.url, token: verdaccio.token },
        store: (await backendStore(backend)).store,
      }).file;
      // The test's own handle on the same store: it seals the upstream token and plays the quorum.
      admin = await buildApp(loadConfig({ file, env: {} }), { logger: createLogger('silent') });
      await sealUpstreamToken(admin, verdaccio.token);
      token = await issueToken(admin, 'alice');
    });
    after(async () => {
      await admin?.close();
      await proxy?.close();
      await verdaccio?.stop();
      if (file !== undefined) rmSync(dirname(file), { recursive: true, force: true });
    });

    async function holdRelease(url: string, name: string): Promise<string> {
      const doc = publishDoc(name, '1.0.0', await packageTarball(name, '1.0.0'));
      const response = await fetch(`${url}/npm/${escapedName(name)}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(doc),
      });
      assert.equal(response.status, 401);
      return ((await response.json()) as { release: string }).release;
    }

    async function upstreamIntegrity(name: string): Promise<string | undefined> {
      const response = await fetch(`${verdaccio.url}/${escapedName(name)}`);
      if (response.status !== 200) return undefined;
      const body = (await response.json()) as { versions?: Record<string, { dist: { integrity: string } }> };
      return body.versions?.['1.0.0']?.dist.integrity;
    }

    async function publishedEvents(id: string): Promise<number> {
      let n = 0;
      for await (const e of admin.audit.events({ subject: `release:${id}` }))
        if (e.action === 'release.published') n++;
      return n;
    }

    for (const mode of ['after-upstream', 'before-upstream'] as const) {
      it(`completes exactly once after a SIGKILL ${mode === 'after-upstream' ? 'after the upstream stored the package' : 'before the upstream saw the publish'}`, async () => {
        const name = `crash-${mode}`;
        proxy.mode = 'pass';
        const first = await spawnGate(file);
        const id = await holdRelease(first.url, name);
        proxy.mode = mode;
        const statusesBefore = proxy.putStatuses.length;
        await approveWithQuorum(admin, id);
        await proxy.held();
        await first.kill('SIGKILL');
        assert.equal((await admin.releases.get(id)).state, 'publishing', 'the gate died mid-publish');

        proxy.mode = 'pass';
        const second = await spawnGate(file);
        try {
          const release = await eventually(
            async () => {
              const r = await admin.releases.get(id);
              return r.state === 'published' || r.state === 'failed' ? r : undefined;
            },
            30_000,
            'release to finish after restart',
          );
          assert.equal(release.state, 'published', `release ended ${release.state}: ${release.reason ?? ''}`);
          assert.equal(await upstreamIntegrity(name), release.integrity);
          assert.equal(await publishedEvents(id), 1, 'published once');
          const successes = proxy.putStatuses.slice(statusesBefore).filter((s) => s >= 200 && s < 300).length;
          assert.equal(
            successes,
            1,
            `upstream accepted the package once (statuses: ${proxy.putStatuses.slice(statusesBefore).join(',')})`,
          );
          assert.equal((await admin.audit.verify()).ok, true);
        } finally {
          await second.kill('SIGTERM');
        }
      });
    }
  });
