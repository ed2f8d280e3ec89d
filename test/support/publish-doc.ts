/** Builds npm publish documents and tarballs, honest or hostile, the way npm would send them. */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

/** One tar entry to write. */
export interface Entry {
  readonly name: string;
  readonly type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device';
  readonly content?: string | Buffer;
  readonly linkname?: string;
}

/** Makes a tar (not yet gzipped) from entries. */
export async function tarOf(entries: readonly Entry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((r) => p.on('end', () => r()));
  for (const e of entries) {
    const type = e.type ?? 'file';
    if (type === 'file') p.entry({ name: e.name, mode: 0o644 }, e.content ?? '');
    else
      p.entry({
        name: e.name,
        type,
        ...(e.linkname === undefined ? {} : { linkname: e.linkname }),
        ...(type === 'character-device' ? { devmajor: 1, devminor: 3 } : {}),
      });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A normal package tarball for name@version. */
export async function packageTarball(
  name: string,
  version: string,
  extra: readonly Entry[] = [],
): Promise<Buffer> {
  return gzipSync(
    await tarOf([
      { name: 'package/package.json', content: JSON.stringify({ name, version }) },
      { name: 'package/index.js', content: 'module.exports = 1;\n' },
      ...extra,
    ]),
  );
}

/** The publish document npm sends for a tarball (integrity and shasum computed unless overridden). */
export function publishDoc(
  name: string,
  version: string,
  tarball: Buffer,
  patch: { integrity?: string; shasum?: string; length?: number; data?: string } = {},
): Record<string, unknown> {
  const integrity = patch.integrity ?? `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
  const shasum = patch.shasum ?? createHash('sha1').update(tarball).digest('hex');
  return {
    _id: name,
    name,
    description: 'test',
    'dist-tags': { latest: version },
    versions: {
      [version]: {
        name,
        version,
        _id: `${name}@${version}`,
        dist: {
          integrity,
          shasum,
          tarball: `http://registry.invalid/${name}/-/${name.split('/').pop()}-${version}.tgz`,
        },
      },
    },
    access: null,
    _attachments: {
      [`${name}-${version}.tgz`]: {
        content_type: 'application/octet-stream',
        data: patch.data ?? tarball.toString('base64'),
        length: patch.length ?? tarball.length,
      },
    },
  };
}

/** The wire path of a package (`@scope%2fname`). */
export function escapedName(name: string): string {
  return name.startsWith('@') ? `@${encodeURIComponent(name.slice(1))}` : encodeURIComponent(name);
}
