// Every WebGPU matmul program against a float64 reference computed here: the tiled
// kernel of the 'gpu' profile and the barrier-free kernels of the 'software' profile,
// on two backends of the same adapter that force each profile. Shapes cover every
// edge of the 64 x 64 tile and of the 16-step k-slice (1, 3, 4, 5, 17, 63, 64, 65,
// 130), k = 0, all four transA/transB combinations, broadcast batch dims, the fused
// bias (on a few cases), and one product spanning several tiles and slices; the
// 128 x 128 tile (forced through matmulTile) gets its own edges (127, 128, 129, 260
// and its 8-step k-slice). A recording kernel context checks which program each call
// picks (no GPU needed), including matmulTile 'auto', and that the cases below reach
// every tiled program.

import { getBackend, matmul, tensor, type Tensor } from '@gpt/tensor';
import { initWebGPU, probeWebGPU, type KernelProfile, type WebGPUBackend } from '@gpt/tensor/webgpu-node';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TensorMeta } from '../../src/ops.js';
import type { GpuInfo, GpuTensorBuffer, KernelContext, KernelSpec, MatmulTile } from '../../src/webgpu/kernels/kernel.js';
import { matmulVariants, runMatmul } from '../../src/webgpu/kernels/matmul.js';
import { describeWebGPU } from './webgpu-suite.js';

interface Case {
  /** Batch dims of A and B ([] for plain matrices); broadcast against each other. */
  readonly aBatch: readonly number[];
  readonly bBatch: readonly number[];
  readonly m: number;
  readonly n: number;
  readonly k: number;
}

const plain = (m: number, n: number, k: number): Case => ({ aBatch: [], bBatch: [], m, n, k });

/** m, n, k from {1, 3, 4, 5, 17, 63, 64, 65, 130}: every residue mod 4 on each axis, tile edges at 63/64/65/130, k-slice edges at 17/63/64/65. */
const SHAPES: Case[] = [
  plain(1, 1, 1),
  plain(1, 4, 3),
  plain(3, 5, 4),
  plain(4, 4, 4),
  plain(5, 3, 17),
  plain(4, 1, 5),
  plain(17, 17, 17),
  plain(1, 130, 64),
  plain(130, 1, 65),
  plain(63, 63, 63),
  plain(64, 64, 64),
  plain(65, 65, 65),
  plain(63, 65, 64),
  plain(65, 64, 63),
  plain(64, 63, 130),
  plain(130, 130, 5),
  plain(130, 65, 17),
  plain(5, 130, 130),
  plain(17, 64, 1),
  plain(64, 17, 4),
  plain(3, 63, 65),
  plain(65, 3, 3),
  plain(130, 4, 64),
  plain(4, 130, 63),
  plain(63, 5, 130),
  plain(5, 64, 17),
  plain(64, 130, 3),
  plain(17, 3, 130),
  plain(3, 17, 64),
  plain(130, 63, 4),
  plain(4, 64, 17),
  // k = 0: C is zero, or the bias.
  plain(5, 7, 0),
  plain(64, 68, 0),
  // Broadcast batch dims: one B for three A's, and [2, 1] x [1, 3].
  { aBatch: [3], bBatch: [], m: 17, n: 65, k: 63 },
  { aBatch: [3], bBatch: [], m: 64, n: 64, k: 20 },
  { aBatch: [2, 1], bBatch: [1, 3], m: 65, n: 17, k: 5 },
  { aBatch: [2, 1], bBatch: [1, 3], m: 4, n: 64, k: 64 },
];

/**
 * Cases also run with the bias, for every transpose pair: k = 0 (C is the bias), edge
 * tiles, broadcast batch dims. Only a few layouts, since each new program costs lavapipe
 * a second or more to compile, and the bias only changes how C is stored.
 */
const BIASED: Case[] = [plain(64, 64, 64), plain(64, 68, 0), plain(68, 65, 20), { aBatch: [3], bBatch: [], m: 64, n: 17, k: 64 }];

/** Several 64 x 64 tiles in both directions (partial at the edges) and 19 k-slices. */
const LARGE: Case = { aBatch: [1], bBatch: [], m: 200, n: 260, k: 300 };

/**
 * Cases for the 128 x 128 tile, crossing its edges (127, 128, 129, 260) and those of
 * its 8-step k-slice (7, 9, 132), k = 0 and broadcast batch dims. m, n and k are either
 * all multiples of 4 or none, so each transpose pair builds only two programs (vec4 and
 * scalar loads), since each costs lavapipe a second or more to compile.
 */
