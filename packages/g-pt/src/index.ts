export const packageName = '@gpt/g-pt';
export { optimize, sampleRows, samplerDiffusion, resolvePrompts, type OptimizeOptions, type OptimizeResult, type OptimizedSample, type OptimizeProgressEvent, type PromptInput, type SamplerName, type SamplerOptions } from './sample/optimize.js';
