// im2col and col2im for conv2d (NCHW), one image per task, so convolutions run as
// GEMMs over column buffers in the kernels' heap (src/wasm/wasm-conv.ts):
//   cols[(ch*kh + i)*kw + j, y*ow + x] = image[ch, y*sh + i - ph, x*sw + j - pw] (0 outside)
// col2im is its adjoint: it zeroes the image, then adds every column entry back.

import { JOB_ARGS, jobWord } from './job';

export const CONV_C: i32 = JOB_ARGS;
export const CONV_H: i32 = JOB_ARGS + 1;
export const CONV_W: i32 = JOB_ARGS + 2;
export const CONV_KH: i32 = JOB_ARGS + 3;
export const CONV_KW: i32 = JOB_ARGS + 4;
export const CONV_OH: i32 = JOB_ARGS + 5;
export const CONV_OW: i32 = JOB_ARGS + 6;
export const CONV_SH: i32 = JOB_ARGS + 7;
export const CONV_SW: i32 = JOB_ARGS + 8;
export const CONV_PH: i32 = JOB_ARGS + 9;
export const CONV_PW: i32 = JOB_ARGS + 10;
/** Byte addresses of image 0 and of the column buffer of image 0. */
export const CONV_IMAGES: i32 = JOB_ARGS + 11;
export const CONV_COLS: i32 = JOB_ARGS + 12;
/** 1: col2im (columns into images); 0: im2col. */
export const CONV_BACKWARD: i32 = JOB_ARGS + 13;

@inline function f32At(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

export function im2colTask(job: usize, t: i32): void {
  const c = jobWord(job, CONV_C), h = jobWord(job, CONV_H), w = jobWord(job, CONV_W);
  const kh = jobWord(job, CONV_KH), kw = jobWord(job, CONV_KW);
  const oh = jobWord(job, CONV_OH), ow = jobWord(job, CONV_OW);
  const sh = jobWord(job, CONV_SH), sw = jobWord(job, CONV_SW);
  const ph = jobWord(job, CONV_PH), pw = jobWord(job, CONV_PW);
  const backward = jobWord(job, CONV_BACKWARD) != 0;
  const image = <usize>jobWord(job, CONV_IMAGES) + ((<usize>t * c * h * w) << 2);
  const cols = <usize>jobWord(job, CONV_COLS) + ((<usize>t * c * kh * kw * oh * ow) << 2);
  if (backward) memory.fill(image, 0, (<usize>c * h * w) << 2);
  let row = 0;
  for (let ch = 0; ch < c; ch++) {
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        // Output columns x whose input column x*sw + j - pw lies inside the image.
        const x0 = min(ow, max(0, (pw - j + sw - 1) / sw));
        const x1 = max(x0, min(ow, (w + pw - j + sw - 1) / sw));
        for (let y = 0; y < oh; y++) {
          const colRow = f32At(cols, (row * oh + y) * ow);
          const iy = y * sh + i - ph;
          if (iy < 0 || iy >= h) {
            if (!backward) memory.fill(colRow, 0, <usize>ow << 2);
            continue;
          }
          const src = f32At(image, (ch * h + iy) * w + j - pw);
          if (backward) {
            if (sw == 1) {
              let x = x0;
              for (; x + 4 <= x1; x += 4) v128.store(f32At(src, x), f32x4.add(v128.load(f32At(src, x)), v128.load(f32At(colRow, x))));
              for (; x < x1; x++) store<f32>(f32At(src, x), load<f32>(f32At(src, x)) + load<f32>(f32At(colRow, x)));
            } else {
              for (let x = x0; x < x1; x++) store<f32>(f32At(src, x * sw), load<f32>(f32At(src, x * sw)) + load<f32>(f32At(colRow, x)));
            }
          } else {
            memory.fill(colRow, 0, <usize>x0 << 2);
            if (sw == 1) memory.copy(f32At(colRow, x0), f32At(src, x0), <usize>(x1 - x0) << 2);
            else for (let x = x0; x < x1; x++) store<f32>(f32At(colRow, x), load<f32>(f32At(src, x * sw)));
            memory.fill(f32At(colRow, x1), 0, <usize>(ow - x1) << 2);
          }
        }
        row++;
      }
    }
  }
}
