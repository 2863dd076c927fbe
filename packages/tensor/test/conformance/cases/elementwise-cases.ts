// Elementwise ops: every unary and binary primitive on float32 (and int32/bool
// where the op accepts them), with broadcasting, 0-d, size-1 and empty shapes;
// plus where, cast, clamp and square.

import * as T from '@gpt/tensor';
import { runOp } from '@gpt/tensor/internal';
import type { Tensor } from '@gpt/tensor';
import * as R from '../../reference/elementwise.js';
import type { NdArray } from '../../reference/nd-array.js';
import type { ForwardClass } from '../../tolerance.js';
import { opCase, shapes, type OpCase } from '../case.js';
import { awayFromZero, bool, choice, distinct, f32, fixed, i32, ints, quarterGrid, uniform, type Gen } from '../inputs.js';

const UNARY_FUNCTIONS: Record<R.UnaryName, (x: Tensor) => Tensor> = {
  neg: T.neg,
  exp: T.exp,
  log: T.log,
  sqrt: T.sqrt,
  rsqrt: T.rsqrt,
  abs: T.abs,
  sign: T.sign,
  sin: T.sin,
  cos: T.cos,
  tanh: T.tanh,
  erf: T.erf,
  sigmoid: T.sigmoid,
  relu: T.relu,
  gelu: T.gelu,
  selu: T.selu,
  logicalNot: T.logicalNot,
};

type Operand = Tensor | number;
const BINARY_FUNCTIONS: Record<R.BinaryName, (a: Operand, b: Operand) => Tensor> = {
  add: T.add,
  sub: T.sub,
  mul: T.mul,
  div: T.div,
  pow: T.pow,
  maximum: T.maximum,
  minimum: T.minimum,
  equal: T.equal,
  notEqual: T.notEqual,
  less: T.less,
  lessEqual: T.lessEqual,
  greater: T.greater,
  greaterEqual: T.greaterEqual,
  logicalAnd: (a, b) => T.logicalAnd(a as Tensor, b as Tensor),
  logicalOr: (a, b) => T.logicalOr(a as Tensor, b as Tensor),
};

// ---- unary ------------------------------------------------------------------

/** Input domain per float op: positive for log/sqrt/rsqrt, away from kinks for abs/sign/relu/selu. */
const UNARY_DOMAIN: Record<Exclude<R.UnaryName, 'logicalNot'>, Gen> = {
  neg: uniform(),
  exp: uniform(-3, 3),
  log: uniform(0.2, 3),
  sqrt: uniform(0.2, 3),
  rsqrt: uniform(0.2, 3),
  abs: awayFromZero(),
  sign: awayFromZero(),
  sin: uniform(-3, 3),
  cos: uniform(-3, 3),
  tanh: uniform(-3, 3),
  erf: uniform(-3.5, 3.5),
  sigmoid: uniform(-4, 4),
  relu: awayFromZero(),
  gelu: uniform(-4, 4),
  selu: awayFromZero(),
};

/** Values outside the smooth middle: zeros, infinities, overflow, NaN-producing inputs. */
const UNARY_SPECIAL: Partial<Record<R.UnaryName, number[]>> = {
  exp: [0, -100, 100, -Infinity, Infinity, 88],
  log: [0, 1, 1e-30, 1e30, -1, Infinity],
  sqrt: [0, 1, 1e-30, 1e30, -1, Infinity],
  rsqrt: [1, 4, 1e-30, 1e30, Infinity, 0.25],
  sigmoid: [-100, 100, 0, -Infinity, Infinity, 30],
  tanh: [-100, 100, 0, -Infinity, Infinity, 1e-8],
  erf: [-10, 10, 0, -Infinity, Infinity, 1e-8],
  gelu: [-10, 10, 0, -30, 30, 1e-8],
  relu: [0, -0, -1e-30, 1e-30, -Infinity, Infinity],
  abs: [0, -0, -Infinity, Infinity, -1e-30, 3],
  sign: [0, -0, -Infinity, Infinity, -1e-30, 3],
  selu: [0, -100, 100, -Infinity, 1e-8, -1e-8],
};

const EXACT_UNARY = new Set<R.UnaryName>(['neg', 'abs', 'sign', 'relu']);
const UNARY_SHAPES = [[], [0], [1], [7], [3, 4], [2, 3, 5], [2, 0, 3]];

