// The op table: every primitive op is declared here once, with its attribute type
// and its shape/dtype inference (which also validates the inputs). Backends implement
// a kernel per op (see Kernels in backend.ts) and gradients.ts gives a rule per op;
// both are mapped types over OpName, so a missing kernel or gradient does not compile.

import type { DType } from './dtype.js';
import { call, input, type Expr } from './expr.js';
import {
  assertValidShape,
  broadcastShapes,
  normalizeAxis,
  sameShape,
  shapeToString,
  sizeOf,
  type Shape,
} from './shape.js';

/** What the op layer knows about a tensor without touching its data. */
export interface TensorMeta {
  readonly shape: Shape;
  readonly dtype: DType;
}

type Pair = readonly [number, number];

// ---- elementwise ops: one expression each -----------------------------------

const x = input(0);
const y = input(1);
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/** Unary elementwise ops and the dtypes each accepts. Output dtype = input dtype. */
export const UNARY = {
  neg: { expr: call('neg', x), dtypes: ['float32', 'int32'] },
  exp: { expr: call('exp', x), dtypes: ['float32'] },
  log: { expr: call('log', x), dtypes: ['float32'] },
  sqrt: { expr: call('sqrt', x), dtypes: ['float32'] },
  rsqrt: { expr: call('div', 1, call('sqrt', x)), dtypes: ['float32'] },
  abs: { expr: call('abs', x), dtypes: ['float32', 'int32'] },
  sign: { expr: call('sign', x), dtypes: ['float32', 'int32'] },
  sin: { expr: call('sin', x), dtypes: ['float32'] },
  cos: { expr: call('cos', x), dtypes: ['float32'] },
  tanh: { expr: call('tanh', x), dtypes: ['float32'] },
  erf: { expr: call('erf', x), dtypes: ['float32'] },
  sigmoid: { expr: call('div', 1, call('add', 1, call('exp', call('neg', x)))), dtypes: ['float32'] },
  relu: { expr: call('select', call('gt', x, 0), x, 0), dtypes: ['float32', 'int32'] },
  // Exact GELU (PyTorch's default): x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)).
  gelu: { expr: call('gelu', x), dtypes: ['float32'] },
  selu: {
    expr: call('mul', SELU_SCALE, call('select', call('gt', x, 0), x, call('mul', SELU_ALPHA, call('sub', call('exp', x), 1)))),
    dtypes: ['float32'],
  },
  logicalNot: { expr: call('eq', x, 0), dtypes: ['bool'] },
} satisfies Record<string, { expr: Expr; dtypes: readonly DType[] }>;

/** Binary elementwise ops (broadcasting). `out` is the output dtype, or undefined for the input dtype. */
export const BINARY = {
  add: { expr: call('add', x, y), dtypes: ['float32', 'int32'], out: undefined },
  sub: { expr: call('sub', x, y), dtypes: ['float32', 'int32'], out: undefined },
  mul: { expr: call('mul', x, y), dtypes: ['float32', 'int32'], out: undefined },
  div: { expr: call('div', x, y), dtypes: ['float32'], out: undefined },
  pow: { expr: call('pow', x, y), dtypes: ['float32'], out: undefined },
  maximum: { expr: call('max', x, y), dtypes: ['float32', 'int32'], out: undefined },
  minimum: { expr: call('min', x, y), dtypes: ['float32', 'int32'], out: undefined },
  equal: { expr: call('eq', x, y), dtypes: ['float32', 'int32', 'bool'], out: 'bool' },
  notEqual: { expr: call('ne', x, y), dtypes: ['float32', 'int32', 'bool'], out: 'bool' },
  less: { expr: call('lt', x, y), dtypes: ['float32', 'int32'], out: 'bool' },
  lessEqual: { expr: call('le', x, y), dtypes: ['float32', 'int32'], out: 'bool' },
  greater: { expr: call('gt', x, y), dtypes: ['float32', 'int32'], out: 'bool' },
  greaterEqual: { expr: call('ge', x, y), dtypes: ['float32', 'int32'], out: 'bool' },
  logicalAnd: { expr: call('mul', call('ne', x, 0), call('ne', y, 0)), dtypes: ['bool'], out: 'bool' },
  logicalOr: { expr: call('max', call('ne', x, 0), call('ne', y, 0)), dtypes: ['bool'], out: 'bool' },
} satisfies Record<string, { expr: Expr; dtypes: readonly DType[]; out: DType | undefined }>;

/** where(cond, a, b): the one ternary elementwise op over any dtype. */
export const WHERE_EXPR: Expr = call('select', input(0), input(1), input(2));

const z = input(2);

