// Reductions: sum/max/min (primitives, over any axes, keepdim), argmax/argmin,
// and the composites mean, variance and logsumexp; including empty axes,
// size-1 axes, 0-d inputs and int32.

import * as T from '@gpt/tensor';
import * as R from '../../reference/reduce.js';
import { opCase, shapes, type OpCase } from '../case.js';
import { choice, distinct, f32, fixed, i32, ints, uniform } from '../inputs.js';

type Axes = number | number[] | undefined;

/** (shape, axes, keepdim) triples every reduction runs; `grad` marks those that also get a gradient check. */
const AXES_CASES: { shape: number[]; axes: Axes; keepdim: boolean; grad: boolean }[] = [
  { shape: [7], axes: undefined, keepdim: false, grad: true },
  { shape: [3, 4], axes: 0, keepdim: false, grad: true },
  { shape: [3, 4], axes: -1, keepdim: true, grad: true },
  { shape: [2, 3, 4], axes: [0, 2], keepdim: false, grad: true },
  { shape: [2, 3, 4], axes: [1], keepdim: true, grad: false },
  { shape: [2, 3, 4], axes: undefined, keepdim: true, grad: false },
  { shape: [2, 1, 3], axes: 1, keepdim: false, grad: false },
  { shape: [4, 1], axes: [-2, -1], keepdim: false, grad: false },
  { shape: [], axes: undefined, keepdim: false, grad: true },
  { shape: [3, 2, 2, 3], axes: [1, 3], keepdim: false, grad: false },
  { shape: [0, 3], axes: 1, keepdim: false, grad: true },
];

const describeAxes = (axes: Axes, keepdim: boolean): string =>
  `axes ${axes === undefined ? 'all' : JSON.stringify(axes)}${keepdim ? ' keepdim' : ''}`;

function extremeCases(): OpCase[] {
  const cases: OpCase[] = [];
  for (const subject of ['sum', 'max', 'min'] as const) {
    const run = (x: T.Tensor, axes: Axes, keepdim: boolean) => T[subject](x, axes, keepdim);
    for (const { shape, axes, keepdim, grad } of AXES_CASES) {
      cases.push(
        opCase({
          subject,
          name: `float32 ${shapes(shape)} ${describeAxes(axes, keepdim)}`,
          // Distinct values: max/min have a unique winner, so finite differences are valid.
          inputs: [f32(shape, distinct())],
          run: (x) => run(x, axes, keepdim),
          reference: (x) => R[subject](x, axes, keepdim),
          tolerance: subject === 'sum' ? 'accumulation' : 'exact',
          gradient: grad,
        }),
      );
    }
    cases.push(
      opCase({
        subject,
        name: 'int32 [3, 5] axes 1',
        inputs: [i32([3, 5], ints(-50, 50))],
        run: (x) => T[subject](x, 1),
        reference: (x) => R[subject](x, 1),
        tolerance: 'exact',
      }),
      opCase({
        subject,
        name: 'float32 [40, 3] axes 0 (long column)',
        inputs: [f32([40, 3], uniform())],
        run: (x) => T[subject](x, 0),
        reference: (x) => R[subject](x, 0),
        tolerance: subject === 'sum' ? 'accumulation' : 'exact',
      }),
      opCase({
        subject,
        name: 'NaN propagates [2, 3] axes 1',
        inputs: [f32([2, 3], fixed([1, NaN, 2, -1, 0, 3]))],
        run: (x) => T[subject](x, 1),
        reference: (x) => R[subject](x, 1),
        tolerance: 'exact',
      }),
      opCase({
        subject,
        name: 'special values [inf, -inf, 1e30, -1e30] axes all',
        inputs: [f32([4], fixed([Infinity, -Infinity, 1e30, -1e30]))],
        run: (x) => T[subject](x),
        reference: (x) => R[subject](x),
        tolerance: 'exact',
      }),
    );
  }
  // Summing over an empty axis gives zeros (and an empty input's total is 0).
  cases.push(
    opCase({ subject: 'sum', name: 'float32 [0, 3] axes 0 (empty axis)', inputs: [f32([0, 3])], run: (x) => T.sum(x, 0), reference: (x) => R.sum(x, 0), tolerance: 'exact', gradient: true }),
    opCase({ subject: 'sum', name: 'float32 [2, 0] axes all', inputs: [f32([2, 0])], run: (x) => T.sum(x), reference: (x) => R.sum(x), tolerance: 'exact' }),
    // Max/min over ties split the gradient; here there are none but the max is repeated across rows.
    opCase({ subject: 'max', name: 'float32 [5, 1] broadcast-shaped keepdim', inputs: [f32([5, 1], distinct())], run: (x) => T.max(x, 0, true), reference: (x) => R.max(x, 0, true), tolerance: 'exact', gradient: true }),
  );
  return cases;
}