function unaryCases(): OpCase[] {
  const cases: OpCase[] = [];
  for (const [name, gen] of Object.entries(UNARY_DOMAIN) as [Exclude<R.UnaryName, 'logicalNot'>, Gen][]) {
    const run = (x: Tensor) => UNARY_FUNCTIONS[name](x);
    const reference = (x: NdArray) => R.unary(name, x);
    const tolerance: ForwardClass = EXACT_UNARY.has(name) ? 'exact' : 'transcendental';
    for (const shape of UNARY_SHAPES) {
      const gradient = shape.length === 0 || (shape.length === 2 && shape[0] === 3) || (shape.length === 1 && shape[0] === 0);
      cases.push(opCase({ subject: name, name: `float32 ${shapes(shape)}`, inputs: [f32(shape, gen)], run, reference, tolerance, gradient }));
    }
    const special = UNARY_SPECIAL[name];
    if (special) {
      cases.push(opCase({ subject: name, name: `special values ${JSON.stringify(special.map(String))}`, inputs: [f32([special.length], fixed(special))], run, reference, tolerance }));
    }
    if (['neg', 'abs', 'sign', 'relu'].includes(name)) {
      for (const shape of [[], [7], [2, 3]]) {
        cases.push(opCase({ subject: name, name: `int32 ${shapes(shape)}`, inputs: [i32(shape, ints(-5, 6))], run, reference, tolerance: 'exact' }));
      }
    }
  }
  for (const shape of [[], [6], [2, 3], [0]]) {
    cases.push(opCase({ subject: 'logicalNot', name: `bool ${shapes(shape)}`, inputs: [bool(shape)], run: T.logicalNot, reference: (x) => R.unary('logicalNot', x), tolerance: 'exact' }));
  }
  return cases;
}

// ---- binary -----------------------------------------------------------------

const BINARY_SHAPES: [number[], number[]][] = [
  [[], []],
  [[5], []],
  [[], [5]],
  [[3, 4], [3, 4]],
  [[3, 1], [1, 4]],
  [[2, 3, 4], [4]],
  [[2, 1, 4], [3, 1]],
  [[1], [6]],
  [[0, 3], [1, 3]],
  [[4, 0], [4, 1]],
];
const BINARY_GRADIENT_SHAPES = new Set(['[3, 4] x [3, 4]', '[3, 1] x [1, 4]', '[2, 3, 4] x [4]', '[] x [5]', '[2, 1, 4] x [3, 1]']);

/** Input domains for the differentiable float ops. */
const BINARY_DOMAIN: Record<'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum', [Gen, Gen]> = {
  add: [uniform(), uniform()],
  sub: [uniform(), uniform()],
  mul: [uniform(), uniform()],
  div: [uniform(), awayFromZero(0.5, 2)],
  pow: [uniform(0.3, 2), uniform(-2, 2)],
  // Offset grids never tie, so the winner is unambiguous under finite differences.
  maximum: [quarterGrid(1 / 16), quarterGrid(3 / 16)],
  minimum: [quarterGrid(1 / 16), quarterGrid(3 / 16)],
};

const COMPARISONS = ['equal', 'notEqual', 'less', 'lessEqual', 'greater', 'greaterEqual'] as const;