const TILE_128: Case[] = [
  plain(128, 128, 128),
  plain(4, 260, 8),
  plain(260, 4, 4),
  plain(128, 260, 132),
  plain(260, 132, 260),
  plain(128, 260, 0),
  { aBatch: [3], bBatch: [], m: 132, n: 128, k: 12 },
  plain(1, 1, 1),
  plain(5, 129, 127),
  plain(129, 5, 9),
  plain(127, 127, 129),
  plain(129, 257, 7),
  { aBatch: [2, 1], bBatch: [1, 3], m: 129, n: 131, k: 9 },
];

/** The transpose pair whose 128-tile cases run with the bias: Linear's x Wᵀ + b, in both load families without more programs. */
const TILE_128_BIASED = { transA: false, transB: true };

const TRANSPOSES = [
  { transA: false, transB: false },
  { transA: true, transB: false },
  { transA: false, transB: true },
  { transA: true, transB: true },
];

/** Deterministic values in [-1, 1) (a 32-bit LCG), exactly representable in float32. */
function values(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state >>> 8) / 2 ** 23 - 1;
  }
  return out;
}

/** What one case feeds the op: stored shapes ([.., k, m] for transA, [.., n, k] for transB) and data. */
function inputsOf(c: Case, transA: boolean, transB: boolean, seed: number) {
  const aShape = [...c.aBatch, ...(transA ? [c.k, c.m] : [c.m, c.k])];
  const bShape = [...c.bBatch, ...(transB ? [c.n, c.k] : [c.k, c.n])];
  const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
  return { aShape, bShape, a: values(size(aShape), seed), b: values(size(bShape), seed + 1), bias: values(c.n, seed + 2) };
}

/** A's and B's batch dims padded to one rank, and the broadcast batch shape. */
function batchDims(c: Case) {
  const rank = Math.max(c.aBatch.length, c.bBatch.length);
  const pad = (s: readonly number[]) => [...Array<number>(rank - s.length).fill(1), ...s];
  const [aDims, bDims] = [pad(c.aBatch), pad(c.bBatch)];
  return { aDims, bDims, batch: aDims.map((d, i) => Math.max(d, bDims[i]!)) };
}

/**
 * A B (+ bias) in float64, with broadcast batch dims; also sum |a||b| (+ |bias|) per
 * element, the scale float32 rounding errors are proportional to.
 */
function reference(c: Case, transA: boolean, transB: boolean, a: Float32Array, b: Float32Array, bias: Float32Array | null) {
  const { aDims, bDims, batch } = batchDims(c);
  const rank = batch.length;
  const items = batch.reduce((x, y) => x * y, 1);
  const { m, n, k } = c;
  const value = new Float64Array(items * m * n);
  const scale = new Float64Array(items * m * n);
  for (let item = 0; item < items; item++) {
    // Flat index of this item's A and B matrices (size-1 dims broadcast).
    let [aItem, bItem, rest] = [0, 0, item];
    let [aStride, bStride] = [1, 1];
    for (let d = rank - 1; d >= 0; d--) {
      const coord = rest % batch[d]!;
      rest = Math.floor(rest / batch[d]!);
      if (aDims[d]! > 1) aItem += coord * aStride;
      if (bDims[d]! > 1) bItem += coord * bStride;
      aStride *= aDims[d]!;
      bStride *= bDims[d]!;
    }
    const [aOff, bOff] = [aItem * m * k, bItem * k * n];
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let [sum, abs] = bias ? [bias[j]!, Math.abs(bias[j]!)] : [0, 0];
        for (let p = 0; p < k; p++) {
          const x = a[aOff + (transA ? p * m + i : i * k + p)]!;
          const y = b[bOff + (transB ? j * k + p : p * n + j)]!;
          sum += x * y;
          abs += Math.abs(x * y);
        }
        value[(item * m + i) * n + j] = sum;
        scale[(item * m + i) * n + j] = abs;
      }
    }
  }
  return { value, scale, shape: [...batch, m, n] };
}

const caseName = (c: Case) => `[${[...c.aBatch, c.m, c.k]}] x [${[...c.bBatch, c.k, c.n]}]`;

