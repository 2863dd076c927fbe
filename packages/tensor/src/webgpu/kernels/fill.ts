// fill: every element set to one 32-bit pattern (the value converted on the host
// exactly as the CPU backend's typed-array fill converts it).

import { allocTyped } from '../../dtype.js';
import type { OpAttrs, TensorMeta } from '../../ops.js';
import { sizeOf } from '../../shape.js';
import { kernelSpec, Params, type GpuTensorBuffer, type KernelContext, type KernelSpec } from './kernel.js';
import { ELEMENTS_PER_INVOCATION, gridStrideWgsl, MAIN_ARGS, PARAMS_WGSL, storage, WORKGROUP_SIZE } from './wgsl.js';

export function fillSpec(): KernelSpec {
  return kernelSpec('fill', () => ({
    code: `${PARAMS_WGSL}
${storage(1, 'out', 'u32', 'read_write')}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(${MAIN_ARGS}) {
  let value = pu(1u);
  ${gridStrideWgsl('pu(0u)', 'out[i] = value;')}
}
`,
    storage: ['read_write'],
  }));
}

/** The 32-bit pattern the GPU stores for `value` in a tensor of `dtype`. */
export function fillBits(dtype: OpAttrs['fill']['dtype'], value: number): number {
  const converted = allocTyped(dtype, 1).fill(value)[0]!;
  if (dtype === 'float32') return new Uint32Array(new Float32Array([converted]).buffer)[0]!;
  return converted >>> 0;
}

/** Fills `target` (already allocated for `out`) with `value`. */
export function recordFill(ctx: KernelContext, op: string, target: GpuTensorBuffer, out: TensorMeta, value: number): void {
  const n = sizeOf(out.shape);
  if (n === 0) return;
  ctx.dispatch(op, fillSpec(), new Params().u32(0, n).u32(1, fillBits(out.dtype, value)), [target], ctx.grid(op, Math.ceil(n / ELEMENTS_PER_INVOCATION)));
}

export function runFill(ctx: KernelContext, attrs: OpAttrs['fill'], out: TensorMeta): GpuTensorBuffer {
  const result = ctx.allocate('fill', out);
  recordFill(ctx, 'fill', result, out, attrs.value);
  return result;
}
