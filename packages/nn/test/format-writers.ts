// Writers for the standard MNIST IDX and CIFAR-10 binary formats, so tests can make
// small datasets (and broken ones) in the exact layout real downloads have.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** IDX bytes for uint8 data with the given dimensions (magic 0x0000 08 NN). */
export function idxBytes(dims: readonly number[], data: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}

/** A deterministic pseudo-random byte pattern (no RNG state shared with the code under test). */
export function patternBytes(length: number, salt: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (Math.imul(i + 1, 2654435761) ^ Math.imul(salt + 7, 40503)) >>> 24);
}

/** Writes an MNIST split (images [n, 28, 28] and labels [n]) into `dir`, optionally gzipped. */
export function writeMnistSplit(dir: string, split: 'train' | 'test', images: Uint8Array, labels: Uint8Array, gzip = false): void {
  mkdirSync(dir, { recursive: true });
  const prefix = split === 'train' ? 'train' : 't10k';
  const n = labels.length;
  const files: [string, Uint8Array][] = [
    [`${prefix}-images-idx3-ubyte`, idxBytes([n, 28, 28], images)],
    [`${prefix}-labels-idx1-ubyte`, idxBytes([n], labels)],
  ];
  for (const [name, bytes] of files) writeFileSync(join(dir, gzip ? `${name}.gz` : name), gzip ? gzipSync(bytes) : bytes);
}

/** CIFAR-10 binary batch bytes: per record 1 label byte + 3072 channel-major pixel bytes. */
export function cifarBatchBytes(labels: Uint8Array, pixels: Uint8Array): Uint8Array {
  const out = new Uint8Array(labels.length * 3073);
  labels.forEach((label, r) => {
    out[r * 3073] = label;
    out.set(pixels.subarray(r * 3072, (r + 1) * 3072), r * 3073 + 1);
  });
  return out;
}

/** Writes all six CIFAR-10 batch files with `perFile` records each; returns what was written per split. */
export function writeCifarFolder(dir: string, perFile: number, salt = 0): { train: { labels: Uint8Array; pixels: Uint8Array }; test: { labels: Uint8Array; pixels: Uint8Array } } {
  mkdirSync(dir, { recursive: true });
  const names = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];
  const split = { train: { labels: [] as Uint8Array[], pixels: [] as Uint8Array[] }, test: { labels: [] as Uint8Array[], pixels: [] as Uint8Array[] } };
  names.forEach((name, f) => {
    const labels = Uint8Array.from({ length: perFile }, (_, i) => (i * 3 + f + salt) % 10);
    const pixels = patternBytes(perFile * 3072, f + 10 * salt);
    writeFileSync(join(dir, name), cifarBatchBytes(labels, pixels));
    const part = name === 'test_batch.bin' ? split.test : split.train;
    part.labels.push(labels);
    part.pixels.push(pixels);
  });
  const join8 = (chunks: Uint8Array[]) => {
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let o = 0;
    for (const c of chunks) (out.set(c, o), (o += c.length));
    return out;
  };
  return {
    train: { labels: join8(split.train.labels), pixels: join8(split.train.pixels) },
    test: { labels: join8(split.test.labels), pixels: join8(split.test.pixels) },
  };
}
