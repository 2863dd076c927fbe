// Shape and indexing ops: reshape, permute, expand, slicing, concatenation,
// padding, gather/scatter. Views (reshape, squeeze, unsqueeze) share storage.

import { runOp } from './engine.js';
import { broadcastShapes, normalizeAxes, normalizeAxis, shapeToString, sizeOf } from './shape.js';
import type { Tensor } from './tensor.js';
import { arange } from './creation.js';
import { cast, equal } from './ops-math.js';

/** Reshape without copying; one dimension may be -1 and is inferred. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const unknown = shape.filter((d) => d === -1).length;
  if (unknown > 1) throw new Error(`reshape: only one dimension may be -1, got ${shapeToString(shape)}`);
  let resolved = [...shape];
  if (unknown === 1) {
    const known = sizeOf(shape.filter((d) => d !== -1));
    if (known === 0 || x.size % known !== 0) {
      throw new Error(`reshape: cannot reshape ${shapeToString(x.shape)} (${x.size} elements) to ${shapeToString(shape)}`);
    }
    resolved = shape.map((d) => (d === -1 ? x.size / known : d));
  }
  return runOp('reshape', [x], { shape: resolved });
}

/** Merges axes startAxis..endAxis (inclusive) into one. */
export function flatten(x: Tensor, startAxis = 0, endAxis = -1): Tensor {
  if (x.rank === 0) return reshape(x, [1]);
  const s = normalizeAxis('flatten', startAxis, x.rank);
  const e = normalizeAxis('flatten', endAxis, x.rank);
  if (s > e) throw new Error(`flatten: startAxis ${startAxis} comes after endAxis ${endAxis}`);
  const shape = [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

export function permute(x: Tensor, perm: readonly number[]): Tensor {
  return runOp('permute', [x], { perm: perm.map((p) => normalizeAxis('permute', p, x.rank)) });
}

/** Swaps two axes (the last two by default). */
export function transpose(x: Tensor, axis0 = -2, axis1 = -1): Tensor {
  const perm = [...Array(x.rank).keys()];
  const a = normalizeAxis('transpose', axis0, x.rank);
  const b = normalizeAxis('transpose', axis1, x.rank);
  [perm[a], perm[b]] = [perm[b]!, perm[a]!];
  return permute(x, perm);
}

/** Broadcasts to `shape` (a copy); -1 keeps a dimension as it is. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const offset = shape.length - x.rank;
  const resolved = shape.map((d, i) => (d === -1 ? (x.shape[i - offset] ?? 1) : d));
  return runOp('expand', [x], { shape: resolved });
}

export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  return expand(x, shape);
}

/** Removes size-1 axes (the given ones, or all). */
export function squeeze(x: Tensor, axes?: number | number[]): Tensor {
  const list = axes === undefined ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : normalizeAxes('squeeze', axes, x.rank);
  for (const a of list) {
    if (x.shape[a] !== 1) throw new Error(`squeeze: axis ${a} of ${shapeToString(x.shape)} has size ${x.shape[a]}, not 1`);
  }
  return reshape(x, x.shape.filter((_, i) => !list.includes(i)));
}

/** Inserts a size-1 axis at `axis` (which may be rank, or negative like PyTorch). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis('unsqueeze', axis, x.rank + 1);
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

/**
 * Python-like slicing: one entry per leading axis, either [start, end) (negative
 * values count from the end, ends are clamped), a single index (the axis is dropped),
 * or null for the whole axis. Missing trailing entries mean whole axes.
 */
export function slice(x: Tensor, ranges: readonly (readonly [number, number] | number | null)[]): Tensor {
  if (ranges.length > x.rank) throw new Error(`slice: ${ranges.length} ranges given for a tensor of rank ${x.rank}`);
  const begin: number[] = [];
  const end: number[] = [];
  const dropped: number[] = [];
  x.shape.forEach((d, i) => {
    const r = ranges[i] ?? null;
    if (r === null) {
      begin.push(0);
      end.push(d);
    } else if (typeof r === 'number') {
      const index = r < 0 ? r + d : r;
      if (!Number.isInteger(r) || index < 0 || index >= d) {
        throw new Error(`slice: index ${r} is out of range for axis ${i} of size ${d}`);
      }
      begin.push(index);
      end.push(index + 1);
      dropped.push(i);
    } else {
      const clampIndex = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
      const b = clampIndex(r[0]);
      begin.push(b);
      end.push(Math.max(b, clampIndex(r[1])));
    }
  });
  const sliced = runOp('slice', [x], { begin, end });
  if (dropped.length === 0) return sliced;
  const result = reshape(sliced, sliced.shape.filter((_, i) => !dropped.includes(i)));
  sliced.dispose();
  return result;
}

export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new Error('concat: needs at least one tensor');
  return runOp('concat', tensors, { axis: normalizeAxis('concat', axis, tensors[0]!.rank) });
}

/** Stacks equally shaped tensors along a new axis. */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new Error('stack: needs at least one tensor');
  const first = tensors[0]!.shape;
  for (const t of tensors) {
    if (t.shape.length !== first.length || t.shape.some((d, i) => d !== first[i])) {
      throw new Error(`stack: shapes differ: ${tensors.map((u) => shapeToString(u.shape)).join(', ')}`);
    }
  }
  const ax = normalizeAxis('stack', axis, first.length + 1);
  const expanded = tensors.map((t) => unsqueeze(t, ax));
  const result = runOp('concat', expanded, { axis: ax });
  for (const t of expanded) t.dispose();
  return result;
}

