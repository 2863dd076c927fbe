// The CPU backend: buffers are typed arrays, kernels are plain TypeScript.
// Hot kernels (GEMM for matmul and conv) go through `gemm`, which by default routes
// each call to TypeScript or to the WASM SIMD kernels (kernel-policy.ts,
// chosen by size or forced with setCpuKernels).

import type { Backend, KernelOutput, Kernels, TensorInfo } from '../backend.js';
import { allocTyped, bytesPerElement, type DType, type TypedArray } from '../dtype.js';
import { BINARY, FUSED, UNARY, WHERE_EXPR, type BinaryOp, type FusedOp, type OpAttrs, type TensorMeta, type UnaryOp } from '../ops.js';
import { normalizeAxis, sizeOf } from '../shape.js';
import { attention, attentionBackward } from './attention.js';
import { conv2d, conv2dBackpropFilter, conv2dBackpropInput, avgPool2d, avgPool2dBackprop } from './conv.js';
import { adamUpdate, cast, elementwise } from './elementwise.js';
import type { Expr } from '../expr.js';
import type { BatchedGemm } from '../kernels-common/gemm-batch.js';
import { matmul } from './matmul.js';
import { concat, expand, gather, pad, permute, scatterAdd, slice } from './movement.js';
import { layerNorm, layerNormBackward, softmax } from './nn.js';
import { randomNormal, randomUniform } from './random.js';
import { allocateF32, dispatchAdamUpdate, dispatchConv, dispatchCopies, dispatchElementwise, dispatchGemm, dispatchRows, releaseCpuBuffer } from './kernel-policy.js';
import { concatPlan, expandPlan, padPlan, permutePlan, slicePlan } from '../wasm/wasm-movement.js';
import { argReduce, reduce } from './reduce.js';

type Info = TensorInfo<TypedArray>;
type F32 = TensorInfo<Float32Array>;

function asF32(inputs: readonly Info[]): F32[] {
  return inputs as F32[];
}

export class CpuBackend implements Backend<TypedArray> {
  readonly name = 'cpu';
  private liveBytes = 0;
  private uploads = 0;
  private uploadBytes = 0;
  /** The batched GEMM behind matmul and conv2d. */
  gemm: BatchedGemm = dispatchGemm;

  /** Elementwise ops: WASM SIMD where dispatchElementwise takes them, else the TS kernel. */
  private elementwise(expr: Expr, inputs: readonly Info[], out: TensorMeta): TypedArray {
    return dispatchElementwise(expr, inputs, out) ?? elementwise(expr, inputs, out);
  }

  upload(values: TypedArray, dtype: DType): TypedArray {
    const copy = allocTyped(dtype, values.length);
    copy.set(values);
    this.liveBytes += copy.length * bytesPerElement(dtype);
    this.uploads++;
    this.uploadBytes += copy.byteLength;
    return copy;
  }

  async read(buffer: TypedArray): Promise<TypedArray> {
    return buffer.slice();
  }

  readSync(buffer: TypedArray): TypedArray {
    return buffer.slice();
  }

  free(buffer: TypedArray): void {
    this.liveBytes -= buffer.byteLength;
    releaseCpuBuffer(buffer);
  }

  memory() {
    return { bytes: this.liveBytes, pooledBuffers: 0 };
  }

  /** upload() calls and bytes since the backend was made (WebGPUBackend.stats() counts the same). */
  stats(): { uploads: number; uploadBytes: number } {
    return { uploads: this.uploads, uploadBytes: this.uploadBytes };
  }

  run<K extends keyof Kernels<TypedArray>>(op: K, inputs: readonly Info[], attrs: OpAttrs[K], out: TensorMeta): KernelOutput<K, TypedArray> {
    const kernel = this.kernels[op] as (i: readonly Info[], a: OpAttrs[K], o: TensorMeta) => TypedArray | readonly TypedArray[];
    const result = kernel(inputs, attrs, out);
    for (const buffer of Array.isArray(result) ? result : [result]) this.liveBytes += (buffer as TypedArray).byteLength;
    return result as KernelOutput<K, TypedArray>;
  }

