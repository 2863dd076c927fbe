// Test helper: builds torch.save-style files by hand, so tests (and the fuzz target's
// seeds) can make exactly the hostile .pt a case needs: pickle opcodes assembled from
// parts, tensors as torch writes them (_rebuild_tensor_v2 over a persistent storage
// reference), and a zip whose records may be stored or deflated.
import { deflateRawSync } from 'node:zlib';
import { crc32 } from '../../src/pytorch/zip-reader.js';

/** Pickle bytes from parts: strings are latin1 opcodes/text, arrays raw bytes. */
export function pickleBytes(...parts: (string | number[] | Uint8Array)[]): Uint8Array {
  const bytes: number[] = [];
  for (const part of parts) {
    if (typeof part === 'string') for (const c of part) bytes.push(c.charCodeAt(0));
    else for (const b of part) bytes.push(b);
  }
  return Uint8Array.from(bytes);
}

const u32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];

/** BINUNICODE of `text` (UTF-8). */
export function str(text: string): Uint8Array {
  const utf8 = new TextEncoder().encode(text);
  return pickleBytes('X', u32(utf8.length), utf8);
}

/** An int: BININT for 32-bit values, LONG1 beyond (little-endian two's complement). */
export function int(value: number | bigint): Uint8Array {
  const big = BigInt(value);
  if (big >= -(2n ** 31n) && big < 2n ** 31n) return pickleBytes('J', u32(Number(big) | 0));
  const bytes: number[] = [];
  let v = big;
  for (;;) {
    const b = Number(v & 0xffn);
    bytes.push(b);
    v >>= 8n;
    if ((v === 0n && !(b & 0x80)) || (v === -1n && b & 0x80)) break;
  }
  return pickleBytes([0x8a, bytes.length], bytes);
}

/** A tuple of already-pickled items. */
export function tuple(...items: Uint8Array[]): Uint8Array {
  return pickleBytes('(', ...items, 't');
}

export interface TensorSpec {
  readonly key: string;
  /** torch storage class name, e.g. "FloatStorage". */
  readonly storageType?: string;
  readonly numel: number;
  readonly offset?: number | bigint;
  readonly shape: readonly (number | bigint)[];
  readonly stride: readonly (number | bigint)[];
}

/** The pickled _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()) call. */
export function tensorPickle(spec: TensorSpec): Uint8Array {
  const storage = tuple(str('storage'), pickleBytes(`ctorch\n${spec.storageType ?? 'FloatStorage'}\n`), str(spec.key), str('cpu'), int(spec.numel));
  return pickleBytes(
    'ctorch._utils\n_rebuild_tensor_v2\n',
    '(',
    storage,
    'Q', // BINPERSID
    int(spec.offset ?? 0),
    tuple(...spec.shape.map(int)),
    tuple(...spec.stride.map(int)),
    [0x89], // False
    'ccollections\nOrderedDict\n)R',
    't',
    'R',
  );
}

/** A whole pickle: an OrderedDict of name -> tensor (protocol 2, as torch.save writes). */
export function stateDictPickle(tensors: readonly (TensorSpec & { name: string })[]): Uint8Array {
  const items = tensors.map((t) => pickleBytes(str(t.name), tensorPickle(t)));
  return pickleBytes([0x80, 2], 'ccollections\nOrderedDict\n)R', '(', ...items, 'u', '.');
}

export interface ZipRecord {
  readonly name: string;
  readonly data: Uint8Array;
  /** Deflate this record (torch stores; re-zipped files deflate). */
  readonly deflate?: boolean;
  /** Lie in the directory: this uncompressed size instead of the real one. */
  readonly statedSize?: number;
}

/** A zip of `records` (no zip64), deflated where asked. */
export function zipOf(records: readonly ZipRecord[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const record of records) {
    const name = new TextEncoder().encode(record.name);
    const body = record.deflate ? new Uint8Array(deflateRawSync(record.data)) : record.data;
    const size = record.statedSize ?? record.data.length;
    const local = new DataView(new ArrayBuffer(30 + name.length));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true);
    local.setUint16(8, record.deflate ? 8 : 0, true);
    local.setUint32(14, crc32(record.data), true);
    local.setUint32(18, body.length, true);
    local.setUint32(22, size, true);
    local.setUint16(26, name.length, true);
    new Uint8Array(local.buffer).set(name, 30);
    const entry = new DataView(new ArrayBuffer(46 + name.length));
    entry.setUint32(0, 0x02014b50, true);
    entry.setUint16(4, 20, true);
    entry.setUint16(6, 20, true);
    entry.setUint16(10, record.deflate ? 8 : 0, true);
    entry.setUint32(16, crc32(record.data), true);
    entry.setUint32(20, body.length, true);
    entry.setUint32(24, size, true);
    entry.setUint16(28, name.length, true);
    entry.setUint32(42, offset, true);
    new Uint8Array(entry.buffer).set(name, 46);
    central.push(new Uint8Array(entry.buffer));
    parts.push(new Uint8Array(local.buffer), body);
    offset += local.byteLength + body.length;
  }
  const directoryOffset = offset;
  const directorySize = central.reduce((n, c) => n + c.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, records.length, true);
  end.setUint16(10, records.length, true);
  end.setUint32(12, directorySize, true);
  end.setUint32(16, directoryOffset, true);
  const all = [...parts, ...central, new Uint8Array(end.buffer)];
  const out = new Uint8Array(all.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of all) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A .pt file: `archive/data.pkl` plus storage records `archive/data/<key>` and `archive/version`. */
export function torchFileBytes(pickle: Uint8Array, storages: Readonly<Record<string, Uint8Array>>, options: { deflate?: boolean } = {}): Uint8Array {
  return zipOf([
    { name: 'archive/data.pkl', data: pickle, deflate: options.deflate },
    ...Object.entries(storages).map(([key, data]) => ({ name: `archive/data/${key}`, data, deflate: options.deflate })),
    { name: 'archive/version', data: new TextEncoder().encode('3\n') },
  ]);
}

/** Float32 values as little-endian bytes. */
export function f32Bytes(...values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}
