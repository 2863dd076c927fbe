// permute, expand, slice, pad and concat through the WASM strided copy must give
// exactly what the TypeScript kernels give (they only move values), for ranks up to
// 9 (above 8 the TS kernel takes over), odd sizes, broadcasts, pads of every border
// (written as copies from a one-element source), empty inputs, and multi-threaded
// splits, including long contiguous copies split by splitInner; mergeDims must only
// merge dims that are contiguous on both sides.

import { afterAll, describe, expect, it } from 'vitest';
import * as T from '@gpt/tensor';
import { mergeDims, splitInner } from '../../src/wasm/wasm-movement.js';

type Op = [string, () => T.Tensor];

function opsFor(x: T.Tensor, y: T.Tensor): Op[] {
  return [
    ['permute 4-D', () => T.permute(x, [2, 0, 3, 1])],
    ['transpose last two', () => T.transpose(x)],
    ['slice', () => T.slice(x, [[1, 4], null, [2, 9], [0, 5]])],
    ['slice one index', () => T.slice(x, [null, 2])],
    ['pad', () => T.pad(x, [[1, 2], [0, 0], [3, 1], [0, 4]], 0.5)],
    ['pad every border, NaN', () => T.pad(x, [[2, 1], [1, 3], [1, 1], [4, 2]], NaN)],
    ['pad leading axis only, -0', () => T.pad(x, [[1, 1], [0, 0], [0, 0], [0, 0]], -0)],
    ['pad an empty input', () => T.pad(T.slice(x, [[0, 0]]), [[1, 2], [1, 0], [0, 0], [0, 1]], 3)],
    ['expand', () => T.expand(T.slice(x, [[0, 1], null, [0, 1], null]), [5, 3, 11, 7])],
    ['concat axis 1', () => T.concat([x, y], 1)],
    ['concat axis 3', () => T.concat([x, T.slice(x, [null, null, null, [0, 3]])], 3)],
    ['permute rank 9 (TS fallback)', () => T.permute(T.reshape(T.concat([T.slice(x, [[0, 4], [0, 2], [0, 8], [0, 4]]), T.slice(x, [[1, 5], [0, 2], [0, 8], [0, 4]])], 0), [2, 2, 2, 2, 2, 2, 2, 2, 2]), [8, 7, 6, 5, 4, 3, 2, 1, 0])],
  ];
}

describe.each(['wasm', 'wasm-threads'] as const)('movement in mode %s', (mode) => {
  afterAll(() => T.setCpuKernels('auto'));

  it.each(['small', 'large'] as const)('matches the TS kernels exactly (%s)', async (size) => {
    const shape = size === 'small' ? [5, 3, 11, 7] : [5, 30, 110, 70];
    const x = T.randn(shape, { seed: 1 });
    const y = T.randn([shape[0]!, 2, shape[2]!, shape[3]!], { seed: 2 });
    const ops = opsFor(size === 'small' ? x : T.slice(x, [null, [0, 3], [0, 11], [0, 7]]), size === 'small' ? y : T.slice(y, [null, null, [0, 11], [0, 7]]));
    if (size === 'large') {
      ops.push(
        ['large permute', () => T.permute(x, [3, 1, 2, 0])],
        ['large pad', () => T.pad(x, [[0, 1], [2, 0], [0, 0], [1, 1]], 0)],
        ['large pad of the leading axis (contiguous slabs)', () => T.pad(x, [[2, 1], [0, 0], [0, 0], [0, 0]], 0)],
        ['large slice of leading rows (one contiguous run)', () => T.slice(x, [[1, 4]])],
      );
    }
    for (const [name, run] of ops) {
      T.setCpuKernels('ts');
      const expected = T.tidy(run);
      T.setCpuKernels(mode);
      await T.cpuThreadsReady();
      const actual = T.tidy(run);
      expect(actual.shape, name).toEqual(expected.shape);
      expect(Buffer.from(Float32Array.from(actual.dataSync()).buffer).equals(Buffer.from(Float32Array.from(expected.dataSync()).buffer)), name).toBe(true);
      actual.dispose();
      expected.dispose();
    }
    x.dispose();
    y.dispose();
  });
});

describe('pad value -0', () => {
  afterAll(() => T.setCpuKernels('auto'));

  it.each(['ts', 'wasm'] as const)('is kept as -0 in mode %s (a fresh array holds +0)', (mode) => {
    T.setCpuKernels(mode);
    const x = T.ones([1]);
    const y = T.pad(x, [[2, 1]], -0);
    expect(Array.from(y.dataSync(), (v) => Object.is(v, -0))).toEqual([true, true, false, true]);
    x.dispose();
    y.dispose();
  });
});

describe('splitInner', () => {
  it('splits a long innermost dim into rows for the tasks, keeping strides consistent', () => {
    expect(splitInner([[8192], [1], [1]], 8)).toEqual([[8, 1024], [1024, 1], [1024, 1]]);
    expect(splitInner([[2, 9000], [0, 0], [9000, 1]], 8)).toEqual([[2, 8, 1125], [0, 0, 0], [9000, 1125, 1]]);
    expect(splitInner([[3, 9216], [9216, 2], [9216, 1]], 8)).toEqual([[3, 8, 1152], [9216, 2304, 2], [9216, 1152, 1]]);
  });

  it('leaves copies alone that have enough rows, short rows or no divisor that fits', () => {
    expect(splitInner([[8, 4096], [4096, 1], [4096, 1]], 8)).toEqual([[8, 4096], [4096, 1], [4096, 1]]);
    expect(splitInner([[4096], [1], [1]], 8)).toEqual([[4096], [1], [1]]); // rows would be < 1024
    expect(splitInner([[65537], [1], [1]], 8)).toEqual([[65537], [1], [1]]); // prime
    expect(splitInner([[65536], [1], [1]], 1)).toEqual([[65536], [1], [1]]);
  });
});

describe('mergeDims', () => {
  it('merges contiguous neighbours, drops size-1 dims, keeps the rest apart', () => {
    expect(mergeDims([2, 3, 4], [12, 4, 1], [12, 4, 1])).toEqual([[24], [1], [1]]);
    expect(mergeDims([2, 1, 4], [4, 99, 1], [4, 7, 1])).toEqual([[8], [1], [1]]);
    expect(mergeDims([2, 3, 4], [1, 8, 2], [12, 4, 1])).toEqual([[2, 12], [1, 2], [12, 1]]);
    expect(mergeDims([2, 3, 4], [1, 8, 3], [12, 4, 1])).toEqual([[2, 3, 4], [1, 8, 3], [12, 4, 1]]);
    expect(mergeDims([1, 1], [5, 5], [5, 5])).toEqual([[1], [0], [0]]);
  });
});