/**
 * Fused float32 elementwise ops of several inputs (broadcasting like the binary ops):
 * one pass over memory where composing primitives would take several; they serve
 * the optimizers and GELU's backward, which are bandwidth-bound. Values that change
 * from call to call (a learning rate, a bias correction) are 0-d tensor inputs,
 * never expression constants, so no backend compiles a kernel per value.
 */
export const FUSED = {
  /** torch.lerp(start, end, weight) = start + weight (end - start): a moving-average step. */
  lerp: { arity: 3, expr: call('add', x, call('mul', z, call('sub', y, x))) },
  /** mulAdd(x, y, z) = x y + z: LayerNorm's affine (normalized · weight + bias) in one pass. */
  mulAdd: { arity: 3, expr: call('add', call('mul', x, y), z) },
  /** lerpSquare(avg, x, weight) = avg + weight (x² - avg): Adam's second moment. */
  lerpSquare: { arity: 3, expr: call('add', x, call('mul', z, call('sub', call('mul', y, y), x))) },
  /**
   * adamStep(param, m, v, decay, alpha, eps) = param·decay - alpha·m / (sqrt(v) + eps): an
   * Adam(W) update with the bias corrections folded into alpha and eps (see @gpt/nn's Adam).
   */
  adamStep: {
    arity: 6,
    expr: call('sub', call('mul', x, input(3)), call('div', call('mul', input(4), y), call('add', call('sqrt', z), input(5)))),
  },
  /** geluBackward(dy, x) = dy (Phi(x) + x phi(x)): the exact GELU's gradient in one pass. */
  geluBackward: { arity: 2, expr: call('mul', x, call('geluGrad', y)) },
  /**
   * seluBackward(dy, x) = dy scale (1 where x > 0, else alpha e^x): SELU's gradient in one pass, so
   * no bool mask is made (a mask and a where over it ran in TypeScript, not WASM).
   */
  seluBackward: {
    arity: 2,
    expr: call('mul', x, call('select', call('gt', y, 0), SELU_SCALE, call('mul', call('exp', y), SELU_SCALE * SELU_ALPHA))),
  },
} satisfies Record<string, { arity: number; expr: Expr }>;

export type UnaryOp = keyof typeof UNARY;
export type BinaryOp = keyof typeof BINARY;
export type FusedOp = keyof typeof FUSED;

// ---- attributes of every op ----------------------------------------------

type UnaryAttrs = { [K in UnaryOp]: Record<string, never> };
type BinaryAttrs = { [K in BinaryOp]: Record<string, never> };
type FusedAttrs = { [K in FusedOp]: Record<string, never> };

export interface Conv2dAttrs {
  readonly stride: Pair;
  readonly padding: Pair;
}
export interface Pool2dAttrs {
  readonly kernel: Pair;
  readonly stride: Pair;
  readonly padding: Pair;
}
export interface RandomAttrs {
  readonly shape: Shape;
  /** Philox key (two uint32 words) and the block counter of the first element. */
  readonly key: Pair;
  readonly offset: number;
}

