// The WASM elementwise kernels (assembly/elementwise.ts via src/wasm/wasm-elementwise.ts)
// through the public API with the WASM kernels forced on, against float64 values
// computed here from the definitions: every function the register machine knows, the
// broadcast patterns it reads directly (dense, scalar, rows, columns, a middle run of
// axes), special values, and sizes that end inside a 256-element block. Broadcasts it
// cannot read (two separate runs of axes) must still be right (the TS kernel runs).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@gpt/tensor';
import { broadcastPattern } from '../../src/wasm/wasm-elementwise.js';
import { filledRandom } from './gemm-reference.js';

const SPECIAL = [0, -0, 1, -1, 0.5, -2.5, 3, 1e-4, -1e-4, 20, -20, 88, -87, 89, -88, 100, -100, Infinity, -Infinity, NaN];

/** |actual - expected| <= atol + rtol |expected|, NaN only for NaN, infinities exactly. */
function close(actual: number, expected: number, rtol: number, atol: number): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  if (!Number.isFinite(expected)) return actual === expected;
  return Math.abs(actual - expected) <= atol + rtol * Math.abs(expected);
}

function erf64(x: number): number {
  // Abramowitz-Stegun 7.1.26 is too coarse; use the series / continued fraction via erfc.
  if (Number.isNaN(x)) return NaN;
  if (!Number.isFinite(x)) return Math.sign(x);
  const z = Math.abs(x);
  let sum = 0;
  if (z < 3) {
    // Maclaurin series: converges fast enough in float64 for |x| < 3.
    let term = z;
    for (let n = 0; n < 200; n++) {
      sum += term / (2 * n + 1);
      term *= (-z * z) / (n + 1);
    }
    sum *= 2 / Math.sqrt(Math.PI);
  } else {
    // erfc continued fraction (Lentz), accurate for |x| >= 3.
    let f = z;
    let c = z;
    let d = 0;
    for (let n = 1; n < 200; n++) {
      const an = n / 2;
      d = z + an * d;
      d = 1 / d;
      c = z + an / c;
      f *= c * d;
    }
    sum = 1 - Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
  }
  return x < 0 ? -sum : sum;
}

interface UnaryCase {
  name: string;
  run: (x: T.Tensor) => T.Tensor;
  reference: (x: number) => number;
  rtol: number;
  atol: number;
}

const UNARY: UnaryCase[] = [
  { name: 'neg', run: T.neg, reference: (x) => -x, rtol: 0, atol: 0 },
  { name: 'abs', run: T.abs, reference: Math.abs, rtol: 0, atol: 0 },
  { name: 'sqrt', run: T.sqrt, reference: Math.sqrt, rtol: 1e-6, atol: 0 },
  { name: 'rsqrt', run: T.rsqrt, reference: (x) => 1 / Math.sqrt(x), rtol: 1e-6, atol: 0 },
  { name: 'exp', run: T.exp, reference: Math.exp, rtol: 2e-6, atol: 1e-37 },
  { name: 'erf', run: T.erf, reference: erf64, rtol: 2e-6, atol: 1e-6 },
  { name: 'sign', run: T.sign, reference: Math.sign, rtol: 0, atol: 0 },
  { name: 'relu', run: T.relu, reference: (x) => (x > 0 ? x : 0), rtol: 0, atol: 0 },
  { name: 'sigmoid', run: T.sigmoid, reference: (x) => 1 / (1 + Math.exp(-x)), rtol: 2e-6, atol: 1e-6 },
  { name: 'gelu', run: T.gelu, reference: (x) => 0.5 * x * (1 + erf64(x / Math.SQRT2)), rtol: 2e-6, atol: 1e-6 },
  { name: 'selu', run: T.selu, reference: (x) => 1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * (Math.exp(x) - 1)), rtol: 2e-6, atol: 1e-6 },
];

function values(count: number, seed: number, scale: number): Float32Array {
  const out = filledRandom(count, seed).map((v) => v * scale);
  out.set(SPECIAL.slice(0, Math.min(count, SPECIAL.length)));
  return out;
}

function firstMismatch(actual: ArrayLike<number>, expected: (i: number) => number, rtol: number, atol: number): string | null {
  for (let i = 0; i < actual.length; i++) {
    if (!close(actual[i]!, expected(i), rtol, atol)) return `element ${i}: got ${actual[i]}, expected ${expected(i)}`;
  }
  return null;
}

