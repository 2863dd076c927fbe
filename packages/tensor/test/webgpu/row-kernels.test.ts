// The row kernels (layerNorm forward/backward, softmax/logSoftmax, sum/max reductions)
// under both kernel profiles, against float64 references computed here. The shapes pick
// every row layout: an invocation per row (in registers or not), a workgroup of 64 or 256
// per row keeping the row in registers, and rows too long for the registers (re-read);
// reductions per invocation, per workgroup slice and interleaved. Rows with mean 500 and
// spread 1 check the two-term mean (one float32 mean would be off by ~3e-5 there).

import { getBackend, removeBackend, tensor, type Tensor } from '@gpt/tensor';
import { runOp } from '@gpt/tensor/internal';
import { initWebGPU, probeWebGPU, type WebGPUBackend } from '@gpt/tensor/webgpu-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reduceLayout, reduceSplits } from '../../src/webgpu/kernels/reduce.js';
import { rowLayout, rowLayoutKey } from '../../src/webgpu/kernels/row-layout.js';

const probe = await probeWebGPU();
const unavailable = probe.available ? null : probe.reason;
const skip = unavailable !== null && process.env.GPT_REQUIRE_WEBGPU !== '1';

const PROFILES = [
  { name: 'rows-gpu', kernels: 'gpu' },
  { name: 'rows-sw', kernels: 'software' },
] as const;

/** Deterministic float32 values: mean + spread * uniform(-1, 1) (a small LCG, so no tensor code is involved). */
function values(count: number, seed: number, mean = 0, spread = 1): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = mean + spread * ((s / 2 ** 32) * 2 - 1);
  }
  return out;
}

/** Worst |actual - expected| / max(floor, max |expected|). */
function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>, floor = 1): number {
  let worst = 0;
  let scale = floor;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  return worst / scale;
}

/** Float64 layerNorm over rows of `length` and, with dy, its input gradient. */
function layerNormReference(x: Float32Array, length: number, eps: number, dy?: Float32Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let base = 0; base < x.length; base += length) {
    let mean = 0;
    for (let i = 0; i < length; i++) mean += x[base + i]!;
    mean /= length;
    let variance = 0;
    for (let i = 0; i < length; i++) variance += (x[base + i]! - mean) ** 2;
    const rstd = 1 / Math.sqrt(variance / length + eps);
    const y = (i: number) => (x[base + i]! - mean) * rstd;
    if (!dy) {
      for (let i = 0; i < length; i++) out[base + i] = y(i);
      continue;
    }
    let dyMean = 0;
    let dyYMean = 0;
    for (let i = 0; i < length; i++) {
      dyMean += dy[base + i]!;
      dyYMean += dy[base + i]! * y(i);
    }
    dyMean /= length;
    dyYMean /= length;
    for (let i = 0; i < length; i++) out[base + i] = rstd * (dy[base + i]! - dyMean - y(i) * dyYMean);
  }
  return out;
}

/** Float64 (log)softmax of `x` of `shape` along `axis`. */
function softmaxReference(x: Float32Array, shape: readonly number[], axis: number, log: boolean): Float64Array {
  const length = shape[axis]!;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Float64Array(x.length);
  for (let row = 0; row < x.length / length; row++) {
    const base = Math.floor(row / inner) * length * inner + (row % inner);
    let m = -Infinity;
    for (let i = 0; i < length; i++) m = Math.max(m, x[base + i * inner]!);
    let s = 0;
    for (let i = 0; i < length; i++) s += Math.exp(x[base + i * inner]! - m);
    for (let i = 0; i < length; i++) {
      const shifted = x[base + i * inner]! - m;
      out[base + i * inner] = log ? shifted - Math.log(s) : Math.exp(shifted) / s;
    }
  }
  return out;
}

