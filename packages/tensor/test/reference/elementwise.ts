// Elementwise reference math in float64: the scalar formulas of every unary and
// binary op (from their textbook definitions, not from the library's expressions)
// and the broadcasting wrappers around them.

import type { DType } from '@gpt/tensor';
import { erf } from './erf.js';
import { mapBroadcast, type NdArray } from './nd-array.js';

// Constants of SELU (Klambauer et al. 2017), as PyTorch prints them.
const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

/** Wraps to int32 like C arithmetic on int32 operands. */
const toInt32 = (v: number): number => v | 0;

export const UNARY_FORMULAS = {
  neg: (x: number) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (x: number) => 1 / Math.sqrt(x),
  abs: Math.abs,
  sign: (x: number) => (x > 0 ? 1 : x < 0 ? -1 : 0),
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  erf,
  sigmoid: (x: number) => 1 / (1 + Math.exp(-x)),
  relu: (x: number) => (x > 0 ? x : 0),
  gelu: (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  selu: (x: number) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x)),
  logicalNot: (x: number) => (x === 0 ? 1 : 0),
} as const;

export const BINARY_FORMULAS = {
  add: (a: number, b: number) => a + b,
  sub: (a: number, b: number) => a - b,
  mul: (a: number, b: number) => a * b,
  div: (a: number, b: number) => a / b,
  pow: (a: number, b: number) => a ** b,
  // NaN propagates, like torch.maximum/minimum.
  maximum: (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)),
  minimum: (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b)),
  equal: (a: number, b: number) => (a === b ? 1 : 0),
  notEqual: (a: number, b: number) => (a !== b ? 1 : 0),
  less: (a: number, b: number) => (a < b ? 1 : 0),
  lessEqual: (a: number, b: number) => (a <= b ? 1 : 0),
  greater: (a: number, b: number) => (a > b ? 1 : 0),
  greaterEqual: (a: number, b: number) => (a >= b ? 1 : 0),
  logicalAnd: (a: number, b: number) => (a !== 0 && b !== 0 ? 1 : 0),
  logicalOr: (a: number, b: number) => (a !== 0 || b !== 0 ? 1 : 0),
} as const;

export type UnaryName = keyof typeof UNARY_FORMULAS;
export type BinaryName = keyof typeof BINARY_FORMULAS;

const BOOL_RESULT = new Set<string>(['equal', 'notEqual', 'less', 'lessEqual', 'greater', 'greaterEqual', 'logicalAnd', 'logicalOr']);

export function unary(name: UnaryName, x: NdArray): NdArray {
  const f = UNARY_FORMULAS[name];
  const wrap = x.dtype === 'int32' ? (v: number) => toInt32(f(v)) : f;
  return mapBroadcast(x.dtype, [x], wrap);
}

export function binary(name: BinaryName, a: NdArray, b: NdArray): NdArray {
  const f = BINARY_FORMULAS[name];
  const dtype: DType = BOOL_RESULT.has(name) ? 'bool' : a.dtype;
  const wrap = dtype === 'int32' ? (x: number, y: number) => toInt32(f(x, y)) : f;
  return mapBroadcast(dtype, [a, b], wrap);
}

/** A binary op with a plain number as one operand (the number takes the tensor's dtype). */
export function binaryScalar(name: BinaryName, a: NdArray | number, b: NdArray | number): NdArray {
  const like = typeof a === 'number' ? (b as NdArray) : a;
  const lift = (v: NdArray | number): NdArray =>
    typeof v === 'number' ? { shape: [], dtype: like.dtype, data: Float64Array.of(like.dtype === 'int32' ? Math.trunc(v) : v) } : v;
  return binary(name, lift(a), lift(b));
}

export function where(condition: NdArray, a: NdArray, b: NdArray): NdArray {
  return mapBroadcast(a.dtype, [condition, a, b], (c, x, y) => (c !== 0 ? x : y));
}

/** dtype conversion: float to int truncates toward zero, anything to bool is x != 0. */
export function cast(x: NdArray, dtype: DType): NdArray {
  const convert = dtype === 'bool' ? (v: number) => (v !== 0 ? 1 : 0) : dtype === 'int32' ? Math.trunc : (v: number) => v;
  return { shape: [...x.shape], dtype, data: x.data.map(convert) };
}

export function clamp(x: NdArray, min?: number, max?: number): NdArray {
  return mapBroadcast(x.dtype, [x], (v) => Math.min(Math.max(v, min ?? -Infinity), max ?? Infinity));
}

// The fused ops, from their definitions (torch.lerp; Adam's moment and step; GELU's derivative).
export const lerp = (a: NdArray, b: NdArray, w: NdArray): NdArray => mapBroadcast('float32', [a, b, w], (x, y, t) => x + t * (y - x));

export const mulAdd = (x: NdArray, y: NdArray, z: NdArray): NdArray => mapBroadcast('float32', [x, y, z], (a, b, c) => a * b + c);
export const lerpSquare = (avg: NdArray, x: NdArray, w: NdArray): NdArray =>
  mapBroadcast('float32', [avg, x, w], (s, g, t) => s + t * (g * g - s));

export const adamStep = (p: NdArray, m: NdArray, v: NdArray, decay: NdArray, alpha: NdArray, eps: NdArray): NdArray =>
  mapBroadcast('float32', [p, m, v, decay, alpha, eps], (pv, mv, vv, d, a, e) => pv * d - (a * mv) / (Math.sqrt(vv) + e));

/** One Adam(W) update from its definition: [param', m', v'] (scalars as the kernels see them, in float32). */
export function adamUpdate(
  p: NdArray,
  g: NdArray,
  m: NdArray,
  v: NdArray,
  s: { momentWeight: number; varianceWeight: number; decay: number; alpha: number; eps: number },
): NdArray[] {
  const [w1, w2, decay, alpha, eps] = [s.momentWeight, s.varianceWeight, s.decay, s.alpha, s.eps].map(Math.fround) as [number, number, number, number, number];
  const m2 = mapBroadcast('float32', [m, g], (mv, gv) => mv + w1 * (gv - mv));
  const v2 = mapBroadcast('float32', [v, g], (vv, gv) => vv + w2 * (gv * gv - vv));
  const p2 = mapBroadcast('float32', [p, m2, v2], (pv, mv, vv) => pv * decay - (alpha * mv) / (Math.sqrt(vv) + eps));
  return [p2, m2, v2];
}

/** dy * d/dx selu(x) = dy scale (1 where x > 0, else alpha e^x). */
export const seluBackward = (dy: NdArray, x: NdArray): NdArray =>
  mapBroadcast('float32', [dy, x], (g, v) => g * 1.0507009873554805 * (v > 0 ? 1 : 1.6732632423543772 * Math.exp(v)));

/** dy * d/dx [x Phi(x)] = dy (Phi(x) + x phi(x)) with phi the standard normal density. */
export const geluBackward = (dy: NdArray, x: NdArray): NdArray =>
  mapBroadcast('float32', [dy, x], (g, v) => g * (0.5 * (1 + erf(v / Math.SQRT2)) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI)));
