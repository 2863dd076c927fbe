import ndarray from 'ndarray';
import { describe, expect, it } from 'vitest';
import { arange, tensor } from '@gpt/tensor';
import { fromNdarray, toNdarray } from '@gpt/tensor/ndarray';

describe('@gpt/tensor/ndarray', () => {
  it('round-trips shape, values and dtype', () => {
    const t = arange(0, 12, 1, { dtype: 'float32' }).reshape([3, 4]);
    const arr = toNdarray(t);
    expect(arr.shape).toEqual([3, 4]);
    expect(arr.get(2, 1)).toBe(9);
    const back = fromNdarray(arr);
    expect(back.shape).toEqual([3, 4]);
    expect(Array.from(back.dataSync())).toEqual(Array.from(t.dataSync()));
    const ints = fromNdarray(ndarray(new Int32Array([1, 2, 3]), [3]));
    expect(ints.dtype).toBe('int32');
  });

  it('reads transposed, offset and stepped views by their strides', () => {
    const base = ndarray(new Float32Array([0, 1, 2, 3, 4, 5]), [2, 3]);
    expect(fromNdarray(base.transpose(1, 0)).toArray()).toEqual([[0, 3], [1, 4], [2, 5]]);
    expect(fromNdarray(base.lo(0, 1)).toArray()).toEqual([[1, 2], [4, 5]]);
    expect(fromNdarray(base.step(1, -1)).toArray()).toEqual([[2, 1, 0], [5, 4, 3]]);
    expect(fromNdarray(base.pick(1, null)).toArray()).toEqual([3, 4, 5]);
  });

  it('copies: writing the ndarray does not change the tensor', () => {
    const t = tensor([1, 2, 3]);
    const arr = toNdarray(t);
    arr.set(0, 100);
    expect(t.toArray()).toEqual([1, 2, 3]);
  });
});
