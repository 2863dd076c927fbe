// Parameter initializers with PyTorch's formulas (torch.nn.init). Each returns a new
// tensor; every random one takes a seed or a Generator, so an initialization is
// reproducible from the seed alone. Our Philox stream differs from torch's, so the
// same seed gives the same distribution as PyTorch, not the same numbers.
// To re-initialize an existing parameter: `layer.weight.assign(orthogonal(...))`.

import { generatorFor, rand, randn, tensor, zeros as zerosTensor, type RandomOptions, type Tensor } from '@gpt/tensor';

export type Nonlinearity = 'linear' | 'conv2d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';

/** The recommended gain for a nonlinearity (torch.nn.init.calculate_gain). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv2d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new Error(`calculateGain: unknown nonlinearity "${String(nonlinearity)}"`);
  }
}

/** fan_in and fan_out of a weight shape [out, in, ...kernel] (torch's _calculate_fan_in_and_fan_out). */
export function fanInAndFanOut(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) {
    throw new Error(`fanInAndFanOut: needs a weight with at least 2 dimensions, got shape [${shape.join(', ')}]`);
  }
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

/** Uniform values in [low, high). */
export function uniform(shape: readonly number[], low: number, high: number, options: RandomOptions = {}): Tensor {
  if (!(low <= high)) throw new Error(`uniform: low ${low} must not exceed high ${high}`);
  return rand(shape, { ...options, low, high });
}

/** Normal values with the given mean and standard deviation. */
export function normal(shape: readonly number[], mean = 0, std = 1, options: RandomOptions = {}): Tensor {
  if (!(std >= 0)) throw new Error(`normal: std must be non-negative, got ${std}`);
  return randn(shape, { ...options, mean, std });
}

/** Zeros (for biases and zero-initialized output layers). */
export function zeros(shape: readonly number[], options: { device?: string } = {}): Tensor {
  return zerosTensor(shape, options);
}

export interface KaimingOptions extends RandomOptions {
  /** Negative slope of the leaky ReLU that follows (PyTorch's layers use sqrt(5)). Default 0. */
  a?: number;
  mode?: 'fan_in' | 'fan_out';
  nonlinearity?: Nonlinearity;
}

/** He-uniform: U(-b, b) with b = gain * sqrt(3 / fan) (torch.nn.init.kaiming_uniform_). */
export function kaimingUniform(shape: readonly number[], options: KaimingOptions = {}): Tensor {
  const { a = 0, mode = 'fan_in', nonlinearity = 'leaky_relu', ...random } = options;
  const fans = fanInAndFanOut(shape);
  const fan = mode === 'fan_in' ? fans.fanIn : fans.fanOut;
  if (fan === 0) throw new Error(`kaimingUniform: shape [${shape.join(', ')}] has a zero fan`);
  const bound = Math.sqrt(3) * (calculateGain(nonlinearity, a) / Math.sqrt(fan));
  return uniform(shape, -bound, bound, random);
}

/**
 * PyTorch's default Linear/Conv2d initialization: weight kaiming-uniform with a = sqrt(5),
 * which is U(±1/sqrt(fan_in)), and bias U(±1/sqrt(fan_in)); the weight is drawn first.
 */
export function defaultLayerInit(
  weightShape: readonly number[],
  withBias: boolean,
  options: RandomOptions = {},
): { weight: Tensor; bias: Tensor | null } {
  const weight = kaimingUniform(weightShape, { ...options, a: Math.sqrt(5) });
  if (!withBias) return { weight, bias: null };
  const { fanIn } = fanInAndFanOut(weightShape);
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return { weight, bias: uniform([weightShape[0]!], -bound, bound, options) };
}

/**
 * A (semi-)orthogonal matrix times `gain`, reshaped to `shape` (torch.nn.init.orthogonal_):
 * a normal matrix [rows, cols] (rows = shape[0]) is QR-factorized in float64 and Q's
 * columns are sign-corrected so that R has a positive diagonal, which makes Q unique.
 */
export function orthogonal(shape: readonly number[], options: RandomOptions & { gain?: number } = {}): Tensor {
  const { gain = 1, ...random } = options;
  if (shape.length < 2) throw new Error(`orthogonal: needs at least 2 dimensions, got shape [${shape.join(', ')}]`);
  const rows = shape[0]!;
  const cols = shape.slice(1).reduce((a, b) => a * b, 1);
  // The QR runs on the host, so the noise is drawn there (no tensor, no readback).
  const noise = generatorFor(random, 'orthogonal').normal(rows * cols); // [rows, cols]
  return tensor(orthogonalFromNormal(noise, rows, cols, gain), { shape, device: random.device });
}

/** @internal the deterministic part of orthogonal(): row-major [rows, cols] noise -> gain * Q. */
export function orthogonalFromNormal(noise: ArrayLike<number>, rows: number, cols: number, gain: number): Float32Array {
  // Factorize the tall orientation (m >= n) and transpose back, as PyTorch does.
  const transposed = rows < cols;
  const m = transposed ? cols : rows;
  const n = transposed ? rows : cols;
  const a = new Float64Array(m * n); // [m, n]
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = noise[i * cols + j]!;
      if (transposed) a[j * n + i] = v;
      else a[i * n + j] = v;
    }
  }
  const q = householderQ(a, m, n); // [m, n]
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[i * cols + j] = gain * (transposed ? q[j * n + i]! : q[i * n + j]!);
  }
  return out;
}

/**
 * Thin Q of a Householder QR of `a` [m, n] (m >= n, overwritten), with column k of Q
 * multiplied by sign(R[k, k]) so that Q matches the factorization with a positive diagonal.
 */
function householderQ(a: Float64Array, m: number, n: number): Float64Array {
  const reflectors: Float64Array[] = [];
  const diagonalSigns: number[] = [];
  for (let k = 0; k < n; k++) {
    const v = new Float64Array(m - k);
    let norm = 0;
    for (let i = k; i < m; i++) {
      v[i - k] = a[i * n + k]!;
      norm += v[i - k]! * v[i - k]!;
    }
    norm = Math.sqrt(norm);
    // alpha has the opposite sign of x0 to avoid cancellation; R[k, k] = alpha.
    const alpha = v[0]! >= 0 ? -norm : norm;
    diagonalSigns.push(alpha === 0 ? 0 : Math.sign(alpha));
    v[0] = v[0]! - alpha;
    let vNorm = 0;
    for (const x of v) vNorm += x * x;
    vNorm = Math.sqrt(vNorm);
    if (vNorm > 0) for (let i = 0; i < v.length; i++) v[i] = v[i]! / vNorm;
    reflectors.push(v);
    // A[k:, k:] -= 2 v (v^T A[k:, k:])
    for (let j = k; j < n; j++) {
      let dot = 0;
      for (let i = k; i < m; i++) dot += v[i - k]! * a[i * n + j]!;
      for (let i = k; i < m; i++) a[i * n + j] = a[i * n + j]! - 2 * v[i - k]! * dot;
    }
  }
  // Q = H_0 H_1 ... H_{n-1} applied to the first n columns of the identity.
  const q = new Float64Array(m * n);
  for (let j = 0; j < n; j++) q[j * n + j] = 1;
  for (let k = n - 1; k >= 0; k--) {
    const v = reflectors[k]!;
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let i = k; i < m; i++) dot += v[i - k]! * q[i * n + j]!;
      for (let i = k; i < m; i++) q[i * n + j] = q[i * n + j]! - 2 * v[i - k]! * dot;
    }
  }
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < m; i++) q[i * n + j] = q[i * n + j]! * diagonalSigns[j]!;
  }
  return q;
}
