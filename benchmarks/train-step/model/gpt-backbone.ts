// A G.pt-shaped model for timing one training step: per-token linear encoders, a
// pre-LayerNorm GPT transformer (no causal mask: G.pt denoises every token at once),
// per-token linear decoders plus the global residual to the previous parameters, MSE
// loss and AdamW. Built from @gpt/tensor ops and @gpt/nn layers until
// @gpt/transformer exists; benchmarks/train_step_torch.py is the same model in PyTorch.

import { AdamW, LayerNorm, Linear, Module, parameter } from '@gpt/nn';
import * as T from '@gpt/tensor';
import type { Tensor } from '@gpt/tensor';

export interface TrainStepConfig {
  /** Embedding width. */
  readonly d: number;
  readonly layers: number;
  readonly heads: number;
  readonly batch: number;
  /** Sizes of the per-layer parameter tokens; each appears once for x_t and once for x_prev. */
  readonly parameterTokens: readonly number[];
  /** Scalar inputs (losses, diffusion timestep), each a frequency embedding of `scalarWidth` values. */
  readonly scalarTokens: number;
  readonly scalarWidth: number;
}

/** G.pt on Cartpole: d=256, 4 layers, 4 heads, batch 64, the 18-token sequence (7 + 7 + 4). */
export const GPT_CARTPOLE: TrainStepConfig = {
  d: 256,
  layers: 4,
  heads: 4,
  batch: 64,
  parameterTokens: [1, 128, 32, 1024, 32, 32, 1],
  scalarTokens: 4,
  scalarWidth: 257,
};

/** minGPT's attention as G.pt uses it: separate key/query/value/proj layers, no mask. */
class SelfAttention extends Module {
  readonly key: Linear;
  readonly query: Linear;
  readonly value: Linear;
  readonly proj: Linear;
  constructor(
    private readonly d: number,
    private readonly heads: number,
    seed: number,
  ) {
    super();
    this.key = new Linear(d, d, { seed });
    this.query = new Linear(d, d, { seed: seed + 4 });
    this.value = new Linear(d, d, { seed: seed + 5 });
    this.proj = new Linear(d, d, { seed: seed + 1 });
  }

  forward(x: Tensor): Tensor {
    // tidy frees the intermediates; the tape keeps what backward needs.
    return T.tidy(() => this.attend(x));
  }

  private attend(x: Tensor): Tensor {
    const [b, t] = x.shape as [number, number, number];
    const hd = this.d / this.heads;
    const split = (layer: Linear) => T.permute(T.reshape(layer.forward(x), [b, t, this.heads, hd]), [0, 2, 1, 3]); // [B, H, T, hd]
    const [q, k, v] = [this.query, this.key, this.value].map(split) as [Tensor, Tensor, Tensor];
    const scores = T.mul(T.matmul(q, k, { transB: true }), 1 / Math.sqrt(hd)); // [B, H, T, T]
    const attended = T.matmul(T.softmax(scores, -1), v); // [B, H, T, hd]
    const merged = T.reshape(T.permute(attended, [0, 2, 1, 3]), [b, t, this.d]); // [B, T, C]
    return this.proj.forward(merged); // [B, T, C]
  }
}

class Block extends Module {
  readonly ln1: LayerNorm;
  readonly attn: SelfAttention;
  readonly ln2: LayerNorm;
  readonly fc: Linear;
  readonly fcProj: Linear;
  constructor(d: number, heads: number, seed: number) {
    super();
    this.ln1 = new LayerNorm(d);
    this.attn = new SelfAttention(d, heads, seed);
    this.ln2 = new LayerNorm(d);
    this.fc = new Linear(d, 4 * d, { seed: seed + 2 });
    this.fcProj = new Linear(4 * d, d, { seed: seed + 3 });
  }

  forward(x: Tensor): Tensor {
    return T.tidy(() => {
      const h = T.add(x, this.attn.forward(this.ln1.forward(x))); // [B, T, C]
      return T.add(h, this.fcProj.forward(T.gelu(this.fc.forward(this.ln2.forward(h))))); // [B, T, C]
    });
  }
}

