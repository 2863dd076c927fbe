// Plain-TypeScript GEMM: the portable fallback. Transposed operands are packed into
// row-major copies first (O(n^2)), so one i-k-j kernel with k unrolled by 4 serves
// every variant; that loop order streams rows of B and C and runs ~2 GFLOP/s in V8.

import { matmulShapes, type OpAttrs, type TensorMeta } from '../ops.js';
import { broadcastStrides, sizeOf, stridesOf } from '../shape.js';
import type { TensorInfo } from '../backend.js';

/** C[m, n] += A[m, k] * B[k, n], all row-major at the given offsets. */
export function gemm(
  a: Float32Array,
  aOff: number,
  b: Float32Array,
  bOff: number,
  c: Float32Array,
  cOff: number,
  m: number,
  n: number,
  k: number,
): void {
  for (let i = 0; i < m; i++) {
    const ci = cOff + i * n;
    const ai = aOff + i * k;
    let p = 0;
    for (; p + 3 < k; p += 4) {
      const a0 = a[ai + p]!;
      const a1 = a[ai + p + 1]!;
      const a2 = a[ai + p + 2]!;
      const a3 = a[ai + p + 3]!;
      const b0 = bOff + p * n;
      const b1 = b0 + n;
      const b2 = b1 + n;
      const b3 = b2 + n;
      for (let j = 0; j < n; j++) {
        c[ci + j] = c[ci + j]! + a0 * b[b0 + j]! + a1 * b[b1 + j]! + a2 * b[b2 + j]! + a3 * b[b3 + j]!;
      }
    }
    for (; p < k; p++) {
      const ap = a[ai + p]!;
      const bp = bOff + p * n;
      for (let j = 0; j < n; j++) c[ci + j] = c[ci + j]! + ap * b[bp + j]!;
    }
  }
}

/** Copies each [rows, cols] matrix of a batch into [cols, rows]. */
export function transposeLast2(src: Float32Array, batch: number, rows: number, cols: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let b = 0; b < batch; b++) {
    const base = b * rows * cols;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) out[base + c * rows + r] = src[base + r * cols + c]!;
    }
  }
  return out;
}

/** The GEMM used for one [m,k]x[k,n] product; the WASM backend swaps in a faster one. */
export type Gemm = typeof gemm;

export function matmul(
  inputs: readonly TensorInfo<Float32Array>[],
  attrs: OpAttrs['matmul'],
  out: TensorMeta,
  kernel: Gemm = gemm,
): Float32Array {
  const [A, B] = inputs as [TensorInfo<Float32Array>, TensorInfo<Float32Array>];
  const { batch, m, k, n } = matmulShapes(A.shape, B.shape, attrs);
  const aBatch = sizeOf(A.shape.slice(0, -2));
  const bBatch = sizeOf(B.shape.slice(0, -2));
  const a = attrs.transA ? transposeLast2(A.buffer, aBatch, k, m) : A.buffer;
  const b = attrs.transB ? transposeLast2(B.buffer, bBatch, n, k) : B.buffer;
  const c = new Float32Array(sizeOf(out.shape));
  // Matrix index within each operand's batch, following broadcast batch dims.
  const aStrides = broadcastStrides(A.shape.slice(0, -2), batch);
  const bStrides = broadcastStrides(B.shape.slice(0, -2), batch);
  const batchStrides = stridesOf(batch);
  const total = sizeOf(batch);
  for (let t = 0; t < total; t++) {
    let ai = 0;
    let bi = 0;
    let rem = t;
    for (let d = 0; d < batch.length; d++) {
      const coord = Math.floor(rem / batchStrides[d]!);
      rem -= coord * batchStrides[d]!;
      ai += coord * aStrides[d]!;
      bi += coord * bStrides[d]!;
    }
    kernel(a, ai * m * k, b, bi * k * n, c, t * m * n, m, n, k);
  }
  return c;
}
