// @gpt/tensor: tensors with reverse-mode autograd, a counter-based RNG and
// pluggable backends (CPU always; WebGPU from @gpt/tensor/webgpu-node or a browser).

export { Tensor } from './tensor.js';
export type { DType, TypedArray } from './dtype.js';
export type { Shape } from './shape.js';
export { sizeOf, broadcastShapes } from './shape.js';
export {
  tidy,
  keep,
  noGrad,
  isGradEnabled,
  memory,
  registerBackend,
  removeBackend,
  getBackend,
  setDefaultDevice,
  getDefaultDevice,
  runOp,
  type MemoryInfo,
} from './engine.js';
export { backward, valueAndGrad } from './autograd.js';
export { GRADIENTS, type GradRule, type GradContext } from './gradients.js';
export { tensor, scalar, zeros, ones, full, zerosLike, onesLike, fullLike, arange, linspace, eye, type CreateOptions } from './creation.js';
export { Generator, defaultGenerator, manualSeed, rand, randn, randint, type RandomOptions } from './random.js';
export * from './ops-math.js';
export * from './ops-shape.js';
export * from './ops-nn.js';
export { OPS, UNARY, BINARY, FUSED, WHERE_EXPR, matmulShapes, windowOutputSize } from './ops.js';
export type { OpName, OpAttrs, TensorMeta, UnaryOp, BinaryOp, FusedOp } from './ops.js';
export type { Backend, BackendMemory, Kernel, KernelOp, Kernels, TensorInfo } from './backend.js';
export { CpuBackend } from './cpu/cpu-backend.js';
export {
  setCpuKernels,
  getCpuKernels,
  cpuKernelsStatus,
  cpuThreadsReady,
  type CpuKernelMode,
  type CpuKernelOptions,
  type CpuKernelsStatus,
} from './cpu/kernel-policy.js';
export { cpuBackend } from './engine.js';
export { compileJs, emitWgsl, WGSL_EXPR_PRELUDE, type Expr } from './expr.js';
export { philox4x32, bitsToUniform, bitsToUniformOpen, seedToKey } from './philox.js';