export interface OpAttrs extends UnaryAttrs, BinaryAttrs, FusedAttrs {
  where: Record<string, never>;
  cast: { readonly dtype: DType };
  /** Reductions keep the reduced axes with size 1; the public API squeezes them. */
  sum: { readonly axes: readonly number[] };
  max: { readonly axes: readonly number[] };
  min: { readonly axes: readonly number[] };
  argmax: { readonly axis: number };
  argmin: { readonly axis: number };
  /** [..., M, K] x [..., K, N] -> [..., M, N] with broadcast batch dims; trans* read an operand transposed. */
  /**
   * With `bias`, a third input [N] is added to every row of the product: Linear's bias, fused so
   * the GEMM writes the biased result in its one pass over C (a separate add was ~2% of the G.pt
   * train step on the CPU).
   */
  matmul: { readonly transA: boolean; readonly transB: boolean; readonly bias?: boolean };
  /** A view: same data, new shape. Backends implement it without copying where they can. */
  reshape: { readonly shape: Shape };
  permute: { readonly perm: readonly number[] };
  expand: { readonly shape: Shape };
  slice: { readonly begin: readonly number[]; readonly end: readonly number[] };
  pad: { readonly pads: readonly Pair[]; readonly value: number };
  concat: { readonly axis: number };
  /** torch.gather: out[i][j] = x[index[i][j]][j] for axis 0 (index has x's rank). */
  gather: { readonly axis: number };
  /** torch.scatter_add: out = x; out[index[i][j]][j] += src[i][j] for axis 0. */
  scatterAdd: { readonly axis: number };
  softmax: { readonly axis: number };
  logSoftmax: { readonly axis: number };
  /**
   * softmax(q kᵀ · scale) v over q [..., Tq, E], k [..., Tk, E], v [..., Tk, Ev] with equal batch
   * dims, no mask: one kernel where the backend fuses it (WebGPU, for short sequences); the
   * public scaledDotProductAttention composes primitives elsewhere.
   */
  attention: { readonly scale: number };
  /**
   * attention's gradient with respect to one input (`wrt`), from inputs [dOut, q, k, v]: each
   * of the three recomputes the softmax weights, so nothing of the forward pass is kept.
   */
  attentionBackward: { readonly scale: number; readonly wrt: 'q' | 'k' | 'v' };
  /** Normalizes over the last axis (no affine part; that is composed on top). */
  layerNorm: { readonly eps: number };
  /** layerNorm's gradient: inputs [dy, x], output dx (a backward-only kernel, one pass per row). */
  layerNormBackward: { readonly eps: number };
  /** NCHW input, [O, C, KH, KW] filter, no bias. */
  conv2d: Conv2dAttrs;
  conv2dBackpropInput: Conv2dAttrs & { readonly inputShape: Shape };
  conv2dBackpropFilter: Conv2dAttrs & { readonly filterShape: Shape };
  /** Average pooling over NCHW, padding counted in the average (PyTorch's default). */
  avgPool2d: Pool2dAttrs;
  avgPool2dBackprop: Pool2dAttrs & { readonly inputShape: Shape };
  fill: { readonly shape: Shape; readonly dtype: DType; readonly value: number };
  /**
   * One Adam(W) update of one parameter in a single pass over memory, from inputs
   * [param, grad, expAvg, expAvgSq] (one shape) to three outputs [param', expAvg', expAvgSq']:
   *   m' = m + momentWeight (g - m),  v' = v + varianceWeight (g² - v),
   *   param' = param·decay - alpha·m' / (sqrt(v') + eps)
   * (bias corrections folded into alpha and eps, see @gpt/nn's Adam). The numbers are attributes:
   * kernels take them as arguments (WebGPU in its parameter block), so nothing recompiles per step.
   */
  adamUpdate: { readonly momentWeight: number; readonly varianceWeight: number; readonly decay: number; readonly alpha: number; readonly eps: number };
  randomUniform: RandomAttrs;
  randomNormal: RandomAttrs;
}

export type OpName = keyof OpAttrs;

/**
 * Ops with several outputs, and how many: each output has the meta their `infer` returns.
 * Their kernels return one buffer per output; they have no gradient (engine.runOpOutputs).
 */
export const MULTI_OUTPUT = { adamUpdate: 3 } as const satisfies Partial<Record<OpName, number>>;
export type MultiOutputOp = keyof typeof MULTI_OUTPUT;

export interface OpDef<K extends OpName> {
  /** Validates inputs and attributes and returns the output's shape and dtype. */
  infer(inputs: readonly TensorMeta[], attrs: OpAttrs[K]): TensorMeta;
}

// ---- validation helpers ---------------------------------------------------

function describe(inputs: readonly TensorMeta[]): string {
  return inputs.map((t) => `${shapeToString(t.shape)} ${t.dtype}`).join(', ');
}

function expectArity(op: string, inputs: readonly TensorMeta[], n: number): void {
  if (inputs.length !== n) throw new Error(`${op}: expected ${n} inputs, got ${inputs.length}`);
}

function expectDType(op: string, t: TensorMeta, allowed: readonly DType[], what = 'input'): void {
  if (!allowed.includes(t.dtype)) {
    throw new Error(`${op}: ${what} has dtype ${t.dtype}, expected ${allowed.join(' or ')}`);
  }
}

function expectSameDType(op: string, inputs: readonly TensorMeta[]): void {
  if (inputs.some((t) => t.dtype !== inputs[0]!.dtype)) {
    throw new Error(`${op}: dtypes differ (${describe(inputs)}); cast one input first`);
  }
}

function expectRank(op: string, t: TensorMeta, rank: number, what: string): void {
  if (t.shape.length !== rank) {
    throw new Error(`${op}: ${what} must have rank ${rank}, got shape ${shapeToString(t.shape)}`);
  }
}

function expectPositivePair(op: string, name: string, p: Pair, min: number): void {
  if (p.length !== 2 || !p.every((v) => Number.isInteger(v) && v >= min)) {
    throw new Error(`${op}: ${name} must be two integers >= ${min}, got [${p.join(', ')}]`);
  }
}

function reduceShape(op: string, t: TensorMeta, axes: readonly number[]): number[] {
  const out = [...t.shape];
  for (const a of axes) out[normalizeAxis(op, a, t.shape.length)] = 1;
  return out;
}

/** Output spatial size of a conv/pool window (floor mode, like PyTorch). */
export function windowOutputSize(input: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((input + 2 * pad - kernel) / stride) + 1;
}

