// layerNorm, softmax, logSoftmax and sums through the WASM row kernels against the
// TypeScript kernels (both accumulate in float64, so they agree to a float32 rounding
// or two), including rows of -inf, NaN, a single element, row lengths that leave
// every tail size of the four-lane loops, sums over leading, middle and trailing runs
// of axes, and the cases that stay in TypeScript (softmax over a leading axis, sums
// over separated axes). Split over threads, a kernel's rows are only divided among
// tasks, so the result must equal the single-thread result bit for bit.

import { afterAll, describe, expect, it } from 'vitest';
import * as T from '@gpt/tensor';
import { layerNormBackward } from '../../src/cpu/nn.js';
import { dispatchRows, releaseCpuBuffer } from '../../src/cpu/kernel-policy.js';
import { sumLayout } from '../../src/wasm/wasm-rows.js';
import { filledRandom } from './gemm-reference.js';

function close(a: ArrayLike<number>, b: ArrayLike<number>): string | null {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (Number.isNaN(y) ? !Number.isNaN(x) : !(Math.abs(x - y) <= 1e-6 * Math.max(1, Math.abs(y)))) return `element ${i}: ${x} vs ${y}`;
  }
  return null;
}

const CASES: [string, number[], (x: T.Tensor) => T.Tensor][] = [
  ['layerNorm', [37, 257], (x) => T.layerNorm(x)],
  ['layerNorm eps 0.1, rank 3', [4, 9, 33], (x) => T.layerNorm(x, null, null, 0.1)],
  ['softmax last', [50, 19], (x) => T.softmax(x, -1)],
  ['logSoftmax last', [50, 19], (x) => T.logSoftmax(x, 1)],
  ['softmax leading axis (TS)', [50, 19], (x) => T.softmax(x, 0)],
  ['softmax rows of 1', [70, 1], (x) => T.softmax(x, -1)],
  ['softmax rows of 2', [70, 2], (x) => T.softmax(x, -1)],
  ['softmax rows of 3', [70, 3], (x) => T.softmax(x, -1)],
  ['softmax rows of 7', [70, 7], (x) => T.softmax(x, -1)],
  ['logSoftmax rows of 6', [70, 6], (x) => T.logSoftmax(x, -1)],
  ['layerNorm rows of 5', [70, 5], (x) => T.layerNorm(x)],
  ['layerNorm rows of 11', [70, 11], (x) => T.layerNorm(x)],
  ['sum last', [13, 7, 300], (x) => T.sum(x, 2)],
  ['sum last, rows of 13', [500, 13], (x) => T.sum(x, 1)],
  ['sum leading', [1152, 70], (x) => T.sum(x, 0)],
  ['sum middle run', [3, 4, 5, 6], (x) => T.sum(x, [1, 2])],
  ['sum separated axes (TS)', [3, 4, 5, 6], (x) => T.sum(x, [0, 2])],
  ['sum all', [40, 60], (x) => T.sum(x)],
];

describe.each(['wasm', 'wasm-threads'] as const)('row kernels in mode %s', (mode) => {
  afterAll(() => T.setCpuKernels('auto'));

  it.each(CASES)('%s matches the TS kernel', async (_name, shape, run) => {
    const values = filledRandom(shape.reduce((a, b) => a * b, 1), 9).map((v) => v * 4);
    values[0] = NaN;
    if (values.length > 40) values.fill(-Infinity, 19, 38); // a whole row of -inf in the [*, 19] cases
    const x = T.tensor(values, { shape });
    T.setCpuKernels('ts');
    const expected = run(x);
    T.setCpuKernels(mode);
    await T.cpuThreadsReady();
    const actual = run(x);
    expect(actual.shape).toEqual(expected.shape);
    expect(close(actual.dataSync(), expected.dataSync())).toBeNull();
    for (const t of [x, expected, actual]) t.dispose();
  });
});

