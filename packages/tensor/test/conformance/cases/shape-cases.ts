// Shape and indexing ops: reshape, permute/transpose, expand, squeeze/unsqueeze,
// flatten, slice (Python-style, negative indices), pad, concat/stack/split,
// gather, scatterAdd, indexSelect and oneHot.

import * as T from '@gpt/tensor';
import * as R from '../../reference/movement.js';
import { opCase, shapes, type OpCase } from '../case.js';
import { bool, f32, i32, ints } from '../inputs.js';

function reshapeCases(): OpCase[] {
  const configs: [number[], number[]][] = [
    [[2, 3, 4], [6, 4]],
    [[2, 3, 4], [4, -1]],
    [[2, 3, 4], [24]],
    [[], [1, 1]],
    [[1], []],
    [[0, 3], [3, 0]],
    [[6], [3, 1, 2]],
  ];
  const cases = configs.map(([from, to]) =>
    opCase({ subject: 'reshape', name: `${shapes(from)} -> ${shapes(to)}`, inputs: [f32(from)], run: (x) => T.reshape(x, to), reference: (x) => R.reshape(x, to), tolerance: 'exact', gradient: true }),
  );
  cases.push(opCase({ subject: 'reshape', name: 'int32 [2, 3] -> [3, 2]', inputs: [i32([2, 3], ints(-9, 9))], run: (x) => T.reshape(x, [3, 2]), reference: (x) => R.reshape(x, [3, 2]), tolerance: 'exact' }));
  return cases;
}

function permuteCases(): OpCase[] {
  const permutes: [number[], number[]][] = [
    [[2, 3, 4], [2, 0, 1]],
    [[2, 3, 4], [0, 2, 1]],
    [[2, 3, 4], [-1, -3, -2]],
    [[3, 4], [1, 0]],
    [[2, 1, 3, 2], [3, 1, 0, 2]],
    [[5], [0]],
    [[0, 3], [1, 0]],
  ];
  const cases = permutes.map(([shape, perm]) =>
    opCase({ subject: 'permute', name: `${shapes(shape)} perm ${JSON.stringify(perm)}`, inputs: [f32(shape)], run: (x) => T.permute(x, perm), reference: (x) => R.permute(x, perm), tolerance: 'exact', gradient: true }),
  );
  cases.push(opCase({ subject: 'permute', name: 'bool [2, 3] perm [1, 0]', inputs: [bool([2, 3])], run: (x) => T.permute(x, [1, 0]), reference: (x) => R.permute(x, [1, 0]), tolerance: 'exact' }));
  const transposes: [number[], number, number][] = [
    [[3, 4], -2, -1],
    [[2, 3, 4], 0, 2],
    [[2, 3, 4], -1, 1],
  ];
  for (const [shape, a, b] of transposes) {
    cases.push(opCase({ subject: 'transpose', name: `${shapes(shape)} axes ${a}, ${b}`, inputs: [f32(shape)], run: (x) => T.transpose(x, a, b), reference: (x) => R.transpose(x, a, b), tolerance: 'exact', gradient: true }));
  }
  return cases;
}

function expandCases(): OpCase[] {
  const configs: [number[], number[]][] = [
    [[3, 1], [2, 3, 4]],
    [[1], [5]],
    [[], [2, 2]],
    [[2, 1, 3], [2, -1, 3]],
    [[4], [3, -1]],
    [[1, 3], [0, 3]],
    [[2, 3], [2, 3]],
  ];
  const cases = configs.map(([from, to]) =>
    opCase({ subject: 'expand', name: `${shapes(from)} -> ${shapes(to)}`, inputs: [f32(from)], run: (x) => T.expand(x, to), reference: (x) => R.expand(x, to), tolerance: 'exact', gradient: true }),
  );
  cases.push(
    opCase({ subject: 'expand', name: 'int32 [3] -> [2, 3]', inputs: [i32([3], ints(-9, 9))], run: (x) => T.expand(x, [2, 3]), reference: (x) => R.expand(x, [2, 3]), tolerance: 'exact' }),
    opCase({ subject: 'broadcastTo', name: '[4, 1] -> [2, 4, 3]', inputs: [f32([4, 1])], run: (x) => T.broadcastTo(x, [2, 4, 3]), reference: (x) => R.expand(x, [2, 4, 3]), tolerance: 'exact', gradient: true }),
  );
  return cases;
}

