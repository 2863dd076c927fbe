// @gpt/tensor: tensors with reverse-mode autograd, a counter-based RNG and
// pluggable backends (CPU always; WebGPU from @gpt/tensor/webgpu-node or a browser).
// This entry is what a user writes; the op table, gradient rules, kernel interface
// and other machinery for backend authors live in @gpt/tensor/internal.

import { CpuBackend } from './cpu/cpu-backend.js';
import { registerBackend } from './storage.js';
import { installTensorMethods } from './tensor-methods.js';

// The entry wires what the layers below must not know: Tensor's op methods (they sit
// above the ops they call) and the CPU backend, which every process has.
installTensorMethods();
registerBackend(new CpuBackend());

export { Tensor } from './tensor.js';
export type { DType, TypedArray } from './dtype.js';
export type { Shape } from './shape.js';
export { sizeOf, broadcastShapes } from './shape.js';
export { noGrad, isGradEnabled } from './engine.js';
export { tidy, tidyAsync, keep } from './scopes.js';
export {
  memory,
  memoryMark,
  liveTensorsSince,
  setLeakWarning,
  markStep,
  type MemoryInfo,
  type MemoryMark,
  type LiveTensorInfo,
} from './live-tensors.js';
export { registerBackend, removeBackend, getBackend, setDefaultDevice, getDefaultDevice, resetPeakMemory } from './storage.js';
// The type registerBackend takes and getBackend returns; its parts (Kernels,
// TensorInfo, ...) are in @gpt/tensor/internal.
export type { Backend } from './backend.js';
export { backward, valueAndGrad } from './autograd.js';
export { tensor, scalar, zeros, ones, full, zerosLike, onesLike, fullLike, arange, linspace, eye, type CreateOptions } from './creation.js';
export { Generator, defaultGenerator, generatorFor, manualSeed, rand, randn, randint, type RandomOptions } from './random.js';
export * from './ops-math.js';
export * from './ops-shape.js';
export * from './ops-nn.js';
export * from './ops-attention.js';
export {
  setCpuKernels,
  getCpuKernels,
  cpuKernelsStatus,
  cpuThreadsReady,
  type CpuKernelMode,
  type CpuKernelOptions,
  type CpuKernelsStatus,
} from './cpu/kernel-policy.js';
