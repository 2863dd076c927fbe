// torch.matmul semantics in float64, by the definition C[i, j] = sum_k A[i, k] B[k, j]:
// 1-D operands are promoted (row on the left, column on the right) and their axis
// dropped afterwards; batch dims broadcast; trans* read an operand's last two axes swapped.

import { broadcastRead, broadcastShape, sizeOf, unravel, type NdArray } from './nd-array.js';

function swapLastTwo(x: NdArray): NdArray {
  const r = x.shape.length;
  const rows = x.shape[r - 2]!;
  const cols = x.shape[r - 1]!;
  const shape = [...x.shape.slice(0, -2), cols, rows];
  const data = new Float64Array(x.data.length);
  const batch = sizeOf(x.shape.slice(0, -2));
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[b * rows * cols + j * rows + i] = x.data[b * rows * cols + i * cols + j]!;
  }
  return { shape, dtype: x.dtype, data };
}

export function matmul(a: NdArray, b: NdArray, options: { transA?: boolean; transB?: boolean } = {}): NdArray {
  let left = a.shape.length === 1 ? { ...a, shape: [1, a.shape[0]!] } : a;
  let right = b.shape.length === 1 ? { ...b, shape: [b.shape[0]!, 1] } : b;
  if (options.transA) left = swapLastTwo(left);
  if (options.transB) right = swapLastTwo(right);
  const m = left.shape.at(-2)!;
  const k = left.shape.at(-1)!;
  const n = right.shape.at(-1)!;
  if (right.shape.at(-2) !== k) throw new Error('reference matmul: inner dimensions differ');
  const batch = broadcastShape(left.shape.slice(0, -2), right.shape.slice(0, -2));
  const shape = [...batch, m, n];
  const data = new Float64Array(sizeOf(shape));
  for (let t = 0; t < data.length; t++) {
    const coords = unravel(t, shape);
    const i = coords.at(-2)!;
    const j = coords.at(-1)!;
    const batchCoords = coords.slice(0, -2);
    let acc = 0;
    for (let p = 0; p < k; p++) {
      acc += broadcastRead(left, [...batchCoords, i, p]) * broadcastRead(right, [...batchCoords, p, j]);
    }
    data[t] = acc;
  }
  let outShape = shape;
  if (a.shape.length === 1) outShape = [...outShape.slice(0, -2), outShape.at(-1)!];
  if (b.shape.length === 1) outShape = outShape.slice(0, -1);
  return { shape: outShape, dtype: 'float32', data };
}
