// fill: every element set to one 32-bit pattern (the value converted on the host
// exactly as the CPU backend's typed-array fill converts it).

import { allocTyped } from '../../dtype.js';
import type { OpAttrs, TensorMeta } from '../../ops.js';
import { sizeOf } from '../../shape.js';
import { kernelSpec, Params, type GpuTensorBuffer, type KernelContext, type KernelSpec } from './kernel.js';
import { GLOBAL_INDEX, MAIN_ARGS, PARAMS_WGSL, storage } from './wgsl.js';

export function fillSpec(): KernelSpec {
  return kernelSpec('fill', () => ({
    code: `${PARAMS_WGSL}
${storage(1, 'out', 'u32', 'read_write')}
@compute @workgroup_size(64)
fn main(${MAIN_ARGS}) {
  let idx = ${GLOBAL_INDEX};
  if (idx >= pu(0u)) { return; }
  out[idx] = pu(1u);
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
  ctx.dispatch(op, fillSpec(), new Params().u32(0, n).u32(1, fillBits(out.dtype, value)), [target], ctx.grid(op, n));
}

export function runFill(ctx: KernelContext, attrs: OpAttrs['fill'], out: TensorMeta): GpuTensorBuffer {
  const result = ctx.allocate('fill', out);
  recordFill(ctx, 'fill', result, out, attrs.value);
  return result;
}
