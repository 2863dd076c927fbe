// Data movement in float64, each op written from its definition with explicit
// coordinates: out[coords] = x[f(coords)].

import type { DType } from '@gpt/tensor';
import { broadcastRead, normalizeAxis, ravel, sizeOf, unravel, type NdArray } from './nd-array.js';

/** Builds an array of `shape` whose element at `coords` is `value(coords)`. */
export function generate(shape: readonly number[], dtype: DType, value: (coords: number[]) => number): NdArray {
  const data = new Float64Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = value(unravel(i, shape));
  return { shape: [...shape], dtype, data };
}

const at = (x: NdArray, coords: readonly number[]): number => x.data[ravel(coords, x.shape)]!;

export function reshape(x: NdArray, shape: readonly number[]): NdArray {
  const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const resolved = shape.map((d) => (d === -1 ? x.data.length / known : d));
  if (sizeOf(resolved) !== x.data.length) throw new Error('reference reshape: size mismatch');
  return { shape: resolved, dtype: x.dtype, data: x.data.slice() };
}

export function permute(x: NdArray, perm: readonly number[]): NdArray {
  const p = perm.map((a) => normalizeAxis(a, x.shape.length));
  const shape = p.map((a) => x.shape[a]!);
  return generate(shape, x.dtype, (coords) => {
    const source = new Array<number>(x.shape.length);
    p.forEach((a, i) => (source[a] = coords[i]!));
    return at(x, source);
  });
}

export function transpose(x: NdArray, axis0 = -2, axis1 = -1): NdArray {
  const perm = x.shape.map((_, i) => i);
  const a = normalizeAxis(axis0, x.shape.length);
  const b = normalizeAxis(axis1, x.shape.length);
  perm[a] = b;
  perm[b] = a;
  return permute(x, perm);
}

export function expand(x: NdArray, shape: readonly number[]): NdArray {
  const offset = shape.length - x.shape.length;
  const resolved = shape.map((d, i) => (d === -1 ? x.shape[i - offset]! : d));
  return generate(resolved, x.dtype, (coords) => broadcastRead(x, coords));
}

export function squeeze(x: NdArray, axes?: number | readonly number[]): NdArray {
  const list =
    axes === undefined
      ? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))
      : (typeof axes === 'number' ? [axes] : axes).map((a) => normalizeAxis(a, x.shape.length));
  return { shape: x.shape.filter((_, i) => !list.includes(i)), dtype: x.dtype, data: x.data.slice() };
}

export function unsqueeze(x: NdArray, axis: number): NdArray {
  const a = normalizeAxis(axis, x.shape.length + 1);
  return { shape: [...x.shape.slice(0, a), 1, ...x.shape.slice(a)], dtype: x.dtype, data: x.data.slice() };
}

export function flatten(x: NdArray, startAxis = 0, endAxis = -1): NdArray {
  if (x.shape.length === 0) return { ...x, shape: [1] };
  const s = normalizeAxis(startAxis, x.shape.length);
  const e = normalizeAxis(endAxis, x.shape.length);
  const merged = x.shape.slice(s, e + 1).reduce((a, b) => a * b, 1);
  return { shape: [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)], dtype: x.dtype, data: x.data.slice() };
}

export type SliceEntry = readonly [number, number] | number | null;

/** Python slicing semantics: negative positions count from the end, ranges are clamped, an integer drops its axis. */
export function slice(x: NdArray, entries: readonly SliceEntry[]): NdArray {
  const starts: number[] = [];
  const counts: number[] = [];
  const kept: boolean[] = [];
  x.shape.forEach((d, i) => {
    const e = entries[i] ?? null;
    if (e === null) {
      starts.push(0);
      counts.push(d);
      kept.push(true);
    } else if (typeof e === 'number') {
      starts.push(e < 0 ? e + d : e);
      counts.push(1);
      kept.push(false);
    } else {
      const resolve = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
      const b = resolve(e[0]);
      starts.push(b);
      counts.push(Math.max(0, resolve(e[1]) - b));
      kept.push(true);
    }
  });
  const full = generate(counts, x.dtype, (coords) => at(x, coords.map((c, i) => c + starts[i]!)));
  return { ...full, shape: counts.filter((_, i) => kept[i]) };
}

