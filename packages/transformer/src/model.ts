// The G.pt model (gpt-paper.md §3), top to bottom like nanoGPT's model.py: minGPT's
// self-attention and pre-LayerNorm block without a causal mask, the backbone with one
// Linear encoder per input token and one decoder per output token, and Gpt, which embeds
// the scalars, runs the backbone and adds the global residual to the starting parameters.
//
// Property names are the official PyTorch attribute names (snake_case where it is), because
// @gpt/nn derives the state-dict keys from them: `decoder.blocks.0.attn.key.weight`,
// `scalar_embedder.frequencies`, ... so official weights load with loadStateDict.

import { Dropout, GELU, LayerNorm, Linear, Module, Sequential, init, parameter, weightDecayParamGroups, type Layer } from '@gpt/nn';
import {
  add,
  concat,
  generatorFor,
  getBackend,
  noGrad,
  permute,
  reshape,
  slice,
  split,
  stack,
  sub,
  tensor,
  tidy,
  zeros,
  type Generator,
  type RandomOptions,
  type Tensor,
} from '@gpt/tensor';
import { scaledDotProductAttention } from './attention.js';
import { resolveGptConfig, type GptConfig, type GptPresetName } from './config.js';
import { FrequencyEmbedder } from './frequency-embedder.js';
import { computeTokenSizes, type TokenSizes } from './splits.js';

/** Every Linear weight N(0, 0.02), biases 0 (official `GPT._init_weights`); LayerNorm keeps 1 / 0. */
function initLinear(layer: Linear, generator: Generator): Linear {
  noGrad(() =>
    tidy(() => {
      layer.weight.assign(init.normal(layer.weight.shape, 0, 0.02, { generator, device: layer.weight.device })); // [out, in]
      layer.bias?.assign(zeros(layer.bias.shape, { device: layer.bias.device })); // [out]
    }),
  );
  return layer;
}

/** minGPT's multi-head self-attention: separate key/query/value/proj layers with bias, no mask. */
export class SelfAttention extends Module {
  key: Linear;
  query: Linear;
  value: Linear;
  attn_drop: Dropout;
  resid_drop: Dropout;
  proj: Linear;

  constructor(
    readonly nEmbd: number,
    readonly nHead: number,
    dropoutP: number,
    private readonly generator: Generator,
  ) {
    super();
    this.key = initLinear(new Linear(nEmbd, nEmbd, { generator }), generator);
    this.query = initLinear(new Linear(nEmbd, nEmbd, { generator }), generator);
    this.value = initLinear(new Linear(nEmbd, nEmbd, { generator }), generator);
    this.attn_drop = new Dropout(dropoutP, { generator });
    this.resid_drop = new Dropout(dropoutP, { generator });
    this.proj = initLinear(new Linear(nEmbd, nEmbd, { generator }), generator);
  }

  /** [B, T, C] -> [B, T, C] */
  forward(x: Tensor): Tensor {
    const [b, t, c] = x.shape as [number, number, number];
    const hd = c / this.nHead;
    return tidy(() => {
      const heads = (layer: Linear) => permute(reshape(layer.forward(x), [b, t, this.nHead, hd]), [0, 2, 1, 3]); // [B, H, T, hd]
      const y = scaledDotProductAttention(heads(this.query), heads(this.key), heads(this.value), {
        dropoutP: this.training ? this.attn_drop.p : 0,
        generator: this.generator,
      }); // [B, H, T, hd]
      const merged = reshape(permute(y, [0, 2, 1, 3]), [b, t, c]); // [B, T, C]
      return this.resid_drop.forward(this.proj.forward(merged)); // [B, T, C]
    });
  }
}

/** Pre-LayerNorm transformer block: x + attn(ln1(x)), then + mlp(ln2(x)). */
export class Block extends Module {
  ln1: LayerNorm;
  ln2: LayerNorm;
  attn: SelfAttention;
  /** Linear(d, 4d), exact GELU, Linear(4d, d), dropout: keys mlp.0.* and mlp.2.* as in PyTorch's Sequential. */
  mlp: Sequential;

  constructor(nEmbd: number, nHead: number, dropoutP: number, generator: Generator) {
    super();
    this.ln1 = new LayerNorm(nEmbd);
    this.ln2 = new LayerNorm(nEmbd);
    this.attn = new SelfAttention(nEmbd, nHead, dropoutP, generator);
    this.mlp = new Sequential(
      initLinear(new Linear(nEmbd, 4 * nEmbd, { generator }), generator),
      new GELU(),
      initLinear(new Linear(4 * nEmbd, nEmbd, { generator }), generator),
      new Dropout(dropoutP, { generator }),
    );
  }

  /**
   * [B, T, C] -> [B, T, C]. One tidy scope per block frees its intermediates as soon as
   * it returns; the tape keeps what backward needs.
   */
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const h = add(x, this.attn.forward(this.ln1.forward(x))); // [B, T, C]
      return add(h, this.mlp.forward(this.ln2.forward(h))); // [B, T, C]
    });
  }
}

