// conv2d and its backward kernels with the WASM kernels forced on (im2col / col2im in
// WASM, GEMMs over heap column buffers) against the float64 reference of the
// conformance suite, for strides, paddings and kernel sizes whose windows fall off
// every edge, on one thread and on the pool.

import { afterAll, describe, expect, it } from 'vitest';
import * as T from '@gpt/tensor';
import { nd } from '../reference/nd-array.js';
import { conv2d, conv2dBackpropFilter, conv2dBackpropInput } from '../reference/nn.js';
import { filledRandom } from './gemm-reference.js';

interface Case {
  x: [number, number, number, number];
  w: [number, number, number, number];
  stride: [number, number];
  padding: [number, number];
}

const CASES: Case[] = [
  { x: [2, 3, 9, 8], w: [4, 3, 3, 3], stride: [1, 1], padding: [1, 1] },
  { x: [3, 3, 32, 32], w: [16, 3, 3, 3], stride: [2, 2], padding: [1, 1] },
  { x: [2, 5, 7, 11], w: [3, 5, 2, 4], stride: [2, 3], padding: [0, 2] },
  { x: [1, 2, 5, 5], w: [2, 2, 5, 5], stride: [1, 1], padding: [3, 3] },
  { x: [4, 1, 6, 6], w: [1, 1, 1, 1], stride: [1, 1], padding: [0, 0] },
];

function within(actual: ArrayLike<number>, expected: Float64Array, scale: number): string | null {
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(actual[i]! - expected[i]!);
    if (!(error <= 1e-5 * scale)) return `element ${i}: got ${actual[i]}, expected ${expected[i]}`;
  }
  return null;
}

describe.each(['wasm', 'wasm-threads'] as const)('conv2d in mode %s', (mode) => {
  afterAll(() => T.setCpuKernels('auto'));

  it.each(CASES.map((c) => [`x ${c.x.join('x')} w ${c.w.join('x')} stride ${c.stride} padding ${c.padding}`, c] as const))('%s', async (_n, c) => {
    T.setCpuKernels(mode);
    await T.cpuThreadsReady();
    const xv = filledRandom(c.x.reduce((a, b) => a * b), 1);
    const wv = filledRandom(c.w.reduce((a, b) => a * b), 2);
    const options = { stride: c.stride, padding: c.padding };
    const x = T.tensor(xv, { shape: c.x });
    const w = T.tensor(wv, { shape: c.w });
    const y = T.conv2d(x, w, null, options);
    const yRef = conv2d(nd(c.x, xv), nd(c.w, wv), null, options);
    expect(y.shape).toEqual(yRef.shape);
    const scale = c.w[1] * c.w[2] * c.w[3];
    expect(within(y.dataSync(), yRef.data, scale)).toBeNull();

    const dyv = filledRandom(y.size, 3);
    const dy = nd(y.shape, dyv);
    const grads = T.valueAndGrad((a: T.Tensor, b: T.Tensor) => T.sum(T.mul(T.conv2d(a, b, null, options), T.tensor(dyv, { shape: y.shape }))))(x, w);
    const dxRef = conv2dBackpropInput(dy, nd(c.w, wv), c.x, options);
    const dwRef = conv2dBackpropFilter(nd(c.x, xv), dy, c.w, options);
    expect(within(grads.grads[0]!.dataSync(), dxRef.data, scale)).toBeNull();
    expect(within(grads.grads[1]!.dataSync(), dwRef.data, c.x[0] * y.shape[2]! * y.shape[3]!)).toBeNull();
    for (const t of [x, w, y, grads.value, ...grads.grads]) t.dispose();
  });
});