function binaryCases(): OpCase[] {
  const cases: OpCase[] = [];
  for (const [name, [genA, genB]] of Object.entries(BINARY_DOMAIN) as [keyof typeof BINARY_DOMAIN, [Gen, Gen]][]) {
    const run = (a: Tensor, b: Tensor) => BINARY_FUNCTIONS[name](a, b);
    const reference = (a: NdArray, b: NdArray) => R.binary(name, a, b);
    const tolerance: ForwardClass = name === 'pow' ? 'transcendental' : name === 'maximum' || name === 'minimum' ? 'exact' : 'rounding';
    for (const [sa, sb] of BINARY_SHAPES) {
      const label = shapes(sa, sb);
      cases.push(opCase({ subject: name, name: `float32 ${label}`, inputs: [f32(sa, genA), f32(sb, genB)], run, reference, tolerance, gradient: BINARY_GRADIENT_SHAPES.has(label) }));
    }
    // A plain number on either side becomes a 0-d tensor of the other operand's dtype.
    const scalar = name === 'pow' ? 1.5 : name === 'div' ? -0.75 : 0.625;
    const left = name === 'pow' ? 2 : scalar;
    cases.push(
      opCase({
        subject: name,
        name: `float32 [3, 4] with number ${scalar} on the right`,
        inputs: [f32([3, 4], genA)],
        run: (a) => BINARY_FUNCTIONS[name](a, scalar),
        reference: (a) => R.binaryScalar(name, a, scalar),
        tolerance,
        gradient: true,
      }),
      opCase({
        subject: name,
        name: `number ${left} on the left of float32 [5]`,
        inputs: [f32([5], genB)],
        run: (b) => BINARY_FUNCTIONS[name](left, b),
        reference: (b) => R.binaryScalar(name, left, b),
        tolerance,
        gradient: true,
      }),
    );
  }
  // Ties: both operands from a small set.
  for (const name of ['maximum', 'minimum'] as const) {
    cases.push(opCase({ subject: name, name: 'float32 ties [4, 5] x [5]', inputs: [f32([4, 5], choice([-1, 0, 1])), f32([5], choice([-1, 0, 1]))], run: BINARY_FUNCTIONS[name], reference: (a, b) => R.binary(name, a, b), tolerance: 'exact' }));
  }
  for (const name of ['maximum', 'minimum'] as const) {
    cases.push(opCase({ subject: name, name: 'NaN on either side propagates', inputs: [f32([4], fixed([NaN, 1, NaN, -Infinity])), f32([4], fixed([1, NaN, NaN, 0]))], run: BINARY_FUNCTIONS[name], reference: (a, b) => R.binary(name, a, b), tolerance: 'exact' }));
  }
  // int32 arithmetic (exact).
  for (const name of ['add', 'sub', 'mul', 'maximum', 'minimum'] as const) {
    for (const [sa, sb] of [[[3, 4], [4]], [[5], []], [[2, 1], [1, 3]]] as [number[], number[]][]) {
      cases.push(opCase({ subject: name, name: `int32 ${shapes(sa, sb)}`, inputs: [i32(sa, ints(-20, 21)), i32(sb, ints(-20, 21))], run: BINARY_FUNCTIONS[name], reference: (a, b) => R.binary(name, a, b), tolerance: 'exact' }));
    }
    cases.push(opCase({ subject: name, name: 'int32 [4] with number 3', inputs: [i32([4], ints(-9, 10))], run: (a) => BINARY_FUNCTIONS[name](a, 3), reference: (a) => R.binaryScalar(name, a, 3), tolerance: 'exact' }));
  }
  // Comparisons: float32 and int32 with many ties, bool for (not)equal.
  const values = choice([-1, -0.5, 0, 0.5, 1]);
  for (const name of COMPARISONS) {
    const run = BINARY_FUNCTIONS[name];
    const reference = (a: NdArray, b: NdArray) => R.binary(name, a, b);
    for (const [sa, sb] of [[[], []], [[3, 4], [3, 4]], [[3, 1], [1, 4]], [[2, 3, 4], [4]], [[0, 2], [2]]] as [number[], number[]][]) {
      cases.push(opCase({ subject: name, name: `float32 ${shapes(sa, sb)}`, inputs: [f32(sa, values), f32(sb, values)], run, reference, tolerance: 'exact' }));
    }
    cases.push(opCase({ subject: name, name: 'int32 [4, 5] x [5]', inputs: [i32([4, 5], ints(-2, 3)), i32([5], ints(-2, 3))], run, reference, tolerance: 'exact' }));
    cases.push(opCase({ subject: name, name: 'float32 [6] with number 0.5', inputs: [f32([6], values)], run: (a) => run(a, 0.5), reference: (a) => R.binaryScalar(name, a, 0.5), tolerance: 'exact' }));
    cases.push(opCase({ subject: name, name: 'special values [-inf, inf, 0, -0] x [0]', inputs: [f32([4], fixed([-Infinity, Infinity, 0, -0])), f32([1], fixed([0]))], run, reference, tolerance: 'exact' }));
    if (name === 'equal' || name === 'notEqual') {
      cases.push(opCase({ subject: name, name: 'bool [3, 4] x [4]', inputs: [bool([3, 4]), bool([4])], run, reference, tolerance: 'exact' }));
    }
  }
  for (const name of ['logicalAnd', 'logicalOr'] as const) {
    for (const [sa, sb] of [[[], []], [[3, 4], [3, 4]], [[3, 1], [1, 4]], [[0], [1]]] as [number[], number[]][]) {
      cases.push(opCase({ subject: name, name: `bool ${shapes(sa, sb)}`, inputs: [bool(sa), bool(sb)], run: BINARY_FUNCTIONS[name], reference: (a, b) => R.binary(name, a, b), tolerance: 'exact' }));
    }
  }
  return cases;
}

