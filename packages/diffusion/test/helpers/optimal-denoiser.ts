// The Bayes-optimal denoiser for data whose dimensions are independent 1-D Gaussian
// mixtures. With x_t = sqrt(a) x_0 + sqrt(1 - a) eps (a = alphaBar_t), each component k
// (weight w, mean m, std s) gives x_t ~ N(sqrt(a) m, v) with v = a s² + 1 - a, and
//   E[x_0 | x_t, k] = m + sqrt(a) s² / v · (x_t - sqrt(a) m),
// so E[x_0 | x_t] = sum_k r_k(x_t) E[x_0 | x_t, k] with responsibilities r_k ∝ w N(x_t; sqrt(a) m, v).
// Computed on the host in float64, independently of the diffusion code under test.

import { ModelMeanType, type DiffusionModel } from '@gpt/diffusion';
import { tensor, type Tensor } from '@gpt/tensor';

export interface Mixture1d {
  weights: number[];
  means: number[];
  stds: number[];
}

/** E[x_0 | x_t = x] for one coordinate. */
export function posteriorMeanX0(x: number, alphaBar: number, mixture: Mixture1d): number {
  const sa = Math.sqrt(alphaBar);
  const logs: number[] = [];
  const conditional: number[] = [];
  mixture.weights.forEach((w, k) => {
    const m = mixture.means[k]!;
    const s2 = mixture.stds[k]! ** 2;
    const v = alphaBar * s2 + 1 - alphaBar;
    const r = x - sa * m;
    logs.push(Math.log(w) - (0.5 * r * r) / v - 0.5 * Math.log(v));
    conditional.push(m + ((sa * s2) / v) * r);
  });
  const top = Math.max(...logs);
  let norm = 0;
  let total = 0;
  logs.forEach((l, k) => {
    const p = Math.exp(l - top);
    norm += p;
    total += p * conditional[k]!;
  });
  return total / norm;
}

/**
 * A model predicting E[x_0 | x_t] (START_X) or the matching epsilon (EPSILON) for data of shape
 * [B, D] whose column d follows dims[d]. `alphasCumprod` is the original process's table: the
 * model is called with original timesteps.
 */
export function optimalDenoiser(alphasCumprod: Float64Array, dims: Mixture1d[], meanType: ModelMeanType): DiffusionModel {
  return (xT: Tensor, t: Tensor): Tensor => {
    const [B, D] = xT.shape as [number, number];
    if (D !== dims.length) throw new Error(`optimalDenoiser: x_t has ${D} columns, the data ${dims.length}`);
    const x = xT.dataSync();
    const ts = t.dataSync();
    const out = new Float32Array(B * D);
    for (let b = 0; b < B; b++) {
      const a = alphasCumprod[ts[b]!]!;
      for (let d = 0; d < D; d++) {
        const xv = x[b * D + d]!;
        const x0 = posteriorMeanX0(xv, a, dims[d]!);
        out[b * D + d] = meanType === ModelMeanType.EPSILON ? (xv - Math.sqrt(a) * x0) / Math.sqrt(1 - a) : x0;
      }
    }
    return tensor(out, { shape: [B, D], device: xT.device });
  };
}

/** Column statistics of a [N, D] sample. */
export function columns(samples: Tensor): number[][] {
  const [N, D] = samples.shape as [number, number];
  const v = samples.dataSync();
  return Array.from({ length: D }, (_, d) => Array.from({ length: N }, (_, n) => v[n * D + d]!));
}

export function meanVar(values: number[]): { mean: number; variance: number } {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1);
  return { mean, variance };
}
