// The BatchedGemm contract (src/cpu/matmul.ts) for every implementation the CPU
// backend can route to: TypeScript, WASM on one thread, and WASM split over worker
// pools of two and four threads. Sizes are odd and cross every blocking edge of the
// WASM kernel (MR=4 and NR=8 micro-tiles, MC=128 rows, KC=256 depth, NC=2048
// columns); results are checked against a float64 reference with a float32 error
// bound, and the threaded results must equal the one-thread ones bit for bit
// (each element is summed in the same order, whatever the split).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchedGemm, GemmBatch } from '../../src/kernels-common/gemm-batch.js';
import { tsBatchedGemm } from '../../src/cpu/matmul.js';
import type { ThreadPool } from '../../src/wasm/thread-pool.js';
import { gemmSplit, wasmGemm } from '../../src/wasm/wasm-gemm.js';
import { JOB_ADDRESS, WasmKernels } from '../../src/wasm/wasm-kernels.js';
import { filledRandom, firstViolation, referenceGemm } from './gemm-reference.js';
import { startPool } from './pool-helpers.js';

interface Case {
  name: string;
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
  /** Per item: which stored matrix of A and B it reads and which block of C it writes. */
  items?: { a: number; b: number; c: number }[];
  accumulate?: boolean;
  /** A bias [n] that starts every row of C (Linear's). */
  bias?: boolean;
}

const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 7],
  [4, 8, 16],
  [5, 9, 3],
  [13, 17, 257],
  [130, 67, 19],
  [6, 2051, 5],
  [9, 11, 0],
];

const CASES: Case[] = [
  ...SHAPES.flatMap(([m, n, k]) =>
    [false, true].flatMap((transA) => [false, true].map((transB) => ({ name: `${m}x${n}x${k}`, m, n, k, transA, transB }))),
  ),
  { name: 'batch, A per item, B shared', m: 7, n: 13, k: 9, items: [0, 1, 2].map((t) => ({ a: t, b: 0, c: t })) },
  { name: 'batch, A shared, B per item (transposed)', m: 21, n: 10, k: 33, transB: true, items: [0, 1, 2, 3].map((t) => ({ a: 0, b: t, c: t })) },
  { name: 'batch, both transposed, reversed order', m: 6, n: 70, k: 12, transA: true, transB: true, items: [2, 1, 0].map((t) => ({ a: t, b: t, c: 2 - t })) },
  { name: 'batch summed into one block', m: 40, n: 75, k: 30, items: [0, 1, 2, 3, 4].map((t) => ({ a: t, b: t, c: 0 })) },
  { name: 'batch summed, accumulating', m: 9, n: 9, k: 300, transA: true, accumulate: true, items: [0, 1].map((t) => ({ a: t, b: t, c: 0 })) },
  { name: 'accumulate into C', m: 35, n: 19, k: 40, accumulate: true },
  { name: 'accumulate, k = 0 keeps C', m: 5, n: 6, k: 0, accumulate: true },
  // A bias through full and edge micro-tiles, several k-slices (only the first adds it), a
  // column block split, summed and separate batch items, and an empty k (C = bias).
  ...([[1, 1, 1], [13, 17, 257], [130, 67, 400], [6, 2051, 5], [9, 11, 0]] as const).flatMap(([m, n, k]) =>
    [false, true].map((transB) => ({ name: `${m}x${n}x${k} + bias`, m, n, k, transB, bias: true })),
  ),
  { name: 'batch + bias', m: 7, n: 13, k: 9, bias: true, items: [0, 1, 2].map((t) => ({ a: t, b: 0, c: t })) },
  { name: 'batch summed into one block + bias once', m: 40, n: 75, k: 30, bias: true, items: [0, 1, 2].map((t) => ({ a: t, b: t, c: 0 })) },
];

function buildCall(c: Case): { call: GemmBatch; initialC: Float32Array } {
  const items = c.items ?? [{ a: 0, b: 0, c: 0 }];
  const count = (key: 'a' | 'b' | 'c') => Math.max(...items.map((i) => i[key])) + 1;
  const { m, n, k } = c;
  const initialC = filledRandom(count('c') * m * n, 7);
  const call: GemmBatch = {
    a: filledRandom(count('a') * m * k, 1),
    b: filledRandom(count('b') * k * n, 2),
    c: initialC.slice(),
    m,
    n,
    k,
    transA: c.transA ?? false,
    transB: c.transB ?? false,
    aOffsets: items.map((i) => i.a * m * k),
    bOffsets: items.map((i) => i.b * k * n),
    cOffsets: items.map((i) => i.c * m * n),
    accumulate: c.accumulate ?? false,
    ...(c.bias ? { bias: filledRandom(n, 11) } : {}),
  };
  return { call, initialC };
}

function label(c: Case): string {
  return `${c.name}${c.transA ? ' transA' : ''}${c.transB ? ' transB' : ''}${c.accumulate ? ' +=' : ''}`;
}

