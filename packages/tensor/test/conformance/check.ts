// Runs a conformance case on a device: forward values against the float64
// reference, and backward() against central finite differences of it. Both also
// check that the case leaves no live tensor or buffer behind.

import { memory, tensor, type Tensor } from '@gpt/tensor';
import { expect } from 'vitest';
import type { TestDevice } from '../devices.js';
import { unravel, type NdArray } from '../reference/nd-array.js';
import { FD_STEP, FORWARD, GRADIENT, scaled, withinTolerance, type Tolerance } from '../tolerance.js';
import { caseTitle, type OpCase } from './case.js';
import { drawInputs, drawWeights, mulberry32, seedOf } from './inputs.js';

const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** Throws a descriptive error naming the worst element outside the tolerance. */
export function assertClose(actual: ArrayLike<number>, expected: NdArray, t: Tolerance, what: string): void {
  expect(actual.length, `${what}: element count`).toBe(expected.data.length);
  let worst = -1;
  let worstExcess = -Infinity;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected.data[i]!;
    if (withinTolerance(a, e, t)) continue;
    const excess = Number.isFinite(a - e) ? Math.abs(a - e) - t.atol - t.rtol * Math.abs(e) : Infinity;
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (worst >= 0) {
    const bad = Array.from(actual).filter((a, i) => !withinTolerance(a, expected.data[i]!, t)).length;
    throw new Error(
      `${what}: ${bad} of ${actual.length} values differ; worst at [${unravel(worst, expected.shape).join(', ')}]: ` +
        `got ${actual[worst]}, expected ${expected.data[worst]} (rtol ${t.rtol}, atol ${t.atol})`,
    );
  }
}

/** The reference rounded to the output's dtype: float32 overflow to infinity and underflow to 0 are then expected. */
function roundedToDType(x: NdArray): NdArray {
  return x.dtype === 'float32' ? { ...x, data: x.data.map(Math.fround) } : x;
}

function createInputs(c: OpCase, device: TestDevice): { tensors: Tensor[]; arrays: NdArray[] } {
  const { typed, arrays } = drawInputs(c.inputs, seedOf(caseTitle(c)));
  const tensors = typed.map((values, i) => tensor(values, { shape: c.inputs[i]!.shape, dtype: c.inputs[i]!.dtype, device: device.device }));
  return { tensors, arrays };
}

function liveCounts(): { tensors: number; buffers: number; bytes: number } {
  const { tensors, buffers, bytes } = memory();
  return { tensors, buffers, bytes };
}

export async function checkForward(c: OpCase, device: TestDevice): Promise<void> {
  const before = liveCounts();
  const { tensors, arrays } = createInputs(c, device);
  const duringInputs = liveCounts();
  const outputs = asList(c.run(...tensors));
  const expected = asList(c.reference(...arrays));
  try {
    expect(outputs.length, 'number of outputs').toBe(expected.length);
    const t = scaled(FORWARD[c.tolerance], device.toleranceScale);
    for (const [k, out] of outputs.entries()) {
      const what = outputs.length > 1 ? `output ${k}` : 'output';
      expect(out.shape, `${what} shape`).toEqual(expected[k]!.shape);
      expect(out.dtype, `${what} dtype`).toBe(expected[k]!.dtype);
      expect(out.device, `${what} device`).toBe(device.device);
      assertClose(await out.data(), roundedToDType(expected[k]!), t, what);
    }
  } finally {
    for (const out of outputs) out.dispose();
  }
  expect(liveCounts(), 'live tensors/buffers after disposing the outputs').toEqual(duringInputs);
  for (const x of tensors) x.dispose();
  expect(liveCounts(), 'live tensors/buffers after disposing everything').toEqual(before);
}

/** sum_k sum(reference_k(inputs) * weights_k) in float64. */
function referenceLoss(c: OpCase, arrays: NdArray[], weights: Float32Array[]): number {
  let loss = 0;
  for (const [k, out] of asList(c.reference(...arrays)).entries()) {
    const w = weights[k]!;
    for (let i = 0; i < out.data.length; i++) loss += out.data[i]! * w[i]!;
  }
  return loss;
}

/** Central differences of the reference loss with respect to every element of input `which`. */
function finiteDifferences(c: OpCase, arrays: NdArray[], weights: Float32Array[], which: number): NdArray {
  const x = arrays[which]!;
  const grad = new Float64Array(x.data.length);
  for (let i = 0; i < x.data.length; i++) {
    const original = x.data[i]!;
    x.data[i] = original + FD_STEP;
    const plus = referenceLoss(c, arrays, weights);
    x.data[i] = original - FD_STEP;
    const minus = referenceLoss(c, arrays, weights);
    x.data[i] = original;
    grad[i] = (plus - minus) / (2 * FD_STEP);
  }
  return { shape: x.shape, dtype: 'float32', data: grad };
}

export async function checkGradient(c: OpCase, device: TestDevice): Promise<void> {
  const before = liveCounts();
  const { tensors, arrays } = createInputs(c, device);
  const differentiated = c.inputs.flatMap((spec, i) => (spec.grad && spec.dtype === 'float32' ? [i] : []));
  expect(differentiated.length, 'inputs to differentiate').toBeGreaterThan(0);
  for (const i of differentiated) tensors[i]!.requiresGrad = true;

  const outputs = asList(c.run(...tensors));
  const rng = mulberry32(seedOf(`weights ${caseTitle(c)}`));
  const weights = outputs.map((out) => drawWeights(out.shape, rng));
  try {
    for (const [k, out] of outputs.entries()) {
      expect(out.requiresGrad, `output ${k} requiresGrad`).toBe(true);
      const upstream = tensor(weights[k]!, { shape: out.shape, device: device.device });
      out.backward(upstream, { retainGraph: k < outputs.length - 1 });
      upstream.dispose();
    }
  } finally {
    for (const out of outputs) out.dispose();
  }

  const t = scaled(GRADIENT, device.toleranceScale);
  for (const i of differentiated) {
    const what = `gradient of input ${i} ${JSON.stringify(c.inputs[i]!.shape)}`;
    const g = tensors[i]!.grad;
    expect(g, `${what}: backward() left no .grad`).not.toBeNull();
    expect(g!.shape, `${what} shape`).toEqual(c.inputs[i]!.shape);
    const expected = finiteDifferences(c, arrays, weights, i);
    const largest = expected.data.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
    assertClose(await g!.data(), expected, { rtol: t.rtol, atol: t.atol * largest }, what);
  }
  for (const x of tensors) x.dispose();
  expect(liveCounts(), 'live tensors/buffers after disposing inputs, outputs and gradients').toEqual(before);
}

