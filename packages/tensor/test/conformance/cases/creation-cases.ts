// Tensors made from nothing: fill (full/zeros/ones), ranges, eye, and the seeded
// random draws, whose bits must match the reference Philox exactly on every device.

import * as T from '@gpt/tensor';
import { generate } from '../../reference/movement.js';
import { nd, type NdArray } from '../../reference/nd-array.js';
import { blocksFor, keyOfSeed, normal, uniform, philoxWords } from '../../reference/philox.js';
import { opCase, shapes, type OpCase } from '../case.js';

const constant = (shape: number[], value: number, dtype: T.DType): NdArray => generate(shape, dtype, () => value);

function fillCases(): OpCase[] {
  const configs: [string, () => T.Tensor, NdArray][] = [
    ['full [2, 3] 1.5', () => T.full([2, 3], 1.5), constant([2, 3], 1.5, 'float32')],
    ['full 0-d -7 int32', () => T.full([], -7, { dtype: 'int32' }), constant([], -7, 'int32')],
    ['full [0, 4]', () => T.full([0, 4], 2), constant([0, 4], 2, 'float32')],
    ['full [3] bool true', () => T.full([3], 1, { dtype: 'bool' }), constant([3], 1, 'bool')],
    ['full [2] -inf', () => T.full([2], -Infinity), constant([2], -Infinity, 'float32')],
    ['zeros [3, 1, 2]', () => T.zeros([3, 1, 2]), constant([3, 1, 2], 0, 'float32')],
    ['zeros [4] int32', () => T.zeros([4], { dtype: 'int32' }), constant([4], 0, 'int32')],
    ['ones [2, 2]', () => T.ones([2, 2]), constant([2, 2], 1, 'float32')],
    ['ones [5] bool', () => T.ones([5], { dtype: 'bool' }), constant([5], 1, 'bool')],
  ];
  return configs.map(([name, make, expected]) => opCase({ subject: 'fill', name, inputs: [], run: make, reference: () => expected, tolerance: 'exact' }));
}

function rangeCases(): OpCase[] {
  const cases: OpCase[] = [
    opCase({ subject: 'arange', name: 'arange(5) int32', inputs: [], run: () => T.arange(5), reference: () => nd([5], [0, 1, 2, 3, 4], 'int32'), tolerance: 'exact' }),
    opCase({ subject: 'arange', name: 'arange(2, 11, 3)', inputs: [], run: () => T.arange(2, 11, 3), reference: () => nd([3], [2, 5, 8], 'int32'), tolerance: 'exact' }),
    opCase({ subject: 'arange', name: 'arange(1, -2, -0.5) float32', inputs: [], run: () => T.arange(1, -2, -0.5), reference: () => nd([6], [1, 0.5, 0, -0.5, -1, -1.5]), tolerance: 'exact' }),
    opCase({ subject: 'arange', name: 'arange(3, 3) is empty', inputs: [], run: () => T.arange(3, 3), reference: () => nd([0], [], 'int32'), tolerance: 'exact' }),
    opCase({ subject: 'linspace', name: 'linspace(0, 1, 5)', inputs: [], run: () => T.linspace(0, 1, 5), reference: () => nd([5], [0, 0.25, 0.5, 0.75, 1]), tolerance: 'rounding' }),
    opCase({ subject: 'linspace', name: 'linspace(-3, 2, 1)', inputs: [], run: () => T.linspace(-3, 2, 1), reference: () => nd([1], [-3]), tolerance: 'exact' }),
    opCase({ subject: 'linspace', name: 'linspace(2, -1, 7)', inputs: [], run: () => T.linspace(2, -1, 7), reference: () => nd([7], [2, 1.5, 1, 0.5, 0, -0.5, -1]), tolerance: 'rounding' }),
    opCase({ subject: 'eye', name: 'eye(3)', inputs: [], run: () => T.eye(3), reference: () => generate([3, 3], 'float32', ([i, j]) => (i === j ? 1 : 0)), tolerance: 'exact' }),
    opCase({ subject: 'eye', name: 'eye(2, 4) int32', inputs: [], run: () => T.eye(2, 4, { dtype: 'int32' }), reference: () => generate([2, 4], 'int32', ([i, j]) => (i === j ? 1 : 0)), tolerance: 'exact' }),
    opCase({ subject: 'tensor', name: 'nested arrays [[1, 2, 3], [4, 5, 6]]', inputs: [], run: () => T.tensor([[1, 2, 3], [4, 5, 6]]), reference: () => nd([2, 3], [1, 2, 3, 4, 5, 6]), tolerance: 'exact' }),
    opCase({ subject: 'tensor', name: 'booleans', inputs: [], run: () => T.tensor([true, false, true]), reference: () => nd([3], [1, 0, 1], 'bool'), tolerance: 'exact' }),
    opCase({ subject: 'tensor', name: 'Int32Array with shape', inputs: [], run: () => T.tensor(Int32Array.of(1, -2, 3, -4), { shape: [2, 2] }), reference: () => nd([2, 2], [1, -2, 3, -4], 'int32'), tolerance: 'exact' }),
    opCase({ subject: 'tensor', name: 'number is 0-d', inputs: [], run: () => T.tensor(2.5), reference: () => nd([], [2.5]), tolerance: 'exact' }),
    opCase({ subject: 'tensor', name: 'float array to int32 truncates', inputs: [], run: () => T.tensor([1.9, -1.9], { dtype: 'int32' }), reference: () => nd([2], [1, -1], 'int32'), tolerance: 'exact' }),
  ];
  return cases;
}

