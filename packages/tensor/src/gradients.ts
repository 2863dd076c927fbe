// One gradient rule per op, backend-independent: each rule maps the output gradient g
// to input gradients using ordinary tensor ops (run under noGrad by autograd.ts, the
// only importer). A rule sees only what its op saves (SAVED_FOR_BACKWARD in ops.ts)
// plus every input's shape, dtype and device. Rules may return gradients in the
// broadcast output shape; the caller reduces them to each input's shape. `null` marks
// an op without a gradient (integer/bool outputs or backward-only kernels).

import { zeros } from './creation.js';
import { runOp } from './engine.js';
import type { BinaryOp, FusedOp, OpAttrs, OpName, UnaryOp } from './ops.js';
import { SAVED_FOR_BACKWARD } from './ops.js';
import * as M from './ops-math.js';
import type { InputMeta, Tensor } from './tensor.js';

type Saves<K extends OpName> = (typeof SAVED_FOR_BACKWARD)[K];
type SavedIndex<K extends OpName> = Saves<K> extends { readonly inputs: readonly (infer I extends number)[] } ? I : never;

/** A tuple up to the highest saved index: Tensor where input i is saved, undefined elsewhere. */
type SavedTuple<I extends number, Left extends number = I, Acc extends readonly (Tensor | undefined)[] = []> = [Left] extends [never]
  ? Acc
  : SavedTuple<I, Exclude<Left, Acc['length']>, [...Acc, Acc['length'] extends I ? Tensor : undefined]>;

type SavedOutput<K extends OpName> = Saves<K> extends { readonly output: true } ? { readonly output: Tensor } : { readonly output?: never };

/** What a rule is given: the saved tensors of its op, typed from SAVED_FOR_BACKWARD, and metadata. */
export type GradContext<K extends OpName> = {
  /** The inputs the op saved, at their input index (positions not saved are undefined). */
  readonly inputs: Readonly<SavedTuple<SavedIndex<K>>>;
  /** Shape, dtype and device of every input, saved or not. */
  readonly metas: readonly InputMeta[];
  readonly attrs: OpAttrs[K];
  /** Which inputs need a gradient (skip the work for the others). */
  readonly needs: readonly boolean[];
} & SavedOutput<K>;

export type GradRule<K extends OpName> = (grad: Tensor, context: GradContext<K>) => (Tensor | null)[];

/** A rule exactly where the op saves something for one: a missing or extra rule does not compile. */
type RuleFor<K extends OpName> = Saves<K> extends null ? null : GradRule<K>;
type Rules<Ops extends OpName> = { readonly [K in Ops]: RuleFor<K> };

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** d max(x) = g split evenly between the tied extremes (like torch.amax). */
function extremeGrad(g: Tensor, { inputs: [x], output, metas }: GradContext<'max' | 'min'>): Tensor[] {
  const mask = M.cast(M.equal(x, output), 'float32');
  const reduced = metas[0]!.shape.map((d, i) => (output.shape[i] === 1 && d !== 1 ? i : -1)).filter((i) => i >= 0);
  const count = runOp('sum', [mask], { axes: reduced });
  return [M.div(M.mul(g, mask), count)];
}

/** d max(a, b) = g to the winner, halved on ties (like torch.maximum). */
function pickGrad(g: Tensor, a: Tensor, b: Tensor, aWins: Tensor): Tensor[] {
  const ties = M.cast(M.equal(a, b), 'float32');
  const wins = M.cast(aWins, 'float32');
  const weightA = M.add(wins, M.mul(ties, 0.5));
  const weightB = M.sub(1, weightA);
  return [M.mul(g, weightA), M.mul(g, weightB)];
}

