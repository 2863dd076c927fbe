// One G.pt training step for `pnpm bench train-step`: @gpt/transformer's Gpt with the
// Cartpole tokenization at a CPU size (width 256, 4 layers, 4 heads), batch 64, the MSE
// to a target and AdamW with the official weight-decay groups.
// benchmarks/train_step_torch.py is the same model and step in PyTorch.

import { AdamW } from '@gpt/nn';
import * as T from '@gpt/tensor';
import { GPT_PRESETS, Gpt, type GptConfig } from '@gpt/transformer';

export interface TrainStepConfig extends Pick<GptConfig, 'nEmbd' | 'nLayer' | 'nHead' | 'numFrequencies' | 'maxFreqLog2'> {
  readonly batch: number;
  /** Element counts of the task network's tensors (its tokens under layer_by_layer). */
  readonly parameterSizes: readonly number[];
}

/** G.pt on Cartpole at CPU size: 18 tokens (7 + 7 + 4 scalars), d 256, 4 layers, 4 heads, batch 64. */
export const GPT_CARTPOLE: TrainStepConfig = {
  nEmbd: GPT_PRESETS.cartpoleSmall.nEmbd,
  nLayer: GPT_PRESETS.cartpoleSmall.nLayer,
  nHead: GPT_PRESETS.cartpoleSmall.nHead,
  numFrequencies: GPT_PRESETS.cartpoleSmall.numFrequencies,
  maxFreqLog2: GPT_PRESETS.cartpoleSmall.maxFreqLog2,
  batch: 64,
  parameterSizes: [1, 128, 32, 1024, 32, 32, 1],
};

export function buildModel(config: TrainStepConfig): Gpt {
  const { batch: _batch, parameterSizes, ...fields } = config;
  return new Gpt(parameterSizes, { ...GPT_PRESETS.cartpoleSmall, ...fields }, { seed: 0 });
}

/** Inputs of the configured shapes (fixed seeds): noised and starting parameters, steps, metrics, target. */
export function randomBatch(config: TrainStepConfig) {
  const d = config.parameterSizes.reduce((a, b) => a + b, 0);
  const steps = Array.from({ length: config.batch }, (_, i) => (i * 37) % 1000);
  return {
    x: T.randn([config.batch, d], { seed: 1 }), // [B, D]
    xPrev: T.randn([config.batch, d], { seed: 2 }), // [B, D]
    t: T.tensor(steps), // [B]
    lossTarget: T.randn([config.batch], { seed: 4 }), // [B]
    lossPrev: T.randn([config.batch], { seed: 5 }), // [B]
    target: T.randn([config.batch, d], { seed: 3 }), // [B, D]
  };
}

/**
 * Builds the model, its AdamW optimizer and a batch on the default device; returns one
 * training step (forward, backward, update) resolving to the loss. The loss is read
 * with `await data()`, which works on every device (WebGPU has no synchronous read).
 */
export function trainStep(config: TrainStepConfig): () => Promise<number> {
  const model = buildModel(config);
  const optimizer = new AdamW(model.weightDecayGroups(0.1), { lr: 1e-4 });
  const b = randomBatch(config);
  return async () => {
    const loss = T.tidy(() => {
      const l = T.mse(model.forward(b.x, b.t, b.lossTarget, b.lossPrev, b.xPrev), b.target); // []
      l.backward();
      return l;
    });
    optimizer.step();
    optimizer.zeroGrad();
    const value = (await loss.data())[0]!;
    loss.dispose();
    return value;
  };
}

/** The forward pass alone, without the tape (noGrad): the fwd_ms column. */
export function forwardStep(config: TrainStepConfig): () => Promise<number> {
  const model = buildModel(config);
  const b = randomBatch(config);
  return async () => {
    const out = T.noGrad(() => model.forward(b.x, b.t, b.lossTarget, b.lossPrev, b.xPrev)); // [B, D]
    const corner = T.slice(out, [[0, 1], [0, 1]]); // [1, 1]: waits for the whole forward without reading it back
    out.dispose();
    const first = (await corner.data())[0]!;
    corner.dispose();
    return first;
  };
}