describe.each(['wasm', 'wasm-threads'] as const)('elementwise kernels in mode %s', (mode) => {
  beforeAll(async () => {
    T.setCpuKernels(mode);
    await T.cpuThreadsReady();
  });
  afterAll(() => T.setCpuKernels('auto'));

  it.each(UNARY.map((c) => [c.name, c] as const))('%s matches float64 on special values and a tail-block size', (_n, c) => {
    for (const count of [SPECIAL.length, 1000, 70_001]) {
      const input = values(count, 3, 10);
      const x = T.tensor(input);
      const y = c.run(x);
      expect(firstMismatch(y.dataSync(), (i) => Math.fround(c.reference(input[i]!)), c.rtol, c.atol)).toBeNull();
      x.dispose();
      y.dispose();
    }
  });

  it('exp stays within 2 ulp-ish over its whole range', () => {
    const input = Float32Array.from({ length: 100_000 }, (_, i) => -87 + (175 * i) / 100_000);
    const y = T.exp(T.tensor(input)).dataSync();
    expect(firstMismatch(y, (i) => Math.exp(input[i]!), 2.5e-7, 0)).toBeNull();
  });

  const BINARY: [string, (a: T.Tensor, b: T.Tensor) => T.Tensor, (a: number, b: number) => number][] = [
    ['add', T.add, (a, b) => a + b],
    ['sub', T.sub, (a, b) => a - b],
    ['mul', T.mul, (a, b) => a * b],
    ['div', T.div, (a, b) => a / b],
    ['maximum', T.maximum, (a, b) => (a > b || Number.isNaN(a) ? a : b)],
    ['minimum', T.minimum, (a, b) => (a < b || Number.isNaN(a) ? a : b)],
  ];
  const SHAPES: [string, number[], number[]][] = [
    ['dense', [37, 71], [37, 71]],
    ['scalar', [37, 71], []],
    ['rows (bias)', [5, 9, 33], [33]],
    ['columns', [37, 71], [37, 1]],
    ['middle axes', [3, 4, 5, 6], [4, 5, 1]],
    ['scalar on the left', [1], [300, 3]],
    ['two separate runs (TS fallback)', [4, 3, 5], [4, 1, 5]],
  ];
  it.each(BINARY.flatMap(([name, run, ref]) => SHAPES.map(([label, a, b]) => [`${name} ${label}`, run, ref, a, b] as const)))(
    '%s',
    (_label, run, ref, aShape, bShape) => {
      const av = values(aShape.reduce((p, q) => p * q, 1), 5, 3);
      const bv = values(bShape.reduce((p, q) => p * q, 1), 6, 3).map((v) => (v === 0 ? 0.25 : v));
      const a = T.tensor(av, { shape: aShape });
      const b = T.tensor(bv, { shape: bShape });
      const y = run(a, b);
      // Expected values through an independent broadcast: index arithmetic on the output coordinates.
      const outShape = y.shape;
      const read = (vals: Float32Array, shape: number[], flat: number) => {
        let index = 0;
        let stride = 1;
        let rem = flat;
        const coords = outShape.map(() => 0);
        for (let d = outShape.length - 1; d >= 0; d--) {
          coords[d] = rem % outShape[d]!;
          rem = Math.floor(rem / outShape[d]!);
        }
        for (let d = shape.length - 1; d >= 0; d--) {
          const c = coords[d + outShape.length - shape.length]!;
          index += (shape[d] === 1 ? 0 : c) * stride;
          stride *= shape[d]!;
        }
        return vals[index]!;
      };
      expect(firstMismatch(y.dataSync(), (i) => Math.fround(ref(read(av, aShape, i), read(bv, bShape, i))), 0, 0)).toBeNull();
      for (const t of [a, b, y]) t.dispose();
    },
  );

  it('comparisons and where still give bool / pick values', () => {
    const a = T.tensor([1, 2, NaN, -1]);
    const b = T.tensor([1, 1, 1, 0]);
    expect([...T.greater(a, b).dataSync()]).toEqual([0, 1, 0, 0]);
    expect([...T.where(T.less(a, b), a, b).dataSync()]).toEqual([1, 1, 1, -1]);
  });
});

describe('broadcastPattern', () => {
  it('reads dense, scalar, row, column and middle-run inputs, and refuses split runs', () => {
    expect(broadcastPattern([4, 5], [4, 5])).toEqual([1, 0]);
    expect(broadcastPattern([], [4, 5])).toEqual([1, 1]);
    expect(broadcastPattern([5], [4, 5])).toEqual([1, 5]);
    expect(broadcastPattern([4, 1], [4, 5])).toEqual([5, 4]);
    expect(broadcastPattern([3, 1, 1], [2, 3, 4, 5])).toEqual([20, 3]);
    expect(broadcastPattern([4, 1, 5], [4, 3, 5])).toBeNull();
  });
});