/** Runs `c` on `device` and compares with the float64 reference: |got - want| <= 1e-5 sqrt(k) sum |a||b| + 1e-30. */
async function check(device: string, c: Case, transA: boolean, transB: boolean, withBias: boolean, seed: number): Promise<void> {
  const input = inputsOf(c, transA, transB, seed);
  const A = tensor(input.a, { shape: input.aShape, device });
  const B = tensor(input.b, { shape: input.bShape, device });
  const bias = withBias ? tensor(input.bias, { device }) : null;
  let C: Tensor | null = null;
  try {
    C = matmul(A, B, { transA, transB, bias });
    const got = await C.data();
    const want = reference(c, transA, transB, input.a, input.b, withBias ? input.bias : null);
    const what = `${caseName(c)} transA=${transA} transB=${transB} bias=${withBias}`;
    expect(C.shape, what).toEqual(want.shape);
    const tolerance = 1e-5 * Math.sqrt(Math.max(c.k, 1));
    let worst = { index: -1, excess: 0 };
    for (let i = 0; i < want.value.length; i++) {
      const excess = Math.abs(got[i]! - want.value[i]!) - (tolerance * want.scale[i]! + 1e-30);
      if (!(excess <= worst.excess)) worst = { index: i, excess };
    }
    if (worst.index >= 0) {
      expect.fail(`${what}: element ${worst.index} is ${got[worst.index]}, expected ${want.value[worst.index]} (tolerance ${tolerance} x ${want.scale[worst.index]})`);
    }
  } finally {
    for (const t of [A, B, bias, C]) t?.dispose();
  }
}

/**
 * A backend of this adapter forcing `profile`, registered under its own name, inside
 * describeWebGPU (which skips without an adapter, or fails with GPT_REQUIRE_WEBGPU=1).
 */
function describeProfile(profile: KernelProfile, body: (device: string, backend: () => WebGPUBackend) => void): void {
  const name = `webgpu-matmul-${profile}`;
  describeWebGPU(`WebGPU matmul, ${profile} kernels`, () => {
    let backend: WebGPUBackend | null = null;
    beforeAll(async () => {
      if (!(await probeWebGPU()).available) return;
      try {
        backend = getBackend(name) as WebGPUBackend;
      } catch {
        backend = await initWebGPU({ name, kernels: profile });
      }
    });
    body(name, () => {
      if (!backend) throw new Error(`backend ${name} not initialized`);
      return backend;
    });
  });
}

for (const profile of ['gpu', 'software'] as const) {
  describeProfile(profile, (device, backend) => {
    it('uses the kernels it was asked for', () => {
      expect(backend().kernels).toBe(profile);
    });

    for (const { transA, transB } of TRANSPOSES) {
      it(`matches float64 with transA=${transA} transB=${transB}, with and without bias`, async () => {
        let seed = 1;
        for (const c of SHAPES) await check(device, c, transA, transB, false, (seed += 7));
        for (const c of BIASED) await check(device, c, transA, transB, true, (seed += 7));
      });
    }

    it(`matches float64 on ${caseName(LARGE)} with bias (several tiles and k-slices)`, async () => {
      await check(device, LARGE, false, false, true, 99);
      await check(device, LARGE, true, true, false, 101);
    });

    if (profile === 'gpu') {
      it('matmulTile reaches the kernels: forcing 128 builds a 128-tile program where 64 ran', async () => {
        const c = plain(4, 4, 4);
        await check(device, c, true, false, false, 11); // tiled64:a-lane4:b-lane4
        const before = backend().stats().pipelines;
        backend().matmulTile = 128;
        try {
          await check(device, c, true, false, false, 11);
          expect(backend().stats().pipelines - before).toBe(1);
        } finally {
          backend().matmulTile = 'auto';
        }
        await check(device, c, true, false, false, 11);
        expect(backend().stats().pipelines - before).toBe(1);
      });

      for (const { transA, transB } of TRANSPOSES) {
        const bias = transA === TILE_128_BIASED.transA && transB === TILE_128_BIASED.transB;
        it(`128 x 128 tiles match float64 with transA=${transA} transB=${transB}${bias ? ' and bias' : ''}`, async () => {
          backend().matmulTile = 128;
          try {
            let seed = 500;
            for (const c of TILE_128) await check(device, c, transA, transB, bias, (seed += 7));
          } finally {
            backend().matmulTile = 'auto';
          }
        });
      }
    }

    it('adds the bias in the matmul dispatch itself (one dispatch)', async () => {
      const A = tensor(values(6 * 12, 3), { shape: [2, 3, 12], device });
      const B = tensor(values(7 * 12, 4), { shape: [7, 12], device });
      const bias = tensor(values(7, 5), { device });
      const before = backend().stats().dispatches;
      const C = matmul(A, B, { transB: true, bias });
      expect(backend().stats().dispatches - before).toBe(1);
      await C.data();
      for (const t of [A, B, bias, C]) t.dispose();
    });
  });
}

