// Fuzz target: IDX files (MNIST), raw and gzip-compressed, read by @gpt/nn's readIdx and
// loadMnist. Seeds are written here: a tiny images file [3, 4, 4] raw and .gz, a labels
// file, a float32 array, and an MNIST test split (images .gz, labels raw) as a folder.
// Format-aware mutators edit the header (dimensions, rank, element type) inside the gzip
// stream and recompress, or append gigabytes of zeros as extra gzip members (a bomb that
// is small on disk).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { loadMnist, readIdx } from '../../packages/nn/src/data-node.js';
import { type FuzzSeed, type FuzzTarget, pick } from '../harness.js';
import type { Mutator, Rng } from '../mutators.js';


function idx(typeCode: number, dims: readonly number[], body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + body.length);
  const view = new DataView(out.buffer);
  out[2] = typeCode;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(body, 4 + 4 * dims.length);
  return out;
}

const pattern = (n: number, salt: number) => Uint8Array.from({ length: n }, (_, i) => (i * 37 + salt * 11) & 0xff);
const digits = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 3) % 10);

/** The IDX bytes inside `bytes` (gunzipped, at most 1 MiB, when it is gzip) and a function to wrap edited bytes back. */
function unwrap(bytes: Uint8Array): { inner: Uint8Array; wrap: (b: Uint8Array) => Uint8Array } {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return { inner: new Uint8Array(gunzipSync(bytes, { maxOutputLength: 2 ** 20 })), wrap: (b) => new Uint8Array(gzipSync(b)) };
    } catch {
      // not valid gzip any more: edit the raw bytes
    }
  }
  return { inner: new Uint8Array(bytes), wrap: (b) => b };
}

/** One gzip member of 1 MiB of zeros, appended many times by the bomb mutator. */
let zeroMember: Uint8Array | undefined;

const IDX_MUTATORS: Record<string, Mutator> = {
  /** A dimension set to an extreme (0, 1, one more or less, 2^31, 2^32 - 1). */
  dimension: (bytes, rng) => {
    const { inner, wrap } = unwrap(bytes);
    const rank = inner[3] ?? 0;
    if (inner.length < 8 || rank === 0) return wrap(inner);
    const at = 4 + 4 * Math.floor(rng() * Math.min(rank, (inner.length - 4) >> 2));
    const view = new DataView(inner.buffer);
    const old = view.getUint32(at);
    view.setUint32(at, pick(rng, [0, 1, old + 1, Math.max(0, old - 1), 60000, 2 ** 31, 2 ** 32 - 1]) >>> 0);
    return wrap(inner);
  },
  /** The rank byte or element type changed (the header's length and the element size move with them). */
  rankOrType: (bytes, rng) => {
    const { inner, wrap } = unwrap(bytes);
    if (inner.length < 4) return wrap(inner);
    if (rng() < 0.5) inner[3] = pick(rng, [0, 1, 2, 4, 8, 255]);
    else inner[2] = pick(rng, [0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e, 0x0a, 0xff]);
    return wrap(inner);
  },
  /** Many dimensions of 2^32 - 1 (a product no double holds). */
  overflowingDims: (bytes, rng) => {
    const { inner, wrap } = unwrap(bytes);
    const rank = pick(rng, [3, 16, 255]);
    return wrap(idx(inner[2] ?? 8, Array.from({ length: rank }, () => 2 ** 32 - 1), inner.subarray(Math.min(inner.length, 16))));
  },
  /** Gzip members of zeros appended (up to 2 GiB inflated from about 2 MB). */
  gzipBomb: (bytes, rng) => {
    zeroMember ??= new Uint8Array(gzipSync(new Uint8Array(2 ** 20)));
    const { inner } = unwrap(bytes);
    const members = pick(rng, [1, 64, 700, 2048]);
    const out = new Uint8Array(gzipSync(inner).length + members * zeroMember.length);
    const head = gzipSync(inner);
    out.set(head);
    for (let i = 0; i < members; i++) out.set(zeroMember, head.length + i * zeroMember.length);
    return out;
  },
  /** Extra or missing body bytes inside the gzip stream (the header stays). */
  resizeBody: (bytes, rng) => {
    const { inner, wrap } = unwrap(bytes);
    const delta = pick(rng, [-1, 1, -16, 100, 5000]);
    const body = new Uint8Array(Math.max(0, inner.length + delta));
    body.set(inner.subarray(0, body.length));
    return wrap(body);
  },
};

export const target: FuzzTarget = {
  name: 'idx',
  async seeds(dir: string): Promise<FuzzSeed[]> {
    const images = idx(0x08, [3, 4, 4], pattern(48, 1));
    const files: [string, Uint8Array][] = [
      ['images-idx3-ubyte', images],
      ['images-idx3-ubyte.gz', gzipSync(images)],
      ['labels-idx1-ubyte.gz', gzipSync(idx(0x08, [5], digits(5)))],
      ['floats-idx2-float', idx(0x0d, [2, 3], pattern(24, 2))],
    ];
    const seeds: FuzzSeed[] = [];
    for (const [name, bytes] of files) {
      await writeFile(join(dir, name), bytes);
      seeds.push({ path: join(dir, name) });
    }
    const mnist = join(dir, 'mnist');
    await mkdir(mnist);
    await writeFile(join(mnist, 't10k-images-idx3-ubyte.gz'), gzipSync(idx(0x08, [4, 28, 28], pattern(4 * 784, 3))));
    await writeFile(join(mnist, 't10k-labels-idx1-ubyte'), idx(0x08, [4], digits(4)));
    seeds.push({ path: mnist, mutate: join(mnist, 't10k-images-idx3-ubyte.gz') }, { path: mnist, mutate: join(mnist, 't10k-labels-idx1-ubyte') });
    return seeds;
  },
  async read(path: string): Promise<void> {
    let sum = 0;
    if (path.endsWith('mnist')) {
      const data = await loadMnist(path, 'test');
      for (let i = 0; i < data.pixels.length; i++) sum += data.pixels[i]!;
      for (let i = 0; i < data.labels.length; i++) sum += data.labels[i]!;
    } else {
      const { bytes } = await readIdx(path);
      for (let i = 0; i < bytes.length; i++) sum += bytes[i]!;
    }
    if (!(sum >= 0)) throw new Error('unreachable');
  },
  // The generic mutators on a copy of the seed (see dataset-fixture.ts: Buffer#slice is a view), beside this format's own.
  mutators: IDX_MUTATORS,
  genericMutators: false,
};
