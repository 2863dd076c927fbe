// permute, expand, slice, pad and concat through the WASM strided copy must give
// exactly what the TypeScript kernels give (they only move values), for ranks up to
// 9 (above 8 the TS kernel takes over), odd sizes, broadcasts and multi-threaded
// splits; mergeDims must only merge dims that are contiguous on both sides.

import { afterAll, describe, expect, it } from 'vitest';
import * as T from '@gpt/tensor';
import { mergeDims } from '../../src/wasm/wasm-movement.js';

type Op = [string, () => T.Tensor];

function opsFor(x: T.Tensor, y: T.Tensor): Op[] {
  return [
    ['permute 4-D', () => T.permute(x, [2, 0, 3, 1])],
    ['transpose last two', () => T.transpose(x)],
    ['slice', () => T.slice(x, [[1, 4], null, [2, 9], [0, 5]])],
    ['slice one index', () => T.slice(x, [null, 2])],
    ['pad', () => T.pad(x, [[1, 2], [0, 0], [3, 1], [0, 4]], 0.5)],
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
    if (size === 'large') ops.push(['large permute', () => T.permute(x, [3, 1, 2, 0])], ['large pad', () => T.pad(x, [[0, 1], [2, 0], [0, 0], [1, 1]], 0)]);
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

describe('mergeDims', () => {
  it('merges contiguous neighbours, drops size-1 dims, keeps the rest apart', () => {
    expect(mergeDims([2, 3, 4], [12, 4, 1], [12, 4, 1])).toEqual([[24], [1], [1]]);
    expect(mergeDims([2, 1, 4], [4, 99, 1], [4, 7, 1])).toEqual([[8], [1], [1]]);
    expect(mergeDims([2, 3, 4], [1, 8, 2], [12, 4, 1])).toEqual([[2, 12], [1, 2], [12, 1]]);
    expect(mergeDims([2, 3, 4], [1, 8, 3], [12, 4, 1])).toEqual([[2, 3, 4], [1, 8, 3], [12, 4, 1]]);
    expect(mergeDims([1, 1], [5, 5], [5, 5])).toEqual([[1], [0], [0]]);
  });
});