/** A kernel context that records dispatches instead of running them. */
function recordingContext(profile: KernelProfile, maxWorkgroupStorageBytes = 16384, matmulTile: MatmulTile = 'auto') {
  const dispatches: { spec: KernelSpec; buffers: number; grid: readonly number[] }[] = [];
  const buffer = (): GpuTensorBuffer => ({ buffer: {}, bytes: 16, capacity: 16 });
  const ctx: KernelContext = {
    allocate: () => buffer(),
    release: () => {},
    dispatch: (_op, spec, _params, buffers, grid) => dispatches.push({ spec, buffers: buffers.length, grid }),
    grid: () => [1, 1, 1],
    maxWorkgroupsPerDimension: 65535,
    maxWorkgroupStorageBytes,
    profile,
    matmulTile,
    status: buffer(),
  };
  const run = (c: Case, transA: boolean, transB: boolean, bias: boolean) => {
    const { aShape, bShape } = inputsOf(c, transA, transB, 0);
    const info = (shape: number[]): GpuInfo => ({ buffer: buffer(), shape, dtype: 'float32' });
    const out: TensorMeta = { shape: [...batchDims(c).batch, c.m, c.n], dtype: 'float32' };
    runMatmul(ctx, bias ? [info(aShape), info(bShape), info([c.n])] : [info(aShape), info(bShape)], { transA, transB, bias }, out);
  };
  return { dispatches, run };
}

