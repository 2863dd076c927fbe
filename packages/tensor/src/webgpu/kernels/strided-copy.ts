// Data movement as strided copies of 32-bit words (every dtype is 32 bits on the
// GPU, so one kernel serves them all): permute, expand and slice read through
// strides into a dense output; pad and concat also write through strides into
// part of a larger output.

import type { OpAttrs, TensorMeta } from '../../ops.js';
import { broadcastStrides, normalizeAxis, sizeOf, stridesOf } from '../../shape.js';
import { recordFill } from './fill.js';
import { kernelSpec, Params, type GpuInfo, type GpuTensorBuffer, type KernelContext, type KernelSpec } from './kernel.js';
import { assertRank, coalesce } from './strided-layout.js';
import { ELEMENTS_PER_INVOCATION, MAIN_ARGS, MAX_RANK, PARAMS_WGSL, storage, stridedOffsetsWgsl, stridedRunWgsl, WORKGROUP_SIZE } from './wgsl.js';

const N = 0;
const RANK = 1;
const SRC_OFFSET = 2;
const DST_OFFSET = 3;
const SHAPE = 8;
const SRC_STRIDES = SHAPE + MAX_RANK;
const DST_STRIDES = SRC_STRIDES + MAX_RANK;

/** `dense` writes element i of the copied shape to dst[dstOffset + i]; `strided` goes through dst strides. */
export type CopyTarget = 'dense' | 'strided';

export function copySpec(target: CopyTarget): KernelSpec {
  const strides = target === 'dense' ? [SRC_STRIDES] : [SRC_STRIDES, DST_STRIDES];
  const write = target === 'dense' ? `dst[pu(${DST_OFFSET}u) + i]` : `dst[pu(${DST_OFFSET}u) + offsets[1]]`;
  return kernelSpec(`copy:${target}`, () => ({
    code: `${PARAMS_WGSL}
${storage(1, 'src', 'u32', 'read')}
${storage(2, 'dst', 'u32', 'read_write')}
${stridedOffsetsWgsl(RANK, SHAPE, strides)}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(${MAIN_ARGS}) {
  ${stridedRunWgsl(N, RANK, SHAPE, strides, `${write} = src[pu(${SRC_OFFSET}u) + offsets[0]];`)}
}
`,
    storage: ['read', 'read_write'],
  }));
}

interface CopyPlan {
  shape: readonly number[];
  srcStrides: readonly number[];
  srcOffset: number;
  /** Omitted: the destination is dense over `shape`. */
  dstStrides?: readonly number[];
  dstOffset: number;
}

/** Records dst[dstOffset + coord . dstStrides] = src[srcOffset + coord . srcStrides] over `shape`. */
function recordCopy(ctx: KernelContext, op: string, src: GpuTensorBuffer, dst: GpuTensorBuffer, plan: CopyPlan): void {
  const n = sizeOf(plan.shape);
  if (n === 0) return;
  const strideSets = plan.dstStrides ? [plan.srcStrides, plan.dstStrides] : [plan.srcStrides, stridesOf(plan.shape)];
  const layout = coalesce(plan.shape, strideSets);
  assertRank(op, layout, plan.shape);
  const denseTarget = !plan.dstStrides || layout.strides[1]!.every((s, i) => s === sizeOf(layout.shape.slice(i + 1)));
  const params = new Params()
    .u32(N, n)
    .u32(RANK, layout.shape.length)
    .u32(SRC_OFFSET, plan.srcOffset)
    .u32(DST_OFFSET, plan.dstOffset)
    .u32s(SHAPE, layout.shape)
    .u32s(SRC_STRIDES, layout.strides[0]!);
  if (!denseTarget) params.u32s(DST_STRIDES, layout.strides[1]!);
  ctx.dispatch(op, copySpec(denseTarget ? 'dense' : 'strided'), params, [src, dst], ctx.grid(op, Math.ceil(n / ELEMENTS_PER_INVOCATION)));
}

export function runPermute(ctx: KernelContext, x: GpuInfo, { perm }: OpAttrs['permute'], out: TensorMeta): GpuTensorBuffer {
  const result = ctx.allocate('permute', out);
  const inStrides = stridesOf(x.shape);
  recordCopy(ctx, 'permute', x.buffer, result, { shape: out.shape, srcStrides: perm.map((p) => inStrides[p]!), srcOffset: 0, dstOffset: 0 });
  return result;
}

export function runExpand(ctx: KernelContext, x: GpuInfo, out: TensorMeta): GpuTensorBuffer {
  const result = ctx.allocate('expand', out);
  recordCopy(ctx, 'expand', x.buffer, result, { shape: out.shape, srcStrides: broadcastStrides(x.shape, out.shape), srcOffset: 0, dstOffset: 0 });
  return result;
}

export function runSlice(ctx: KernelContext, x: GpuInfo, { begin }: OpAttrs['slice'], out: TensorMeta): GpuTensorBuffer {
  const result = ctx.allocate('slice', out);
  const strides = stridesOf(x.shape);
  const srcOffset = begin.reduce((acc, b, i) => acc + b * strides[i]!, 0);
  recordCopy(ctx, 'slice', x.buffer, result, { shape: out.shape, srcStrides: strides, srcOffset, dstOffset: 0 });
  return result;
}

export function runPad(ctx: KernelContext, x: GpuInfo, { pads, value }: OpAttrs['pad'], out: TensorMeta): GpuTensorBuffer {
  const result = ctx.allocate('pad', out);
  recordFill(ctx, 'pad', result, out, value);
  const outStrides = stridesOf(out.shape);
  const dstOffset = pads.reduce((acc, [before], i) => acc + before * outStrides[i]!, 0);
  recordCopy(ctx, 'pad', x.buffer, result, { shape: x.shape, srcStrides: stridesOf(x.shape), srcOffset: 0, dstStrides: outStrides, dstOffset });
  return result;
}

/** One copy per input into its band of the output (no limit on the number of inputs). */
export function runConcat(ctx: KernelContext, inputs: readonly GpuInfo[], { axis }: OpAttrs['concat'], out: TensorMeta): GpuTensorBuffer {
  const ax = normalizeAxis('concat', axis, out.shape.length);
  const result = ctx.allocate('concat', out);
  const outStrides = stridesOf(out.shape);
  let start = 0;
  for (const t of inputs) {
    recordCopy(ctx, 'concat', t.buffer, result, {
      shape: t.shape,
      srcStrides: stridesOf(t.shape),
      srcOffset: 0,
      dstStrides: outStrides,
      dstOffset: start * outStrides[ax]!,
    });
    start += t.shape[ax]!;
  }
  return result;
}

export function copyVariants(): KernelSpec[] {
  return [copySpec('dense'), copySpec('strided')];
}
