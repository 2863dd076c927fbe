// G.pt's parameter count from its config alone (gpt-paper.md §3.9), so the paper's
// 350-640M-parameter models can be sized without allocating them:
// T·d (pos_emb) + L·(12d² + 13d) + Σ encoders + 4d (ln_in, ln_f) + Σ decoders.

import { resolveGptConfig, type GptConfig, type GptPresetName } from './config.js';
import { computeTokenSizes } from './splits.js';

export function paramCount(config: GptPresetName | Partial<GptConfig>, parameterSizes: readonly number[]): number {
  const c = resolveGptConfig(config);
  const { inputSplits, outputSplits } = computeTokenSizes(parameterSizes, c);
  const d = c.nEmbd;
  const block = 4 * (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d) + 4 * d; // attention, MLP, two LayerNorms = 12d² + 13d
  const encoders = inputSplits.reduce((sum, size) => sum + size * d + (c.encoderDepth - 1) * d * d, 0);
  const decoders = outputSplits.reduce((sum, size) => sum + d * size + (c.decoderDepth - 1) * d * d, 0);
  return inputSplits.length * d + c.nLayer * block + encoders + 4 * d + decoders;
}