  private readonly kernels: Kernels<TypedArray> = {
    ...(Object.fromEntries(
      Object.keys(UNARY).map((name) => [name, (inputs: readonly Info[], _a: unknown, out: TensorMeta) => this.elementwise(UNARY[name as UnaryOp].expr, inputs, out)]),
    ) as { [K in UnaryOp]: Kernels<TypedArray>[K] }),
    ...(Object.fromEntries(
      Object.keys(BINARY).map((name) => [name, (inputs: readonly Info[], _a: unknown, out: TensorMeta) => this.elementwise(BINARY[name as BinaryOp].expr, inputs, out)]),
    ) as { [K in BinaryOp]: Kernels<TypedArray>[K] }),
    ...(Object.fromEntries(
      Object.keys(FUSED).map((name) => [name, (inputs: readonly Info[], _a: unknown, out: TensorMeta) => this.elementwise(FUSED[name as FusedOp].expr, inputs, out)]),
    ) as { [K in FusedOp]: Kernels<TypedArray>[K] }),
    where: (inputs, _a, out) => this.elementwise(WHERE_EXPR, inputs, out),
    cast: ([x], _a, out) => cast(x!, out),
    sum: ([x], { axes }) => {
      const normalized = axes.map((a) => normalizeAxis('sum', a, x!.shape.length));
      return dispatchRows('sum', x!, normalized) ?? reduce(x!.buffer, x!.shape, normalized, 'sum');
    },
    max: ([x], { axes }) => reduce(x!.buffer, x!.shape, axes.map((a) => normalizeAxis('max', a, x!.shape.length)), 'max'),
    min: ([x], { axes }) => reduce(x!.buffer, x!.shape, axes.map((a) => normalizeAxis('min', a, x!.shape.length)), 'min'),
    argmax: ([x], { axis }) => argReduce(x!.buffer, x!.shape, normalizeAxis('argmax', axis, x!.shape.length), 'argmax'),
    argmin: ([x], { axis }) => argReduce(x!.buffer, x!.shape, normalizeAxis('argmin', axis, x!.shape.length), 'argmin'),
    matmul: (inputs, attrs, out) => matmul(asF32(inputs), attrs, out, this.gemm, allocateF32),
    permute: ([x], attrs, out) => dispatchCopies(() => permutePlan(x as F32, attrs, out), [x!], out) ?? permute(x!, attrs, out),
    expand: ([x], _a, out) => dispatchCopies(() => expandPlan(x as F32, out), [x!], out) ?? expand(x!, out),
    slice: ([x], attrs, out) => dispatchCopies(() => slicePlan(x as F32, attrs, out), [x!], out) ?? slice(x!, attrs, out),
    pad: ([x], attrs, out) => dispatchCopies(() => padPlan(x as F32, attrs, out), [x!], out) ?? pad(x!, attrs, out),
    concat: (inputs, attrs, out) => dispatchCopies(() => concatPlan(asF32(inputs), attrs, out), inputs, out) ?? concat(inputs, attrs, out),
    gather: (inputs, attrs, out) => gather(inputs, attrs, out),
    scatterAdd: (inputs, attrs, out) => scatterAdd(inputs, attrs, out),
    softmax: ([x], { axis }) => dispatchRows('softmax', x!, [axis]) ?? softmax(x as F32, axis, false),
    logSoftmax: ([x], { axis }) => dispatchRows('logSoftmax', x!, [axis]) ?? softmax(x as F32, axis, true),
    attention: (inputs, attrs, out) => attention(asF32(inputs), attrs, out),
    attentionBackward: (inputs, attrs, out) => attentionBackward(asF32(inputs), attrs, out),
    layerNorm: ([x], { eps }) => dispatchRows('layerNorm', x!, [-1], eps) ?? layerNorm(x as F32, eps),
    layerNormBackward: ([g, x], { eps }) => dispatchRows('layerNormBackward', x!, [-1], eps, g!) ?? layerNormBackward(g as F32, x as F32, eps),
    conv2d: (inputs, attrs, out) => dispatchConv('conv2d', inputs, attrs, out) ?? conv2d(asF32(inputs), attrs, out, this.gemm, allocateF32),
    conv2dBackpropInput: (inputs, attrs, out) =>
      dispatchConv('conv2dBackpropInput', inputs, attrs, out) ?? conv2dBackpropInput(asF32(inputs), attrs, out, this.gemm, allocateF32),
    conv2dBackpropFilter: (inputs, attrs, out) =>
      dispatchConv('conv2dBackpropFilter', inputs, attrs, out) ?? conv2dBackpropFilter(asF32(inputs), attrs, out, this.gemm, allocateF32),
    avgPool2d: ([x], attrs, out) => avgPool2d(x as F32, attrs, out),
    avgPool2dBackprop: ([dy], attrs, out) => avgPool2dBackprop(dy as F32, attrs, out),
    fill: (_i, { shape, dtype, value }) => allocTyped(dtype, sizeOf(shape)).fill(value),
    adamUpdate: (inputs, attrs) => dispatchAdamUpdate(inputs, attrs) ?? adamUpdate(asF32(inputs), attrs),
    randomUniform: (_i, attrs) => randomUniform(attrs),
    randomNormal: (_i, attrs) => randomNormal(attrs),
  };
}
