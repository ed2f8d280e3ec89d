/**
 * The gate signing with a key held in a PKCS#11 token (SoftHSM2, Debian package softhsm2): the
 * config selects the signer, the first start creates the key pair in the token, a release staged with
 * the real npm CLI is attested by it, `pubgate keys rotate` moves to a second token key while the
 * first keeps verifying through its overlap, and a wrong PIN or a missing module stops with
 * ERR_SIGN_PKCS11 without printing the PIN.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { parse, stringify } from 'yaml';
import { buildApp, createLogger, startGate, type App, type RunningGate } from '../src/app.ts';
import { loadConfig } from '../src/config/index.ts';
import {
  keySetFromJson,
  openPkcs11Signer,
  rotateConfiguredKeyRing,
  verifyRelease,
  type Pkcs11Options,
  type SigstoreBundleJson,
} from '../src/signing/index.ts';
import { approveWithQuorum, issueToken, writeGateConfig } from './support/gate.ts';
import { makePackage, runNpm, writeNpmrc } from './support/npm.ts';
import { eventually } from './support/net.ts';

const root = new URL('..', import.meta.url).pathname;
const MODULE = process.env.PUBGATE_PKCS11_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so';
const available = existsSync(MODULE) && existsSync('/usr/bin/softhsm2-util');
if (!available && process.env.CI === 'true') {
  throw new Error(
    `SoftHSM2 is required in CI: ${MODULE} or softhsm2-util is missing (apt-get install softhsm2)`,
  );
}
const skip = available
  ? false
  : `SoftHSM2 not installed (${MODULE}); install the softhsm2 package to run this test`;
if (skip) console.log(`# skipping the PKCS#11 gate test: ${skip}`);

// Test-only PINs for a throwaway token in a temp dir.
const USER_PIN = '592648';
const SO_PIN = '77319024';
const WRONG_PIN = '318407';
const TOKEN = 'pubgate-gate-test';
const KEY_LABEL = 'pubgate-signing';

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

// SOFTHSM2_CONF and the PIN variables reach the CLI through process.env, set in `before`.
function pubgate(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, 'bin/pubgate.js'), ...args],
      { env: { ...process.env, PUBGATE_LOG_LEVEL: 'silent', ...env }, timeout: 20_000 },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          stdout,
          stderr,
        }),
    );
  });
}

/** A gate config whose `signing` section points at the test token. */
function writeSigningConfig(
  pkcs11: Record<string, unknown>,
  signer: 'local' | 'pkcs11' = 'pkcs11',
): { dir: string; file: string } {
  return writeGateConfig({
    signing: { signer, pkcs11: { modulePath: MODULE, tokenLabel: TOKEN, ...pkcs11 } },
  });
}

/** A logger at `warn` whose lines the test reads. */
function captureLog(): { logger: ReturnType<typeof createLogger>; text: () => string } {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { logger: createLogger('warn', sink), text: () => text };
}

interface KeysJson {
  keys: Array<{ keyId: string; publicKeyPem: string; notBefore: string; notAfter: string | null }>;
}