/** Float64 sum or max of [rows, cols] along `axis` (0 or 1), or of everything. */
function reduceReference(x: Float32Array, rows: number, cols: number, kind: 'sum' | 'max', axis: 0 | 1 | 'all'): Float64Array {
  const combine = kind === 'sum' ? (a: number, b: number) => a + b : Math.max;
  const init = kind === 'sum' ? 0 : -Infinity;
  const out = new Float64Array(axis === 'all' ? 1 : axis === 0 ? cols : rows).fill(init);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const at = axis === 'all' ? 0 : axis === 0 ? c : r;
      out[at] = combine(out[at]!, x[r * cols + c]!);
    }
  }
  return out;
}

/** Runs `op` on `device` with CPU-made float32 inputs and reads the result back. */
async function runOn(device: string, op: string, inputs: { data: Float32Array; shape: readonly number[] }[], attrs: object): Promise<Float32Array> {
  const tensors: Tensor[] = inputs.map(({ data, shape }) => tensor(data, { shape, device }));
  const out = runOp(op as never, tensors, attrs as never) as Tensor;
  const data = (await out.data()) as Float32Array;
  for (const t of [...tensors, out]) t.dispose();
  return data;
}

describe('row and reduction layouts per profile', () => {
  it("'gpu' splits few long reductions over several workgroups", () => {
    expect(reduceSplits(1, 4608 * 1024)).toBe(288);
    expect(reduceSplits(4, 100003)).toBe(7);
    expect(reduceSplits(1, 1000)).toBe(1);
    expect(reduceSplits(128, 10 ** 6)).toBe(1);
  });

  it("'software' keeps its llvmpipe choices: a workgroup of 64 only for few long rows", () => {
    expect(rowLayoutKey(rowLayout('software', 256, 256))).toBe('group64');
    expect(rowLayoutKey(rowLayout('software', 257, 1024))).toBe('thread64');
    expect(rowLayoutKey(rowLayout('software', 4, 255))).toBe('thread64');
    expect(reduceLayout('software', 256, 256)).toEqual({ mode: 'group', workgroup: 64 });
    expect(reduceLayout('software', 4608, 1024)).toEqual({ mode: 'thread', workgroup: 64 });
  });

  it("'gpu' gives every row of >= 64 a workgroup, rows in registers up to 16 per invocation", () => {
    expect(rowLayoutKey(rowLayout('gpu', 4608, 1024))).toBe('group256r16');
    expect(rowLayoutKey(rowLayout('gpu', 100000, 64))).toBe('group64r16');
    expect(rowLayoutKey(rowLayout('gpu', 3, 1023))).toBe('group64r16');
    expect(rowLayoutKey(rowLayout('gpu', 3, 4096))).toBe('group256r16');
    expect(rowLayoutKey(rowLayout('gpu', 3, 4097))).toBe('group256');
    expect(rowLayoutKey(rowLayout('gpu', 73728, 18))).toBe('thread64r32');
    expect(rowLayoutKey(rowLayout('gpu', 10, 40))).toBe('thread64');
    // A middle axis: many rows keep an invocation each (their reads coalesce), few get a workgroup.
    expect(rowLayoutKey(rowLayout('gpu', 16384, 100, false))).toBe('thread64');
    expect(rowLayoutKey(rowLayout('gpu', 2000, 300, false))).toBe('group64r16');
    expect(reduceLayout('gpu', 4608, 1024)).toEqual({ mode: 'interleaved', workgroup: 256 });
    expect(reduceLayout('gpu', 1, 100)).toEqual({ mode: 'interleaved', workgroup: 64 });
    expect(reduceLayout('gpu', 1000, 63)).toEqual({ mode: 'thread', workgroup: 64 });
  });
});

