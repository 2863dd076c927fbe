// conv2d (NCHW) as im2col + GEMM, its two backward kernels, and average pooling.
// The GEMM is a parameter (one batched call per chunk of images), so the backend
// can run it in TypeScript or WASM without touching the im2col code.

import type { OpAttrs, TensorMeta, Pool2dAttrs } from '../ops.js';
import type { TensorInfo } from '../backend.js';
import type { BatchedGemm } from '../kernels-common/gemm-batch.js';
import { convGemm, geometry, imagesPerChunk, type ConvGeometry } from '../kernels-common/conv-gemm.js';
import { newF32, tsBatchedGemm, type AllocateF32 } from './matmul.js';

type Info = TensorInfo<Float32Array>;

/** cols[(c*kh + i)*kw + j, y*ow + x] = input[c, y*sh + i - ph, x*sw + j - pw] (0 outside). */
function im2col(src: Float32Array, srcOff: number, g: ConvGeometry, cols: Float32Array): void {
  const { c, h, w, kh, kw, oh, ow, sh, sw, ph, pw } = g;
  let row = 0;
  for (let ch = 0; ch < c; ch++) {
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++, row++) {
        const rowBase = row * oh * ow;
        for (let y = 0; y < oh; y++) {
          const iy = y * sh + i - ph;
          const outBase = rowBase + y * ow;
          if (iy < 0 || iy >= h) {
            cols.fill(0, outBase, outBase + ow);
            continue;
          }
          const inBase = srcOff + (ch * h + iy) * w;
          for (let x = 0; x < ow; x++) {
            const ix = x * sw + j - pw;
            cols[outBase + x] = ix >= 0 && ix < w ? src[inBase + ix]! : 0;
          }
        }
      }
    }
  }
}

/** The adjoint of im2col: accumulates columns back into an image. */
function col2im(cols: Float32Array, g: ConvGeometry, dst: Float32Array, dstOff: number): void {
  const { c, h, w, kh, kw, oh, ow, sh, sw, ph, pw } = g;
  let row = 0;
  for (let ch = 0; ch < c; ch++) {
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++, row++) {
        const rowBase = row * oh * ow;
        for (let y = 0; y < oh; y++) {
          const iy = y * sh + i - ph;
          if (iy < 0 || iy >= h) continue;
          const inBase = dstOff + (ch * h + iy) * w;
          for (let x = 0; x < ow; x++) {
            const ix = x * sw + j - pw;
            if (ix >= 0 && ix < w) dst[inBase + ix] = dst[inBase + ix]! + cols[rowBase + y * ow + x]!;
          }
        }
      }
    }
  }
}

/** The column buffer of one chunk of images and the GEMM sizes every conv kernel uses. */
function columnWorkspace(g: ConvGeometry) {
  const ckk = g.c * g.kh * g.kw;
  const spatial = g.oh * g.ow;
  const chunk = imagesPerChunk(g);
  const cols = new Float32Array(chunk * ckk * spatial); // [chunk, CKK, OHW]
  return { ckk, spatial, chunk, cols };
}

export function conv2d(
  inputs: readonly Info[],
  attrs: OpAttrs['conv2d'],
  out: TensorMeta,
  gemm: BatchedGemm = tsBatchedGemm,
  allocate: AllocateF32 = newF32,
): Float32Array {
  const [x, f] = inputs as [Info, Info];
  const g = geometry(x.shape, f.shape, out.shape, attrs);
  const { ckk, spatial, chunk, cols } = columnWorkspace(g);
  const y = allocate(g.n * g.o * spatial);
  for (let b0 = 0; b0 < g.n; b0 += chunk) {
    const count = Math.min(chunk, g.n - b0);
    for (let i = 0; i < count; i++) im2col(x.buffer, (b0 + i) * g.c * g.h * g.w, g, cols.subarray(i * ckk * spatial));
    gemm(convGemm.forward(g, f.buffer, cols, y, b0, count));
  }
  return y;
}

