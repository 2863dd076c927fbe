// Elementwise math, reductions, matmul and the fused softmax family. Numbers are
// accepted wherever a tensor is and become scalars of the other operand's dtype.

import type { DType } from './dtype.js';
import { runOp, runOpOutputs } from './engine.js';
import type { BinaryOp, FusedOp, OpAttrs, UnaryOp } from './ops.js';
import { normalizeAxes, normalizeAxis, sizeOf } from './shape.js';
import { toTyped } from './dtype.js';
import { uploadStorage } from './storage.js';
import { fromStorage, type Tensor } from './tensor.js';

type Operand = Tensor | number;

/** A 0-d tensor holding `value` on the same device and with the dtype of `like`. */
export function scalarLike(value: number, like: Tensor): Tensor {
  const dtype = like.dtype === 'bool' ? 'float32' : like.dtype;
  return fromStorage(uploadStorage(toTyped(dtype, [value]), { shape: [], dtype }, like.device), [], dtype, 'scalar');
}

function unary(op: UnaryOp, x: Tensor): Tensor {
  return runOp(op, [x], {});
}

function binary(op: BinaryOp, a: Operand, b: Operand): Tensor {
  if (typeof a === 'number' && typeof b === 'number') {
    throw new Error(`${op}: at least one operand must be a tensor`);
  }
  const ta = typeof a === 'number' ? scalarLike(a, b as Tensor) : a;
  const tb = typeof b === 'number' ? scalarLike(b, ta) : b;
  const result = runOp(op, [ta, tb], {});
  if (ta !== a) ta.dispose();
  if (tb !== b) tb.dispose();
  return result;
}

// ---- elementwise ----------------------------------------------------------

export const add = (a: Operand, b: Operand): Tensor => binary('add', a, b);
export const sub = (a: Operand, b: Operand): Tensor => binary('sub', a, b);
export const mul = (a: Operand, b: Operand): Tensor => binary('mul', a, b);
export const div = (a: Operand, b: Operand): Tensor => binary('div', a, b);
export const pow = (a: Operand, b: Operand): Tensor => binary('pow', a, b);
export const maximum = (a: Operand, b: Operand): Tensor => binary('maximum', a, b);
export const minimum = (a: Operand, b: Operand): Tensor => binary('minimum', a, b);
export const equal = (a: Operand, b: Operand): Tensor => binary('equal', a, b);
export const notEqual = (a: Operand, b: Operand): Tensor => binary('notEqual', a, b);
export const less = (a: Operand, b: Operand): Tensor => binary('less', a, b);
export const lessEqual = (a: Operand, b: Operand): Tensor => binary('lessEqual', a, b);
export const greater = (a: Operand, b: Operand): Tensor => binary('greater', a, b);
export const greaterEqual = (a: Operand, b: Operand): Tensor => binary('greaterEqual', a, b);
export const logicalAnd = (a: Tensor, b: Tensor): Tensor => binary('logicalAnd', a, b);
export const logicalOr = (a: Tensor, b: Tensor): Tensor => binary('logicalOr', a, b);