function randomCases(): OpCase[] {
  const cases: OpCase[] = [];
  for (const [shape, seed] of [[[4, 5], 0], [[37], 42], [[1], 2 ** 33 + 17], [[0, 3], 5], [[], 9]] as [number[], number][]) {
    cases.push(
      opCase({ subject: 'randomUniform', name: `rand ${shapes(shape)} seed ${seed}`, inputs: [], run: () => T.rand(shape, { seed }), reference: () => uniform(shape, keyOfSeed(seed)), tolerance: 'exact' }),
      opCase({ subject: 'randomNormal', name: `randn ${shapes(shape)} seed ${seed}`, inputs: [], run: () => T.randn(shape, { seed }), reference: () => normal(shape, keyOfSeed(seed)), tolerance: 'transcendental' }),
    );
  }
  // A generator advances by whole Philox blocks: a second draw starts at block ceil(n / 4).
  cases.push(
    opCase({
      subject: 'randomUniform',
      name: 'two draws from one Generator continue the stream',
      inputs: [],
      run: () => {
        const generator = new T.Generator(77);
        return [T.rand([7], { generator }), T.rand([2, 3], { generator })];
      },
      reference: () => [uniform([7], keyOfSeed(77)), uniform([2, 3], keyOfSeed(77), blocksFor(7))],
      tolerance: 'exact',
    }),
    opCase({
      subject: 'randomNormal',
      name: 'two draws from one Generator continue the stream',
      inputs: [],
      run: () => {
        const generator = new T.Generator(78);
        return [T.randn([5], { generator }), T.randn([6], { generator })];
      },
      reference: () => [normal([5], keyOfSeed(78)), normal([6], keyOfSeed(78), blocksFor(5))],
      tolerance: 'transcendental',
    }),
    opCase({
      subject: 'rand',
      name: 'low -3 high 5 [3, 4]',
      inputs: [],
      run: () => T.rand([3, 4], { seed: 3, low: -3, high: 5 }),
      reference: () => {
        const u = uniform([3, 4], keyOfSeed(3));
        return { ...u, data: u.data.map((v) => v * 8 - 3) };
      },
      tolerance: 'rounding',
    }),
    opCase({
      subject: 'randn',
      name: 'mean 2 std 0.5 [9]',
      inputs: [],
      run: () => T.randn([9], { seed: 4, mean: 2, std: 0.5 }),
      reference: () => {
        const z = normal([9], keyOfSeed(4));
        return { ...z, data: z.data.map((v) => v * 0.5 + 2) };
      },
      tolerance: 'transcendental',
    }),
  );
  // randint scales a float32 uniform by the range in float32 and truncates.
  for (const [low, high, shape, seed] of [[0, 10, [20], 1], [-5, 3, [4, 4], 2], [0, 2 ** 24, [8], 3]] as [number, number, number[], number][]) {
    cases.push(
      opCase({
        subject: 'randint',
        name: `[${low}, ${high}) ${shapes(shape)} seed ${seed}`,
        inputs: [],
        run: () => T.randint(low, high, shape, { seed }),
        reference: () => {
          const words = philoxWords(keyOfSeed(seed), 0, shape.reduce((a, b) => a * b, 1));
          return nd(shape, words.map((w) => Math.trunc(Math.fround((Math.floor(w / 256) / 2 ** 24) * (high - low))) + low), 'int32');
        },
        tolerance: 'exact',
      }),
    );
  }
  return cases;
}

export const CREATION_CASES: OpCase[] = [...fillCases(), ...rangeCases(), ...randomCases()];
