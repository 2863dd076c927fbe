// @gpt/transformer: the G.pt model (arXiv 2209.12892) on @gpt/tensor and @gpt/nn — its
// config and presets, the scalar frequency embedding, the parameter tokenizer, attention,
// the transformer backbone with the official state-dict names, and its parameter count.

export { DEFAULT_GPT_CONFIG, GPT_PRESETS, resolveGptConfig, type GptConfig, type GptPresetName, type SplitPolicy } from './config.js';
export { FrequencyEmbedder, frequencies } from './frequency-embedder.js';
export { buildSplits, computeTokenSizes, type ParameterSizes, type TokenSizes } from './splits.js';
export { scaledDotProductAttention, type AttentionOptions } from './attention.js';
export { Gpt, GptBackbone, Block, SelfAttention, decaysLinearWeights, type GptOptions, type ScalarInput } from './model.js';
export { paramCount } from './param-count.js';
