// The one description of a batched matrix product that every CPU GEMM consumer
// (matmul, the conv kernels) produces and every GEMM implementation (TypeScript in
// cpu/matmul.ts, WASM SIMD in wasm/wasm-gemm.ts) runs. It lives outside both folders
// so the WASM kernels need nothing from the CPU backend that calls them.

/**
 * C_t (+)= op(A_t) . op(B_t) for every item t of a batch, where op(A_t) is m x k and
 * op(B_t) is k x n. Item t reads A at aOffsets[t] (stored [m, k], or [k, m] when
 * transA), B at bOffsets[t] (stored [k, n], or [n, k] when transB) and writes the
 * row-major [m, n] block of C at cOffsets[t]. Items either all write the same C block
 * (their products are summed) or write disjoint blocks.
 */
export interface GemmBatch {
  readonly a: Float32Array;
  readonly b: Float32Array;
  readonly c: Float32Array;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly transA: boolean;
  readonly transB: boolean;
  readonly aOffsets: readonly number[];
  readonly bOffsets: readonly number[];
  readonly cOffsets: readonly number[];
  /** Add to C's contents instead of overwriting them. */
  readonly accumulate: boolean;
}

export type BatchedGemm = (call: GemmBatch) => void;