let single: WasmKernels;
let pools: { kernels: WasmKernels; pool: ThreadPool }[] = [];

beforeAll(async () => {
  single = WasmKernels.create('shared');
  pools = await Promise.all([startPool(1), startPool(3)]);
}, 60_000);

afterAll(() => {
  for (const { pool } of pools) pool.close();
});

const IMPLEMENTATIONS: { name: string; gemm: () => BatchedGemm }[] = [
  { name: 'ts', gemm: () => tsBatchedGemm },
  { name: 'wasm 1 thread', gemm: () => (g) => void expect(wasmGemm(single, null, g)).toBe(true) },
  { name: 'wasm 2 threads', gemm: () => (g) => void expect(wasmGemm(pools[0]!.kernels, pools[0]!.pool, g)).toBe(true) },
  { name: 'wasm 4 threads', gemm: () => (g) => void expect(wasmGemm(pools[1]!.kernels, pools[1]!.pool, g)).toBe(true) },
];

describe.each(IMPLEMENTATIONS)('BatchedGemm: $name', ({ gemm }) => {
  it.each(CASES.map((c) => [label(c), c] as const))('%s matches the float64 reference', (_label, c) => {
    const { call, initialC } = buildCall(c);
    gemm()(call);
    expect(firstViolation(call.c, referenceGemm(call, initialC))).toBeNull();
  });
});

describe('threaded WASM GEMM', () => {
  it.each(CASES.map((c) => [label(c), c] as const))('%s: 2 and 4 threads give the 1-thread result bit for bit', (_label, c) => {
    const one = buildCall(c).call;
    wasmGemm(single, null, one);
    for (const { kernels, pool } of pools) {
      const many = buildCall(c).call;
      wasmGemm(kernels, pool, many);
      expect(Buffer.from(many.c.buffer).equals(Buffer.from(one.c.buffer))).toBe(true);
    }
  });

  it('a bias with accumulate, or of the wrong length, is refused by every implementation', () => {
    for (const { gemm } of IMPLEMENTATIONS) {
      const { call } = buildCall({ name: 'bad', m: 3, n: 4, k: 5 });
      expect(() => gemm()({ ...call, accumulate: true, bias: new Float32Array(4) })).toThrow(/bias cannot be combined with accumulate/);
      expect(() => gemm()({ ...call, bias: new Float32Array(3) })).toThrow(/bias has 3 values, expected n = 4/);
    }
  });

  it('workers take part in large jobs', () => {
    const { kernels, pool } = pools[1]!;
    const { call } = buildCall({ name: 'large', m: 256, n: 256, k: 64 });
    // JOB_SLOT counts the threads that joined the last job; a worker may wake too late
    // for one job, so allow several tries before concluding that none ever joins.
    let joined = 0;
    for (let attempt = 0; attempt < 50 && joined < 2; attempt++) {
      wasmGemm(kernels, pool, call);
      joined = kernels.heapI32()[JOB_ADDRESS / 4 + kernels.layout.JOB_SLOT]!;
    }
    expect(joined).toBeGreaterThanOrEqual(2);
  });

  it('a job larger than the kernels may address is declined, not run', () => {
    const huge = 2 ** 28; // 2^28 floats = 1 GiB per operand: A and B alone exceed the 2 GiB memory
    const call: GemmBatch = {
      a: new Float32Array(0),
      b: new Float32Array(0),
      c: new Float32Array(0),
      m: 1,
      n: 1,
      k: huge,
      transA: false,
      transB: false,
      aOffsets: [huge],
      bOffsets: [huge],
      cOffsets: [0],
      accumulate: false,
    };
    // Spans are computed from the offsets before any copy, so no 1 GiB arrays are needed.
    expect(wasmGemm(single, null, call)).toBe(false);
  });

  it('tasks split the side that makes them pack least, with tiles on register-tile multiples', () => {
    // 2 threads x 4 tasks. Wide C (256 x 1024): split columns, not rows (rows would pack all of B 8 times).
    expect(gemmSplit(256, 1024, 1, 2, 4, 8)).toEqual([256, 128]);
    // Tall C (1152 x 256): split rows.
    expect(gemmSplit(1152, 256, 1, 2, 4, 8)).toEqual([144, 256]);
    // Square: rows and columns alike, tiles multiples of 4 x 8.
    const [m, n] = gemmSplit(512, 512, 1, 2, 4, 8);
    expect([m % 4, n % 8, Math.ceil(512 / m) * Math.ceil(512 / n) >= 8]).toEqual([0, 0, true]);
    // One thread, or a batch with enough items: one task per item.
    expect(gemmSplit(300, 200, 1, 1, 4, 8)).toEqual([300, 200]);
    expect(gemmSplit(300, 200, 64, 2, 4, 8)).toEqual([300, 200]);
  });
});