const unaryRules: Rules<UnaryOp> = {
  // d(-x) = -g
  neg: (g) => [M.neg(g)],
  // d e^x = g y
  exp: (g, { output: y }) => [M.mul(g, y)],
  // d log x = g / x
  log: (g, { inputs: [x] }) => [M.div(g, x)],
  // d sqrt(x) = g / (2 y)
  sqrt: (g, { output: y }) => [M.div(g, M.mul(y, 2))],
  // d x^(-1/2) = -1/2 g x^(-3/2) = -1/2 g y³
  rsqrt: (g, { output: y }) => [M.mul(M.mul(g, -0.5), M.mul(M.mul(y, y), y))],
  // d |x| = g sign(x)
  abs: (g, { inputs: [x] }) => [M.mul(g, M.sign(x))],
  // d sign(x) = 0 almost everywhere
  sign: (g) => [M.mul(g, 0)],
  // d sin x = g cos x
  sin: (g, { inputs: [x] }) => [M.mul(g, M.cos(x))],
  // d cos x = -g sin x
  cos: (g, { inputs: [x] }) => [M.neg(M.mul(g, M.sin(x)))],
  // d tanh x = g (1 - y²)
  tanh: (g, { output: y }) => [M.mul(g, M.sub(1, M.mul(y, y)))],
  // d erf(x) = g 2/sqrt(pi) e^(-x²)
  erf: (g, { inputs: [x] }) => [M.mul(g, M.mul(M.exp(M.neg(M.mul(x, x))), TWO_OVER_SQRT_PI))],
  // d sigmoid(x) = g y (1 - y)
  sigmoid: (g, { output: y }) => [M.mul(g, M.mul(y, M.sub(1, y)))],
  // d max(x, 0) = g [y > 0]
  relu: (g, { output: y }) => [M.mul(g, M.cast(M.greater(y, 0), 'float32'))],
  // d x Phi(x) = g (Phi(x) + x phi(x)), in one fused pass
  gelu: (g, { inputs: [x] }) => [runOp('geluBackward', [g, x], {})],
  // d selu(x) = g scale (1 where x > 0, else alpha e^x)
  selu: (g, { inputs: [x] }) => [runOp('seluBackward', [g, x], {})],
  logicalNot: null,
};

const binaryRules: Rules<BinaryOp> = {
  // d(a + b) = (g, g)
  add: (g) => [g, g],
  // d(a - b) = (g, -g)
  sub: (g) => [g, M.neg(g)],
  // d(a b) = (g b, g a)
  mul: (g, { inputs: [a, b] }) => [M.mul(g, b), M.mul(g, a)],
  // d(a / b) = (g / b, -g a / b²)
  div: (g, { inputs: [a, b], needs }) => [M.div(g, b), needs[1] ? M.neg(M.div(M.mul(g, a), M.mul(b, b))) : null],
  // d a^b = (g b a^(b-1), g y log a)
  pow: (g, { inputs: [a, b], output: y, needs }) => [
    needs[0] ? M.mul(g, M.mul(b, M.pow(a, M.sub(b, 1)))) : null,
    needs[1] ? M.mul(g, M.mul(y, M.log(a))) : null,
  ],
  // d max(a, b) = g to the larger, halved on ties
  maximum: (g, { inputs: [a, b] }) => pickGrad(g, a, b, M.greater(a, b)),
  // d min(a, b) = g to the smaller, halved on ties
  minimum: (g, { inputs: [a, b] }) => pickGrad(g, a, b, M.less(a, b)),
  equal: null,
  notEqual: null,
  less: null,
  lessEqual: null,
  greater: null,
  greaterEqual: null,
  logicalAnd: null,
  logicalOr: null,
};

const fusedRules: Rules<FusedOp> = {
  // lerp = a + w (b - a): da = g (1 - w), db = g w, dw = g (b - a).
  lerp: (g, { inputs: [a, b, w], needs }) => [
    needs[0] ? M.mul(g, M.sub(1, w)) : null,
    needs[1] ? M.mul(g, w) : null,
    needs[2] ? M.mul(g, M.sub(b, a)) : null,
  ],
  // mulAdd = x y + z: dx = g y, dy = g x, dz = g (each summed back over its broadcast axes).
  mulAdd: (g, { inputs: [x, y], needs }) => [needs[0] ? M.mul(g, y) : null, needs[1] ? M.mul(g, x) : null, g],
  // The optimizer kernels and GELU's backward run under noGrad; no second derivatives.
  lerpSquare: null,
  adamStep: null,
  geluBackward: null,
  seluBackward: null,
};

