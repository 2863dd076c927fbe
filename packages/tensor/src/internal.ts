// @gpt/tensor/internal: the machinery behind the public API, for backend authors and
// for tests that check it (the op table, the gradient table, the expression compiler,
// the Philox block function, the kernel interface, the CPU backend itself). Nothing
// here is needed to use tensors; names may change between minor versions.

import type { CpuBackend } from './cpu/cpu-backend.js';
// The main entry registers the CPU backend and installs the Tensor methods.
import { getBackend } from './index.js';

export { runOp, runOpOutputs } from './engine.js';
export const cpuBackend = getBackend('cpu') as CpuBackend;
export { CpuBackend } from './cpu/cpu-backend.js';
export { GRADIENTS, type GradRule, type GradContext } from './gradients.js';
export { OPS, UNARY, BINARY, FUSED, MULTI_OUTPUT, WHERE_EXPR, matmulShapes, windowOutputSize } from './ops.js';
export type { OpName, OpAttrs, TensorMeta, UnaryOp, BinaryOp, FusedOp, MultiOutputOp } from './ops.js';
export type { BackendMemory, Kernel, KernelOp, KernelOutput, Kernels, TensorInfo } from './backend.js';
export { compileJs, emitWgsl, WGSL_EXPR_PRELUDE, type Expr } from './expr.js';
export { philox4x32, bitsToUniform, bitsToUniformOpen, seedToKey } from './philox.js';