export function conv2dBackpropInput(
  inputs: readonly Info[],
  attrs: OpAttrs['conv2dBackpropInput'],
  out: TensorMeta,
  gemm: BatchedGemm = tsBatchedGemm,
  allocate: AllocateF32 = newF32,
): Float32Array {
  const [dy, f] = inputs as [Info, Info];
  const g = geometry(attrs.inputShape, f.shape, dy.shape, attrs);
  const { ckk, spatial, chunk, cols } = columnWorkspace(g);
  const dx = allocate(g.n * g.c * g.h * g.w).fill(0); // col2im accumulates into it
  for (let b0 = 0; b0 < g.n; b0 += chunk) {
    const count = Math.min(chunk, g.n - b0);
    gemm(convGemm.input(g, f.buffer, dy.buffer, cols, b0, count));
    for (let i = 0; i < count; i++) col2im(cols.subarray(i * ckk * spatial), g, dx, (b0 + i) * g.c * g.h * g.w);
  }
  void out;
  return dx;
}

export function conv2dBackpropFilter(
  inputs: readonly Info[],
  attrs: OpAttrs['conv2dBackpropFilter'],
  out: TensorMeta,
  gemm: BatchedGemm = tsBatchedGemm,
  allocate: AllocateF32 = newF32,
): Float32Array {
  const [x, dy] = inputs as [Info, Info];
  const g = geometry(x.shape, attrs.filterShape, dy.shape, attrs);
  const { ckk, spatial, chunk, cols } = columnWorkspace(g);
  const df = allocate(g.o * ckk);
  if (g.n === 0) df.fill(0); // no image: an empty sum
  for (let b0 = 0; b0 < g.n; b0 += chunk) {
    const count = Math.min(chunk, g.n - b0);
    for (let i = 0; i < count; i++) im2col(x.buffer, (b0 + i) * g.c * g.h * g.w, g, cols.subarray(i * ckk * spatial));
    gemm(convGemm.filter(g, dy.buffer, cols, df, b0, count));
  }
  void out;
  return df;
}

function poolGeometry(inShape: readonly number[], outShape: readonly number[], a: Pool2dAttrs) {
  const [n, c, h, w] = inShape as [number, number, number, number];
  const [, , oh, ow] = outShape as [number, number, number, number];
  return { planes: n * c, h, w, oh, ow, kh: a.kernel[0], kw: a.kernel[1], sh: a.stride[0], sw: a.stride[1], ph: a.padding[0], pw: a.padding[1] };
}

export function avgPool2d(x: Info, attrs: OpAttrs['avgPool2d'], out: TensorMeta): Float32Array {
  const g = poolGeometry(x.shape, out.shape, attrs);
  const y = new Float32Array(g.planes * g.oh * g.ow);
  const scale = 1 / (g.kh * g.kw);
  const src = x.buffer;
  for (let p = 0; p < g.planes; p++) {
    for (let oy = 0; oy < g.oh; oy++) {
      for (let ox = 0; ox < g.ow; ox++) {
        let acc = 0;
        for (let i = 0; i < g.kh; i++) {
          const iy = oy * g.sh + i - g.ph;
          if (iy < 0 || iy >= g.h) continue;
          for (let j = 0; j < g.kw; j++) {
            const ix = ox * g.sw + j - g.pw;
            if (ix >= 0 && ix < g.w) acc += src[(p * g.h + iy) * g.w + ix]!;
          }
        }
        y[(p * g.oh + oy) * g.ow + ox] = acc * scale;
      }
    }
  }
  return y;
}

export function avgPool2dBackprop(dy: Info, attrs: OpAttrs['avgPool2dBackprop'], out: TensorMeta): Float32Array {
  const g = poolGeometry(attrs.inputShape, dy.shape, attrs);
  const dx = new Float32Array(g.planes * g.h * g.w);
  const scale = 1 / (g.kh * g.kw);
  const grad = dy.buffer;
  for (let p = 0; p < g.planes; p++) {
    for (let oy = 0; oy < g.oh; oy++) {
      for (let ox = 0; ox < g.ow; ox++) {
        const v = grad[(p * g.oh + oy) * g.ow + ox]! * scale;
        for (let i = 0; i < g.kh; i++) {
          const iy = oy * g.sh + i - g.ph;
          if (iy < 0 || iy >= g.h) continue;
          for (let j = 0; j < g.kw; j++) {
            const ix = ox * g.sw + j - g.pw;
            if (ix >= 0 && ix < g.w) dx[(p * g.h + iy) * g.w + ix]! += v;
          }
        }
      }
    }
  }
  void out;
  return dx;
}
