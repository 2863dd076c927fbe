// Scaled dot-product attention lives in @gpt/tensor, next to the op it fuses into on WebGPU
// (one WGSL dispatch forward and one per input gradient for G.pt's short sequences) and the
// composite the CPU runs (two batched matmuls, kᵀ a transpose flag, one softmax). This
// package re-exports it under the name its model and users already import.

export { scaledDotProductAttention, type AttentionOptions } from '@gpt/tensor';