// ---- where, cast, clamp, square ----------------------------------------------------

function whereCases(): OpCase[] {
  const cases: OpCase[] = [];
  for (const [sc, sa, sb] of [
    [[3, 4], [3, 4], [3, 4]],
    [[3, 1], [1, 4], []],
    [[4], [2, 4], [1]],
    [[], [2, 3], [2, 3]],
    [[0, 2], [2], [1, 2]],
  ] as number[][][]) {
    cases.push(opCase({ subject: 'where', name: `float32 ${shapes(sc!, sa!, sb!)}`, inputs: [bool(sc!), f32(sa!), f32(sb!)], run: T.where, reference: R.where, tolerance: 'exact', gradient: sa!.length > 0 }));
  }
  cases.push(
    opCase({ subject: 'where', name: 'int32 [3, 4] x [4] x []', inputs: [bool([3, 4]), i32([4], ints(-9, 9)), i32([], ints(-9, 9))], run: T.where, reference: R.where, tolerance: 'exact' }),
    opCase({ subject: 'where', name: 'bool branches [2, 3]', inputs: [bool([2, 3]), bool([2, 3]), bool([3])], run: T.where, reference: R.where, tolerance: 'exact' }),
    opCase({
      subject: 'where',
      name: 'number 0 as the false branch',
      inputs: [bool([3, 4]), f32([3, 4])],
      run: (c, a) => T.where(c, a, 0),
      reference: (c, a) => R.where(c, a, { shape: [], dtype: 'float32', data: Float64Array.of(0) }),
      tolerance: 'exact',
      gradient: true,
    }),
    opCase({
      subject: 'where',
      name: 'number -1.5 as the true branch',
      inputs: [bool([5]), f32([2, 5])],
      run: (c, b) => T.where(c, -1.5, b),
      reference: (c, b) => R.where(c, { shape: [], dtype: 'float32', data: Float64Array.of(-1.5) }, b),
      tolerance: 'exact',
      gradient: true,
    }),
  );
  return cases;
}

function castCases(): OpCase[] {
  const conversions: [string, ReturnType<typeof f32>, T.DType][] = [
    ['float32 -> int32 truncates toward zero', f32([3, 5], uniform(-5, 5)), 'int32'],
    ['float32 -> bool', f32([3, 5], choice([0, -0, 0.5, -2, 1e-30])), 'bool'],
    ['int32 -> float32', i32([2, 6], ints(-1000, 1000)), 'float32'],
    ['int32 -> bool', i32([7], ints(-2, 3)), 'bool'],
    ['bool -> float32', bool([2, 3]), 'float32'],
    ['bool -> int32', bool([6]), 'int32'],
    ['float32 -> int32 of a 0-d tensor', f32([], fixed([-2.75])), 'int32'],
    ['int32 -> float32 of an empty tensor', i32([0, 4], ints(0, 1)), 'float32'],
  ];
  const cases = conversions.map(([name, input, dtype]) =>
    opCase({ subject: 'cast', name, inputs: [input], run: (x) => T.cast(x, dtype), reference: (x) => R.cast(x, dtype), tolerance: 'exact' }),
  );
  // The public cast() turns a same-dtype cast into a view, so the primitive's gradient is reached through runOp.
  cases.push(
    opCase({
      subject: 'cast',
      name: 'primitive float32 -> float32 [3, 4]',
      inputs: [f32([3, 4])],
      run: (x) => runOp('cast', [x], { dtype: 'float32' }),
      reference: (x) => R.cast(x, 'float32'),
      tolerance: 'exact',
      gradient: true,
    }),
  );
  return cases;
}

