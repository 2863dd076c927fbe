// Reductions over any set of axes. Adjacent axes are merged into one block and
// blocks are reduced one after another, so every step is a simple
// [outer, reduced, inner] loop. Sums accumulate in float64.

import { allocTyped, type TypedArray } from '../dtype.js';
import type { Shape } from '../shape.js';

export type ReduceKind = 'sum' | 'max' | 'min';

/** Splits sorted axes into runs of adjacent axes, e.g. [0,1,3] -> [[0,1],[3]]. */
function adjacentRuns(axes: readonly number[]): number[][] {
  const runs: number[][] = [];
  for (const a of [...axes].sort((p, q) => p - q)) {
    const last = runs.at(-1);
    if (last && last.at(-1) === a - 1) last.push(a);
    else runs.push([a]);
  }
  return runs;
}

function product(shape: Shape, from: number, to: number): number {
  let p = 1;
  for (let i = from; i < to; i++) p *= shape[i]!;
  return p;
}

function reduceBlock(src: TypedArray, outer: number, red: number, inner: number, kind: ReduceKind, out: TypedArray): void {
  if (kind === 'sum') {
    if (inner === 1) {
      for (let o = 0; o < outer; o++) {
        let acc = 0;
        const base = o * red;
        for (let r = 0; r < red; r++) acc += src[base + r]!;
        out[o] = acc;
      }
      return;
    }
    const acc = new Float64Array(inner);
    for (let o = 0; o < outer; o++) {
      acc.fill(0);
      for (let r = 0; r < red; r++) {
        const base = (o * red + r) * inner;
        for (let j = 0; j < inner; j++) acc[j]! += src[base + j]!;
      }
      out.set(acc, o * inner);
    }
    return;
  }
  const better = kind === 'max' ? (a: number, b: number) => a > b || a !== a : (a: number, b: number) => a < b || a !== a;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      let best = src[o * red * inner + j]!;
      for (let r = 1; r < red && best === best; r++) {
        const v = src[(o * red + r) * inner + j]!;
        if (better(v, best)) best = v;
      }
      out[o * inner + j] = best;
    }
  }
}

/** Reduces `src` of `shape` over `axes` (normalized); the output keeps reduced axes as size 1. */
export function reduce(src: TypedArray, shape: Shape, axes: readonly number[], kind: ReduceKind): TypedArray {
  let current = src;
  const currentShape = [...shape];
  const runs = adjacentRuns(axes).reverse();
  if (runs.length === 0) return current.slice();
  for (const run of runs) {
    const first = run[0]!;
    const lastAxis = run.at(-1)! + 1;
    const outer = product(currentShape, 0, first);
    const red = product(currentShape, first, lastAxis);
    const inner = product(currentShape, lastAxis, currentShape.length);
    const out = allocTyped(src instanceof Int32Array ? 'int32' : 'float32', outer * inner);
    if (red === 0) {
      if (kind === 'sum') out.fill(0);
    } else {
      reduceBlock(current, outer, red, inner, kind, out);
    }
    for (const a of run) currentShape[a] = 1;
    current = out;
  }
  return current;
}

/** Index of the first maximum (or minimum) along one axis; NaN counts as the extreme value. */
export function argReduce(src: TypedArray, shape: Shape, axis: number, kind: 'argmax' | 'argmin'): Int32Array {
  const outer = product(shape, 0, axis);
  const red = shape[axis]!;
  const inner = product(shape, axis + 1, shape.length);
  const out = new Int32Array(outer * inner);
  const better = kind === 'argmax' ? (a: number, b: number) => a > b || (a !== a && b === b) : (a: number, b: number) => a < b || (a !== a && b === b);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      let best = src[o * red * inner + j]!;
      let index = 0;
      for (let r = 1; r < red; r++) {
        const v = src[(o * red + r) * inner + j]!;
        if (better(v, best)) {
          best = v;
          index = r;
        }
      }
      out[o * inner + j] = index;
    }
  }
  return out;
}