describe('matmul kernel choice (recorded, no GPU)', () => {
  it("the 'gpu' profile runs the tiled kernel, one dispatch with the bias bound, on 64 x 64 tiles", () => {
    const { dispatches, run } = recordingContext('gpu');
    run({ aBatch: [3], bBatch: [], m: 130, n: 65, k: 17 }, false, true, true);
    expect(dispatches).toHaveLength(1);
    expect(dispatches[0]!.spec.key).toBe('matmul:tiled64:a-k1:b-k1:bias');
    expect(dispatches[0]!.buffers).toBe(4);
    expect(dispatches[0]!.grid).toEqual([2, 3, 3]);
    run(plain(64, 128, 256), true, false, false);
    expect(dispatches[1]!.spec.key).toBe('matmul:tiled64:a-lane4:b-lane4');
    expect(dispatches[1]!.buffers).toBe(3);
  });

  it("matmulTile 'auto' takes 128 x 128 tiles only for products that still make >= 128 workgroups with m, n >= 512", () => {
    const picked = (c: Case, tile: MatmulTile = 'auto') => {
      const { dispatches, run } = recordingContext('gpu', 16384, tile);
      run(c, false, false, false);
      return { key: dispatches[0]!.spec.key, grid: dispatches[0]!.grid };
    };
    expect(picked(plain(2048, 2048, 2048))).toEqual({ key: 'matmul:tiled128:a-k4:b-lane4', grid: [16, 16, 1] });
    expect(picked(plain(4608, 4096, 1024)).key).toBe('matmul:tiled128:a-k4:b-lane4');
    // 8 x 8 = 64 tiles of 128: fewer workgroups than a large GPU has cores, so 64 x 64 tiles.
    expect(picked(plain(1024, 1024, 1024))).toEqual({ key: 'matmul:tiled64:a-k4:b-lane4', grid: [16, 16, 1] });
    expect(picked({ aBatch: [2], bBatch: [], m: 1024, n: 1024, k: 64 }).key).toMatch(/^matmul:tiled128:/);
    expect(picked({ aBatch: [8], bBatch: [], m: 512, n: 512, k: 64 }).key).toMatch(/^matmul:tiled128:/);
    expect(picked(plain(256, 8192, 64)).key).toMatch(/^matmul:tiled64:/); // 128 tiles, but m < 512
    expect(picked(plain(64, 64, 64)).key).toMatch(/^matmul:tiled64:/);
    // Forced either way.
    expect(picked(plain(64, 64, 64), 128)).toEqual({ key: 'matmul:tiled128:a-k4:b-lane4', grid: [1, 1, 1] });
    expect(picked(plain(2048, 2048, 2048), 64)).toEqual({ key: 'matmul:tiled64:a-k4:b-lane4', grid: [32, 32, 1] });
    expect(() => picked(plain(64, 64, 64), 256 as MatmulTile)).toThrow(/matmulTile must be 'auto', 64 or 128, got 256/);
  });

  it('the cases above reach every 128-tile load layout, with and without the bias', () => {
    const { dispatches, run } = recordingContext('gpu', 16384, 128);
    for (const { transA, transB } of TRANSPOSES) {
      const bias = transA === TILE_128_BIASED.transA && transB === TILE_128_BIASED.transB;
      for (const c of TILE_128) run(c, transA, transB, bias);
    }
    const used = new Set(dispatches.map((d) => d.spec.key));
    expect(used.size, [...used].join(' ')).toBe(8);
    for (const load of ['lane4', 'lane1', 'k4', 'k1']) {
      for (const operand of ['a', 'b']) expect([...used].some((key) => key.includes(`:${operand}-${load}`)), `${operand}-${load}`).toBe(true);
    }
    expect([...used].filter((key) => key.endsWith(':bias'))).toEqual(['matmul:tiled128:a-k4:b-k4:bias', 'matmul:tiled128:a-k1:b-k1:bias']);
  });

  it("the 'software' profile keeps the barrier-free kernels, and so does 'gpu' without room for the tiles", () => {
    for (const ctx of [recordingContext('software'), recordingContext('gpu', 4096)]) {
      ctx.run(plain(64, 128, 256), false, false, true);
      ctx.run(plain(64, 128, 256), false, true, false);
      ctx.run(plain(5, 3, 7), true, true, false);
      expect(ctx.dispatches.map((d) => d.spec.key)).toEqual(['matmul:rows:bias', 'matmul:dot', 'matmul:generic']);
      expect(ctx.dispatches[0]!.spec.code).not.toMatch(/workgroupBarrier/);
    }
  });

  it('the cases above reach every 64-tile program, with and without the bias', () => {
    const { dispatches, run } = recordingContext('gpu');
    for (const { transA, transB } of TRANSPOSES) {
      for (const c of SHAPES) run(c, transA, transB, false);
      for (const c of BIASED) run(c, transA, transB, true);
    }
    const used = new Set(dispatches.map((d) => d.spec.key));
    const tiled = matmulVariants().filter((s) => s.key.startsWith('matmul:tiled64:'));
    // Layouts by which of m, n, k are multiples of 4: A B (k, n) 4, A^T B (m, n) 4,
    // A B^T (k) 2, A^T B^T (m, k) 4; times bias or not.
    expect(tiled.length).toBe(28);
    const unbiased = tiled.filter((s) => !s.key.endsWith(':bias'));
    expect(unbiased.map((s) => s.key).filter((key) => !used.has(key))).toEqual([]);
    // The bias is read where C is stored, the same for every layout: one biased layout per transpose pair.
    for (const [a, b] of [['a-k', 'b-lane'], ['a-lane', 'b-lane'], ['a-k', 'b-k'], ['a-lane', 'b-k']]) {
      expect([...used].some((key) => key.includes(`:${a}`) && key.includes(`:${b}`) && key.endsWith(':bias')), `${a} ${b} with bias`).toBe(true);
    }
  });

  it('the tiled kernels (both geometries) have no early return (their barriers stay in uniform control flow) and write whole vec4s to workgroup memory', () => {
    const tiled = matmulVariants().filter((s) => s.key.startsWith('matmul:tiled'));
    expect(tiled.filter((s) => s.key.startsWith('matmul:tiled128:'))).toHaveLength(28);
    for (const spec of tiled) {
      const main = spec.code.slice(spec.code.indexOf('fn main'));
      expect(main, spec.key).not.toMatch(/\breturn\b/);
      // A component write may touch the whole vector in WGSL: a race between invocations sharing it.
      expect(main, spec.key).not.toMatch(/tile_[ab]\[[^\]]*\]\[[^\]]*\]\s*=/);
      expect(spec.code.match(/workgroupBarrier\(\)/g), spec.key).toHaveLength(2);
    }
  });
});