export interface TrainBatch {
  /** Noised parameters x_t and the previous parameters, [B, P] each (P = sum of parameterTokens). */
  readonly xt: Tensor;
  readonly xPrev: Tensor;
  /** Frequency embeddings of the scalar inputs, each [B, scalarWidth]. */
  readonly scalars: readonly Tensor[];
  /** The denoised parameters to predict, [B, P]. */
  readonly target: Tensor;
}

export class GptBackbone extends Module {
  readonly encodersT: Linear[];
  readonly encodersPrev: Linear[];
  readonly encodersScalar: Linear[];
  readonly position: Tensor;
  readonly lnIn: LayerNorm;
  readonly blocks: Block[];
  readonly lnOut: LayerNorm;
  readonly decoders: Linear[];

  constructor(readonly config: TrainStepConfig) {
    super();
    const { d, parameterTokens: sizes } = config;
    this.encodersT = sizes.map((s, i) => new Linear(s, d, { seed: 100 + i }));
    this.encodersPrev = sizes.map((s, i) => new Linear(s, d, { seed: 200 + i }));
    this.encodersScalar = Array.from({ length: config.scalarTokens }, (_, i) => new Linear(config.scalarWidth, d, { seed: 300 + i }));
    const tokens = 2 * sizes.length + config.scalarTokens;
    this.position = parameter(T.mul(T.randn([tokens, d], { seed: 400 }), 0.02)); // [T, C]
    this.lnIn = new LayerNorm(d);
    this.blocks = Array.from({ length: config.layers }, (_, i) => new Block(d, config.heads, 500 + 10 * i));
    this.lnOut = new LayerNorm(d);
    this.decoders = sizes.map((s, i) => new Linear(d, s, { seed: 600 + i }));
  }

  /** Predicted parameters [B, P] for x_t. */
  forward(batch: TrainBatch): Tensor {
    const sizes = this.config.parameterTokens;
    const starts = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
    const chunk = (x: Tensor, i: number) => T.slice(x, [null, [starts[i]!, starts[i]! + sizes[i]!]]); // [B, size_i]
    const tokens = [
      ...this.encodersT.map((e, i) => e.forward(chunk(batch.xt, i))),
      ...this.encodersPrev.map((e, i) => e.forward(chunk(batch.xPrev, i))),
      ...this.encodersScalar.map((e, i) => e.forward(batch.scalars[i]!)),
    ]; // each [B, C]
    let h = this.lnIn.forward(T.add(T.stack(tokens, 1), this.position)); // [B, T, C]
    for (const block of this.blocks) h = block.forward(h);
    h = this.lnOut.forward(h);
    const outputs = this.decoders.map((dec, i) => dec.forward(T.slice(h, [null, i, null]))); // each [B, size_i]
    return T.add(T.concat(outputs, 1), batch.xPrev); // [B, P]: global residual to x_prev
  }
}

/** Random inputs of the configured shapes (fixed seeds). */
export function randomBatch(config: TrainStepConfig): TrainBatch {
  const p = config.parameterTokens.reduce((a, b) => a + b, 0);
  return {
    xt: T.randn([config.batch, p], { seed: 1 }),
    xPrev: T.randn([config.batch, p], { seed: 2 }),
    scalars: Array.from({ length: config.scalarTokens }, (_, i) => T.randn([config.batch, config.scalarWidth], { seed: 10 + i })),
    target: T.randn([config.batch, p], { seed: 3 }),
  };
}

/**
 * Builds the model, its AdamW optimizer and a batch on the default device; returns one
 * training step (forward, backward, update) resolving to the loss. The loss is read
 * with `await data()`, which works on every device (WebGPU has no synchronous read).
 */
export function trainStep(config: TrainStepConfig): () => Promise<number> {
  const model = new GptBackbone(config);
  const optimizer = new AdamW(model.parameters(), { lr: 1e-4, weightDecay: 0.1 });
  const batch = randomBatch(config);
  return async () => {
    const loss = T.tidy(() => {
      const l = T.mse(model.forward(batch), batch.target);
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