function squeezeCases(): OpCase[] {
  return [
    opCase({ subject: 'squeeze', name: '[1, 3, 1, 2] all size-1 axes', inputs: [f32([1, 3, 1, 2])], run: (x) => T.squeeze(x), reference: (x) => R.squeeze(x), tolerance: 'exact', gradient: true }),
    opCase({ subject: 'squeeze', name: '[1, 3, 1, 2] axis -2', inputs: [f32([1, 3, 1, 2])], run: (x) => T.squeeze(x, -2), reference: (x) => R.squeeze(x, -2), tolerance: 'exact', gradient: true }),
    opCase({ subject: 'squeeze', name: '[1, 1] axes [0, 1] to 0-d', inputs: [f32([1, 1])], run: (x) => T.squeeze(x, [0, 1]), reference: (x) => R.squeeze(x, [0, 1]), tolerance: 'exact', gradient: true }),
    opCase({ subject: 'unsqueeze', name: '[3, 4] axis 0', inputs: [f32([3, 4])], run: (x) => T.unsqueeze(x, 0), reference: (x) => R.unsqueeze(x, 0), tolerance: 'exact', gradient: true }),
    opCase({ subject: 'unsqueeze', name: '[3, 4] axis -1', inputs: [f32([3, 4])], run: (x) => T.unsqueeze(x, -1), reference: (x) => R.unsqueeze(x, -1), tolerance: 'exact', gradient: true }),
    opCase({ subject: 'unsqueeze', name: '[3, 4] axis 1', inputs: [f32([3, 4])], run: (x) => T.unsqueeze(x, 1), reference: (x) => R.unsqueeze(x, 1), tolerance: 'exact' }),
    opCase({ subject: 'unsqueeze', name: '0-d axis 0', inputs: [f32([])], run: (x) => T.unsqueeze(x, 0), reference: (x) => R.unsqueeze(x, 0), tolerance: 'exact', gradient: true }),
    opCase({ subject: 'flatten', name: '[2, 3, 4] all axes', inputs: [f32([2, 3, 4])], run: (x) => T.flatten(x), reference: (x) => R.flatten(x), tolerance: 'exact', gradient: true }),
    opCase({ subject: 'flatten', name: '[2, 3, 4, 2] axes 1..2', inputs: [f32([2, 3, 4, 2])], run: (x) => T.flatten(x, 1, 2), reference: (x) => R.flatten(x, 1, 2), tolerance: 'exact', gradient: true }),
    opCase({ subject: 'flatten', name: '[2, 3, 4] axes -2..-1', inputs: [f32([2, 3, 4])], run: (x) => T.flatten(x, -2, -1), reference: (x) => R.flatten(x, -2, -1), tolerance: 'exact' }),
    opCase({ subject: 'flatten', name: '0-d becomes [1]', inputs: [f32([])], run: (x) => T.flatten(x), reference: (x) => R.flatten(x), tolerance: 'exact' }),
  ];
}

function sliceCases(): OpCase[] {
  const configs: [number[], R.SliceEntry[]][] = [
    [[5, 4], [[1, 3]]],
    [[5, 4], [null, [1, 4]]],
    [[5, 4], [[-3, -1], [-2, 100]]],
    [[5, 4], [-1]],
    [[5, 4], [2, -3]],
    [[2, 5, 3], [null, [-4, 4], 1]],
    [[2, 5, 3], [[0, 2], [3, 1]]],
    [[2, 5, 3], [[-100, 100], null, [-1, 3]]],
    [[6], [[0, 0]]],
    [[0, 3], [null, [1, 2]]],
  ];
  const cases = configs.map(([shape, entries]) =>
    opCase({
      subject: 'slice',
      name: `${shapes(shape)} ${JSON.stringify(entries)}`,
      inputs: [f32(shape)],
      run: (x) => T.slice(x, entries),
      reference: (x) => R.slice(x, entries),
      tolerance: 'exact',
      gradient: true,
    }),
  );
  cases.push(opCase({ subject: 'slice', name: 'int32 [4, 3] [[1, -1]]', inputs: [i32([4, 3], ints(-9, 9))], run: (x) => T.slice(x, [[1, -1]]), reference: (x) => R.slice(x, [[1, -1]]), tolerance: 'exact' }));
  return cases;
}

function padCases(): OpCase[] {
  const configs: [number[], [number, number][], number][] = [
    [[3, 4], [[1, 2], [0, 3]], 0],
    [[3, 4], [[0, 0], [2, 1]], 1.5],
    [[5], [[3, 0]], -2],
    [[2, 3, 2], [[1, 0], [1, 1], [0, 2]], 0],
    [[0, 2], [[1, 1], [0, 0]], 7],
    [[], [], 0],
  ];
  return configs.map(([shape, pads, value]) =>
    opCase({
      subject: 'pad',
      name: `${shapes(shape)} pads ${JSON.stringify(pads)} value ${value}`,
      inputs: [f32(shape)],
      run: (x) => T.pad(x, pads, value),
      reference: (x) => R.pad(x, pads, value),
      tolerance: 'exact',
      gradient: true,
    }),
  );
}