export const GRADIENTS: Rules<OpName> = {
  ...unaryRules,
  ...binaryRules,
  ...fusedRules,
  // d where(c, a, b) = (none, g [c], g [not c])
  where: (g, { inputs: [c] }) => [null, M.where(c, g, 0), M.where(c, 0, g)],
  // d cast(x) = g (only float-to-float casts carry gradients)
  cast: (g) => [g],
  // d sum(x) = g broadcast back over the summed axes
  sum: (g, { metas: [x] }) => [runOp('expand', [g], { shape: x!.shape })],
  max: extremeGrad,
  min: extremeGrad,
  argmax: null,
  argmin: null,
  // C = A B (+ bias): dA = g Bᵀ, dB = Aᵀ g (with transposed operands the factors trade places),
  // dbias = g summed over every row of every batch item
  matmul: (g, { inputs: [a, b], attrs: { transA, transB, bias }, needs }) => {
    const mm = (x: Tensor, y: Tensor, tA: boolean, tB: boolean) => runOp('matmul', [x, y], { transA: tA, transB: tB });
    const dBias = bias && needs[2] ? [runOp('sum', [g], { axes: g.shape.slice(0, -1).map((_, i) => i) })] : [];
    if (!transA && !transB) return [needs[0] ? mm(g, b, false, true) : null, needs[1] ? mm(a, g, true, false) : null, ...dBias];
    if (transA && !transB) return [needs[0] ? mm(b, g, false, true) : null, needs[1] ? mm(a, g, false, false) : null, ...dBias];
    if (!transA && transB) return [needs[0] ? mm(g, b, false, false) : null, needs[1] ? mm(g, a, true, false) : null, ...dBias];
    return [needs[0] ? mm(b, g, true, true) : null, needs[1] ? mm(g, a, true, true) : null, ...dBias];
  },
  // d reshape(x) = g reshaped back to x's shape
  reshape: (g, { metas: [x] }) => [runOp('reshape', [g], { shape: x!.shape })],
  // d permute(x, p) = permute(g, p⁻¹)
  permute: (g, { attrs: { perm } }) => {
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [runOp('permute', [g], { perm: inverse })];
  },
  // d expand(x) = g summed over the broadcast axes, which the caller's unbroadcast does.
  expand: (g) => [g],
  // d x[begin:end] = g padded with zeros back to x's shape
  slice: (g, { metas: [x], attrs: { begin, end } }) => [
    runOp('pad', [g], { pads: x!.shape.map((d, i) => [begin[i]!, d - end[i]!] as const), value: 0 }),
  ],
  // d pad(x) = the interior of g, where x sits
  pad: (g, { metas: [x], attrs: { pads } }) => [
    runOp('slice', [g], { begin: pads.map(([b]) => b), end: pads.map(([b], i) => b + x!.shape[i]!) }),
  ],
  // d concat(x_1, ..., x_n) = each x_i's slice of g along the axis
  concat: (g, { metas, attrs: { axis } }) => {
    let start = 0;
    return metas.map((t) => {
      const begin = g.shape.map(() => 0);
      const end = [...g.shape];
      begin[axis] = start;
      end[axis] = start + t.shape[axis]!;
      start = end[axis]!;
      return runOp('slice', [g], { begin, end });
    });
  },
  // d gather(x, index) = g added back at the indices: scatterAdd(zeros like x, index, g)
  gather: (g, { inputs: [, index], metas: [x], attrs: { axis } }) => [
    runOp('scatterAdd', [zeros(x!.shape, { device: x!.device }), index, g], { axis }),
    null,
  ],
  // out = x + src scattered at index: dx = g, dsrc = gather(g, index)
  scatterAdd: (g, { inputs: [, index], attrs: { axis }, needs }) => [g, null, needs[2] ? runOp('gather', [g, index], { axis }) : null],
  // d softmax(x) = y (g - sum(g y)) over the axis
  softmax: (g, { output: y, attrs: { axis } }) => {
    const dot = runOp('sum', [M.mul(g, y)], { axes: [axis] });
    return [M.mul(y, M.sub(g, dot))];
  },
  // d logSoftmax(x) = g - e^y sum(g) over the axis
  logSoftmax: (g, { output: y, attrs: { axis } }) => {
    const total = runOp('sum', [g], { axes: [axis] });
    return [M.sub(g, M.mul(M.exp(y), total))];
  },
  // O = P v with P = softmax(scale q kᵀ): dv = Pᵀ g, dq = scale dS k, dk = scale dSᵀ q with
  // dS = P (g vᵀ - rowsum(P g vᵀ)); one backward kernel per input that needs it.
  attention: (g, { inputs: [q, k, v], attrs: { scale }, needs }) =>
    (['q', 'k', 'v'] as const).map((wrt, i) => (needs[i] ? runOp('attentionBackward', [g, q, k, v], { scale, wrt }) : null)),
  attentionBackward: null,
  // dx = rstd (g - mean(g) - y mean(g y)) over the last axis, in one pass per row.
  layerNorm: (g, { inputs: [x], attrs: { eps } }) => [runOp('layerNormBackward', [g, x], { eps })],
  layerNormBackward: null,
  // y = x ⋆ w: dx = g convolved back through w (transposed conv), dw = x correlated with g
  conv2d: (g, { inputs: [x, w], metas, attrs, needs }) => [
    needs[0] ? runOp('conv2dBackpropInput', [g, w], { ...attrs, inputShape: metas[0]!.shape }) : null,
    needs[1] ? runOp('conv2dBackpropFilter', [x, g], { ...attrs, filterShape: metas[1]!.shape }) : null,
  ],
  conv2dBackpropInput: null,
  conv2dBackpropFilter: null,
  // d avgPool(x) = each window's g spread evenly over the cells it averaged
  avgPool2d: (g, { metas: [x], attrs }) => [runOp('avgPool2dBackprop', [g], { ...attrs, inputShape: x!.shape })],
  avgPool2dBackprop: null,
  fill: null,
  adamUpdate: null,
  randomUniform: null,
  randomNormal: null,
};
