/** Tar building blocks for fuzzing: well-formed archives through tar-stream, and raw hand-made headers. */
import { pack, type Header } from 'tar-stream';

/** Entry types tar-stream can write. */
export const ENTRY_TYPES = [
  'file',
  'contiguous-file',
  'directory',
  'symlink',
  'link',
  'character-device',
  'block-device',
  'fifo',
] as const;
/** One of {@link ENTRY_TYPES}. */
export type EntryType = (typeof ENTRY_TYPES)[number];

/** One entry of a well-formed archive. */
export interface PackEntry {
  readonly name: string;
  readonly type: EntryType;
  readonly content: Uint8Array;
  readonly linkname?: string;
  readonly mode?: number;
}

/** Writes a tar (not gzipped) with tar-stream's packer, the way npm-like tools would. */
export async function packTar(entries: readonly PackEntry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    p.on('end', () => resolve());
    p.on('error', reject);
  });
  for (const entry of entries) {
    const hasBody = entry.type === 'file' || entry.type === 'contiguous-file';
    const header: Partial<Header> & Pick<Header, 'name'> = {
      name: entry.name,
      type: entry.type,
      mode: entry.mode ?? (entry.type === 'directory' ? 0o755 : 0o644),
      ...(entry.linkname === undefined ? {} : { linkname: entry.linkname }),
      ...(entry.type === 'character-device' || entry.type === 'block-device'
        ? { devmajor: 1, devminor: 3 }
        : {}),
      ...(hasBody ? { size: entry.content.length } : {}),
    };
    await new Promise<void>((resolve, reject) => {
      const callback = (error?: Error | null): void => (error ? reject(error) : resolve());
      if (hasBody) p.entry(header, Buffer.from(entry.content), callback);
      else p.entry(header, callback);
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** The raw fields of a hand-made ustar/GNU header block; strings are written as latin1 bytes. */
export interface RawHeader {
  readonly name: string;
  readonly mode: string;
  readonly size: string | Uint8Array;
  readonly typeflag: string;
  readonly linkname: string;
  readonly magic: string;
  readonly prefix: string;
  /** Write a wrong checksum on purpose. */
  readonly badChecksum: boolean;
}

function put(block: Buffer, offset: number, length: number, value: string | Uint8Array): void {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'latin1') : Buffer.from(value);
  bytes.copy(block, offset, 0, Math.min(bytes.length, length));
}

/** One 512-byte header block with a correct (or deliberately wrong) checksum. */
export function rawHeaderBlock(header: RawHeader): Buffer {
  const block = Buffer.alloc(512);
  put(block, 0, 100, header.name);
  put(block, 100, 8, header.mode);
  put(block, 108, 8, '0001750\0');
  put(block, 116, 8, '0001750\0');
  put(block, 124, 12, header.size);
  put(block, 136, 12, '14506461374\0');
  put(block, 156, 1, header.typeflag);
  put(block, 157, 100, header.linkname);
  put(block, 257, 8, header.magic);
  put(block, 345, 155, header.prefix);
  // POSIX ustar: the checksum is the byte sum with the checksum field read as eight spaces.
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  if (header.badChecksum) sum += 1;
  put(block, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

/** Pads data to a whole number of 512-byte blocks. */
export function padBlock(data: Uint8Array): Buffer {
  const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  Buffer.from(data).copy(padded);
  return padded;
}

/** One pax extended-header record (`<len> <key>=<value>\n`, the length counting itself). */
export function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  const restBytes = Buffer.byteLength(rest);
  let length = restBytes + 1;
  while (String(length).length + restBytes !== length) length = String(length).length + restBytes;
  return `${length}${rest}`;
}

/** Octal size field (11 digits + NUL), as ustar writes it. */
export function octalSize(size: number): string {
  return `${size.toString(8).padStart(11, '0')}\0`;
}

/** GNU base-256 size field (high bit set, big-endian). */
export function base256Size(size: bigint): Uint8Array {
  const field = new Uint8Array(12);
  let rest = size < 0n ? -size : size;
  for (let i = 11; i >= 1; i--) {
    field[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  field[0] = size < 0n ? 0xff : 0x80;
  return field;
}