function convOutputShape(op: string, xs: Shape, ws: Shape, a: Conv2dAttrs): number[] {
  expectPositivePair(op, 'stride', a.stride, 1);
  expectPositivePair(op, 'padding', a.padding, 0);
  const [n, c, h, w] = xs as [number, number, number, number];
  const [o, wc, kh, kw] = ws as [number, number, number, number];
  if (c !== wc) {
    throw new Error(`${op}: input has ${c} channels but filter ${shapeToString(ws)} expects ${wc}`);
  }
  const oh = windowOutputSize(h, kh, a.stride[0], a.padding[0]);
  const ow = windowOutputSize(w, kw, a.stride[1], a.padding[1]);
  if (oh <= 0 || ow <= 0) {
    throw new Error(`${op}: filter ${shapeToString(ws)} is larger than padded input ${shapeToString(xs)}`);
  }
  return [n, o, oh, ow];
}

function poolOutputShape(op: string, xs: Shape, a: Pool2dAttrs): number[] {
  expectPositivePair(op, 'kernel', a.kernel, 1);
  expectPositivePair(op, 'stride', a.stride, 1);
  expectPositivePair(op, 'padding', a.padding, 0);
  if (a.padding[0] * 2 > a.kernel[0] || a.padding[1] * 2 > a.kernel[1]) {
    throw new Error(`${op}: padding [${a.padding}] must be at most half of kernel [${a.kernel}]`);
  }
  const [n, c, h, w] = xs as [number, number, number, number];
  const oh = windowOutputSize(h, a.kernel[0], a.stride[0], a.padding[0]);
  const ow = windowOutputSize(w, a.kernel[1], a.stride[1], a.padding[1]);
  if (oh <= 0 || ow <= 0) throw new Error(`${op}: kernel [${a.kernel}] is larger than padded input ${shapeToString(xs)}`);
  return [n, c, oh, ow];
}

/** Shape of matmul's output, also used by backends to read batch/M/N/K. */
export function matmulShapes(
  a: Shape,
  b: Shape,
  attrs: OpAttrs['matmul'],
): { batch: number[]; m: number; k: number; n: number } {
  if (a.length < 2 || b.length < 2) {
    throw new Error(`matmul: both inputs need rank >= 2, got ${shapeToString(a)} and ${shapeToString(b)}`);
  }
  const [m, ka] = attrs.transA ? [a.at(-1)!, a.at(-2)!] : [a.at(-2)!, a.at(-1)!];
  const [kb, n] = attrs.transB ? [b.at(-1)!, b.at(-2)!] : [b.at(-2)!, b.at(-1)!];
  if (ka !== kb) {
    throw new Error(
      `matmul: inner dimensions differ: ${shapeToString(a)}${attrs.transA ? 'ᵀ' : ''} x ${shapeToString(b)}${attrs.transB ? 'ᵀ' : ''} (${ka} vs ${kb})`,
    );
  }
  const batch = broadcastShapes('matmul', a.slice(0, -2), b.slice(0, -2));
  return { batch, m, k: ka, n };
}

/**
 * Checks attention's q [..., Tq, E], k [..., Tk, E], v [..., Tk, Ev] (float32, one rank >= 2,
 * equal batch dims) and returns the sizes kernels loop over; `batch` is the product of the batch dims.
 */
export function attentionShapes(
  op: string,
  inputs: readonly TensorMeta[],
  scale: number,
): { batch: number; tq: number; tk: number; e: number; ev: number } {
  const [q, k, v] = inputs as [TensorMeta, TensorMeta, TensorMeta];
  inputs.forEach((t, i) => expectDType(op, t, ['float32'], ['q', 'k', 'v'][i]));
  const rank = q.shape.length;
  const batchDims = q.shape.slice(0, -2);
  const [tq, e] = [q.shape.at(-2)!, q.shape.at(-1)!];
  const [tk, ev] = [k.shape.at(-2)!, v.shape.at(-1)!];
  if (
    rank < 2 ||
    k.shape.length !== rank ||
    v.shape.length !== rank ||
    !sameShape(k.shape.slice(0, -2), batchDims) ||
    !sameShape(v.shape.slice(0, -2), batchDims) ||
    k.shape.at(-1) !== e ||
    v.shape.at(-2) !== tk
  ) {
    throw new Error(
      `${op}: expected q [..., Tq, E], k [..., Tk, E], v [..., Tk, Ev] with equal batch dims, got q ${shapeToString(q.shape)}, k ${shapeToString(k.shape)}, v ${shapeToString(v.shape)}`,
    );
  }
  if (!Number.isFinite(scale)) throw new Error(`${op}: scale must be a finite number, got ${scale}`);
  return { batch: sizeOf(batchDims), tq, tk, e, ev };
}

// ---- the table -------------------------------------------------------------