describe.each(['wasm', 'wasm-threads'] as const)('layerNormBackward in mode %s', (mode) => {
  afterAll(() => T.setCpuKernels('auto'));

  // Not wired into the CPU backend yet, so through the dispatcher against the TS kernel.
  it.each([
    ['rows of 257', [37, 257], 0],
    ['rows of 5, eps 0.1', [70, 5], 0],
    ['rank 3, rows of 33', [4, 9, 33], 0],
    ['offset rows (mean 500)', [300, 64], 500],
  ] as const)('%s matches the TS kernel', async (_name, shape, offset) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const x = { buffer: filledRandom(n, 3).map((v) => v * 3 + offset), shape: [...shape], dtype: 'float32' as const };
    const g = { buffer: filledRandom(n, 4), shape: [...shape], dtype: 'float32' as const };
    const eps = shape[1] === 5 ? 0.1 : 1e-5;
    const expected = layerNormBackward(g, x, eps);
    T.setCpuKernels(mode);
    await T.cpuThreadsReady();
    const actual = dispatchRows('layerNormBackward', x, [-1], eps, g);
    expect(actual).not.toBeNull();
    expect(close(actual!, expected)).toBeNull();
    releaseCpuBuffer(actual!);
  });
});

describe('sumLayout', () => {
  it('maps contiguous runs to [outer, reduced, inner] and refuses gaps', () => {
    expect(sumLayout([3, 4, 5, 6], [1, 2])).toEqual([3, 20, 6]);
    expect(sumLayout([3, 4], [0])).toEqual([1, 3, 4]);
    expect(sumLayout([3, 4], [1, 0])).toEqual([1, 12, 1]);
    expect(sumLayout([3, 4, 5], [0, 2])).toBeNull();
  });
});

describe('layerNormBackward split over threads', () => {
  afterAll(() => T.setCpuKernels('auto'));

  it('equals one thread bit for bit', async () => {
    const shape = [3000, 37];
    const x = { buffer: filledRandom(3000 * 37, 6), shape, dtype: 'float32' as const };
    const g = { buffer: filledRandom(3000 * 37, 7), shape, dtype: 'float32' as const };
    T.setCpuKernels('wasm');
    const single = Float32Array.from(dispatchRows('layerNormBackward', x, [-1], 1e-5, g)!);
    T.setCpuKernels('wasm-threads');
    expect(await T.cpuThreadsReady()).toBeGreaterThan(0);
    const threaded = dispatchRows('layerNormBackward', x, [-1], 1e-5, g)!;
    expect(Buffer.from(Float32Array.from(threaded).buffer).equals(Buffer.from(single.buffer))).toBe(true);
    releaseCpuBuffer(threaded);
  });
});

describe('row kernels split over threads', () => {
  afterAll(() => T.setCpuKernels('auto'));

  it.each([
    ['layerNorm', [3000, 37], (x: T.Tensor) => T.layerNorm(x)],
    ['softmax', [3000, 37], (x: T.Tensor) => T.softmax(x, -1)],
    ['sum over the last axis', [3000, 37], (x: T.Tensor) => T.sum(x, 1)],
    ['sum over a middle run', [40, 30, 20, 37], (x: T.Tensor) => T.sum(x, [1, 2])],
  ] as const)('%s: equal to one thread bit for bit', async (_name, shape, run) => {
    const x = T.tensor(filledRandom(shape.reduce((a, b) => a * b, 1), 5), { shape: [...shape] });
    T.setCpuKernels('wasm');
    const single = run(x);
    T.setCpuKernels('wasm-threads');
    expect(await T.cpuThreadsReady()).toBeGreaterThan(0);
    const threaded = run(x);
    expect(Buffer.from(Float32Array.from(threaded.dataSync()).buffer).equals(Buffer.from(Float32Array.from(single.dataSync()).buffer))).toBe(true);
    for (const t of [x, single, threaded]) t.dispose();
  });
});