void describe('the gate with signing.signer pkcs11 (SoftHSM2)', { skip }, () => {
  let hsmDir = '';
  let gateDir = '';
  let configFile = '';
  let app: App;
  let gate: RunningGate;
  let npmrc = '';
  let token: Pkcs11Options;
  const log = captureLog();
  const cleanup: string[] = [];

  before(async () => {
    hsmDir = mkdtempSync(join(tmpdir(), 'pubgate-softhsm-gate-'));
    mkdirSync(join(hsmDir, 'tokens'));
    const conf = join(hsmDir, 'softhsm2.conf');
    writeFileSync(
      conf,
      `directories.tokendir = ${join(hsmDir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`,
    );
    // SoftHSM reads SOFTHSM2_CONF when the module initialises: the in-process gate sees it here, and
    // the CLI processes inherit it through process.env.
    process.env.SOFTHSM2_CONF = conf;
    execFileSync(
      'softhsm2-util',
      ['--init-token', '--free', '--label', TOKEN, '--pin', USER_PIN, '--so-pin', SO_PIN],
      { env: { ...process.env, SOFTHSM2_CONF: conf }, stdio: 'ignore' },
    );
    ({ dir: gateDir, file: configFile } = writeSigningConfig({ pinFile: './hsm-pin', keyLabel: KEY_LABEL }));
    writeFileSync(join(gateDir, 'hsm-pin'), `${USER_PIN}\n`, { mode: 0o600 });
    app = await buildApp(loadConfig({ file: configFile, env: {} }), { logger: log.logger });
    gate = await startGate(app);
    npmrc = writeNpmrc(`${gate.url}/npm/`, await issueToken(app, 'alice'));
    cleanup.push(dirname(npmrc));
    token = { modulePath: MODULE, tokenLabel: TOKEN, pin: USER_PIN, keyLabel: KEY_LABEL };
  });

  after(async () => {
    await gate?.stop();
    for (const dir of [gateDir, hsmDir, ...cleanup])
      if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  /** The public key the token holds under `keyLabel`, read through a session of its own. */
  async function tokenKey(keyLabel: string): Promise<{ keyId: string; publicKeyPem: string }> {
    // Closing this session must not log the gate's own session out (same process, same token).
    const signer = await openPkcs11Signer({ ...token, keyLabel });
    try {
      return { keyId: signer.keyId, publicKeyPem: signer.publicKeyPem };
    } finally {
      await signer.close();
    }
  }

  async function servedKeys(): Promise<KeysJson> {
    return (await (await fetch(`${gate.url}/keys`)).json()) as KeysJson;
  }

  /** `npm stage publish` through the gate, a recorded quorum, and the published release's bundle. */
  async function release(name: string, version: string): Promise<SigstoreBundleJson> {
    const dir = makePackage(name, version);
    cleanup.push(dir);
    const staged = await runNpm(['stage', 'publish', '--registry', `${gate.url}/npm/`], {
      cwd: dir,
      userconfig: npmrc,
    });
    assert.equal(staged.code, 0, staged.stderr.slice(-1500));
    const [held] = await app.releases.list({ package: name });
    assert.ok(held !== undefined, 'the release is held');
    await approveWithQuorum(app, held.id);
    const state = await eventually(
      async () => {
        const r = await app.releases.get(held.id);
        return r.state === 'published' || r.state === 'failed' ? r.state : undefined;
      },
      15_000,
      `${name}@${version} to be published`,
    );
    assert.equal(state, 'published');
    // Signed at approval, on the session the gate opened at start (no retry by the publisher).
    assert.doesNotMatch(log.text(), /attestation not signed|publish attempt failed/);
    const attestations = (await (
      await fetch(`${gate.url}/npm/-/npm/v1/attestations/${name}@${version}`)
    ).json()) as { attestations: Array<{ bundle: SigstoreBundleJson }> };
    return attestations.attestations[0]!.bundle;
  }

  function hintOf(bundle: SigstoreBundleJson): string {
    return (bundle as unknown as { verificationMaterial: { publicKey: { hint: string } } })
      .verificationMaterial.publicKey.hint;
  }

  async function verifyPublished(name: string, version: string, bundle: SigstoreBundleJson) {
    const packument = (await (await fetch(`${gate.url}/npm/${name}`)).json()) as {
      versions: Record<string, { dist: { tarball: string } }>;
    };
    const tarball = Buffer.from(await (await fetch(packument.versions[version]!.dist.tarball)).arrayBuffer());
    return verifyRelease({
      bundle,
      artifact: tarball,
      expected: { name, version },
      keys: keySetFromJson(await servedKeys()),
    });
  }

  let firstKeyId = '';
  let firstBundle: SigstoreBundleJson;

  void it('creates the key pair in the token on first start and serves it as the active key', async () => {
    const inToken = await tokenKey(KEY_LABEL);
    const { keys } = await servedKeys();
    assert.equal(keys.length, 1);
    assert.equal(keys[0]!.keyId, inToken.keyId);
    assert.equal(keys[0]!.publicKeyPem, inToken.publicKeyPem);
    assert.equal(keys[0]!.notAfter, null);
    firstKeyId = inToken.keyId;
    const listed = await pubgate(['keys', 'list', '--json', '--config', configFile]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      (JSON.parse(listed.stdout) as Array<{ keyId: string; custody: unknown }>).map((k) => [
        k.keyId,
        k.custody,
      ]),
      [[inToken.keyId, { kind: 'pkcs11', label: KEY_LABEL }]],
    );
  });

  void it('attests a release staged with the npm CLI with the token key, and `pubgate verify` accepts it', async () => {
    firstBundle = await release('pkcs11-first', '1.0.0');
    assert.equal(hintOf(firstBundle), firstKeyId);
    const verified = await pubgate(['verify', 'pkcs11-first@1.0.0', '--gate', gate.url, '--json']);
    assert.equal(verified.code, 0, verified.stderr + verified.stdout);
    assert.deepEqual(
      (({ verified: v, keyId }) => ({ v, keyId }))(
        JSON.parse(verified.stdout) as { verified: boolean; keyId: string },
      ),
      { v: true, keyId: firstKeyId },
    );
  });

  void it('`pubgate keys rotate` makes a second key pair in the token; it signs the next release and the first key verifies through its overlap', async () => {
    const rotated = await pubgate(['keys', 'rotate', '--overlap', '1d', '--config', configFile]);
    assert.equal(rotated.code, 0, rotated.stderr);
    const label = /\(pkcs11:(pubgate-signing-\d{8}T\d{6}Z)\)/.exec(rotated.stdout)?.[1];
    assert.ok(label !== undefined, rotated.stdout);
    const second = await tokenKey(label);
    assert.notEqual(second.keyId, firstKeyId);
    assert.equal((await tokenKey(KEY_LABEL)).keyId, firstKeyId, 'the first key stays in the token');

    const { keys } = await servedKeys();
    assert.deepEqual(
      keys.map((k) => k.keyId),
      [firstKeyId, second.keyId],
    );
    const overlapEnd = Date.parse(keys[0]!.notAfter!);
    assert.ok(overlapEnd > Date.now() + 23 * 3600_000 && overlapEnd <= Date.now() + 24 * 3600_000);
    assert.equal(keys[1]!.notAfter, null);

    const next = await release('pkcs11-second', '1.0.0');
    assert.equal(hintOf(next), second.keyId);
    assert.equal((await verifyPublished('pkcs11-second', '1.0.0', next)).keyId, second.keyId);
    assert.equal((await verifyPublished('pkcs11-first', '1.0.0', firstBundle)).keyId, firstKeyId);
  });

  void it('keeps a sealed key that is active when the config switches to pkcs11, says so, and rotates into the token', async () => {
    const switched = writeSigningConfig({ pinEnv: 'PUBGATE_TEST_HSM_PIN', keyLabel: 'switched' }, 'local');
    cleanup.push(switched.dir);
    process.env.PUBGATE_TEST_HSM_PIN = USER_PIN;
    const local = await buildApp(loadConfig({ file: switched.file, env: {} }), {
      logger: createLogger('silent'),
    });
    const sealed = await local.keyRing.activeKey();
    await local.close();
    const doc = parse(readFileSync(switched.file, 'utf8')) as { signing: { signer: string } };
    doc.signing.signer = 'pkcs11';
    writeFileSync(switched.file, stringify(doc));
    const warnings = captureLog();
    const config = loadConfig({ file: switched.file, env: {} });
    const hsm = await buildApp(config, { logger: warnings.logger });
    try {
      assert.equal((await hsm.keyRing.activeKey())?.keyId, sealed?.keyId);
      assert.deepEqual(await hsm.keyRing.getCustody(sealed!.keyId), { kind: 'sealed' });
      assert.match(warnings.text(), /the active signing key is local but signing\.signer is pkcs11/);
      const { current, previous } = await rotateConfiguredKeyRing({
        settings: config.signing,
        ring: hsm.keyRing,
        label: 'switched-1',
      });
      assert.deepEqual(
        previous.map((k) => k.keyId),
        [sealed!.keyId],
      );
      assert.deepEqual(await hsm.keyRing.getCustody(current.keyId), { kind: 'pkcs11', label: 'switched-1' });
      assert.equal((await tokenKey('switched-1')).keyId, current.keyId);
      assert.equal((await hsm.keyRing.activeSigner()).keyId, current.keyId);
    } finally {
      await hsm.close();
      delete process.env.PUBGATE_TEST_HSM_PIN;
    }
  });

  void it('makes a new token key pair on a start where the configured one was retired', async () => {
    const retiring = writeSigningConfig({ pinEnv: 'PUBGATE_TEST_HSM_PIN', keyLabel: 'retiring' });
    cleanup.push(retiring.dir);
    process.env.PUBGATE_TEST_HSM_PIN = USER_PIN;
    try {
      const config = loadConfig({ file: retiring.file, env: {} });
      const first = await buildApp(config, { logger: createLogger('silent') });
      const withdrawn = (await first.keyRing.activeKey())!;
      await first.keyRing.retire(withdrawn.keyId);
      await first.close();
      const restarted = await buildApp(config, { logger: createLogger('silent') });
      try {
        const active = (await restarted.keyRing.activeKey())!;
        assert.notEqual(active.keyId, withdrawn.keyId);
        const custody = await restarted.keyRing.getCustody(active.keyId);
        assert.match(custody?.kind === 'pkcs11' ? custody.label : '', /^retiring-\d{8}T\d{6}Z$/);
        assert.equal((await restarted.keyRing.activeSigner()).keyId, active.keyId);
      } finally {
        await restarted.close();
      }
    } finally {
      delete process.env.PUBGATE_TEST_HSM_PIN;
    }
  });

  void it('refuses to start with a wrong PIN (ERR_SIGN_PKCS11) and never prints the PIN', async () => {
    const wrong = writeSigningConfig({ pinEnv: 'PUBGATE_TEST_HSM_PIN', keyLabel: KEY_LABEL });
    cleanup.push(wrong.dir);
    const served = await pubgate(['serve', '--config', wrong.file, '--port', '0'], {
      PUBGATE_TEST_HSM_PIN: WRONG_PIN,
    });
    assert.notEqual(served.code, 0);
    assert.match(served.stderr, /ERR_SIGN_PKCS11/);
    assert.match(served.stderr, /CKR_PIN_INCORRECT/);
    for (const output of [served.stdout, served.stderr, log.text()]) {
      assert.ok(!output.includes(WRONG_PIN), 'the wrong PIN is not printed');
      assert.ok(!output.includes(USER_PIN), 'the PIN is not printed');
    }
  });

  void it('refuses a missing PKCS#11 module or token with ERR_SIGN_PKCS11', async () => {
    for (const [what, pkcs11] of [
      ['module', { modulePath: join(hsmDir, 'absent.so') }],
      ['token', { tokenLabel: 'no-such-token' }],
    ] as const) {
      const config = writeSigningConfig({ ...pkcs11, pinEnv: 'PUBGATE_TEST_HSM_PIN' });
      cleanup.push(config.dir);
      const listed = await pubgate(['keys', 'list', '--config', config.file], {
        PUBGATE_TEST_HSM_PIN: USER_PIN,
      });
      assert.equal(listed.code, 2, `${what}: ${listed.stderr}`);
      assert.match(listed.stderr, /^pubgate: ERR_SIGN_PKCS11: /, what);
      assert.ok(!listed.stderr.includes(USER_PIN), `${what}: the PIN is not printed`);
    }
  });
});
