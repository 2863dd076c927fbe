// Neural-network functions in float64 from their definitions: softmax family,
// layer norm, direct-loop convolution (and its two adjoints), average pooling,
// losses and dropout given its keep mask.

import { generate } from './movement.js';
import { mapBroadcast, normalizeAxis, ravel, sizeOf, unravel, type NdArray } from './nd-array.js';

/** Applies `fn` to every 1-D line of x along `axis`. */
function mapLines(x: NdArray, axis: number, fn: (line: number[]) => number[]): NdArray {
  const ax = normalizeAxis(axis, x.shape.length);
  const data = new Float64Array(x.data.length);
  const others = x.shape.map((d, i) => (i === ax ? 1 : d));
  for (let o = 0; o < sizeOf(others); o++) {
    const base = unravel(o, others);
    const positions = Array.from({ length: x.shape[ax]! }, (_, k) => ravel(base.map((c, i) => (i === ax ? k : c)), x.shape));
    const result = fn(positions.map((p) => x.data[p]!));
    positions.forEach((p, k) => (data[p] = result[k]!));
  }
  return { shape: [...x.shape], dtype: x.dtype, data };
}

export function softmax(x: NdArray, axis = -1): NdArray {
  return mapLines(x, axis, (line) => {
    const m = Math.max(...line);
    const e = line.map((v) => Math.exp(v - m));
    const total = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / total);
  });
}

export function logSoftmax(x: NdArray, axis = -1): NdArray {
  return mapLines(x, axis, (line) => {
    const m = Math.max(...line);
    const logTotal = Math.log(line.reduce((a, v) => a + Math.exp(v - m), 0)) + m;
    return line.map((v) => v - logTotal);
  });
}

/** (x - mean) / sqrt(var + eps) over the last axis (biased variance), then * weight + bias. */
export function layerNorm(x: NdArray, weight?: NdArray | null, bias?: NdArray | null, eps = 1e-5): NdArray {
  return mapLines(x, -1, (line) => {
    const mu = line.reduce((a, b) => a + b, 0) / line.length;
    const v = line.reduce((a, b) => a + (b - mu) ** 2, 0) / line.length;
    return line.map((value, k) => ((value - mu) / Math.sqrt(v + eps)) * (weight ? weight.data[k]! : 1) + (bias ? bias.data[k]! : 0));
  });
}

/**
 * layerNorm's vector-Jacobian product over the last axis, from the Jacobian itself:
 * dy_k/dx_j = rstd (delta_kj - 1/d - y_k y_j / d), so dx_j = sum_k g_k dy_k/dx_j.
 */
export function layerNormBackward(g: NdArray, x: NdArray, eps = 1e-5): NdArray {
  const d = x.shape.at(-1)!;
  const data = new Float64Array(x.data.length);
  for (let base = 0; base < x.data.length; base += d) {
    const line = Array.from(x.data.subarray(base, base + d));
    const mu = line.reduce((a, b) => a + b, 0) / d;
    const rstd = 1 / Math.sqrt(line.reduce((a, b) => a + (b - mu) ** 2, 0) / d + eps);
    const y = line.map((v) => (v - mu) * rstd);
    for (let j = 0; j < d; j++) {
      let sum = 0;
      for (let k = 0; k < d; k++) sum += g.data[base + k]! * rstd * ((k === j ? 1 : 0) - 1 / d - (y[k]! * y[j]!) / d);
      data[base + j] = sum;
    }
  }
  return { shape: [...x.shape], dtype: 'float32', data };
}

export interface ConvOptions {
  stride?: readonly [number, number];
  padding?: readonly [number, number];
}

const windowSize = (input: number, kernel: number, stride: number, pad: number) => Math.floor((input + 2 * pad - kernel) / stride) + 1;

/** y[n, o, i, j] = bias[o] + sum_{c, u, v} x[n, c, i*s + u - p, j*s + v - p] * w[o, c, u, v] (zero outside x). */
export function conv2d(x: NdArray, w: NdArray, bias?: NdArray | null, options: ConvOptions = {}): NdArray {
  const [sh, sw] = options.stride ?? [1, 1];
  const [ph, pw] = options.padding ?? [0, 0];
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const [o, , kh, kw] = w.shape as [number, number, number, number];
  const shape = [n, o, windowSize(h, kh, sh, ph), windowSize(wd, kw, sw, pw)];
  return generate(shape, 'float32', ([b, f, i, j]) => {
    let acc = bias ? bias.data[f!]! : 0;
    for (let ch = 0; ch < c; ch++) {
      for (let u = 0; u < kh; u++) {
        for (let v = 0; v < kw; v++) {
          const y = i! * sh + u - ph;
          const xx = j! * sw + v - pw;
          if (y < 0 || y >= h || xx < 0 || xx >= wd) continue;
          acc += x.data[ravel([b!, ch, y, xx], x.shape)]! * w.data[ravel([f!, ch, u, v], w.shape)]!;
        }
      }
    }
    return acc;
  });
}