export const neg = (x: Tensor): Tensor => unary('neg', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);
export const log = (x: Tensor): Tensor => unary('log', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const rsqrt = (x: Tensor): Tensor => unary('rsqrt', x);
export const abs = (x: Tensor): Tensor => unary('abs', x);
export const sign = (x: Tensor): Tensor => unary('sign', x);
export const sin = (x: Tensor): Tensor => unary('sin', x);
export const cos = (x: Tensor): Tensor => unary('cos', x);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
export const erf = (x: Tensor): Tensor => unary('erf', x);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
export const relu = (x: Tensor): Tensor => unary('relu', x);
/** Exact GELU, x * Phi(x) (PyTorch's default, approximate='none'). */
export const gelu = (x: Tensor): Tensor => unary('gelu', x);
export const selu = (x: Tensor): Tensor => unary('selu', x);
export const logicalNot = (x: Tensor): Tensor => unary('logicalNot', x);
export const square = (x: Tensor): Tensor => mul(x, x);

/** Elements of `a` where `condition` is true, else of `b` (broadcasting all three). */
export function where(condition: Tensor, a: Operand, b: Operand): Tensor {
  const like = typeof a === 'number' ? (typeof b === 'number' ? null : b) : a;
  if (!like) throw new Error('where: at least one branch must be a tensor');
  const ta = typeof a === 'number' ? scalarLike(a, like) : a;
  const tb = typeof b === 'number' ? scalarLike(b, like) : b;
  const result = runOp('where', [condition, ta, tb], {});
  if (ta !== a) ta.dispose();
  if (tb !== b) tb.dispose();
  return result;
}

/** Runs a fused op; numbers become 0-d float32 scalars on the first tensor's device. */
function fused(op: FusedOp, operands: readonly Operand[]): Tensor {
  const like = operands.find((o): o is Tensor => typeof o !== 'number');
  if (!like) throw new Error(`${op}: at least one operand must be a tensor`);
  const tensors = operands.map((o) => (typeof o === 'number' ? scalarLike(o, like) : o));
  try {
    return runOp(op, tensors, {});
  } finally {
    tensors.forEach((t, i) => t !== operands[i] && t.dispose());
  }
}

/** start + weight (end - start), like torch.lerp (broadcasting all three). */
export const lerp = (start: Operand, end: Operand, weight: Operand): Tensor => fused('lerp', [start, end, weight]);

/** x y + z in one pass (broadcasting all three), like torch.addcmul(z, x, y). */
export const mulAdd = (x: Operand, y: Operand, z: Operand): Tensor => fused('mulAdd', [x, y, z]);

/** avg + weight (x² - avg) in one pass: the second-moment update of Adam. No gradient. */
export const lerpSquare = (avg: Tensor, x: Tensor, weight: Operand): Tensor => fused('lerpSquare', [avg, x, weight]);

/**
 * param·decay - alpha·m / (sqrt(v) + eps) in one pass: the Adam(W) parameter update
 * with bias corrections folded into alpha and eps. No gradient.
 */
export const adamStep = (param: Tensor, m: Tensor, v: Tensor, decay: Operand, alpha: Operand, eps: Operand): Tensor =>
  fused('adamStep', [param, m, v, decay, alpha, eps]);

/** The numbers of one adamUpdate: the moments' lerp weights, and the step's decay, alpha and eps. */
export type AdamUpdateScalars = OpAttrs['adamUpdate'];

/**
 * One Adam(W) update in a single pass over memory, returning [param', expAvg', expAvgSq']:
 *   m' = m + momentWeight (g - m),  v' = v + varianceWeight (g² - v),
 *   param' = param·decay - alpha·m' / (sqrt(v') + eps).
 * What lerp, lerpSquare and adamStep compute in three passes; all four tensors share one
 * shape. No gradient.
 */
export function adamUpdate(param: Tensor, grad: Tensor, expAvg: Tensor, expAvgSq: Tensor, scalars: AdamUpdateScalars): [Tensor, Tensor, Tensor] {
  const { momentWeight, varianceWeight, decay, alpha, eps } = scalars;
  return runOpOutputs('adamUpdate', [param, grad, expAvg, expAvgSq], { momentWeight, varianceWeight, decay, alpha, eps }) as [Tensor, Tensor, Tensor];
}

/** Limits values to [min, max] (either bound may be omitted). */
export function clamp(x: Tensor, min?: number, max?: number): Tensor {
  if (min !== undefined && max !== undefined && min > max) throw new Error(`clamp: min ${min} is greater than max ${max}`);
  if (min === undefined && max === undefined) throw new Error('clamp: give min, max or both');
  if (min === undefined) return minimum(x, max!);
  if (max === undefined) return maximum(x, min);
  const lower = maximum(x, min);
  const result = minimum(lower, max);
  lower.dispose();
  return result;
}

export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return runOp('reshape', [x], { shape: x.shape });
  return runOp('cast', [x], { dtype });
}

// ---- reductions -------------------------------------------------------------

function squeezeAxes(x: Tensor, axes: number[], keepdim: boolean): Tensor {
  if (keepdim) return x;
  const shape = x.shape.filter((_, i) => !axes.includes(i));
  const result = runOp('reshape', [x], { shape });
  x.dispose();
  return result;
}

function reduction(op: 'sum' | 'max' | 'min', x: Tensor, axes: number | number[] | undefined, keepdim: boolean): Tensor {
  const list = normalizeAxes(op, axes, x.rank);
  return squeezeAxes(runOp(op, [x], { axes: list }), list, keepdim);
}

/** Sum over `axes` (all when omitted). */
export const sum = (x: Tensor, axes?: number | number[], keepdim = false): Tensor => reduction('sum', x, axes, keepdim);
export const max = (x: Tensor, axes?: number | number[], keepdim = false): Tensor => reduction('max', x, axes, keepdim);
export const min = (x: Tensor, axes?: number | number[], keepdim = false): Tensor => reduction('min', x, axes, keepdim);

export function mean(x: Tensor, axes?: number | number[], keepdim = false): Tensor {
  const list = normalizeAxes('mean', axes, x.rank);
  const count = sizeOf(list.map((a) => x.shape[a]!));
  const total = sum(x, list, keepdim);
  const result = div(total, count);
  total.dispose();
  return result;
}

