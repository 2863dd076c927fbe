// G.pt's training objective on one batch (gpt-paper.md §4.1, §5b): diffuse the future
// parameters θ₁ to x_t = √ᾱ_t θ₁ + √(1 − ᾱ_t) ε, let G.pt predict θ₁ from (x_t, t, θ₀,
// m₁, m₀) and take the mean squared error over the D entries of each example. The
// diffusion (@gpt/diffusion, x0 prediction) computes x_t and the target; this file binds
// G.pt's inputs to it and moves pair batches onto a device.
import type { PairBatch } from '@gpt/checkpoints';
import type { GaussianDiffusion } from '@gpt/diffusion';
import { tensor, type Tensor } from '@gpt/tensor';
import type { Gpt } from '@gpt/transformer';

/** One batch on a device; the tensors are owned by whoever made it (dispose with disposeBatch). */
export interface DiffusionBatch {
  /** [B, D] starting parameters θ₀ (normalized). */
  readonly theta0: Tensor;
  /** [B, D] future parameters θ₁ (normalized): the diffusion's x_0. */
  readonly theta1: Tensor;
  /** [B] raw metric of θ₀ (lossPrev). */
  readonly metric0: Tensor;
  /** [B] raw metric of θ₁ (lossTarget: the prompt at sampling time). */
  readonly metric1: Tensor;
  /** [B] int32 diffusion timesteps. */
  readonly timesteps: Tensor;
  /** [B, D] standard normal noise ε. */
  readonly noise: Tensor;
}

/** What G.pt is conditioned on besides x_t and t. */
interface GptCondition {
  readonly xPrev: Tensor;
  readonly lossTarget: Tensor;
  readonly lossPrev: Tensor;
}

/** Pairs [rows start..end) of a host batch as tensors on `device` (θ₀, θ₁, m₀, m₁). */
export function pairTensors(pairs: PairBatch, device: string, start = 0, end = pairs.size): Pick<DiffusionBatch, 'theta0' | 'theta1' | 'metric0' | 'metric1'> {
  const D = pairs.parameterCount;
  const rows = end - start;
  return {
    theta0: tensor(pairs.theta0.subarray(start * D, end * D), { shape: [rows, D], device }), // [B, D]
    theta1: tensor(pairs.theta1.subarray(start * D, end * D), { shape: [rows, D], device }), // [B, D]
    metric0: tensor(Float32Array.from(pairs.metric0.subarray(start, end)), { device }), // [B]
    metric1: tensor(Float32Array.from(pairs.metric1.subarray(start, end)), { device }), // [B]
  };
}

export function disposeBatch(batch: DiffusionBatch): void {
  for (const t of Object.values(batch)) (t as Tensor).dispose();
}

/** The per-example x0-MSE [B] of `model` on `batch` (records the tape when gradients are on). */
export async function x0Losses(diffusion: GaussianDiffusion, model: Gpt, batch: DiffusionBatch): Promise<Tensor> {
  const denoise = (xT: Tensor, t: Tensor, c: GptCondition): Tensor => model.forward(xT, t, c.lossTarget, c.lossPrev, c.xPrev); // [B, D]
  const cond: GptCondition = { xPrev: batch.theta0, lossTarget: batch.metric1, lossPrev: batch.metric0 };
  const { loss } = await diffusion.trainingLosses(denoise, batch.theta1, batch.timesteps, { noise: batch.noise, cond });
  return loss; // [B]
}