/** Token encoder: Linear(size, d) without bias, then (depth - 1) x [GELU, Linear(d, d)]. */
function buildEncoder(size: number, nEmbd: number, depth: number, generator: Generator): Sequential {
  const layers: Layer[] = [initLinear(new Linear(size, nEmbd, { bias: false, generator }), generator)];
  for (let i = 1; i < depth; i++) layers.push(new GELU(), initLinear(new Linear(nEmbd, nEmbd, { bias: false, generator }), generator));
  return new Sequential(...layers);
}

/**
 * Token decoder: (depth - 1) x [Linear(d, d), GELU], then Linear(d, size), all without bias.
 * The last layer starts at zero, so a fresh G.pt returns its starting parameters exactly.
 */
function buildDecoder(size: number, nEmbd: number, depth: number, generator: Generator): Sequential {
  const layers: Layer[] = [];
  for (let i = 1; i < depth; i++) layers.push(initLinear(new Linear(nEmbd, nEmbd, { bias: false, generator }), generator), new GELU());
  const last = initLinear(new Linear(nEmbd, size, { bias: false, generator }), generator);
  noGrad(() => tidy(() => last.weight.assign(zeros(last.weight.shape, { device: last.weight.device })))); // [size, d]
  layers.push(last);
  return new Sequential(...layers);
}

/**
 * The transformer of G.pt (the official `GPT` class, stored as `Gpt.decoder`): per-token
 * encoders, ln_in, positional embedding, blocks, ln_f, per-token decoders of the first
 * outputSplits.length tokens.
 */
export class GptBackbone extends Module {
  /** [1, T, C], learned, starts at zero. */
  pos_emb: Tensor;
  drop: Dropout;
  blocks: Block[];
  input_parameter_projections: Sequential[];
  ln_in: LayerNorm;
  ln_f: LayerNorm;
  output_parameter_projections: Sequential[];

  constructor(
    readonly config: GptConfig,
    readonly tokens: TokenSizes,
    generator: Generator,
  ) {
    super();
    const { nEmbd: d, nHead, nLayer, dropout } = config;
    this.pos_emb = parameter(zeros([1, tokens.inputSplits.length, d])); // [1, T, C]
    this.drop = new Dropout(dropout, { generator });
    this.blocks = Array.from({ length: nLayer }, () => new Block(d, nHead, dropout, generator));
    this.input_parameter_projections = tokens.inputSplits.map((size) => buildEncoder(size, d, config.encoderDepth, generator));
    this.ln_in = new LayerNorm(d);
    this.ln_f = new LayerNorm(d);
    this.output_parameter_projections = tokens.outputSplits.map((size) => buildDecoder(size, d, config.decoderDepth, generator));
  }

  /**
   * [N, I] (the concatenated input vector) -> [N, D] (the decoded first tokens). One GEMM per
   * token encoder and decoder: grouping equal-sized tokens into batched GEMMs (stacking their
   * weights per call) was measured at 1.02x this step's time on the train-step model, since
   * the encoders and decoders hold under 2% of its FLOPs (commit 0ac782d, reverted).
   */
  forward(inputs: Tensor): Tensor {
    return tidy(() => {
      const pieces = split(inputs, this.tokens.inputSplits, 1); // T x [N, size_j]
      const encoded = pieces.map((piece, j) => this.input_parameter_projections[j]!.forward(piece)); // T x [N, C]
      const normalized = this.ln_in.forward(stack(encoded, 1)); // [N, T, C]
      let h = this.drop.forward(add(normalized, this.pos_emb)); // [N, T, C]
      for (const block of this.blocks) h = block.forward(h); // [N, T, C]
      // Only the first K tokens are decoded, and LayerNorm is per token: ln_f on those alone, and
      // the per-token slices (whose gradients are zero-padded and summed) over [N, K, C], not [N, T, C].
      const first = slice(h, [null, [0, this.output_parameter_projections.length], null]); // [N, K, C]
      const features = this.ln_f.forward(first); // [N, K, C]
      const decoded = this.output_parameter_projections.map((decoder, j) => decoder.forward(slice(features, [null, j, null]))); // K x [N, size_j]
      return concat(decoded, 1); // [N, D]
    });
  }
}

/** A batch of scalars: a tensor [N] or [N, 1], or plain numbers. */
export type ScalarInput = Tensor | readonly number[] | Float32Array;

export interface GptOptions extends RandomOptions {}

/**
 * G.pt: predicts future parameters from noised ones `x` at diffusion step `t`, the starting
 * parameters `xPrev`, the starting metric `lossPrev` and the prompted one `lossTarget`.
 */
export class Gpt extends Module {
  /** The transformer; `decoder` is the official attribute name, hence the state-dict prefix. */
  decoder: GptBackbone;
  scalar_embedder: FrequencyEmbedder;
  readonly config: GptConfig;
  readonly parameterSizes: readonly number[];
  readonly tokens: TokenSizes;

