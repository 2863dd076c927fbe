// One G.pt training step for `pnpm bench train-step`: @gpt/transformer's Gpt, the MSE to a
// target and AdamW with the official weight-decay groups. Two models: the Cartpole
// tokenization at a CPU size (width 256, 4 layers, 4 heads, batch 64; the default), and the
// paper's MNIST model (width 1536, 12 layers, 16 heads, 26 tokens, ≈378M parameters) at
// batch 8, as a data point for what a CPU can train.
// benchmarks/train_step_torch.py is the same model and step in PyTorch.

import { AdamW } from '@gpt/nn';
import * as T from '@gpt/tensor';
import { DEFAULT_GPT_CONFIG, GPT_PRESETS, Gpt, computeTokenSizes, type GptConfig } from '@gpt/transformer';

export interface TrainStepConfig
  extends Pick<GptConfig, 'nEmbd' | 'nLayer' | 'nHead' | 'numFrequencies' | 'maxFreqLog2' | 'splitPolicy' | 'chunkSize'> {
  readonly batch: number;
  /** Element counts of the task network's tensors, in state-dict order. */
  readonly parameterSizes: readonly number[];
  /** Token sizes of the whole input sequence and of the decoded tokens (for the PyTorch twin). */
  readonly inputSplits: readonly number[];
  readonly outputSplits: readonly number[];
}

/** A benchmark config: the preset's model fields, the task network's tensor sizes and the batch; token sizes computed. */
export function benchConfig(preset: GptConfig, parameterSizes: number[], batch: number): TrainStepConfig {
  const { nEmbd, nLayer, nHead, numFrequencies, maxFreqLog2, splitPolicy, chunkSize } = preset;
  const { inputSplits, outputSplits } = computeTokenSizes(parameterSizes, preset);
  return { nEmbd, nLayer, nHead, numFrequencies, maxFreqLog2, splitPolicy, chunkSize, batch, parameterSizes, inputSplits, outputSplits };
}

/** G.pt on Cartpole at CPU size: 18 tokens (7 + 7 + 4 scalars), d 256, 4 layers, 4 heads, batch 64. */
export const GPT_CARTPOLE = benchConfig(GPT_PRESETS.cartpoleSmall, [1, 128, 32, 1024, 32, 32, 1], 64);

/** The paper's MNIST G.pt (§3.6): 26 tokens, d 1536, 12 layers, 16 heads; batch 8. */
export const GPT_MNIST_PAPER = benchConfig(GPT_PRESETS.mnist, [7840, 10, 100, 10], 8);

export const TRAIN_STEP_MODELS = { cartpole: GPT_CARTPOLE, 'mnist-paper': GPT_MNIST_PAPER } as const;

/** A step to time; `dispose` frees its model, optimizer state and batch. */
export type PreparedStep = (() => Promise<number>) & { dispose(): void };

export function buildModel(config: TrainStepConfig): Gpt {
  const { nEmbd, nLayer, nHead, numFrequencies, maxFreqLog2, splitPolicy, chunkSize } = config;
  return new Gpt(config.parameterSizes, { ...DEFAULT_GPT_CONFIG, nEmbd, nLayer, nHead, numFrequencies, maxFreqLog2, splitPolicy, chunkSize }, { seed: 0 });
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
export function trainStep(config: TrainStepConfig): PreparedStep {
  const model = buildModel(config);
  const optimizer = new AdamW(model.weightDecayGroups(0.1), { lr: 1e-4 });
  const b = randomBatch(config);
  const step = async () => {
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
  return Object.assign(step, {
    dispose() {
      optimizer.dispose();
      model.dispose();
      Object.values(b).forEach((t) => t.dispose());
    },
  });
}

/** The forward pass alone, without the tape (noGrad): the fwd_ms column. */
export function forwardStep(config: TrainStepConfig): PreparedStep {
  const model = buildModel(config);
  const b = randomBatch(config);
  const step = async () => {
    const out = T.noGrad(() => model.forward(b.x, b.t, b.lossTarget, b.lossPrev, b.xPrev)); // [B, D]
    const corner = T.slice(out, [[0, 1], [0, 1]]); // [1, 1]: waits for the whole forward without reading it back
    out.dispose();
    const first = (await corner.data())[0]!;
    corner.dispose();
    return first;
  };
  return Object.assign(step, {
    dispose() {
      model.dispose();
      Object.values(b).forEach((t) => t.dispose());
    },
  });
}
