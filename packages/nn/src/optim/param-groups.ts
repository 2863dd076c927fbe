// nanoGPT's configure_optimizers split: weight decay only on parameters with >= 2
// dimensions (Linear/Conv weights), none on biases, LayerNorm weights or 1-D embeddings.

import type { Tensor } from '@gpt/tensor';
import type { Module } from '../module.js';

/** Two parameter groups: [{ params: >= 2-D, weightDecay }, { params: the rest, weightDecay: 0 }]. */
export function weightDecayParamGroups(
  module: Module,
  weightDecay: number,
): [{ params: Tensor[]; weightDecay: number }, { params: Tensor[]; weightDecay: number }] {
  const params = module.parameters();
  return [
    { params: params.filter((p) => p.rank >= 2), weightDecay },
    { params: params.filter((p) => p.rank < 2), weightDecay: 0 },
  ];
}
