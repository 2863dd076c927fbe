// Parameter normalization. G.pt multiplies every parameter by one global constant,
// "openai_coeff" = 0.538 / std(parameters), after DALL-E 2's scaling of CLIP latents
// (0.538 is the std of ImageNet pixels scaled to [-1, 1]); the std is estimated from
// 25,000 checkpoints drawn at random (seed 10) from the training runs.
import { Generator } from '@gpt/tensor';
import type { CheckpointSource } from './checkpoint-source.js';

/** Std that normalized parameters get under the "openai" scheme. */
export const OPENAI_TARGET_STD = 0.538;

export interface Normalizer {
  readonly name: 'openai' | 'identity';
  /** Multiplier applied by `normalize` (1 for identity). */
  readonly coefficient: number;
  /** raw → normalized, into `out` (may be `x` itself) or a new array. */
  normalize(x: Float32Array, out?: Float32Array): Float32Array;
  /** normalized → raw, into `out` (may be `x` itself) or a new array. */
  unnormalize(x: Float32Array, out?: Float32Array): Float32Array;
}

function scaleInto(x: Float32Array, factor: number, out: Float32Array | undefined): Float32Array {
  const target = out ?? new Float32Array(x.length);
  if (target.length !== x.length) throw new RangeError(`normalizer: out has ${target.length} elements, input has ${x.length}`);
  for (let i = 0; i < x.length; i++) target[i] = x[i]! * factor;
  return target;
}

export function openaiNormalizer(coefficient: number): Normalizer {
  if (!(Number.isFinite(coefficient) && coefficient > 0)) throw new RangeError(`openai coefficient must be a positive finite number, got ${coefficient}`);
  return {
    name: 'openai',
    coefficient,
    normalize: (x, out) => scaleInto(x, coefficient, out),
    // Divide rather than multiply by 1/c so unnormalize(normalize(x)) returns x to float32 rounding of one op each.
    unnormalize(x, out) {
      const target = out ?? new Float32Array(x.length);
      if (target.length !== x.length) throw new RangeError(`normalizer: out has ${target.length} elements, input has ${x.length}`);
      for (let i = 0; i < x.length; i++) target[i] = x[i]! / coefficient;
      return target;
    },
  };
}

export function identityNormalizer(): Normalizer {
  const copy = (x: Float32Array, out?: Float32Array): Float32Array => {
    if (out === x) return x;
    return scaleInto(x, 1, out);
  };
  return { name: 'identity', coefficient: 1, normalize: copy, unnormalize: copy };
}

export type CoefficientProgressEvent = { type: 'checkpoints-read'; done: number; total: number };

export interface OpenaiCoefficientOptions {
  /** Checkpoints to sample (official: 25,000). */
  numSamples?: number;
  /** Seed of the sampling (official: 10; our generator differs from torch's, so the draws do too). */
  seed?: number;
  /** Runs to sample from: pass the training split (official). Default: every run of the source. */
  runs?: readonly string[];
  signal?: AbortSignal;
  onProgress?: (event: CoefficientProgressEvent) => void;
}

export interface OpenaiCoefficient {
  readonly coefficient: number;
  /** Unbiased std of all sampled parameter values. */
  readonly std: number;
  readonly mean: number;
  readonly numSamples: number;
}

/**
 * Estimates openai_coeff = 0.538 / std over `numSamples` random (run, checkpoint) pairs,
 * run and checkpoint drawn uniformly and independently (with replacement), as in the
 * official prepare_checkpoints.py.
 */
export async function computeOpenaiCoefficient(source: CheckpointSource, options: OpenaiCoefficientOptions = {}): Promise<OpenaiCoefficient> {
  const numSamples = options.numSamples ?? 25_000;
  const runs = options.runs ?? source.runs;
  if (runs.length === 0) throw new Error('computeOpenaiCoefficient: no runs to sample from');
  if (!Number.isSafeInteger(numSamples) || numSamples < 1) throw new RangeError(`numSamples must be a positive integer, got ${numSamples}`);
  const generator = new Generator(options.seed ?? 10);
  const picks: { run: string; index: number }[] = [];
  for (let s = 0; s < numSamples; s++) {
    const run = runs[generator.int(0, runs.length)]!;
    picks.push({ run, index: generator.int(0, await source.numCheckpoints(run)) });
  }

  // Chan et al.'s pairwise update: merge each checkpoint's (count, mean, M2) in float64,
  // which stays accurate over hundreds of millions of values where sum/sum-of-squares would not.
  let count = 0;
  let mean = 0;
  let m2 = 0;
  const batch = 32; // reads in flight at once
  const buffers = Array.from({ length: batch }, () => new Float32Array(source.parameterCount));
  for (let start = 0; start < picks.length; start += batch) {
    options.signal?.throwIfAborted();
    const chunk = picks.slice(start, start + batch);
    const rows = await Promise.all(chunk.map((p, i) => source.readCheckpoint(p.run, p.index, buffers[i])));
    for (const row of rows) {
      const stats = rowStats(row);
      const total = count + stats.count;
      const delta = stats.mean - mean;
      mean += (delta * stats.count) / total;
      m2 += stats.m2 + (delta * delta * count * stats.count) / total;
      count = total;
    }
    options.onProgress?.({ type: 'checkpoints-read', done: Math.min(start + batch, picks.length), total: picks.length });
  }
  const std = Math.sqrt(m2 / (count - 1));
  if (!(std > 0 && Number.isFinite(std))) throw new Error(`computeOpenaiCoefficient: parameter std is ${std}; cannot normalize (run the bad-run filter first?)`);
  return { coefficient: OPENAI_TARGET_STD / std, std, mean, numSamples };
}

function rowStats(row: Float32Array): { count: number; mean: number; m2: number } {
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += row[i]!;
  const mean = sum / row.length;
  let m2 = 0;
  for (let i = 0; i < row.length; i++) {
    const d = row[i]! - mean;
    m2 += d * d;
  }
  return { count: row.length, mean, m2 };
}
