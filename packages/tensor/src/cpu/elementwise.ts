// CPU kernels for elementwise ops, compiled from the same expressions the WebGPU
// backend prints as WGSL (expr.ts). Broadcasting reads inputs through strides.

import { allocTyped, type TypedArray } from '../dtype.js';
import { compileJs, type Expr, type ScalarFn } from '../expr.js';
import type { OpAttrs, TensorMeta } from '../ops.js';
import { broadcastStrides, sameShape, sizeOf } from '../shape.js';
import type { TensorInfo } from '../backend.js';
import { forEachStrided } from './strided.js';

const compiled = new WeakMap<Expr, ScalarFn>();

function compiledFor(expr: Expr): ScalarFn {
  let f = compiled.get(expr);
  if (!f) {
    f = compileJs(expr);
    compiled.set(expr, f);
  }
  return f;
}

/** Runs an elementwise expression of 1–6 inputs with NumPy broadcasting. */
export function elementwise(expr: Expr, inputs: readonly TensorInfo<TypedArray>[], out: TensorMeta): TypedArray {
  const f = compiledFor(expr);
  const result = allocTyped(out.dtype, sizeOf(out.shape));
  const n = result.length;
  if (inputs.length > 3) return wideElementwise(f, inputs, out, result);
  const [a, b, c] = inputs.map((t) => t.buffer) as [TypedArray, TypedArray?, TypedArray?];
  const dense = inputs.every((t) => sameShape(t.shape, out.shape));
  if (inputs.length === 1 || dense) {
    if (inputs.length === 1) for (let i = 0; i < n; i++) result[i] = f(a[i]!, 0, 0);
    else if (inputs.length === 2) for (let i = 0; i < n; i++) result[i] = f(a[i]!, b![i]!, 0);
    else for (let i = 0; i < n; i++) result[i] = f(a[i]!, b![i]!, c![i]!);
    return result;
  }
  if (inputs.length === 2 && sameShape(inputs[0]!.shape, out.shape) && b!.length === 1) {
    const bv = b![0]!;
    for (let i = 0; i < n; i++) result[i] = f(a[i]!, bv, 0);
    return result;
  }
  const strides = inputs.map((t) => broadcastStrides(t.shape, out.shape));
  const zero = inputs.map(() => 0);
  forEachStrided(out.shape, strides, zero, (start, count, off, st) => {
    let i0 = off[0]!;
    let i1 = off[1] ?? 0;
    let i2 = off[2] ?? 0;
    const s0 = st[0]!;
    const s1 = st[1] ?? 0;
    const s2 = st[2] ?? 0;
    for (let i = 0; i < count; i++, i0 += s0, i1 += s1, i2 += s2) {
      result[start + i] = f(a[i0]!, b ? b[i1]! : 0, c ? c[i2]! : 0);
    }
  });
  return result;
}

/**
 * The fused ops' wider expressions (4–6 inputs). Inputs are read through broadcast
 * strides; absent ones read a zero. Their inputs are mostly dense tensors and 0-d
 * scalars, for which the strides are 1 and 0 along the whole run.
 */
function wideElementwise(f: ScalarFn, inputs: readonly TensorInfo<TypedArray>[], out: TensorMeta, result: TypedArray): TypedArray {
  const none = new Float32Array(1);
  const arrays = Array.from({ length: 6 }, (_, k) => inputs[k]?.buffer ?? none);
  const [a, b, c, d, e, g] = arrays as [TypedArray, TypedArray, TypedArray, TypedArray, TypedArray, TypedArray];
  const strides = arrays.map((_, k) => (inputs[k] ? broadcastStrides(inputs[k].shape, out.shape) : out.shape.map(() => 0)));
  forEachStrided(out.shape, strides, arrays.map(() => 0), (start, count, off, st) => {
    let [i0, i1, i2, i3, i4, i5] = off as [number, number, number, number, number, number];
    const [s0, s1, s2, s3, s4, s5] = st as [number, number, number, number, number, number];
    for (let i = 0; i < count; i++, i0 += s0, i1 += s1, i2 += s2, i3 += s3, i4 += s4, i5 += s5) {
      result[start + i] = f(a[i0]!, b[i1]!, c[i2]!, d[i3]!, e[i4]!, g[i5]!);
    }
  });
  return result;
}

/**
 * adamUpdate in one loop: [param', expAvg', expAvgSq'] from [param, grad, expAvg, expAvgSq],
 * each operation rounded to float32 in the order the WASM and WGSL kernels use (and the
 * lerp, lerpSquare and adamStep expressions it replaces), so every backend gives the same bits
 * up to sqrt and division, which are correctly rounded everywhere.
 */
export function adamUpdate(inputs: readonly TensorInfo<Float32Array>[], attrs: OpAttrs['adamUpdate']): Float32Array[] {
  const [p, g, m, v] = inputs.map((t) => t.buffer) as [Float32Array, Float32Array, Float32Array, Float32Array];
  const f = Math.fround;
  const [w1, w2, decay, alpha, eps] = [attrs.momentWeight, attrs.varianceWeight, attrs.decay, attrs.alpha, attrs.eps].map(f) as [number, number, number, number, number];
  const [outP, outM, outV] = [0, 1, 2].map(() => new Float32Array(p.length)) as [Float32Array, Float32Array, Float32Array];
  for (let i = 0; i < p.length; i++) {
    const gi = g[i]!;
    const m2 = (outM[i] = f(m[i]! + f(w1 * f(gi - m[i]!))));
    const v2 = (outV[i] = f(v[i]! + f(w2 * f(f(gi * gi) - v[i]!))));
    outP[i] = f(f(p[i]! * decay) - f(f(alpha * m2) / f(f(Math.sqrt(v2)) + eps)));
  }
  return [outP, outM, outV];
}

/** dtype conversion with C semantics: float -> int truncates toward zero, anything -> bool is x != 0. */
export function cast(input: TensorInfo<TypedArray>, out: TensorMeta): TypedArray {
  const result = allocTyped(out.dtype, sizeOf(out.shape));
  const src = input.buffer;
  if (out.dtype === 'bool') for (let i = 0; i < src.length; i++) result[i] = src[i] !== 0 ? 1 : 0;
  else if (out.dtype === 'int32') for (let i = 0; i < src.length; i++) result[i] = Math.trunc(src[i]!);
  else result.set(src);
  return result;
}
