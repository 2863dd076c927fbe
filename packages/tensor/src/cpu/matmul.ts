// Matrix products on the CPU. Every matmul variant and the conv2d kernels describe
// their work as one batched GEMM (GemmBatch, kernels-common/gemm-batch.ts) and hand
// it to the backend's BatchedGemm: the plain-TypeScript one below, or the WASM SIMD
// one (src/wasm/) that the kernel policy (kernel-policy.ts) picks per call. The TS
// kernel packs transposed operands into row-major copies (O(n^2)) so one i-k-j loop
// with k unrolled by 4 serves every variant; that loop order streams rows of B and C
// and runs ~2 GFLOP/s in V8.

import { matmulShapes, type OpAttrs, type TensorMeta } from '../ops.js';
import { broadcastStrides, sizeOf, stridesOf } from '../shape.js';
import type { TensorInfo } from '../backend.js';
import { checkBias, type BatchedGemm } from '../kernels-common/gemm-batch.js';

/** Allocates a float32 result, contents unspecified (the backend may place it where its kernels work in place). */
export type AllocateF32 = (count: number) => Float32Array;

export const newF32: AllocateF32 = (count) => new Float32Array(count);

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

/** Row-major copies of the transposed blocks a batch reads, one per distinct offset. */
function untransposed(src: Float32Array, offsets: readonly number[], rows: number, cols: number): Map<number, Float32Array> {
  const copies = new Map<number, Float32Array>();
  for (const offset of offsets) {
    if (!copies.has(offset)) copies.set(offset, transposeLast2(src.subarray(offset, offset + rows * cols), 1, rows, cols));
  }
  return copies;
}

/**
 * Sets the [m, n] block of C at `offset` to zeros or to the bias in every row. The rows are
 * filled by doubling copies (log2(m) calls): one set() per row cost as much as an add pass.
 */
function startBlock(c: Float32Array, offset: number, m: number, n: number, bias: Float32Array | undefined): void {
  const size = m * n;
  if (!bias || size === 0) {
    c.fill(0, offset, offset + size);
    return;
  }
  c.set(bias, offset);
  for (let filled = n; filled < size; filled *= 2) c.copyWithin(offset + filled, offset, offset + Math.min(filled, size - filled));
}

/** The portable BatchedGemm: plain TypeScript, one thread. */
export const tsBatchedGemm: BatchedGemm = (g) => {
  const { m, n, k } = g;
  checkBias(g);
  const aCopies = g.transA ? untransposed(g.a, g.aOffsets, k, m) : null;
  const bCopies = g.transB ? untransposed(g.b, g.bOffsets, n, k) : null;
  if (!g.accumulate) for (const offset of new Set(g.cOffsets)) startBlock(g.c, offset, m, n, g.bias);
  for (let t = 0; t < g.cOffsets.length; t++) {
    const [a, aOff] = aCopies ? [aCopies.get(g.aOffsets[t]!)!, 0] : [g.a, g.aOffsets[t]!];
    const [b, bOff] = bCopies ? [bCopies.get(g.bOffsets[t]!)!, 0] : [g.b, g.bOffsets[t]!];
    gemm(a, aOff, b, bOff, g.c, g.cOffsets[t]!, m, n, k);
  }
};

/** Element offsets of each batch item of a broadcast matmul, for A, B and C. */
function batchOffsets(aShape: readonly number[], bShape: readonly number[], batch: readonly number[], m: number, n: number, k: number) {
  const aStrides = broadcastStrides(aShape.slice(0, -2), batch);
  const bStrides = broadcastStrides(bShape.slice(0, -2), batch);
  const batchStrides = stridesOf(batch);
  const total = sizeOf(batch);
  const aOffsets: number[] = new Array(total);
  const bOffsets: number[] = new Array(total);
  const cOffsets: number[] = new Array(total);
  // Neither operand broadcast (attention's [B, H] batches): item t is block t of each.
  if (sizeOf(aShape.slice(0, -2)) === total && sizeOf(bShape.slice(0, -2)) === total) {
    for (let t = 0; t < total; t++) {
      aOffsets[t] = t * m * k;
      bOffsets[t] = t * k * n;
      cOffsets[t] = t * m * n;
    }
    return { aOffsets, bOffsets, cOffsets };
  }
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
    aOffsets[t] = ai * m * k;
    bOffsets[t] = bi * k * n;
    cOffsets[t] = t * m * n;
  }
  return { aOffsets, bOffsets, cOffsets };
}

export function matmul(
  inputs: readonly TensorInfo<Float32Array>[],
  attrs: OpAttrs['matmul'],
  out: TensorMeta,
  batched: BatchedGemm = tsBatchedGemm,
  allocate: AllocateF32 = newF32,
): Float32Array {
  const [A, B, bias] = inputs as [TensorInfo<Float32Array>, TensorInfo<Float32Array>, TensorInfo<Float32Array>?];
  const { batch, m, k, n } = matmulShapes(A.shape, B.shape, attrs);
  const c = allocate(sizeOf(out.shape));
  const { transA, transB } = attrs;
  // The bias goes to the GEMM, which starts every row of C from it (no add pass over C).
  const gemmBias = attrs.bias === true && bias !== undefined ? bias.buffer : undefined;
  const offsets = batchOffsets(A.shape, B.shape, batch, m, n, k);
  const items = offsets.cOffsets.length;
  // x [..., M, K] . W [K, N] with one shared W: the batch rows stack into a single
  // [items*M, K] matrix, so the product is one big GEMM instead of many small ones.
  const stacked = !transA && items > 1 && offsets.bOffsets.every((o) => o === 0) && offsets.aOffsets.every((o, t) => o === t * m * k);
  if (stacked) {
    batched({ a: A.buffer, b: B.buffer, c, m: items * m, n, k, transA, transB, aOffsets: [0], bOffsets: [0], cOffsets: [0], accumulate: false, bias: gemmBias });
  } else {
    batched({ a: A.buffer, b: B.buffer, c, m, n, k, transA, transB, ...offsets, accumulate: false, bias: gemmBias });
  }
  return c;
}