function joinCases(): OpCase[] {
  const cases: OpCase[] = [];
  const concats: [number[][], number][] = [
    [[[2, 3], [4, 3]], 0],
    [[[2, 3], [2, 1], [2, 2]], 1],
    [[[2, 3, 2], [2, 3, 1]], -1],
    [[[2, 3], [0, 3], [1, 3]], 0],
    [[[4]], 0],
  ];
  for (const [list, axis] of concats) {
    cases.push(
      opCase({
        subject: 'concat',
        name: `${shapes(...list)} axis ${axis}`,
        inputs: list.map((s) => f32(s)),
        run: (...xs) => T.concat(xs, axis),
        reference: (...xs) => R.concat(xs, axis),
        tolerance: 'exact',
        gradient: true,
      }),
    );
  }
  cases.push(opCase({ subject: 'concat', name: 'int32 [2] x [3] axis 0', inputs: [i32([2], ints(-9, 9)), i32([3], ints(-9, 9))], run: (a, b) => T.concat([a!, b!], 0), reference: (a, b) => R.concat([a!, b!], 0), tolerance: 'exact' }));
  for (const axis of [0, 1, -1]) {
    cases.push(
      opCase({
        subject: 'stack',
        name: `3 x [2, 3] axis ${axis}`,
        inputs: [f32([2, 3]), f32([2, 3]), f32([2, 3])],
        run: (...xs) => T.stack(xs, axis),
        reference: (...xs) => R.stack(xs, axis),
        tolerance: 'exact',
        gradient: true,
      }),
    );
  }
  cases.push(opCase({ subject: 'stack', name: '2 x 0-d', inputs: [f32([]), f32([])], run: (...xs) => T.stack(xs), reference: (...xs) => R.stack(xs), tolerance: 'exact', gradient: true }));
  const splits: [number[], number | number[], number][] = [
    [[6, 2], 3, 0],
    [[2, 7], [3, 0, 4], 1],
    [[2, 3, 4], [1, 3], -1],
    [[5], [5], 0],
  ];
  for (const [shape, how, axis] of splits) {
    cases.push(
      opCase({
        subject: 'split',
        name: `${shapes(shape)} into ${JSON.stringify(how)} axis ${axis}`,
        inputs: [f32(shape)],
        run: (x) => T.split(x, how, axis),
        reference: (x) => R.split(x, how, axis),
        tolerance: 'exact',
        gradient: true,
      }),
    );
  }
  return cases;
}

function indexingCases(): OpCase[] {
  const cases: OpCase[] = [];
  const gathers: [number[], number, number[]][] = [
    [[3, 4], 1, [3, 2]],
    [[3, 4], 0, [5, 4]],
    [[2, 3, 4], -1, [2, 3, 6]],
    [[2, 3, 4], 1, [1, 2, 4]],
    [[3, 4], 1, [3, 0]],
  ];
  for (const [shape, axis, indexShape] of gathers) {
    const size = shape.at(axis)!;
    cases.push(
      opCase({
        subject: 'gather',
        name: `${shapes(shape)} axis ${axis} index ${shapes(indexShape)}`,
        inputs: [f32(shape), i32(indexShape, ints(0, size))],
        run: (x, index) => T.gather(x, axis, index!),
        reference: (x, index) => R.gather(x, axis, index!),
        tolerance: 'exact',
        gradient: true,
      }),
    );
  }
  const scatters: [number[], number, number[]][] = [
    [[3, 4], 0, [5, 4]],
    [[3, 4], 1, [3, 6]],
    [[2, 3, 4], -1, [2, 2, 3]],
  ];
  for (const [shape, axis, indexShape] of scatters) {
    const size = shape.at(axis)!;
    cases.push(
      opCase({
        subject: 'scatterAdd',
        name: `${shapes(shape)} axis ${axis} index ${shapes(indexShape)} (repeated indices accumulate)`,
        inputs: [f32(shape), i32(indexShape, ints(0, size)), f32(indexShape)],
        run: (x, index, src) => T.scatterAdd(x, axis, index!, src!),
        reference: (x, index, src) => R.scatterAdd(x, axis, index!, src!),
        tolerance: 'rounding',
        gradient: true,
      }),
    );
  }
  const selects: [number[], number, number[]][] = [
    [[4, 3], 0, [3]],
    [[4, 3], 1, [5]],
    [[2, 3, 4], -1, [4]],
    [[4, 3], 0, [0]],
  ];
  for (const [shape, axis, indexShape] of selects) {
    const size = shape.at(axis)!;
    cases.push(
      opCase({
        subject: 'indexSelect',
        name: `${shapes(shape)} axis ${axis} indices ${shapes(indexShape)}`,
        inputs: [f32(shape), i32(indexShape, ints(0, size))],
        run: (x, indices) => T.indexSelect(x, axis, indices!),
        reference: (x, indices) => R.indexSelect(x, axis, indices!),
        tolerance: 'exact',
        gradient: true,
      }),
    );
  }
  const oneHots: [number[], number][] = [
    [[5], 4],
    [[2, 3], 3],
    [[], 5],
    [[0], 2],
  ];
  for (const [shape, classes] of oneHots) {
    cases.push(
      opCase({
        subject: 'oneHot',
        name: `indices ${shapes(shape)} classes ${classes}`,
        inputs: [i32(shape, ints(0, classes))],
        run: (indices) => T.oneHot(indices, classes),
        reference: (indices) => R.oneHot(indices, classes),
        tolerance: 'exact',
      }),
    );
  }
  return cases;
}

export const SHAPE_CASES: OpCase[] = [...reshapeCases(), ...permuteCases(), ...expandCases(), ...squeezeCases(), ...sliceCases(), ...padCases(), ...joinCases(), ...indexingCases()];