/** Splits along `axis` into pieces of the given sizes, or into `sections` equal pieces. */
export function split(x: Tensor, sizesOrSections: number | readonly number[], axis = 0): Tensor[] {
  const ax = normalizeAxis('split', axis, x.rank);
  const length = x.shape[ax]!;
  let sizes: number[];
  if (typeof sizesOrSections === 'number') {
    if (!Number.isInteger(sizesOrSections) || sizesOrSections <= 0 || length % sizesOrSections !== 0) {
      throw new Error(`split: axis ${axis} of size ${length} cannot be split into ${sizesOrSections} equal parts`);
    }
    sizes = Array(sizesOrSections).fill(length / sizesOrSections);
  } else {
    sizes = [...sizesOrSections];
    if (sizes.some((s) => !Number.isInteger(s) || s < 0) || sizes.reduce((a, b) => a + b, 0) !== length) {
      throw new Error(`split: sizes [${sizes.join(', ')}] must be non-negative and sum to ${length} (axis ${axis})`);
    }
  }
  let start = 0;
  return sizes.map((s) => {
    const begin = x.shape.map(() => 0);
    const end = [...x.shape];
    begin[ax] = start;
    end[ax] = start + s;
    start += s;
    return runOp('slice', [x], { begin, end });
  });
}

/** Pads each axis with [before, after] elements of `value` (constant padding). */
export function pad(x: Tensor, pads: readonly (readonly [number, number])[], value = 0): Tensor {
  return runOp('pad', [x], { pads, value });
}

/** torch.gather: picks x values along `axis` at `index` (int32, same rank as x). */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  return runOp('gather', [x, index], { axis: normalizeAxis('gather', axis, x.rank) });
}

/** torch.scatter_add: a copy of x with src added at `index` along `axis`. */
export function scatterAdd(x: Tensor, axis: number, index: Tensor, src: Tensor): Tensor {
  return runOp('scatterAdd', [x, index, src], { axis: normalizeAxis('scatterAdd', axis, x.rank) });
}

/** torch.index_select: the slices of x at the given positions (1-D int32) along `axis`. */
export function indexSelect(x: Tensor, axis: number, indices: Tensor): Tensor {
  const ax = normalizeAxis('indexSelect', axis, x.rank);
  if (indices.rank !== 1) throw new Error(`indexSelect: indices must be 1-D, got ${shapeToString(indices.shape)}`);
  const viewShape = x.shape.map((_, i) => (i === ax ? indices.size : 1));
  const outShape = x.shape.map((d, i) => (i === ax ? indices.size : d));
  const view = reshape(indices, viewShape);
  const index = expand(view, outShape);
  const result = gather(x, ax, index);
  view.dispose();
  index.dispose();
  return result;
}

/** One-hot float32 encoding of int32 class indices: shape [...indices.shape, numClasses]. */
export function oneHot(indices: Tensor, numClasses: number): Tensor {
  if (indices.dtype !== 'int32') throw new Error(`oneHot: indices must be int32, got ${indices.dtype}`);
  if (!Number.isInteger(numClasses) || numClasses <= 0) throw new Error(`oneHot: numClasses must be a positive integer, got ${numClasses}`);
  const classes = arange(0, numClasses, 1, { dtype: 'int32', device: indices.device });
  const column = unsqueeze(indices, -1);
  const hits = equal(column, classes);
  const result = cast(hits, 'float32');
  for (const t of [classes, column, hits]) t.dispose();
  return result;
}

/** The broadcast shape of several shapes (NumPy rules). */
export function broadcastShape(...shapes: (readonly number[])[]): number[] {
  return broadcastShapes('broadcastShape', ...shapes);
}