describe.skipIf(skip)('row kernels on WebGPU, both kernel profiles, vs float64', () => {
  beforeAll(async () => {
    if (unavailable !== null) throw new Error(`GPT_REQUIRE_WEBGPU=1 but WebGPU is unavailable: ${unavailable}`);
    for (const { name, kernels } of PROFILES) await initWebGPU({ name, kernels });
  });
  afterAll(() => {
    for (const { name } of PROFILES) {
      (getBackend(name) as WebGPUBackend).destroy();
      removeBackend(name);
    }
  });

  for (const { name: device, kernels } of PROFILES) {
    describe(`${kernels} kernels`, () => {
      it('the backend runs the profile asked for', () => {
        expect((getBackend(device) as WebGPUBackend).kernels).toBe(kernels);
      });

      // [rows, length, mean]: a workgroup of 256 per row in registers; invocation per row in
      // registers; a workgroup of 64 (length not a multiple of it); rows too long for the
      // registers; an invocation per row past the registers; the two-term mean, short and long rows.
      for (const [rows, length, mean] of [
        [4608, 1024, 0],
        [3, 5, 0],
        [7, 1000, 0],
        [5, 5000, 0],
        [9, 40, 0],
        [64, 96, 500],
        [6, 3000, 500],
        [5, 20, 500],
      ] as const) {
        it(`layerNorm forward and backward at [${rows}, ${length}], mean ${mean}`, async () => {
          const eps = 1e-5;
          const shape = [rows, length];
          const x = values(rows * length, rows * 31 + length, mean, 1);
          const dy = values(rows * length, rows * 17 + length + 1);
          const forward = await runOn(device, 'layerNorm', [{ data: x, shape }], { eps });
          expect(relativeError(forward, layerNormReference(x, length, eps))).toBeLessThan(4e-6);
          const backward = await runOn(device, 'layerNormBackward', [{ data: dy, shape }, { data: x, shape }], { eps });
          expect(relativeError(backward, layerNormReference(x, length, eps, dy))).toBeLessThan(1e-5);
        });
      }

      // [shape, axis]: attention-shaped scores along the last and a middle axis, long rows
      // along the last axis and along the first (rows 2000 apart in memory).
      for (const [shape, axis] of [
        [[16, 8, 18, 18], 3],
        [[16, 8, 18, 18], 2],
        [[16, 70, 18], 1],
        [[64, 40], 1],
        [[2, 100, 8192], 1],
        [[300, 2000], 1],
        [[300, 2000], 0],
      ] as const) {
        for (const log of [false, true]) {
          const op = log ? 'logSoftmax' : 'softmax';
          it(`${op} of [${shape.join(', ')}] along axis ${axis}`, async () => {
            const count = shape.reduce((a, b) => a * b, 1);
            const x = values(count, count + axis, 0, 8);
            const result = await runOn(device, op, [{ data: x, shape }], { axis });
            expect(relativeError(result, softmaxReference(x, shape, axis, log))).toBeLessThan(log ? 2e-6 : 1e-6);
          });
        }
      }

      it('sum and max of [4608, 1024] along each axis and over everything', async () => {
        const [rows, cols] = [4608, 1024];
        const shape = [rows, cols];
        // Mean 0.5 so the sums grow (4.7M terms) and their rounding would show.
        const x = values(rows * cols, 7, 0.5, 1);
        for (const kind of ['sum', 'max'] as const) {
          for (const [axes, axis] of [
            [[1], 1],
            [[0], 0],
            [[0, 1], 'all'],
          ] as const) {
            const result = await runOn(device, kind, [{ data: x, shape }], { axes });
            const expected = reduceReference(x, rows, cols, kind, axis);
            expect(result.length).toBe(expected.length);
            // Sums: relative to the largest sum (float32 partials of 64 terms keep it near 1e-7); max is exact.
            if (kind === 'max') expect(relativeError(result, expected), `max over ${axis}`).toBe(0);
            else expect(relativeError(result, expected), `sum over ${axis}`).toBeLessThan(1e-6);
          }
        }
      });

      // Rows of all -inf (shifted by 0), a NaN, partial -inf and +inf, at lengths that pick a
      // workgroup of 64 and of 256 in registers and one re-reading: the CPU backend's values.
      for (const length of [100, 1500, 5000]) {
        it(`special values at length ${length}: softmax, logSoftmax, layerNorm, max, sum match the CPU backend`, async () => {
          const shape = [5, length];
          const x = values(5 * length, length);
          x.fill(-Infinity, 0, length);
          x[length + 7] = NaN;
          x.fill(-Infinity, 2 * length, 2 * length + 30);
          x[3 * length + length - 1] = Infinity;
          const cases: [string, object][] = [
            ['softmax', { axis: 1 }],
            ['logSoftmax', { axis: 1 }],
            ['layerNorm', { eps: 1e-5 }],
            ['max', { axes: [1] }],
            ['sum', { axes: [1] }],
          ];
          for (const [op, attrs] of cases) {
            const expected = await runOn('cpu', op, [{ data: x, shape }], attrs);
            const actual = await runOn(device, op, [{ data: x, shape }], attrs);
            const mismatch = Array.from(expected).findIndex((e, i) => Number.isNaN(e) !== Number.isNaN(actual[i]!) || (!Number.isNaN(e) && Math.abs(e - actual[i]!) > 1e-5 * Math.max(1, Math.abs(e))));
            expect(mismatch, `${op}: first differing element (cpu ${expected[mismatch]}, webgpu ${actual[mismatch]})`).toBe(-1);
          }
        });
      }

      // Few long outputs: under 'gpu' each output is split over several workgroups and the
      // partials reduced in a second pass (4 x 7 partials, then 4 outputs; 25 partials for the full sum).
      it('sum, max and min of [4, 100003] along the last axis and over everything (split reductions)', async () => {
        const [rows, cols] = [4, 100003];
        const x = values(rows * cols, 11, 0.5, 1);
        x[2 * cols + 77_777] = 40; // a max in a late split of row 2
        for (const kind of ['sum', 'max'] as const) {
          for (const [axes, axis] of [
            [[1], 1],
            [[0, 1], 'all'],
          ] as const) {
            const result = await runOn(device, kind, [{ data: x, shape: [rows, cols] }], { axes });
            const expected = reduceReference(x, rows, cols, kind, axis);
            if (kind === 'max') expect(relativeError(result, expected), `max over ${axis}`).toBe(0);
            else expect(relativeError(result, expected), `sum over ${axis}`).toBeLessThan(1e-6);
          }
        }
        const negated = x.map((v) => -v);
        const min = await runOn(device, 'min', [{ data: negated, shape: [rows, cols] }], { axes: [1] });
        expect(Array.from(min)).toEqual(Array.from(reduceReference(x, rows, cols, 'max', 1), (v) => -v));
        const ints = Int32Array.from(x, (v) => Math.round(v * 100));
        const t = tensor(ints, { shape: [rows, cols], device });
        const total = runOp('sum', [t], { axes: [0, 1] });
        expect((await total.data())[0]).toBe(ints.reduce((a, b) => a + b, 0));
        t.dispose();
        total.dispose();
      });

      it('sums over axes that do not merge ([16, 100, 8] over 0 and 2), float32 and int32', async () => {
        const shape = [16, 100, 8];
        const x = values(16 * 100 * 8, 3);
        const expected = new Float64Array(100);
        for (let a = 0; a < 16; a++) for (let b = 0; b < 100; b++) for (let c = 0; c < 8; c++) expected[b] += x[(a * 100 + b) * 8 + c]!;
        expect(relativeError(await runOn(device, 'sum', [{ data: x, shape }], { axes: [0, 2] }), expected)).toBeLessThan(1e-6);
        const ints = Int32Array.from(x, (v) => Math.round(v * 1000));
        const intExpected = new Float64Array(100);
        for (let i = 0; i < ints.length; i++) intExpected[Math.floor(i / 8) % 100] += ints[i]!;
        const t = tensor(ints, { shape, device });
        const out = runOp('sum', [t], { axes: [0, 2] });
        expect(Array.from(await out.data())).toEqual(Array.from(intExpected));
        t.dispose();
        out.dispose();
      });
    });
  }
});