/** Constant padding with [before, after] per axis. */
export function pad(x: NdArray, pads: readonly (readonly [number, number])[], value = 0): NdArray {
  const shape = x.shape.map((d, i) => d + pads[i]![0] + pads[i]![1]);
  return generate(shape, x.dtype, (coords) => {
    const source = coords.map((c, i) => c - pads[i]![0]);
    const inside = source.every((c, i) => c >= 0 && c < x.shape[i]!);
    return inside ? at(x, source) : value;
  });
}

export function concat(xs: readonly NdArray[], axis = 0): NdArray {
  const ax = normalizeAxis(axis, xs[0]!.shape.length);
  const shape = [...xs[0]!.shape];
  shape[ax] = xs.reduce((total, t) => total + t.shape[ax]!, 0);
  return generate(shape, xs[0]!.dtype, (coords) => {
    let position = coords[ax]!;
    for (const t of xs) {
      if (position < t.shape[ax]!) return at(t, coords.map((c, i) => (i === ax ? position : c)));
      position -= t.shape[ax]!;
    }
    throw new Error('reference concat: out of range');
  });
}

export function stack(xs: readonly NdArray[], axis = 0): NdArray {
  const ax = normalizeAxis(axis, xs[0]!.shape.length + 1);
  const shape = [...xs[0]!.shape.slice(0, ax), xs.length, ...xs[0]!.shape.slice(ax)];
  return generate(shape, xs[0]!.dtype, (coords) => at(xs[coords[ax]!]!, coords.filter((_, i) => i !== ax)));
}

/** Pieces of the given sizes (or `sections` equal pieces) along `axis`. */
export function split(x: NdArray, sizesOrSections: number | readonly number[], axis = 0): NdArray[] {
  const ax = normalizeAxis(axis, x.shape.length);
  const length = x.shape[ax]!;
  const sizes = typeof sizesOrSections === 'number' ? Array<number>(sizesOrSections).fill(length / sizesOrSections) : sizesOrSections;
  let start = 0;
  return sizes.map((size) => {
    const from = start;
    start += size;
    const shape = x.shape.map((d, i) => (i === ax ? size : d));
    return generate(shape, x.dtype, (coords) => at(x, coords.map((c, i) => (i === ax ? c + from : c))));
  });
}

/** torch.gather: out[coords] = x[coords with coords[axis] replaced by index[coords]]. */
export function gather(x: NdArray, axis: number, index: NdArray): NdArray {
  const ax = normalizeAxis(axis, x.shape.length);
  return generate(index.shape, x.dtype, (coords) => at(x, coords.map((c, i) => (i === ax ? at(index, coords) : c))));
}

/** torch.scatter_add: a copy of x with src[coords] added at coords with coords[axis] = index[coords]. */
export function scatterAdd(x: NdArray, axis: number, index: NdArray, src: NdArray): NdArray {
  const ax = normalizeAxis(axis, x.shape.length);
  const data = x.data.slice();
  for (let p = 0; p < index.data.length; p++) {
    const coords = unravel(p, index.shape);
    const target = coords.map((c, i) => (i === ax ? index.data[p]! : c));
    data[ravel(target, x.shape)] += src.data[p]!;
  }
  return { shape: [...x.shape], dtype: x.dtype, data };
}

export function indexSelect(x: NdArray, axis: number, indices: NdArray): NdArray {
  const ax = normalizeAxis(axis, x.shape.length);
  const shape = x.shape.map((d, i) => (i === ax ? indices.data.length : d));
  return generate(shape, x.dtype, (coords) => at(x, coords.map((c, i) => (i === ax ? indices.data[c]! : c))));
}

export function oneHot(indices: NdArray, numClasses: number): NdArray {
  return generate([...indices.shape, numClasses], 'float32', (coords) => (at(indices, coords.slice(0, -1)) === coords.at(-1) ? 1 : 0));
}