function clampCases(): OpCase[] {
  // Grid values sit 1/8 away from the bounds +-0.5, so no element is at a kink.
  const gen = quarterGrid(1 / 8);
  return [
    opCase({ subject: 'clamp', name: 'min and max [3, 5]', inputs: [f32([3, 5], gen)], run: (x) => T.clamp(x, -0.5, 0.5), reference: (x) => R.clamp(x, -0.5, 0.5), tolerance: 'exact', gradient: true }),
    opCase({ subject: 'clamp', name: 'min only [7]', inputs: [f32([7], gen)], run: (x) => T.clamp(x, -0.5), reference: (x) => R.clamp(x, -0.5), tolerance: 'exact', gradient: true }),
    opCase({ subject: 'clamp', name: 'max only [2, 4]', inputs: [f32([2, 4], gen)], run: (x) => T.clamp(x, undefined, 0.5), reference: (x) => R.clamp(x, undefined, 0.5), tolerance: 'exact', gradient: true }),
    opCase({ subject: 'clamp', name: 'int32 [6]', inputs: [i32([6], ints(-5, 6))], run: (x) => T.clamp(x, -2, 3), reference: (x) => R.clamp(x, -2, 3), tolerance: 'exact' }),
    opCase({ subject: 'clamp', name: '0-d', inputs: [f32([], fixed([1.25]))], run: (x) => T.clamp(x, -0.5, 0.5), reference: (x) => R.clamp(x, -0.5, 0.5), tolerance: 'exact', gradient: true }),
  ];
}

function squareCases(): OpCase[] {
  return [[], [7], [3, 4], [0, 2]].map((shape) =>
    opCase({ subject: 'square', name: `float32 ${shapes(shape)}`, inputs: [f32(shape, distinct())], run: T.square, reference: (x) => R.binary('mul', x, x), gradient: true }),
  );
}

// ---- fused ops ------------------------------------------------------------------

const scalarNd = (value: number): NdArray => ({ shape: [], dtype: 'float32', data: Float64Array.of(value) });

