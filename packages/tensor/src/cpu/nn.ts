// Fused kernels for softmax, logSoftmax and layerNorm: one pass per row, computed
// in float64 for stability, written back as float32.

import type { TensorInfo } from '../backend.js';
import { normalizeAxis, sizeOf } from '../shape.js';

type Info = TensorInfo<Float32Array>;

/** Iterates rows along `axis`: calls body(base, stride, length) for each of the other positions. */
function forEachRow(shape: readonly number[], axis: number, body: (base: number, stride: number, length: number) => void): void {
  const length = shape[axis]!;
  const inner = sizeOf(shape.slice(axis + 1));
  const outer = sizeOf(shape.slice(0, axis));
  for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) body(o * length * inner + j, inner, length);
}

export function softmax(x: Info, axis: number, log: boolean): Float32Array {
  const src = x.buffer;
  const out = new Float32Array(src.length);
  forEachRow(x.shape, normalizeAxis('softmax', axis, x.shape.length), (base, stride, length) => {
    let max = -Infinity;
    for (let i = 0; i < length; i++) max = Math.max(max, src[base + i * stride]!);
    if (max === -Infinity) max = 0; // a row of -inf: keep exp() finite so the output is NaN-free where possible
    let sum = 0;
    for (let i = 0; i < length; i++) sum += Math.exp(src[base + i * stride]! - max);
    if (log) {
      const logSum = Math.log(sum) + max;
      for (let i = 0; i < length; i++) out[base + i * stride] = src[base + i * stride]! - logSum;
    } else {
      for (let i = 0; i < length; i++) out[base + i * stride] = Math.exp(src[base + i * stride]! - max) / sum;
    }
  });
  return out;
}

/** Row statistics of layerNorm in float64: the mean and 1 / sqrt(var + eps). */
function rowStats(src: Float32Array, base: number, d: number, eps: number): [number, number] {
  let mean = 0;
  for (let i = 0; i < d; i++) mean += src[base + i]!;
  mean /= d;
  let variance = 0;
  for (let i = 0; i < d; i++) variance += (src[base + i]! - mean) ** 2;
  return [mean, 1 / Math.sqrt(variance / d + eps)];
}

export function layerNorm(x: Info, eps: number): Float32Array {
  const src = x.buffer;
  const out = new Float32Array(src.length);
  const d = x.shape.at(-1)!;
  for (let base = 0; base < src.length; base += d) {
    const [mean, rstd] = rowStats(src, base, d, eps);
    for (let i = 0; i < d; i++) out[base + i] = (src[base + i]! - mean) * rstd;
  }
  return out;
}

/** dx = rstd (g - mean(g) - y mean(g y)) per row, with y = (x - mean) rstd recomputed from x. */
export function layerNormBackward(g: Info, x: Info, eps: number): Float32Array {
  const src = x.buffer;
  const grad = g.buffer;
  const out = new Float32Array(src.length);
  const d = x.shape.at(-1)!;
  for (let base = 0; base < src.length; base += d) {
    const [mean, rstd] = rowStats(src, base, d, eps);
    let gSum = 0;
    let gySum = 0;
    for (let i = 0; i < d; i++) {
      gSum += grad[base + i]!;
      gySum += grad[base + i]! * (src[base + i]! - mean) * rstd;
    }
    const gMean = gSum / d;
    const gyMean = gySum / d;
    for (let i = 0; i < d; i++) out[base + i] = rstd * (grad[base + i]! - gMean - (src[base + i]! - mean) * rstd * gyMean);
  }
  return out;
}
