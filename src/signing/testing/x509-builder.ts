/**
 * Test helper: a minimal DER writer that issues X.509 v3 certificates signed with ECDSA P-256, so
 * provenance tests make their own CA and Fulcio-like leaf instead of copying public fixtures.
 */
import { sign, type KeyObject } from 'node:crypto';

/** What a test certificate contains. */
export interface TestCertificateOptions {
  readonly subject: string;
  readonly issuer: string;
  readonly publicKey: KeyObject;
  readonly signingKey: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly serial?: number;
  readonly isCA?: boolean;
  /** A URI SubjectAlternativeName. */
  readonly sanUri?: string;
  /** Extensions holding a DER UTF8String (Fulcio 1.3.6.1.4.1.57264.1.8 onwards). */
  readonly utf8Extensions?: Readonly<Record<string, string>>;
}

/** Issues a DER certificate. */
export function buildCertificate(o: TestCertificateOptions): Buffer {
  const ecdsaWithSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const extensions: Buffer[] = [];
  if (o.isCA) extensions.push(extension('2.5.29.19', seq(tlv(0x01, Buffer.from([0xff]))), true));
  if (o.sanUri !== undefined)
    extensions.push(extension('2.5.29.17', seq(tlv(0x86, Buffer.from(o.sanUri, 'ascii'))), true));
  for (const [id, value] of Object.entries(o.utf8Extensions ?? {})) {
    extensions.push(extension(id, tlv(0x0c, Buffer.from(value, 'utf8')), false));
  }
  const tbs = seq(
    tlv(0xa0, integer(2)),
    integer(o.serial ?? 1),
    ecdsaWithSha256,
    name(o.issuer),
    seq(time(o.notBefore), time(o.notAfter)),
    name(o.subject),
    o.publicKey.export({ type: 'spki', format: 'der' }),
    ...(extensions.length > 0 ? [tlv(0xa3, seq(...extensions))] : []),
  );
  const signature = sign('sha256', tbs, { key: o.signingKey, dsaEncoding: 'der' });
  return seq(tbs, ecdsaWithSha256, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
}

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const length =
    n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

function seq(...items: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(items));
}

function integer(value: number): Buffer {
  const bytes: number[] = [];
  let v = value;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return tlv(0x02, Buffer.from(bytes));
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [a! * 40 + b!];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    let v = Math.floor(arc / 128);
    while (v > 0) {
      chunk.unshift((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function name(commonName: string): Buffer {
  return seq(tlv(0x31, seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(commonName, 'utf8')))));
}

function time(date: Date): Buffer {
  const iso = date.toISOString();
  const text =
    iso.slice(2, 4) +
    iso.slice(5, 7) +
    iso.slice(8, 10) +
    iso.slice(11, 13) +
    iso.slice(14, 16) +
    iso.slice(17, 19) +
    'Z';
  return tlv(0x17, Buffer.from(text, 'ascii'));
}

function extension(id: string, value: Buffer, critical: boolean): Buffer {
  return seq(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), tlv(0x04, value));
}
