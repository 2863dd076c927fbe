// The geometry of a conv2d (NCHW) call and the batched GEMMs its im2col formulation
// runs per chunk of images: shared by the TypeScript kernels (cpu/conv.ts) and the
// WASM ones (wasm/wasm-conv.ts), so both chunk and multiply the same way, and kept
// apart from both so the WASM side imports nothing from the CPU backend.

import type { Conv2dAttrs } from '../ops.js';
import type { GemmBatch } from './gemm-batch.js';

export interface ConvGeometry {
  n: number; c: number; h: number; w: number;
  o: number; kh: number; kw: number;
  oh: number; ow: number;
  sh: number; sw: number; ph: number; pw: number;
}

export function geometry(xShape: readonly number[], wShape: readonly number[], yShape: readonly number[], a: Conv2dAttrs): ConvGeometry {
  const [n, c, h, w] = xShape as [number, number, number, number];
  const [o, , kh, kw] = wShape as [number, number, number, number];
  const [, , oh, ow] = yShape as [number, number, number, number];
  return { n, c, h, w, o, kh, kw, oh, ow, sh: a.stride[0], sw: a.stride[1], ph: a.padding[0], pw: a.padding[1] };
}

/** Images per im2col chunk: bounds the column buffer to about 64 MiB. */
export function imagesPerChunk(g: ConvGeometry): number {
  return Math.max(1, Math.min(g.n, Math.floor(2 ** 24 / Math.max(1, g.c * g.kh * g.kw * g.oh * g.ow))));
}

/** Offsets start, start+step, ... (count of them). */
function steps(count: number, start: number, step: number): number[] {
  return Array.from({ length: count }, (_, i) => start + i * step);
}

/**
 * The one batched GEMM per chunk of `count` images (from image `b0`) of each conv
 * kernel, over a column buffer [count, CKK, OHW]; the WASM path runs the same calls.
 */
export const convGemm = {
  /** y_b [O, OHW] = W [O, CKK] . cols_b [CKK, OHW] */
  forward(g: ConvGeometry, w: Float32Array, cols: Float32Array, y: Float32Array, b0: number, count: number): GemmBatch {
    const [ckk, spatial] = [g.c * g.kh * g.kw, g.oh * g.ow];
    return {
      a: w, b: cols, c: y, m: g.o, n: spatial, k: ckk, transA: false, transB: false,
      aOffsets: steps(count, 0, 0), bOffsets: steps(count, 0, ckk * spatial), cOffsets: steps(count, b0 * g.o * spatial, g.o * spatial),
      accumulate: false,
    };
  },
  /** cols_b [CKK, OHW] = W^T [CKK, O] . dy_b [O, OHW] */
  input(g: ConvGeometry, w: Float32Array, dy: Float32Array, cols: Float32Array, b0: number, count: number): GemmBatch {
    const [ckk, spatial] = [g.c * g.kh * g.kw, g.oh * g.ow];
    return {
      a: w, b: dy, c: cols, m: ckk, n: spatial, k: g.o, transA: true, transB: false,
      aOffsets: steps(count, 0, 0), bOffsets: steps(count, b0 * g.o * spatial, g.o * spatial), cOffsets: steps(count, 0, ckk * spatial),
      accumulate: false,
    };
  },
  /** dW [O, CKK] (+)= sum_b dy_b [O, OHW] . cols_b^T [OHW, CKK]; the first chunk overwrites. */
  filter(g: ConvGeometry, dy: Float32Array, cols: Float32Array, dw: Float32Array, b0: number, count: number): GemmBatch {
    const [ckk, spatial] = [g.c * g.kh * g.kw, g.oh * g.ow];
    return {
      a: dy, b: cols, c: dw, m: g.o, n: ckk, k: spatial, transA: false, transB: true,
      aOffsets: steps(count, b0 * g.o * spatial, g.o * spatial), bOffsets: steps(count, 0, ckk * spatial), cOffsets: steps(count, 0, 0),
      accumulate: b0 > 0,
    };
  },
};