  /**
   * `parameterSizes`: the element count of each tensor of the task network, in state-dict
   * order (e.g. Cartpole's [1, 128, 32, 1024, 32, 32, 1]). `config`: a preset name or
   * fields over the defaults. Draws its initialization from `options`' seed or generator.
   */
  constructor(parameterSizes: readonly number[], config: GptPresetName | Partial<GptConfig> = {}, options: GptOptions = {}) {
    super();
    this.config = resolveGptConfig(config);
    this.parameterSizes = [...parameterSizes];
    this.tokens = computeTokenSizes(parameterSizes, this.config);
    const generator = generatorFor(options, 'Gpt');
    this.decoder = new GptBackbone(this.config, this.tokens, generator);
    this.scalar_embedder = new FrequencyEmbedder(this.config.numFrequencies, this.config.maxFreqLog2);
  }

  /** D: the length of a parameter vector. */
  get parameterDim(): number {
    return this.parameterSizes.reduce((a, b) => a + b, 0);
  }

  /**
   * x [N, D] (noised future parameters), t [N] (diffusion steps), lossTarget [N], lossPrev [N],
   * xPrev [N, D] (starting parameters) -> [N, D] predicted future parameters.
   */
  forward(x: Tensor, t: ScalarInput, lossTarget: ScalarInput, lossPrev: ScalarInput, xPrev: Tensor): Tensor {
    const n = this.checkInputs(x, t, lossTarget, lossPrev, xPrev);
    return tidy(() => {
      const [steps, target, prev] = [t, lossTarget, lossPrev].map((s) => scalarTensor(s, n, x.device)); // 3 x [N]
      const scalars = [steps!, sub(target!, prev!)]; // [N] each: t, the metric change
      if (this.config.absoluteLossConditioning) scalars.push(target!, prev!);
      const embedded = scalars.map((s) => this.scalar_embedder.forward(s)); // S x [N, 2F + 1]
      const inputs = concat([x, xPrev, ...embedded], 1); // [N, 2D + S (2F + 1)]
      const output = this.decoder.forward(inputs); // [N, D]
      return add(output, xPrev); // [N, D]: the global residual, so the network predicts the update
    });
  }

  /**
   * AdamW groups as the official `configure_optimizers`: weight decay on Linear weights
   * (encoders, decoders, attention, MLP) only; none on biases, LayerNorm or pos_emb.
   */
  weightDecayGroups(weightDecay: number): ReturnType<typeof weightDecayParamGroups> {
    return weightDecayParamGroups(this, weightDecay, decaysLinearWeights);
  }

  private checkInputs(x: Tensor, t: ScalarInput, lossTarget: ScalarInput, lossPrev: ScalarInput, xPrev: Tensor): number {
    const dim = this.parameterDim;
    for (const [name, v] of [['x', x], ['xPrev', xPrev]] as const) {
      if (v.rank !== 2 || v.shape[1] !== dim) {
        throw new Error(`Gpt.forward: ${name} must be [N, ${dim}] (N parameter vectors of this model's D = ${dim}), got [${v.shape.join(', ')}]`);
      }
    }
    const n = x.shape[0]!;
    if (xPrev.shape[0] !== n) throw new Error(`Gpt.forward: x [${x.shape.join(', ')}] and xPrev [${xPrev.shape.join(', ')}] have different batch sizes`);
    for (const [name, s] of [['t', t], ['lossTarget', lossTarget], ['lossPrev', lossPrev]] as const) {
      const shape = s instanceof Object && 'shape' in s ? s.shape : [s.length];
      const count = shape.reduce((a, b) => a * b, 1);
      if (shape[0] !== n || count !== n || shape.length > 2) {
        throw new Error(`Gpt.forward: ${name} must hold one value per vector, [${n}] or [${n}, 1] for x [${x.shape.join(', ')}], got [${shape.join(', ')}]`);
      }
    }
    const steps = hostValues(t);
    if (steps) {
      const bad = Array.from(steps).find((v) => !(v >= 0 && v < this.config.diffusionSteps));
      if (bad !== undefined) throw new Error(`Gpt.forward: t must lie in [0, ${this.config.diffusionSteps}) (the diffusion schedule), got ${bad}`);
    }
    return n;
  }
}

/** The official weight-decay rule: only the weights of Linear layers decay. */
export function decaysLinearWeights(name: string, _parameter: Tensor, owner: Module): boolean {
  return owner instanceof Linear && name.endsWith('weight');
}

/** Values readable without an await (plain numbers or a host tensor), else null (t on a GPU is not checked). */
function hostValues(s: ScalarInput): ArrayLike<number> | null {
  if (!(s instanceof Object && 'shape' in s)) return s;
  return getBackend(s.device).readSync ? (s.dataSync() as ArrayLike<number>) : null;
}

/** A scalar input as a float32 [N] tensor on `device` (a new handle, freed by the caller's tidy). */
function scalarTensor(s: ScalarInput, n: number, device: string): Tensor {
  if (s instanceof Object && 'shape' in s) return reshape(s, [n]); // [N]
  return tensor(Float32Array.from(s), { device }); // [N]
}
