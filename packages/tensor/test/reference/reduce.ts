// Reductions over a set of axes in float64: every output element visits its
// input elements by explicit coordinates (no block tricks), then optional
// squeezing of the reduced axes (keepdim = false).

import type { DType } from '@gpt/tensor';
import { normalizeAxis, ravel, sizeOf, unravel, type NdArray } from './nd-array.js';

function axesList(axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  return list.map((a) => normalizeAxis(a, rank));
}

/** Calls fold(acc, value) over each group of elements that reduce together. */
function reduceGroups(
  x: NdArray,
  axes: number | readonly number[] | undefined,
  keepdim: boolean,
  dtype: DType,
  finish: (values: number[]) => number,
): NdArray {
  const list = axesList(axes, x.shape.length);
  const keptShape = x.shape.map((d, i) => (list.includes(i) ? 1 : d));
  const groups: number[][] = Array.from({ length: sizeOf(keptShape) }, () => []);
  for (let i = 0; i < x.data.length; i++) {
    const coords = unravel(i, x.shape).map((c, d) => (list.includes(d) ? 0 : c));
    groups[ravel(coords, keptShape)]!.push(x.data[i]!);
  }
  const shape = keepdim ? keptShape : x.shape.filter((_, i) => !list.includes(i));
  return { shape, dtype, data: Float64Array.from(groups.map(finish)) };
}

export function sum(x: NdArray, axes?: number | readonly number[], keepdim = false): NdArray {
  return reduceGroups(x, axes, keepdim, x.dtype, (v) => v.reduce((a, b) => a + b, 0));
}

export function max(x: NdArray, axes?: number | readonly number[], keepdim = false): NdArray {
  return reduceGroups(x, axes, keepdim, x.dtype, (v) => Math.max(...v));
}

export function min(x: NdArray, axes?: number | readonly number[], keepdim = false): NdArray {
  return reduceGroups(x, axes, keepdim, x.dtype, (v) => Math.min(...v));
}

export function mean(x: NdArray, axes?: number | readonly number[], keepdim = false): NdArray {
  return reduceGroups(x, axes, keepdim, 'float32', (v) => v.reduce((a, b) => a + b, 0) / v.length);
}

/** Variance with `correction` (1 = Bessel, torch.var's default). */
export function variance(x: NdArray, axes?: number | readonly number[], keepdim = false, correction = 1): NdArray {
  return reduceGroups(x, axes, keepdim, 'float32', (v) => {
    const mu = v.reduce((a, b) => a + b, 0) / v.length;
    return v.reduce((a, b) => a + (b - mu) ** 2, 0) / Math.max(v.length - correction, 0);
  });
}

export function logsumexp(x: NdArray, axes?: number | readonly number[], keepdim = false): NdArray {
  return reduceGroups(x, axes, keepdim, 'float32', (v) => {
    const m = Math.max(...v);
    return m + Math.log(v.reduce((a, b) => a + Math.exp(b - m), 0));
  });
}

/** Index of the first extreme value along `axis` (of the flattened input when undefined); NaN counts as the extreme, like torch.argmax. */
export function argReduce(x: NdArray, kind: 'argmax' | 'argmin', axis?: number, keepdim = false): NdArray {
  const flat = axis === undefined;
  const source: NdArray = flat ? { ...x, shape: [x.data.length] } : x;
  const ax = flat ? 0 : normalizeAxis(axis, x.shape.length);
  const beats = kind === 'argmax' ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
  const better = (a: number, b: number) => (Number.isNaN(a) ? !Number.isNaN(b) : beats(a, b));
  const result = reduceGroups(source, ax, true, 'int32', (v) => {
    let best = 0;
    for (let i = 1; i < v.length; i++) if (better(v[i]!, v[best]!)) best = i;
    return best;
  });
  if (keepdim) return flat ? { ...result, shape: [1] } : result;
  return { ...result, shape: source.shape.filter((_, i) => i !== ax) };
}
