// dtype conversion with the CPU backend's C-like semantics: float -> int truncates
// toward zero and wraps modulo 2^32 like a store into an Int32Array (NaN and
// infinities give 0); anything -> bool is x != 0; bool -> number is 0 or 1.

import type { DType } from '../../dtype.js';
import type { TensorMeta } from '../../ops.js';
import { sizeOf } from '../../shape.js';
import { kernelSpec, Params, type GpuInfo, type GpuTensorBuffer, type KernelContext, type KernelSpec } from './kernel.js';
import { ELEMENTS_PER_INVOCATION, FLOAT_CLASS_WGSL, gridStrideWgsl, MAIN_ARGS, PARAMS_WGSL, storage, wgslType, WORKGROUP_SIZE } from './wgsl.js';

const F32_TO_I32 = `
fn f32_to_i32(x: f32) -> i32 {
  if (is_nan(x) || is_inf(x)) { return 0; }
  let t = trunc(x);
  if (abs(t) < 2147483648.0) { return i32(t); }
  // |t| >= 2^31 is a multiple of 256, so this remainder in [0, 2^32) is exact.
  let m = t - floor(t / 4294967296.0) * 4294967296.0;
  return bitcast<i32>(u32(m));
}
`;

function conversion(from: DType, to: DType): string {
  if (to === 'bool') return from === 'float32' ? 'select(0u, 1u, x != 0.0)' : `select(0u, 1u, x != ${wgslType(from)}(0))`;
  if (to === 'int32') return from === 'float32' ? 'f32_to_i32(x)' : 'i32(x)';
  return 'f32(x)';
}

export function castSpec(from: DType, to: DType): KernelSpec {
  return kernelSpec(`cast:${from}:${to}`, () => ({
    code: `${PARAMS_WGSL}
${FLOAT_CLASS_WGSL}
${F32_TO_I32}
${storage(1, 'src', wgslType(from), 'read')}
${storage(2, 'out', wgslType(to), 'read_write')}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(${MAIN_ARGS}) {
  ${gridStrideWgsl('pu(0u)', `let x = src[i];
    out[i] = ${conversion(from, to)};`)}
}
`,
    storage: ['read', 'read_write'],
  }));
}

export function runCast(ctx: KernelContext, x: GpuInfo, out: TensorMeta): GpuTensorBuffer {
  const result = ctx.allocate('cast', out);
  const n = sizeOf(out.shape);
  if (n === 0) return result;
  ctx.dispatch('cast', castSpec(x.dtype, out.dtype), new Params().u32(0, n), [x.buffer, result], ctx.grid('cast', Math.ceil(n / ELEMENTS_PER_INVOCATION)));
  return result;
}

export function castVariants(): KernelSpec[] {
  const dtypes: DType[] = ['float32', 'int32', 'bool'];
  return dtypes.flatMap((from) => dtypes.filter((to) => to !== from).map((to) => castSpec(from, to)));
}
