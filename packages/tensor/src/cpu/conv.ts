// conv2d (NCHW) as im2col + GEMM, its two backward kernels, and average pooling.
// The GEMM is a parameter so faster backends can reuse the packing code.

import type { OpAttrs, TensorMeta, Conv2dAttrs, Pool2dAttrs } from '../ops.js';
import type { TensorInfo } from '../backend.js';
import { gemm as tsGemm, transposeLast2, type Gemm } from './matmul.js';

type Info = TensorInfo<Float32Array>;

interface ConvGeometry {
  n: number; c: number; h: number; w: number;
  o: number; kh: number; kw: number;
  oh: number; ow: number;
  sh: number; sw: number; ph: number; pw: number;
}

function geometry(xShape: readonly number[], wShape: readonly number[], yShape: readonly number[], a: Conv2dAttrs): ConvGeometry {
  const [n, c, h, w] = xShape as [number, number, number, number];
  const [o, , kh, kw] = wShape as [number, number, number, number];
  const [, , oh, ow] = yShape as [number, number, number, number];
  return { n, c, h, w, o, kh, kw, oh, ow, sh: a.stride[0], sw: a.stride[1], ph: a.padding[0], pw: a.padding[1] };
}

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

export function conv2d(inputs: readonly Info[], attrs: OpAttrs['conv2d'], out: TensorMeta, gemm: Gemm = tsGemm): Float32Array {
  const [x, f] = inputs as [Info, Info];
  const g = geometry(x.shape, f.shape, out.shape, attrs);
  const ckk = g.c * g.kh * g.kw;
  const spatial = g.oh * g.ow;
  const cols = new Float32Array(ckk * spatial);
  const y = new Float32Array(g.n * g.o * spatial);
  for (let b = 0; b < g.n; b++) {
    im2col(x.buffer, b * g.c * g.h * g.w, g, cols);
    gemm(f.buffer, 0, cols, 0, y, b * g.o * spatial, g.o, spatial, ckk); // [O, CKK] x [CKK, OHW]
  }
  return y;
}

export function conv2dBackpropInput(
  inputs: readonly Info[],
  attrs: OpAttrs['conv2dBackpropInput'],
  out: TensorMeta,
  gemm: Gemm = tsGemm,
): Float32Array {
  const [dy, f] = inputs as [Info, Info];
  const g = geometry(attrs.inputShape, f.shape, dy.shape, attrs);
  const ckk = g.c * g.kh * g.kw;
  const spatial = g.oh * g.ow;
  const fT = transposeLast2(f.buffer, 1, g.o, ckk); // [CKK, O]
  const cols = new Float32Array(ckk * spatial);
  const dx = new Float32Array(g.n * g.c * g.h * g.w);
  for (let b = 0; b < g.n; b++) {
    cols.fill(0);
    gemm(fT, 0, dy.buffer, b * g.o * spatial, cols, 0, ckk, spatial, g.o); // [CKK, O] x [O, OHW]
    col2im(cols, g, dx, b * g.c * g.h * g.w);
  }
  void out;
  return dx;
}

export function conv2dBackpropFilter(
  inputs: readonly Info[],
  attrs: OpAttrs['conv2dBackpropFilter'],
  out: TensorMeta,
  gemm: Gemm = tsGemm,
): Float32Array {
  const [x, dy] = inputs as [Info, Info];
  const g = geometry(x.shape, attrs.filterShape, dy.shape, attrs);
  const ckk = g.c * g.kh * g.kw;
  const spatial = g.oh * g.ow;
  const cols = new Float32Array(ckk * spatial);
  const df = new Float32Array(g.o * ckk);
  for (let b = 0; b < g.n; b++) {
    im2col(x.buffer, b * g.c * g.h * g.w, g, cols);
    const colsT = transposeLast2(cols, 1, ckk, spatial); // [OHW, CKK]
    gemm(dy.buffer, b * g.o * spatial, colsT, 0, df, 0, g.o, ckk, spatial); // [O, OHW] x [OHW, CKK]
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