/** The adjoint of conv2d in its input: dx = sum over every (output, tap) that read x of dy * w. */
export function conv2dBackpropInput(dy: NdArray, w: NdArray, inputShape: readonly number[], options: ConvOptions = {}): NdArray {
  const [sh, sw] = options.stride ?? [1, 1];
  const [ph, pw] = options.padding ?? [0, 0];
  const [, c, h, wd] = inputShape as [number, number, number, number];
  const [n, o, oh, ow] = dy.shape as [number, number, number, number];
  const [, , kh, kw] = w.shape as [number, number, number, number];
  const data = new Float64Array(sizeOf(inputShape));
  for (let b = 0; b < n; b++)
    for (let f = 0; f < o; f++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++)
          for (let ch = 0; ch < c; ch++)
            for (let u = 0; u < kh; u++)
              for (let v = 0; v < kw; v++) {
                const y = i * sh + u - ph;
                const xx = j * sw + v - pw;
                if (y < 0 || y >= h || xx < 0 || xx >= wd) continue;
                data[ravel([b, ch, y, xx], inputShape)] += dy.data[ravel([b, f, i, j], dy.shape)]! * w.data[ravel([f, ch, u, v], w.shape)]!;
              }
  return { shape: [...inputShape], dtype: 'float32', data };
}

/** The adjoint of conv2d in its filter: dw[o, c, u, v] = sum_{n, i, j} dy[n, o, i, j] * x[n, c, i*s + u - p, j*s + v - p]. */
export function conv2dBackpropFilter(x: NdArray, dy: NdArray, filterShape: readonly number[], options: ConvOptions = {}): NdArray {
  const [sh, sw] = options.stride ?? [1, 1];
  const [ph, pw] = options.padding ?? [0, 0];
  const [n, , h, wd] = x.shape as [number, number, number, number];
  const [, , oh, ow] = dy.shape as [number, number, number, number];
  return generate(filterShape, 'float32', ([f, ch, u, v]) => {
    let acc = 0;
    for (let b = 0; b < n; b++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          const y = i * sh + u! - ph;
          const xx = j * sw + v! - pw;
          if (y < 0 || y >= h || xx < 0 || xx >= wd) continue;
          acc += dy.data[ravel([b, f!, i, j], dy.shape)]! * x.data[ravel([b, ch!, y, xx], x.shape)]!;
        }
    return acc;
  });
}

export interface PoolOptions {
  stride?: readonly [number, number];
  padding?: readonly [number, number];
}

/** Average over each window, padding counted as zeros in the average (PyTorch's count_include_pad). */
export function avgPool2d(x: NdArray, kernel: readonly [number, number], options: PoolOptions = {}): NdArray {
  const [kh, kw] = kernel;
  const [sh, sw] = options.stride ?? kernel;
  const [ph, pw] = options.padding ?? [0, 0];
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const shape = [n, c, windowSize(h, kh, sh, ph), windowSize(wd, kw, sw, pw)];
  return generate(shape, 'float32', ([b, ch, i, j]) => {
    let acc = 0;
    for (let u = 0; u < kh; u++)
      for (let v = 0; v < kw; v++) {
        const y = i! * sh + u - ph;
        const xx = j! * sw + v - pw;
        if (y >= 0 && y < h && xx >= 0 && xx < wd) acc += x.data[ravel([b!, ch!, y, xx], x.shape)]!;
      }
    return acc / (kh * kw);
  });
}

/** The adjoint of avgPool2d: each output gradient spread evenly over its window. */
export function avgPool2dBackprop(dy: NdArray, inputShape: readonly number[], kernel: readonly [number, number], options: PoolOptions = {}): NdArray {
  const [kh, kw] = kernel;
  const [sh, sw] = options.stride ?? kernel;
  const [ph, pw] = options.padding ?? [0, 0];
  const [, , h, wd] = inputShape as [number, number, number, number];
  const data = new Float64Array(sizeOf(inputShape));
  for (let p = 0; p < dy.data.length; p++) {
    const [b, ch, i, j] = unravel(p, dy.shape) as [number, number, number, number];
    for (let u = 0; u < kh; u++)
      for (let v = 0; v < kw; v++) {
        const y = i * sh + u - ph;
        const xx = j * sw + v - pw;
        if (y >= 0 && y < h && xx >= 0 && xx < wd) data[ravel([b, ch, y, xx], inputShape)] += dy.data[p]! / (kh * kw);
      }
  }
  return { shape: [...inputShape], dtype: 'float32', data };
}

export type Reduction = 'mean' | 'sum' | 'none';

function reduceLoss(losses: number[], reduction: Reduction): NdArray {
  if (reduction === 'none') return { shape: [losses.length], dtype: 'float32', data: Float64Array.from(losses) };
  const total = losses.reduce((a, b) => a + b, 0);
  return { shape: [], dtype: 'float32', data: Float64Array.of(reduction === 'mean' ? total / losses.length : total) };
}

export function nllLoss(logProbs: NdArray, labels: NdArray, reduction: Reduction = 'mean'): NdArray {
  const classes = logProbs.shape[1]!;
  const losses = Array.from(labels.data, (label, row) => -logProbs.data[row * classes + label]!);
  return reduceLoss(losses, reduction);
}

export function crossEntropy(logits: NdArray, labels: NdArray, reduction: Reduction = 'mean'): NdArray {
  return nllLoss(logSoftmax(logits, -1), labels, reduction);
}

export function mse(prediction: NdArray, target: NdArray, reduction: Reduction = 'mean'): NdArray {
  const losses = Array.from(prediction.data, (p, i) => (p - target.data[i]!) ** 2);
  const result = reduceLoss(losses, reduction);
  return reduction === 'none' ? { ...result, shape: [...prediction.shape] } : result;
}

/** Inverted dropout given the keep decisions (1 = keep). */
export function dropout(x: NdArray, keep: NdArray, p: number): NdArray {
  return mapBroadcast('float32', [x, keep], (v, k) => (k !== 0 ? v / (1 - p) : 0));
}