function unaryDef(name: UnaryOp): OpDef<UnaryOp> {
  return {
    infer(inputs) {
      expectArity(name, inputs, 1);
      expectDType(name, inputs[0]!, UNARY[name].dtypes);
      return inputs[0]!;
    },
  };
}

function binaryDef(name: BinaryOp): OpDef<BinaryOp> {
  return {
    infer(inputs) {
      expectArity(name, inputs, 2);
      expectSameDType(name, inputs);
      expectDType(name, inputs[0]!, BINARY[name].dtypes);
      const shape = broadcastShapes(name, inputs[0]!.shape, inputs[1]!.shape);
      return { shape, dtype: BINARY[name].out ?? inputs[0]!.dtype };
    },
  };
}

function fusedDef(name: FusedOp): OpDef<FusedOp> {
  return {
    infer(inputs) {
      expectArity(name, inputs, FUSED[name].arity);
      inputs.forEach((t, i) => expectDType(name, t, ['float32'], `input ${i}`));
      return { shape: broadcastShapes(name, ...inputs.map((t) => t.shape)), dtype: 'float32' };
    },
  };
}

function reduceDef<K extends 'sum' | 'max' | 'min'>(name: K): OpDef<K> {
  return {
    infer([t], { axes }) {
      expectDType(name, t!, ['float32', 'int32']);
      if (name !== 'sum') {
        for (const a of axes) {
          if (t!.shape[normalizeAxis(name, a, t!.shape.length)] === 0) {
            throw new Error(`${name}: cannot reduce over empty axis ${a} of ${shapeToString(t!.shape)}`);
          }
        }
      }
      return { shape: reduceShape(name, t!, axes), dtype: t!.dtype };
    },
  };
}

function argDef<K extends 'argmax' | 'argmin'>(name: K): OpDef<K> {
  return {
    infer([t], { axis }) {
      expectDType(name, t!, ['float32', 'int32']);
      const ax = normalizeAxis(name, axis, t!.shape.length);
      if (t!.shape[ax] === 0) throw new Error(`${name}: cannot reduce over empty axis ${axis}`);
      return { shape: reduceShape(name, t!, [axis]), dtype: 'int32' };
    },
  };
}

function softmaxDef<K extends 'softmax' | 'logSoftmax'>(name: K): OpDef<K> {
  return {
    infer([t], { axis }) {
      expectDType(name, t!, ['float32']);
      normalizeAxis(name, axis, t!.shape.length);
      return t!;
    },
  };
}

function randomDef<K extends 'randomUniform' | 'randomNormal'>(name: K): OpDef<K> {
  return {
    infer(inputs, { shape, key, offset }) {
      expectArity(name, inputs, 0);
      assertValidShape(name, shape);
      if (!key.every((k) => Number.isInteger(k) && k >= 0 && k < 2 ** 32)) {
        throw new Error(`${name}: key words must be uint32, got [${key.join(', ')}]`);
      }
      if (!Number.isSafeInteger(offset) || offset < 0) throw new Error(`${name}: bad counter offset ${offset}`);
      return { shape, dtype: 'float32' };
    },
  };
}

const unaryDefs = Object.fromEntries(Object.keys(UNARY).map((k) => [k, unaryDef(k as UnaryOp)])) as {
  [K in UnaryOp]: OpDef<K>;
};
const binaryDefs = Object.fromEntries(Object.keys(BINARY).map((k) => [k, binaryDef(k as BinaryOp)])) as {
  [K in BinaryOp]: OpDef<K>;
};

const fusedDefs = Object.fromEntries(Object.keys(FUSED).map((k) => [k, fusedDef(k as FusedOp)])) as {
  [K in FusedOp]: OpDef<K>;
};

