// One gradient rule per op, backend-independent: each rule maps the output
// gradient to input gradients using ordinary tensor ops (run under noGrad by
// autograd.ts). Rules may return gradients in the broadcast output shape; the
// caller reduces them to each input's shape. `null` marks an op without a
// gradient (integer/bool outputs or backward-only kernels).

import { runOp, setDifferentiability } from './engine.js';
import type { BinaryOp, FusedOp, OpAttrs, OpName, UnaryOp } from './ops.js';
import type { Tensor } from './tensor.js';
import * as M from './ops-math.js';
import { zeros } from './creation.js';

export interface GradContext<K extends OpName> {
  /** The op's inputs and output, kept alive by the tape. */
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly attrs: OpAttrs[K];
  /** Which inputs need a gradient (skip the work for the others). */
  readonly needs: readonly boolean[];
}

export type GradRule<K extends OpName> = (grad: Tensor, context: GradContext<K>) => (Tensor | null)[];

type Rules = { readonly [K in OpName]: GradRule<K> | null };

/** d/dx erf(x) = 2/sqrt(pi) * exp(-x^2). */
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/** Gradient of max/min reductions: split evenly between tied extremes (like torch.amax). */
function extremeGrad(g: Tensor, { inputs: [x], output }: GradContext<'max' | 'min'>): Tensor[] {
  const mask = M.cast(M.equal(x!, output), 'float32');
  const count = runOp('sum', [mask], { axes: x!.shape.map((d, i) => (output.shape[i] === 1 && d !== 1 ? i : -1)).filter((i) => i >= 0) });
  return [M.div(M.mul(g, mask), count)];
}

/** Gradient of maximum/minimum: to the winner, halved on ties (like torch.maximum). */
function pickGrad(g: Tensor, a: Tensor, b: Tensor, aWins: Tensor): Tensor[] {
  const ties = M.cast(M.equal(a, b), 'float32');
  const wins = M.cast(aWins, 'float32');
  const weightA = M.add(wins, M.mul(ties, 0.5));
  const weightB = M.sub(1, weightA);
  return [M.mul(g, weightA), M.mul(g, weightB)];
}

const unaryRules: { readonly [K in UnaryOp]: GradRule<K> | null } = {
  neg: (g) => [M.neg(g)],
  exp: (g, { output }) => [M.mul(g, output)],
  log: (g, { inputs: [x] }) => [M.div(g, x!)],
  sqrt: (g, { output }) => [M.div(g, M.mul(output, 2))],
  rsqrt: (g, { inputs: [x], output }) => [M.mul(M.mul(g, -0.5), M.div(output, x!))],
  abs: (g, { inputs: [x] }) => [M.mul(g, M.sign(x!))],
  sign: (g) => [M.mul(g, 0)],
  sin: (g, { inputs: [x] }) => [M.mul(g, M.cos(x!))],
  cos: (g, { inputs: [x] }) => [M.neg(M.mul(g, M.sin(x!)))],
  tanh: (g, { output }) => [M.mul(g, M.sub(1, M.mul(output, output)))],
  erf: (g, { inputs: [x] }) => [M.mul(g, M.mul(M.exp(M.neg(M.mul(x!, x!))), TWO_OVER_SQRT_PI))],
  sigmoid: (g, { output }) => [M.mul(g, M.mul(output, M.sub(1, output)))],
  relu: (g, { inputs: [x] }) => [M.mul(g, M.cast(M.greater(x!, 0), 'float32'))],
  // d/dx x*Phi(x) = Phi(x) + x*phi(x), in one fused pass.
  gelu: (g, { inputs: [x] }) => [runOp('geluBackward', [g, x!], {})],
  selu: (g, { inputs: [x] }) => {
    const slope = M.where(M.greater(x!, 0), SELU_SCALE, M.mul(M.exp(x!), SELU_SCALE * SELU_ALPHA));
    return [M.mul(g, slope)];
  },
  logicalNot: null,
};

const binaryRules: { readonly [K in BinaryOp]: GradRule<K> | null } = {
  add: (g) => [g, g],
  sub: (g) => [g, M.neg(g)],
  mul: (g, { inputs: [a, b] }) => [M.mul(g, b!), M.mul(g, a!)],
  div: (g, { inputs: [a, b], needs }) => [M.div(g, b!), needs[1] ? M.neg(M.div(M.mul(g, a!), M.mul(b!, b!))) : null],
  pow: (g, { inputs: [a, b], output, needs }) => [
    needs[0] ? M.mul(g, M.mul(b!, M.pow(a!, M.sub(b!, 1)))) : null,
    needs[1] ? M.mul(g, M.mul(output, M.log(a!))) : null,
  ],
  maximum: (g, { inputs: [a, b] }) => pickGrad(g, a!, b!, M.greater(a!, b!)),
  minimum: (g, { inputs: [a, b] }) => pickGrad(g, a!, b!, M.less(a!, b!)),
  equal: null,
  notEqual: null,
  less: null,
  lessEqual: null,
  greater: null,
  greaterEqual: null,
  logicalAnd: null,
  logicalOr: null,
};

