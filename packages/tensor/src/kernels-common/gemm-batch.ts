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
  /**
   * [n], the start of every row of each C block in place of 0 (C = bias + op(A) . op(B)):
   * a Linear layer's bias, added as C is first written rather than by a pass of its own.
   * Only without `accumulate`.
   */
  readonly bias?: Float32Array;
}

export type BatchedGemm = (call: GemmBatch) => void;

/** Throws unless a GEMM's bias is absent or [n] without accumulate (the contract of GemmBatch.bias). */
export function checkBias(g: { readonly bias?: Float32Array; readonly n: number; readonly accumulate: boolean }): void {
  if (!g.bias) return;
  if (g.accumulate) throw new Error('gemm: a bias cannot be combined with accumulate');
  if (g.bias.length !== g.n) throw new Error(`gemm: bias has ${g.bias.length} values, expected n = ${g.n}`);
}

