/**
 * Two gate instances on one PostgreSQL behave as one gate: a version is held once whichever
 * instance receives it, and an approved release is published exactly once.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startVerdaccio, type Verdaccio } from './support/verdaccio.ts';
import { startTestGate, type TestGate, approveWithQuorum } from './support/gate.ts';
import { backendNames, freshPostgresDatabase } from './support/backends.ts';
import { escapedName, packageTarball, publishDoc } from './support/publish-doc.ts';
import { eventually } from './support/net.ts';
import { openConfiguredKeyRing, SqlKeyRingStore } from '../src/signing/index.ts';
import { exclusively, openPostgresStore } from '../src/store/index.ts';
import { generateMasterKey } from '../src/vault/index.ts';

for (const backend of backendNames().filter((b) => b === 'postgres')) {
  describe(`instances starting together on an empty ${backend}`, () => {
    it('make one signing key between them, not one each', async () => {
      const store = openPostgresStore({ url: await freshPostgresDatabase(), poolSize: 10 });
      try {
        await store.migrate();
        const masterKey = generateMasterKey();
        const open = () =>
          openConfiguredKeyRing({
            settings: { signer: 'local', rotationOverlapSeconds: 60 },
            store: new SqlKeyRingStore(store),
            masterKey,
            now: () => new Date(),
            exclusive: exclusively(store, 'pubgate.signing.first-key'),
          });
        const rings = await Promise.all([open(), open(), open(), open(), open(), open()]);
        const keys = await rings[0]!.ring.listKeys();
        assert.equal(keys.length, 1, keys.map((k) => k.keyId).join(', '));
        for (const { ring } of rings) assert.equal((await ring.activeKey())?.keyId, keys[0]!.keyId);
      } finally {
        await store.close();
      }
    });
  });

  describe(`two gate instances on ${backend}`, () => {
    let verdaccio: Verdaccio;
    let a: TestGate;
    let b: TestGate;
    let token: string;

    before(async () => {
      verdaccio = await startVerdaccio();
      const store = { driver: 'postgres' as const, postgresUrl: await freshPostgresDatabase() };
      a = await startTestGate({ store, upstream: { url: verdaccio.url, token: verdaccio.token } });
      b = await startTestGate({
        store,
        upstream: { url: verdaccio.url, token: verdaccio.token },
        masterKeyFile: a.config.masterKeyFile,
      });
      token = await a.issueToken('alice');
    });
    after(async () => {
      await a?.stop();
      await b?.stop();
      await verdaccio?.stop();
    });

    it('holds one release when both instances receive the same version at once, and publishes it once', async () => {
      const name = 'multi-instance-pkg';
      const body = JSON.stringify(publishDoc(name, '1.0.0', await packageTarball(name, '1.0.0')));
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          fetch(`${(i % 2 === 0 ? a : b).url}/npm/${escapedName(name)}`, {
            method: 'PUT',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body,
          }).then(async (r) => ((await r.json()) as { code: string }).code),
        ),
      );
      assert.equal(answers.filter((c) => c === 'ERR_RELEASE_HELD').length, 1, answers.join(','));
      assert.equal(answers.filter((c) => c === 'ERR_PUBLISH_VERSION_PENDING').length, 9, answers.join(','));
      const [release] = await b.app.releases.list({ package: name });
      await approveWithQuorum(a.app, release!.id);
      // Both instances' workers race for it; the lease and SKIP LOCKED let one win.
      await Promise.all([
        a.app.releases.publishDue(),
        b.app.releases.publishDue(),
        a.app.releases.publishDue(),
        b.app.releases.publishDue(),
      ]);
      const final = await eventually(async () => {
        const r = await a.app.releases.get(release!.id);
        return r.state === 'published' ? r : undefined;
      });
      let published = 0;
      for await (const e of a.app.audit.events({ subject: `release:${release!.id}` }))
        if (e.action === 'release.published') published++;
      assert.equal(published, 1);
      assert.equal(final.attempts, 1, 'claimed by exactly one instance');
      assert.equal((await a.app.audit.verify()).ok, true);
    });
  });
}
