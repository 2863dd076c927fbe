// The G.pt model's hyper-parameters: one typed config with a comment per field, the
// paper's three presets (configs/train/*.yaml of the official code, gpt-paper.md §3.6)
// and small presets that train on a CPU.

/** How the concatenated input vector is cut into tokens (see splits.ts). */
export type SplitPolicy = 'chunk' | 'layer_by_layer' | 'chunk_within_layer' | 'chunk_within_input';

export interface GptConfig {
  /** Transformer width d (every token is embedded to d numbers). */
  readonly nEmbd: number;
  /** Number of pre-LayerNorm transformer blocks. */
  readonly nLayer: number;
  /** Attention heads; nEmbd must be a multiple of it (head dim = nEmbd / nHead). */
  readonly nHead: number;
  /** Dropout on the embeddings, the attention weights and both residual branches (0 in every paper config). */
  readonly dropout: number;
  /** Linear layers per token encoder (depth > 1 inserts GELU + Linear(d, d) after the first). */
  readonly encoderDepth: number;
  /** Linear layers per token decoder (depth > 1 puts Linear(d, d) + GELU before the last). */
  readonly decoderDepth: number;
  /** How parameter vectors and scalar embeddings become tokens. */
  readonly splitPolicy: SplitPolicy;
  /** Largest token for the chunking policies (unused by layer_by_layer). */
  readonly chunkSize: number;
  /** Frequencies of the scalar embedding; each scalar becomes 2 * numFrequencies + 1 numbers. */
  readonly numFrequencies: number;
  /** The frequencies are 2^linspace(0, maxFreqLog2, numFrequencies) (the configs use 14, the class default is 20). */
  readonly maxFreqLog2: number;
  /**
   * The network predicts the clean future parameters x_0 (true in every paper config) rather
   * than the noise. It tells the diffusion process what the output means; the model itself
   * always adds the global residual to xPrev, as the official code does.
   */
  readonly predictXstart: boolean;
  /** Also feed the target and the starting metric as tokens, besides their difference (true in every paper config). */
  readonly absoluteLossConditioning: boolean;
  /** Diffusion timesteps: forward() refuses t outside [0, diffusionSteps). */
  readonly diffusionSteps: number;
}

/** What every paper config shares (configs/train/*.yaml). */
const PAPER_COMMON = {
  dropout: 0,
  encoderDepth: 1,
  decoderDepth: 1,
  numFrequencies: 128,
  maxFreqLog2: 14,
  predictXstart: true,
  absoluteLossConditioning: true,
  diffusionSteps: 1000,
} as const;

/** The defaults: the paper's settings with a width that builds quickly. */
export const DEFAULT_GPT_CONFIG: GptConfig = {
  ...PAPER_COMMON,
  nEmbd: 256,
  nLayer: 4,
  nHead: 4,
  splitPolicy: 'layer_by_layer',
  chunkSize: 2048,
};

/**
 * The paper's models (§3.6) and small CPU-sized ones. `cartpoleSmall` is the
 * train-step benchmark's model; `tiny` is the golden-parity test's.
 */
export const GPT_PRESETS = {
  /** mnist_loss / mnist_error: 12 x 1536, 16 heads, tokens of <= 1000 within a layer (≈378.3M parameters). */
  mnist: { ...PAPER_COMMON, nEmbd: 1536, nLayer: 12, nHead: 16, splitPolicy: 'chunk_within_layer', chunkSize: 1000 },
  /** cifar10_loss / cifar10_error: 12 x 2048, 16 heads, tokens of <= 576 within a layer (≈639.5M). */
  cifar10: { ...PAPER_COMMON, nEmbd: 2048, nLayer: 12, nHead: 16, splitPolicy: 'chunk_within_layer', chunkSize: 576 },
  /** cartpole: 12 x 1536, 12 heads, one token per tensor (≈347.4M). */
  cartpole: { ...PAPER_COMMON, nEmbd: 1536, nLayer: 12, nHead: 12, splitPolicy: 'layer_by_layer', chunkSize: 2048 },
  /** The paper's tokenization at a CPU size: 4 x 256, 4 heads. */
  mnistSmall: { ...PAPER_COMMON, nEmbd: 256, nLayer: 4, nHead: 4, splitPolicy: 'chunk_within_layer', chunkSize: 1000 },
  cifar10Small: { ...PAPER_COMMON, nEmbd: 256, nLayer: 4, nHead: 4, splitPolicy: 'chunk_within_layer', chunkSize: 576 },
  cartpoleSmall: { ...PAPER_COMMON, nEmbd: 256, nLayer: 4, nHead: 4, splitPolicy: 'layer_by_layer', chunkSize: 2048 },
  /** 2 x 32, 2 heads: for tests. */
  tiny: { ...PAPER_COMMON, nEmbd: 32, nLayer: 2, nHead: 2, splitPolicy: 'layer_by_layer', chunkSize: 2048 },
} as const satisfies Record<string, GptConfig>;

export type GptPresetName = keyof typeof GPT_PRESETS;

/** A full config from a preset name or partial fields over the defaults; checks every field. */
export function resolveGptConfig(config: GptPresetName | Partial<GptConfig> = {}): GptConfig {
  const resolved: GptConfig = typeof config === 'string' ? presetByName(config) : { ...DEFAULT_GPT_CONFIG, ...config };
  checkGptConfig(resolved);
  return resolved;
}

function presetByName(name: string): GptConfig {
  const preset = (GPT_PRESETS as Record<string, GptConfig>)[name];
  if (!preset) throw new Error(`GptConfig: unknown preset "${name}" (known: ${Object.keys(GPT_PRESETS).join(', ')})`);
  return preset;
}

function checkGptConfig(c: GptConfig): void {
  const positive = ['nEmbd', 'nLayer', 'nHead', 'encoderDepth', 'decoderDepth', 'chunkSize', 'numFrequencies', 'diffusionSteps'] as const;
  for (const field of positive) {
    const v = c[field];
    if (!Number.isInteger(v) || v <= 0) throw new Error(`GptConfig: ${field} must be a positive integer, got ${v}`);
  }
  if (c.nEmbd % c.nHead !== 0) throw new Error(`GptConfig: nEmbd ${c.nEmbd} is not a multiple of nHead ${c.nHead}`);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new Error(`GptConfig: dropout must be in [0, 1), got ${c.dropout}`);
  if (!Number.isFinite(c.maxFreqLog2)) throw new Error(`GptConfig: maxFreqLog2 must be a finite number, got ${c.maxFreqLog2}`);
  const policies: SplitPolicy[] = ['chunk', 'layer_by_layer', 'chunk_within_layer', 'chunk_within_input'];
  if (!policies.includes(c.splitPolicy)) {
    throw new Error(`GptConfig: unknown splitPolicy "${String(c.splitPolicy)}" (known: ${policies.join(', ')})`);
  }
}