export const OPS: { readonly [K in OpName]: OpDef<K> } = {
  ...unaryDefs,
  ...binaryDefs,
  ...fusedDefs,
  where: {
    infer(inputs) {
      expectArity('where', inputs, 3);
      const [c, a, b] = inputs as [TensorMeta, TensorMeta, TensorMeta];
      expectDType('where', c, ['bool'], 'condition');
      if (a.dtype !== b.dtype) throw new Error(`where: branches have different dtypes (${describe([a, b])})`);
      return { shape: broadcastShapes('where', c.shape, a.shape, b.shape), dtype: a.dtype };
    },
  },
  cast: {
    infer([t], { dtype }) {
      return { shape: t!.shape, dtype };
    },
  },
  sum: reduceDef('sum'),
  max: reduceDef('max'),
  min: reduceDef('min'),
  argmax: argDef('argmax'),
  argmin: argDef('argmin'),
  matmul: {
    infer(inputs, attrs) {
      expectArity('matmul', inputs, attrs.bias ? 3 : 2);
      expectSameDType('matmul', inputs);
      expectDType('matmul', inputs[0]!, ['float32']);
      const { batch, m, n } = matmulShapes(inputs[0]!.shape, inputs[1]!.shape, attrs);
      const bias = inputs[2];
      if (bias && (bias.shape.length !== 1 || bias.shape[0] !== n)) {
        throw new Error(`matmul: bias has shape ${shapeToString(bias.shape)}, expected [${n}] for the product's ${n} columns`);
      }
      return { shape: [...batch, m, n], dtype: 'float32' };
    },
  },
  reshape: {
    infer([t], { shape }) {
      assertValidShape('reshape', shape);
      if (sizeOf(shape) !== sizeOf(t!.shape)) {
        throw new Error(`reshape: cannot reshape ${shapeToString(t!.shape)} (${sizeOf(t!.shape)} elements) to ${shapeToString(shape)}`);
      }
      return { shape, dtype: t!.dtype };
    },
  },
  permute: {
    infer([t], { perm }) {
      const rank = t!.shape.length;
      const sorted = [...perm].sort((a, b) => a - b);
      if (perm.length !== rank || sorted.some((p, i) => p !== i)) {
        throw new Error(`permute: [${perm.join(', ')}] is not a permutation of the ${rank} axes of ${shapeToString(t!.shape)}`);
      }
      return { shape: perm.map((p) => t!.shape[p]!), dtype: t!.dtype };
    },
  },
  expand: {
    infer([t], { shape }) {
      assertValidShape('expand', shape);
      const out = broadcastShapes('expand', t!.shape, shape);
      if (!sameShape(out, shape)) {
        throw new Error(`expand: cannot expand ${shapeToString(t!.shape)} to ${shapeToString(shape)}`);
      }
      return { shape, dtype: t!.dtype };
    },
  },
  slice: {
    infer([t], { begin, end }) {
      const s = t!.shape;
      if (begin.length !== s.length || end.length !== s.length) {
        throw new Error(`slice: begin/end need ${s.length} entries for shape ${shapeToString(s)}`);
      }
      const shape = s.map((d, i) => {
        const b = begin[i]!;
        const e = end[i]!;
        if (!Number.isInteger(b) || !Number.isInteger(e) || b < 0 || e > d || b > e) {
          throw new Error(`slice: range [${b}, ${e}) is invalid for axis ${i} of size ${d} in ${shapeToString(s)}`);
        }
        return e - b;
      });
      return { shape, dtype: t!.dtype };
    },
  },
  pad: {
    infer([t], { pads }) {
      if (pads.length !== t!.shape.length) {
        throw new Error(`pad: need one [before, after] pair per axis of ${shapeToString(t!.shape)}, got ${pads.length}`);
      }
      const shape = t!.shape.map((d, i) => {
        const [b, a] = pads[i]!;
        if (!Number.isInteger(b) || !Number.isInteger(a) || b < 0 || a < 0) {
          throw new Error(`pad: padding [${b}, ${a}] for axis ${i} must be non-negative integers`);
        }
        return d + b + a;
      });
      return { shape, dtype: t!.dtype };
    },
  },
  concat: {
    infer(inputs, { axis }) {
      if (inputs.length === 0) throw new Error('concat: needs at least one tensor');
      expectSameDType('concat', inputs);
      const first = inputs[0]!.shape;
      const ax = normalizeAxis('concat', axis, first.length);
      let total = 0;
      for (const t of inputs) {
        if (t.shape.length !== first.length || t.shape.some((d, i) => i !== ax && d !== first[i])) {
          throw new Error(`concat: shapes ${inputs.map((u) => shapeToString(u.shape)).join(', ')} differ outside axis ${axis}`);
        }
        total += t.shape[ax]!;
      }
      const shape = [...first];
      shape[ax] = total;
      return { shape, dtype: inputs[0]!.dtype };
    },
  },
  gather: {
    infer(inputs, { axis }) {
      expectArity('gather', inputs, 2);
      const [t, index] = inputs as [TensorMeta, TensorMeta];
      expectDType('gather', index, ['int32'], 'index');
      const ax = normalizeAxis('gather', axis, t.shape.length);
      if (index.shape.length !== t.shape.length || index.shape.some((d, i) => i !== ax && d > t.shape[i]!)) {
        throw new Error(`gather: index ${shapeToString(index.shape)} does not fit input ${shapeToString(t.shape)} along axis ${axis}`);
      }
      return { shape: index.shape, dtype: t.dtype };
    },
  },
  scatterAdd: {
    infer(inputs, { axis }) {
      expectArity('scatterAdd', inputs, 3);
      const [t, index, src] = inputs as [TensorMeta, TensorMeta, TensorMeta];
      expectDType('scatterAdd', index, ['int32'], 'index');
      if (src.dtype !== t.dtype) throw new Error(`scatterAdd: src dtype ${src.dtype} differs from input dtype ${t.dtype}`);
      const ax = normalizeAxis('scatterAdd', axis, t.shape.length);
      if (!sameShape(index.shape, src.shape) || index.shape.some((d, i) => i !== ax && d > t.shape[i]!)) {
        throw new Error(
          `scatterAdd: index ${shapeToString(index.shape)} and src ${shapeToString(src.shape)} must match and fit input ${shapeToString(t.shape)}`,
        );
      }
      return t;
    },
  },
  softmax: softmaxDef('softmax'),
  logSoftmax: softmaxDef('logSoftmax'),
  attention: {
    infer(inputs, { scale }) {
      expectArity('attention', inputs, 3);
      attentionShapes('attention', inputs, scale);
      return { shape: [...inputs[0]!.shape.slice(0, -1), inputs[2]!.shape.at(-1)!], dtype: 'float32' };
    },
  },
  attentionBackward: {
    infer(inputs, { scale, wrt }) {
      expectArity('attentionBackward', inputs, 4);
      const [dOut, q, k, v] = inputs as [TensorMeta, TensorMeta, TensorMeta, TensorMeta];
      attentionShapes('attentionBackward', [q, k, v], scale);
      expectDType('attentionBackward', dOut, ['float32'], 'gradient');
      const outShape = [...q.shape.slice(0, -1), v.shape.at(-1)!];
      if (!sameShape(dOut.shape, outShape)) {
        throw new Error(`attentionBackward: gradient ${shapeToString(dOut.shape)} does not match the output ${shapeToString(outShape)}`);
      }
      const target = { q, k, v }[wrt];
      if (!target) throw new Error(`attentionBackward: wrt must be "q", "k" or "v", got ${String(wrt)}`);
      return target;
    },
  },
  layerNorm: {
    infer([t], { eps }) {
      expectDType('layerNorm', t!, ['float32']);
      if (t!.shape.length === 0) throw new Error('layerNorm: input must have at least one axis');
      if (!(eps > 0)) throw new Error(`layerNorm: eps must be positive, got ${eps}`);
      return t!;
    },
  },
  layerNormBackward: {
    infer(inputs, { eps }) {
      expectArity('layerNormBackward', inputs, 2);
      const [g, x] = inputs as [TensorMeta, TensorMeta];
      expectDType('layerNormBackward', g, ['float32'], 'gradient');
      expectDType('layerNormBackward', x, ['float32']);
      if (!sameShape(g.shape, x.shape) || x.shape.length === 0) {
        throw new Error(`layerNormBackward: gradient ${shapeToString(g.shape)} and input ${shapeToString(x.shape)} must have the same shape of rank >= 1`);
      }
      if (!(eps > 0)) throw new Error(`layerNormBackward: eps must be positive, got ${eps}`);
      return x;
    },
  },
  conv2d: {
    infer(inputs, attrs) {
      expectArity('conv2d', inputs, 2);
      const [t, w] = inputs as [TensorMeta, TensorMeta];
      expectRank('conv2d', t, 4, 'input (NCHW)');
      expectRank('conv2d', w, 4, 'filter (OCHW)');
      expectSameDType('conv2d', inputs);
      expectDType('conv2d', t, ['float32']);
      return { shape: convOutputShape('conv2d', t.shape, w.shape, attrs), dtype: 'float32' };
    },
  },
  conv2dBackpropInput: {
    infer(inputs, attrs) {
      const [dy, w] = inputs as [TensorMeta, TensorMeta];
      const expected = convOutputShape('conv2dBackpropInput', attrs.inputShape, w.shape, attrs);
      if (!sameShape(expected, dy.shape)) {
        throw new Error(`conv2dBackpropInput: gradient ${shapeToString(dy.shape)} does not match output ${shapeToString(expected)}`);
      }
      return { shape: attrs.inputShape, dtype: 'float32' };
    },
  },
  conv2dBackpropFilter: {
    infer(inputs, attrs) {
      const [t, dy] = inputs as [TensorMeta, TensorMeta];
      const expected = convOutputShape('conv2dBackpropFilter', t.shape, attrs.filterShape, attrs);
      if (!sameShape(expected, dy.shape)) {
        throw new Error(`conv2dBackpropFilter: gradient ${shapeToString(dy.shape)} does not match output ${shapeToString(expected)}`);
      }
      return { shape: attrs.filterShape, dtype: 'float32' };
    },
  },
  avgPool2d: {
    infer([t], attrs) {
      expectRank('avgPool2d', t!, 4, 'input (NCHW)');
      expectDType('avgPool2d', t!, ['float32']);
      return { shape: poolOutputShape('avgPool2d', t!.shape, attrs), dtype: 'float32' };
    },
  },
  avgPool2dBackprop: {
    infer([dy], attrs) {
      const expected = poolOutputShape('avgPool2dBackprop', attrs.inputShape, attrs);
      if (!sameShape(expected, dy!.shape)) {
        throw new Error(`avgPool2dBackprop: gradient ${shapeToString(dy!.shape)} does not match output ${shapeToString(expected)}`);
      }
      return { shape: attrs.inputShape, dtype: 'float32' };
    },
  },
  fill: {
    infer(inputs, { shape, dtype }) {
      expectArity('fill', inputs, 0);
      assertValidShape('fill', shape);
      return { shape, dtype };
    },
  },
  adamUpdate: {
    infer(inputs, attrs) {
      expectArity('adamUpdate', inputs, 4);
      inputs.forEach((t, i) => expectDType('adamUpdate', t, ['float32'], ['param', 'grad', 'expAvg', 'expAvgSq'][i]));
      if (inputs.some((t) => !sameShape(t.shape, inputs[0]!.shape))) {
        throw new Error(`adamUpdate: param, grad, expAvg and expAvgSq must have one shape, got ${inputs.map((t) => shapeToString(t.shape)).join(', ')}`);
      }
      for (const [name, value] of Object.entries(attrs)) {
        if (!Number.isFinite(value)) throw new Error(`adamUpdate: ${name} must be a finite number, got ${value}`);
      }
      return inputs[0]!;
    },
  },
  randomUniform: randomDef('randomUniform'),
  randomNormal: randomDef('randomNormal'),
};