/** Variance with Bessel's correction by default (like torch.var: correction = 1). */
export function variance(x: Tensor, axes?: number | number[], options: { keepdim?: boolean; correction?: number } = {}): Tensor {
  const list = normalizeAxes('var', axes, x.rank);
  const count = sizeOf(list.map((a) => x.shape[a]!));
  const correction = options.correction ?? 1;
  const mu = mean(x, list, true);
  const centered = sub(x, mu);
  const sq = mul(centered, centered);
  const total = sum(sq, list, options.keepdim ?? false);
  const result = div(total, Math.max(count - correction, 0));
  for (const t of [mu, centered, sq, total]) t.dispose();
  return result;
}

function argReduction(op: 'argmax' | 'argmin', x: Tensor, axis: number | undefined, keepdim: boolean): Tensor {
  if (axis === undefined) {
    const flat = runOp('reshape', [x], { shape: [x.size] });
    let result: Tensor;
    try {
      result = runOp(op, [flat], { axis: 0 });
    } finally {
      flat.dispose();
    }
    return squeezeAxes(result, [0], keepdim);
  }
  const ax = normalizeAxis(op, axis, x.rank);
  return squeezeAxes(runOp(op, [x], { axis: ax }), [ax], keepdim);
}

/** Index of the largest value along `axis` (of the flattened tensor when omitted); int32. */
export const argmax = (x: Tensor, axis?: number, keepdim = false): Tensor => argReduction('argmax', x, axis, keepdim);
export const argmin = (x: Tensor, axis?: number, keepdim = false): Tensor => argReduction('argmin', x, axis, keepdim);

/** log(sum(exp(x))) over `axes`, computed stably. */
export function logsumexp(x: Tensor, axes?: number | number[], keepdim = false): Tensor {
  const list = normalizeAxes('logsumexp', axes, x.rank);
  const m = runOp('max', [x], { axes: list });
  const mDetached = m.detach();
  m.dispose();
  const shifted = sub(x, mDetached);
  const e = exp(shifted);
  const s = runOp('sum', [e], { axes: list });
  const l = log(s);
  const withMax = add(l, mDetached);
  for (const t of [mDetached, shifted, e, s, l]) t.dispose();
  return squeezeAxes(withMax, list, keepdim);
}

// ---- matmul and softmax ---------------------------------------------------------

/**
 * Matrix product with broadcast batch dims, like torch.matmul: [..., M, K] x [..., K, N].
 * A 1-D operand is treated as a row (left) or column (right) vector and its axis dropped.
 */
export function matmul(a: Tensor, b: Tensor, options: { transA?: boolean; transB?: boolean; bias?: Tensor | null } = {}): Tensor {
  const attrs = { transA: options.transA ?? false, transB: options.transB ?? false };
  if (options.bias) {
    // [..., M, N] + bias [N] in the matmul itself (Linear's y = x Wᵀ + b); 1-D operands add it after.
    if (a.rank >= 2 && b.rank >= 2) return runOp('matmul', [a, b, options.bias], { ...attrs, bias: true });
    const product = matmul(a, b, attrs);
    try {
      return add(product, options.bias);
    } finally {
      product.dispose();
    }
  }
  if (a.rank >= 2 && b.rank >= 2) return runOp('matmul', [a, b], attrs);
  if (a.rank === 0 || b.rank === 0) throw new Error('matmul: inputs must have at least one axis');
  const a2 = a.rank === 1 ? runOp('reshape', [a], { shape: [1, a.size] }) : a;
  const b2 = b.rank === 1 ? runOp('reshape', [b], { shape: [b.size, 1] }) : b;
  let product: Tensor;
  try {
    product = runOp('matmul', [a2, b2], attrs);
  } finally {
    // Disposed on failure too: a shape error must not leak the reshaped views.
    for (const t of [a2, b2]) if (t !== a && t !== b) t.dispose();
  }
  let shape = [...product.shape];
  if (a.rank === 1) shape = [...shape.slice(0, -2), shape.at(-1)!];
  if (b.rank === 1) shape = shape.slice(0, -1);
  const result = runOp('reshape', [product], { shape });
  product.dispose();
  return result;
}

export const softmax = (x: Tensor, axis = -1): Tensor => runOp('softmax', [x], { axis: normalizeAxis('softmax', axis, x.rank) });
export const logSoftmax = (x: Tensor, axis = -1): Tensor =>
  runOp('logSoftmax', [x], { axis: normalizeAxis('logSoftmax', axis, x.rank) });
