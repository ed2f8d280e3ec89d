/**
 * End to end: the real npm CLI → pubgate → a real Verdaccio. A package is absent upstream while
 * held, present with identical integrity after release, and installs through the gate.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVerdaccio, type Verdaccio } from './support/verdaccio.ts';
import { startTestGate, type TestGate, approveWithQuorum } from './support/gate.ts';
import { makePackage, runNpm, writeNpmrc } from './support/npm.ts';
import { eventually } from './support/net.ts';
import { backendNames, backendStore } from './support/backends.ts';

async function upstreamVersion(
  verdaccio: Verdaccio,
  name: string,
  version: string,
): Promise<Record<string, unknown> | undefined> {
  const response = await fetch(`${verdaccio.url}/${name.replace('/', '%2f')}`);
  if (response.status === 404) return undefined;
  const body = (await response.json()) as { versions?: Record<string, Record<string, unknown>> };
  return body.versions?.[version];
}

for (const backend of backendNames())
  describe(`release gate end to end on ${backend} (npm CLI → pubgate → Verdaccio)`, () => {
    let verdaccio: Verdaccio;
    let gate: TestGate;
    let npmrc: string;

    before(async () => {
      verdaccio = await startVerdaccio();
      gate = await startTestGate({
        upstream: { url: verdaccio.url, token: verdaccio.token },
        store: (await backendStore(backend)).store,
      });
      npmrc = writeNpmrc(`${gate.url}/npm/`, await gate.issueToken('alice'));
    });
    after(async () => {
      await gate?.stop();
      await verdaccio?.stop();
    });

    async function publishHeldThenRelease(
      name: string,
      version: string,
      command: string[],
    ): Promise<{ releaseId: string; output: string }> {
      const dir = makePackage(name, version);
      const result = await runNpm([...command, '--registry', `${gate.url}/npm/`], {
        cwd: dir,
        userconfig: npmrc,
      });
      const output = result.stdout + result.stderr;
      const held = await gate.app.releases.list({ package: name });
      assert.equal(held.length, 1, `one release held for ${name}; npm said: ${output.slice(-1500)}`);
      const release = held[0]!;
      assert.equal(release.state, 'awaiting_approval');
      assert.equal(
        await upstreamVersion(verdaccio, name, version),
        undefined,
        'nothing reaches the upstream while held',
      );
      await approveWithQuorum(gate.app, release.id);
      await eventually(
        async () => ((await gate.app.releases.get(release.id)).state === 'published' ? true : undefined),
        20_000,
        'publish',
      );
      const published = await upstreamVersion(verdaccio, name, version);
      assert.ok(published !== undefined, 'present upstream after release');
      assert.equal(
        (published['dist'] as { integrity: string }).integrity,
        release.integrity,
        'upstream integrity is the approved digest',
      );
      return { releaseId: release.id, output };
    }

    it('holds `npm publish` with a web-auth challenge (never a 2xx), then publishes the approved bytes upstream', async () => {
      const { output } = await publishHeldThenRelease('gate-e2e-plain', '1.0.0', ['publish']);
      assert.notEqual(
        output.includes('+ gate-e2e-plain@1.0.0'),
        true,
        'npm must not print success for a held publish',
      );
      assert.match(output, /E401|EOTP|one-time|ERR_RELEASE_HELD/);
    });

    it('stages with `npm stage publish` and reports the stage id', async () => {
      const name = 'gate-e2e-staged';
      const dir = makePackage(name, '2.0.0');
      const result = await runNpm(['stage', 'publish', '--registry', `${gate.url}/npm/`], {
        cwd: dir,
        userconfig: npmrc,
      });
      assert.equal(result.code, 0, result.stderr.slice(-1500));
      const [release] = await gate.app.releases.list({ package: name });
      assert.ok(release !== undefined);
      assert.match(result.stdout + result.stderr, new RegExp(`staged with id ${release.id}`));
      const list = await runNpm(['stage', 'list', '--json', '--registry', `${gate.url}/npm/`], {
        cwd: dir,
        userconfig: npmrc,
      });
      assert.equal(list.code, 0, list.stderr.slice(-1000));
      assert.ok((JSON.parse(list.stdout) as Array<{ id: string }>).some((i) => i.id === release.id));
      const approve = await runNpm(['stage', 'approve', release.id, '--registry', `${gate.url}/npm/`], {
        cwd: dir,
        userconfig: npmrc,
      });
      assert.notEqual(approve.code, 0, 'a token cannot approve');
      assert.match(approve.stdout + approve.stderr, /ERR_APPROVAL_STEP_UP_REQUIRED/);
      assert.equal((await gate.app.releases.get(release.id)).state, 'awaiting_approval');
      await approveWithQuorum(gate.app, release.id);
      await eventually(
        async () => ((await gate.app.releases.get(release.id)).state === 'published' ? true : undefined),
        20_000,
        'publish',
      );
      assert.equal(
        ((await upstreamVersion(verdaccio, name, '2.0.0'))?.['dist'] as { integrity: string }).integrity,
        release.integrity,
      );
    });

    it('handles a scoped package, and `npm install` of it through the gate works', async () => {
      const { releaseId } = await publishHeldThenRelease('@acme/gate-e2e-scoped', '0.3.1', [
        'publish',
        '--access',
        'public',
      ]);
      const release = await gate.app.releases.get(releaseId);
      const consumer = mkdtempSync(join(tmpdir(), 'pubgate-consumer-'));
      writeFileSync(
        join(consumer, 'package.json'),
        JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }),
      );
      const install = await runNpm(
        ['install', '@acme/gate-e2e-scoped@0.3.1', '--registry', `${gate.url}/npm/`],
        { cwd: consumer, userconfig: npmrc },
      );
      assert.equal(install.code, 0, install.stderr.slice(-1500));
      const lock = JSON.parse(readFileSync(join(consumer, 'package-lock.json'), 'utf8')) as {
        packages: Record<string, { integrity: string; resolved: string }>;
      };
      const entry = lock.packages['node_modules/@acme/gate-e2e-scoped']!;
      assert.equal(entry.integrity, release.integrity);
      assert.ok(entry.resolved.startsWith(`${gate.url}/npm/`), 'tarball resolved through the gate');
      assert.equal(
        readFileSync(join(consumer, 'node_modules/@acme/gate-e2e-scoped/index.js'), 'utf8'),
        'module.exports = "@acme/gate-e2e-scoped@0.3.1";\n',
      );
    });

    it('refuses a second publish of a published version (npm sees it in the proxied packument; the gate checks too)', async () => {
      const dir = makePackage('gate-e2e-plain', '1.0.0');
      const result = await runNpm(['publish', '--registry', `${gate.url}/npm/`], {
        cwd: dir,
        userconfig: npmrc,
      });
      assert.notEqual(result.code, 0);
      assert.match(
        result.stdout + result.stderr,
        /cannot publish over the previously published versions: 1\.0\.0|ERR_PUBLISH_VERSION_EXISTS/,
      );
      assert.equal((await gate.app.releases.list({ package: 'gate-e2e-plain' })).length, 1);
    });

    it('records every step in an audit chain that verifies', async () => {
      const result = await gate.app.audit.verify();
      assert.equal(result.ok, true);
      assert.ok(result.events >= 12);
    });
  });