// ---- what the tape saves for each gradient rule ------------------------------

/**
 * What the autograd tape keeps of one recorded op for its gradient rule: the inputs
 * (by index) and/or the output whose data the rule reads. The tape keeps every input's
 * shape, dtype and device anyway (they are small), so rules that need only those save
 * nothing ({}). Like tfjs's inputsToSave/outputsToSave.
 */
export interface SavedForBackward {
  readonly inputs?: readonly number[];
  readonly output?: boolean;
}

/**
 * One entry per op: what its gradient rule (gradients.ts) reads, or null when the op has
 * no gradient (integer or bool outputs, optimizer and backward-only kernels, random
 * draws), so it cannot be recorded on tensors that require grad. GradContext types each
 * rule's view from its entry, so a rule cannot read what its op did not save.
 */
export const SAVED_FOR_BACKWARD = {
  neg: {},
  exp: { output: true },
  log: { inputs: [0] },
  sqrt: { output: true },
  rsqrt: { output: true },
  abs: { inputs: [0] },
  sign: {},
  sin: { inputs: [0] },
  cos: { inputs: [0] },
  tanh: { output: true },
  erf: { inputs: [0] },
  sigmoid: { output: true },
  // relu's output is positive exactly where its input is, and the next op often keeps it anyway.
  relu: { output: true },
  gelu: { inputs: [0] },
  selu: { inputs: [0] },
  logicalNot: null,
  add: {},
  sub: {},
  mul: { inputs: [0, 1] },
  div: { inputs: [0, 1] },
  pow: { inputs: [0, 1], output: true },
  maximum: { inputs: [0, 1] },
  minimum: { inputs: [0, 1] },
  equal: null,
  notEqual: null,
  less: null,
  lessEqual: null,
  greater: null,
  greaterEqual: null,
  logicalAnd: null,
  logicalOr: null,
  lerp: { inputs: [0, 1, 2] },
  mulAdd: { inputs: [0, 1] },
  lerpSquare: null,
  adamStep: null,
  geluBackward: null,
  seluBackward: null,
  where: { inputs: [0] },
  cast: {},
  sum: {},
  max: { inputs: [0], output: true },
  min: { inputs: [0], output: true },
  argmax: null,
  argmin: null,
  matmul: { inputs: [0, 1] },
  reshape: {},
  permute: {},
  expand: {},
  slice: {},
  pad: {},
  concat: {},
  gather: { inputs: [1] },
  scatterAdd: { inputs: [1] },
  softmax: { output: true },
  logSoftmax: { output: true },
  // The backward kernels recompute the weights from q and k: the [..., Tq, Tk] matrix is never stored.
  attention: { inputs: [0, 1, 2] },
  attentionBackward: null,
  layerNorm: { inputs: [0] },
  layerNormBackward: null,
  conv2d: { inputs: [0, 1] },
  conv2dBackpropInput: null,
  conv2dBackpropFilter: null,
  avgPool2d: {},
  avgPool2dBackprop: null,
  fill: null,
  adamUpdate: null,
  randomUniform: null,
  randomNormal: null,
} as const satisfies { readonly [K in OpName]: SavedForBackward | null };