const fusedRules: { readonly [K in FusedOp]: GradRule<K> | null } = {
  // lerp = a + w (b - a): da = g (1 - w), db = g w, dw = g (b - a).
  lerp: (g, { inputs: [a, b, w], needs }) => [
    needs[0] ? M.mul(g, M.sub(1, w!)) : null,
    needs[1] ? M.mul(g, w!) : null,
    needs[2] ? M.mul(g, M.sub(b!, a!)) : null,
  ],
  // The optimizer kernels and GELU's backward run under noGrad; no second derivatives.
  lerpSquare: null,
  adamStep: null,
  geluBackward: null,
};

export const GRADIENTS: Rules = {
  ...unaryRules,
  ...binaryRules,
  ...fusedRules,
  where: (g, { inputs: [c] }) => [null, M.where(c!, g, 0), M.where(c!, 0, g)],
  cast: (g) => [g],
  sum: (g, { inputs: [x] }) => [runOp('expand', [g], { shape: x!.shape })],
  max: extremeGrad,
  min: extremeGrad,
  argmax: null,
  argmin: null,
  matmul: (g, { inputs: [a, b], attrs: { transA, transB }, needs }) => {
    const mm = (x: Tensor, y: Tensor, tA: boolean, tB: boolean) => runOp('matmul', [x, y], { transA: tA, transB: tB });
    if (!transA && !transB) return [needs[0] ? mm(g, b!, false, true) : null, needs[1] ? mm(a!, g, true, false) : null];
    if (transA && !transB) return [needs[0] ? mm(b!, g, false, true) : null, needs[1] ? mm(a!, g, false, false) : null];
    if (!transA && transB) return [needs[0] ? mm(g, b!, false, false) : null, needs[1] ? mm(g, a!, true, false) : null];
    return [needs[0] ? mm(b!, g, true, true) : null, needs[1] ? mm(g, a!, true, true) : null];
  },
  reshape: (g, { inputs: [x] }) => [runOp('reshape', [g], { shape: x!.shape })],
  permute: (g, { attrs: { perm } }) => {
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [runOp('permute', [g], { perm: inverse })];
  },
  // The caller's broadcast reduction turns the expanded gradient back into the input's shape.
  expand: (g) => [g],
  slice: (g, { inputs: [x], attrs: { begin, end } }) => [
    runOp('pad', [g], { pads: x!.shape.map((d, i) => [begin[i]!, d - end[i]!] as const), value: 0 }),
  ],
  pad: (g, { inputs: [x], attrs: { pads } }) => [
    runOp('slice', [g], { begin: pads.map(([b]) => b), end: pads.map(([b], i) => b + x!.shape[i]!) }),
  ],
  concat: (g, { inputs, attrs: { axis } }) => {
    let start = 0;
    return inputs.map((t) => {
      const begin = g.shape.map(() => 0);
      const end = [...g.shape];
      begin[axis] = start;
      end[axis] = start + t.shape[axis]!;
      start = end[axis]!;
      return runOp('slice', [g], { begin, end });
    });
  },
  gather: (g, { inputs: [x, index], attrs: { axis } }) => [
    runOp('scatterAdd', [zeros(x!.shape, { device: x!.device }), index!, g], { axis }),
    null,
  ],
  scatterAdd: (g, { inputs: [, index], attrs: { axis }, needs }) => [g, null, needs[2] ? runOp('gather', [g, index!], { axis }) : null],
  softmax: (g, { output: y, attrs: { axis } }) => {
    const dot = runOp('sum', [M.mul(g, y)], { axes: [axis] });
    return [M.mul(y, M.sub(g, dot))];
  },
  logSoftmax: (g, { output: y, attrs: { axis } }) => {
    const total = runOp('sum', [g], { axes: [axis] });
    return [M.sub(g, M.mul(M.exp(y), total))];
  },
  // dx = rstd (g - mean(g) - y mean(g y)) over the last axis, in one pass per row.
  layerNorm: (g, { inputs: [x], attrs: { eps } }) => [runOp('layerNormBackward', [g, x!], { eps })],
  layerNormBackward: null,
  conv2d: (g, { inputs: [x, w], attrs, needs }) => [
    needs[0] ? runOp('conv2dBackpropInput', [g, w!], { ...attrs, inputShape: x!.shape }) : null,
    needs[1] ? runOp('conv2dBackpropFilter', [x!, g], { ...attrs, filterShape: w!.shape }) : null,
  ],
  conv2dBackpropInput: null,
  conv2dBackpropFilter: null,
  avgPool2d: (g, { inputs: [x], attrs }) => [runOp('avgPool2dBackprop', [g], { ...attrs, inputShape: x!.shape })],
  avgPool2dBackprop: null,
  fill: null,
  randomUniform: null,
  randomNormal: null,
};

setDifferentiability((op) => GRADIENTS[op] !== null);