function fusedCases(): OpCase[] {
  const cases: OpCase[] = [];
  const run3 = (op: 'lerp' | 'lerpSquare') => (a: Tensor, b: Tensor, w: Tensor) => (op === 'lerp' ? T.lerp(a, b, w) : T.lerpSquare(a, b, w));
  // [700] spans partial SIMD blocks; [2, 3] x [3] x [2, 1] broadcasts every operand.
  for (const op of ['lerp', 'lerpSquare'] as const) {
    const reference = op === 'lerp' ? R.lerp : R.lerpSquare;
    const gradient = op === 'lerp';
    for (const [sa, sb, sw] of [[[3, 4], [3, 4], []], [[700], [700], []], [[2, 3], [3], [2, 1]], [[4], [4], [4]], [[0, 3], [3], []]] as number[][][]) {
      cases.push(opCase({ subject: op, name: `float32 ${shapes(sa!, sb!, sw!)}`, inputs: [f32(sa!), f32(sb!), f32(sw!, uniform(0, 1))], run: run3(op), reference, gradient: gradient && sa![0] !== 0 && sa![0] !== 700 }));
    }
  }
  // mulAdd as LayerNorm calls it ([..., D] with [D] weight and bias), fully broadcast, and empty.
  for (const [sx, sy, sz] of [[[2, 3, 8], [8], [8]], [[700], [700], [700]], [[2, 3], [3], [2, 1]], [[0, 3], [3], [3]]] as number[][][]) {
    cases.push(opCase({ subject: 'mulAdd', name: `float32 ${shapes(sx!, sy!, sz!)}`, inputs: [f32(sx!), f32(sy!), f32(sz!)], run: T.mulAdd, reference: R.mulAdd, gradient: sx![0] !== 0 && sx![0] !== 700 }));
  }
  cases.push(
    opCase({
      subject: 'lerp',
      name: 'number weight 0.25',
      inputs: [f32([3, 4]), f32([4])],
      run: (a, b) => T.lerp(a, b, 0.25),
      reference: (a, b) => R.lerp(a, b, scalarNd(0.25)),
      gradient: true,
    }),
  );
  // adamStep as the optimizer calls it (dense state, 0-d scalars) and fully broadcast.
  const positive = uniform(0.01, 4);
  const adamInputs = (sp: number[], sm: number[], sv: number[], ss: number[]) => [
    f32(sp),
    f32(sm),
    f32(sv, positive),
    f32(ss, uniform(0.9, 1)),
    f32(ss, uniform(1e-3, 0.1)),
    f32(ss, uniform(1e-8, 1e-2)),
  ];
  for (const [sp, sm, sv, ss] of [[[3, 4], [3, 4], [3, 4], []], [[700], [700], [700], []], [[2, 3], [3], [2, 1], [1]], [[0], [0], [0], []]] as number[][][]) {
    cases.push(
      opCase({ subject: 'adamStep', name: `float32 ${shapes(sp!, sm!, sv!, ss!)}`, inputs: adamInputs(sp!, sm!, sv!, ss!), run: T.adamStep, reference: R.adamStep, tolerance: 'transcendental' }),
    );
  }
  cases.push(
    opCase({
      subject: 'adamStep',
      name: 'numbers as scalars',
      inputs: [f32([5]), f32([5]), f32([5], positive)],
      run: (p, m, v) => T.adamStep(p, m, v, 0.999, 0.01, 1e-8),
      reference: (p, m, v) => R.adamStep(p, m, v, scalarNd(0.999), scalarNd(0.01), scalarNd(1e-8)),
      tolerance: 'transcendental',
    }),
  );
  // adamUpdate: the three passes above in one (the parameter and both moments out); odd
  // lengths reach the SIMD loop's scalar tail, 5000 elements split over the worker pool.
  const adamScalars = [
    { momentWeight: 0.1, varianceWeight: 0.001, decay: 0.9999, alpha: 3.1e-4, eps: 1e-8 },
    { momentWeight: 0.5, varianceWeight: 0.25, decay: 1, alpha: 0.02, eps: 1e-3 },
  ];
  for (const [shape, k] of [[[3, 4], 0], [[701], 1], [[5000], 0], [[0], 0], [[], 1]] as [number[], number][]) {
    const scalars = adamScalars[k]!;
    cases.push(
      opCase({
        subject: 'adamUpdate',
        name: `float32 ${shapes(shape)} momentWeight ${scalars.momentWeight}`,
        inputs: [f32(shape), f32(shape), f32(shape), f32(shape, positive)],
        run: (p, g, m, v) => T.adamUpdate(p, g!, m!, v!, scalars),
        reference: (p, g, m, v) => R.adamUpdate(p, g!, m!, v!, scalars),
        tolerance: 'transcendental',
      }),
    );
  }
  const geluBackward = (g: Tensor, x: Tensor) => runOp('geluBackward', [g, x], {});
  for (const [sg, sx] of [[[3, 4], [3, 4]], [[700], [700]], [[2, 4], [4]], [[], []]] as number[][][]) {
    cases.push(opCase({ subject: 'geluBackward', name: `float32 ${shapes(sg!, sx!)}`, inputs: [f32(sg!), f32(sx!, uniform(-4, 4))], run: geluBackward, reference: R.geluBackward, tolerance: 'transcendental' }));
  }
  cases.push(
    opCase({ subject: 'geluBackward', name: 'x far out [-10, 10, 0, -30, 30, 1e-8]', inputs: [f32([6]), f32([6], fixed([-10, 10, 0, -30, 30, 1e-8]))], run: geluBackward, reference: R.geluBackward, tolerance: 'transcendental' }),
  );
  // GELU's erf is its own rational fit (src/expr.ts), exact to float32 only where it was fitted
  // and saturating past |x| = 3.92 sqrt 2: a dense sweep across both sides of that edge.
  const sweep = Array.from({ length: 4097 }, (_, i) => -8 + i / 256);
  cases.push(
    opCase({ subject: 'gelu', name: 'dense sweep of [-8, 8]', inputs: [f32([sweep.length], fixed(sweep))], run: T.gelu, reference: (x) => R.unary('gelu', x), tolerance: 'transcendental' }),
    opCase({ subject: 'geluBackward', name: 'dense sweep of [-8, 8]', inputs: [f32([sweep.length]), f32([sweep.length], fixed(sweep))], run: geluBackward, reference: R.geluBackward, tolerance: 'transcendental' }),
  );
  const seluBackward = (g: Tensor, x: Tensor) => runOp('seluBackward', [g, x], {});
  for (const [sg, sx] of [[[3, 4], [3, 4]], [[700], [700]], [[2, 4], [4]], [[], []]] as number[][][]) {
    cases.push(opCase({ subject: 'seluBackward', name: `float32 ${shapes(sg!, sx!)}`, inputs: [f32(sg!), f32(sx!, uniform(-4, 4))], run: seluBackward, reference: R.seluBackward, tolerance: 'transcendental' }));
  }
  cases.push(
    opCase({ subject: 'seluBackward', name: 'x at and far from 0 [-30, -1e-8, 0, 1e-8, 30, 100]', inputs: [f32([6]), f32([6], fixed([-30, -1e-8, 0, 1e-8, 30, 100]))], run: seluBackward, reference: R.seluBackward, tolerance: 'transcendental' }),
  );
  return cases;
}

export const ELEMENTWISE_CASES: OpCase[] = [...unaryCases(), ...binaryCases(), ...whereCases(), ...fusedCases(), ...castCases(), ...clampCases(), ...squareCases()];