function argCases(): OpCase[] {
  const cases: OpCase[] = [];
  for (const subject of ['argmax', 'argmin'] as const) {
    const configs: { shape: number[]; axis: number | undefined; keepdim: boolean }[] = [
      { shape: [7], axis: undefined, keepdim: false },
      { shape: [3, 4], axis: 0, keepdim: false },
      { shape: [3, 4], axis: -1, keepdim: true },
      { shape: [2, 3, 4], axis: 1, keepdim: false },
      { shape: [2, 3, 4], axis: undefined, keepdim: true },
      { shape: [4, 1], axis: 1, keepdim: false },
      { shape: [], axis: undefined, keepdim: false },
      { shape: [0, 3], axis: 1, keepdim: false },
    ];
    for (const { shape, axis, keepdim } of configs) {
      cases.push(
        opCase({
          subject,
          name: `float32 ${shapes(shape)} axis ${axis ?? 'all'}${keepdim ? ' keepdim' : ''}`,
          inputs: [f32(shape, distinct())],
          run: (x) => T[subject](x, axis, keepdim),
          reference: (x) => R.argReduce(x, subject, axis, keepdim),
          tolerance: 'exact',
        }),
      );
    }
    cases.push(
      // Ties resolve to the first occurrence, like PyTorch.
      opCase({
        subject,
        name: 'ties pick the first index [4, 6] axis 1',
        inputs: [f32([4, 6], choice([0, 1]))],
        run: (x) => T[subject](x, 1),
        reference: (x) => R.argReduce(x, subject, 1),
        tolerance: 'exact',
      }),
      opCase({
        subject,
        name: 'NaN counts as the extreme [2, 4] axis 1',
        inputs: [f32([2, 4], fixed([1, NaN, 5, NaN, 7, 2, -1, 0]))],
        run: (x) => T[subject](x, 1),
        reference: (x) => R.argReduce(x, subject, 1),
        tolerance: 'exact',
      }),
      opCase({
        subject,
        name: 'int32 [3, 5] axis 0',
        inputs: [i32([3, 5], ints(-4, 4))],
        run: (x) => T[subject](x, 0),
        reference: (x) => R.argReduce(x, subject, 0),
        tolerance: 'exact',
      }),
    );
  }
  return cases;
}

function compositeCases(): OpCase[] {
  const cases: OpCase[] = [];
  for (const { shape, axes, keepdim, grad } of AXES_CASES) {
    const label = `${shapes(shape)} ${describeAxes(axes, keepdim)}`;
    cases.push(
      opCase({ subject: 'mean', name: label, inputs: [f32(shape)], run: (x) => T.mean(x, axes, keepdim), reference: (x) => R.mean(x, axes, keepdim), tolerance: 'accumulation', gradient: grad }),
      opCase({ subject: 'logsumexp', name: label, inputs: [f32(shape)], run: (x) => T.logsumexp(x, axes, keepdim), reference: (x) => R.logsumexp(x, axes, keepdim), tolerance: 'accumulation', gradient: grad }),
    );
    if (shape.length > 0) {
      cases.push(
        opCase({ subject: 'variance', name: label, inputs: [f32(shape)], run: (x) => T.variance(x, axes, { keepdim }), reference: (x) => R.variance(x, axes, keepdim), tolerance: 'accumulation', gradient: grad }),
      );
    }
  }
  cases.push(
    opCase({ subject: 'variance', name: 'correction 0 [4, 5] axes 1', inputs: [f32([4, 5])], run: (x) => T.variance(x, 1, { correction: 0 }), reference: (x) => R.variance(x, 1, false, 0), tolerance: 'accumulation', gradient: true }),
    opCase({ subject: 'variance', name: 'offset data (mean 1000) [64]', inputs: [f32([64], uniform(999, 1001))], run: (x) => T.variance(x), reference: (x) => R.variance(x), tolerance: 'accumulation' }),
    opCase({ subject: 'mean', name: 'int32 input gives float32 [2, 3] axes 1', inputs: [i32([2, 3], ints(-5, 6))], run: (x) => {
        const asFloat = T.cast(x, 'float32');
        const result = T.mean(asFloat, 1);
        asFloat.dispose();
        return result;
      }, reference: (x) => R.mean(x, 1), tolerance: 'accumulation' }),
    // exp(100) overflows float32: only a max-shifted implementation gets these right.
    opCase({ subject: 'logsumexp', name: 'large values [3, 4] axes 1', inputs: [f32([3, 4], uniform(80, 120))], run: (x) => T.logsumexp(x, 1), reference: (x) => R.logsumexp(x, 1), tolerance: 'accumulation', gradient: true }),
    opCase({ subject: 'logsumexp', name: 'very negative values [5]', inputs: [f32([5], uniform(-120, -80))], run: (x) => T.logsumexp(x), reference: (x) => R.logsumexp(x), tolerance: 'accumulation', gradient: true }),
  );
  return cases;
}

export const REDUCTION_CASES: OpCase[] = [...extremeCases(), ...argCases(), ...compositeCases()];
