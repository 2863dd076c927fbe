// layerNorm over the last axis without the affine part: (x - mean) / sqrt(var + eps),
// with the variance taken of the centered values (like the CPU backend). The CPU
// sums in float64; here the mean is carried as two float32 terms, a rough mean and
// the mean of the residuals x - rough, and x is centered as (x - rough) - correction
// (the first difference is exact), which matters for rows far from zero (mean 500,
// spread 1), where one float32 mean would be off by half an ulp of 500.

import type { TensorMeta } from '../../ops.js';
import { sizeOf } from '../../shape.js';
import { kernelSpec, Params, type GpuInfo, type GpuTensorBuffer, type KernelContext, type KernelSpec } from './kernel.js';
import { rowMode } from './softmax.js';
import { FLOAT_CLASS_WGSL, GLOBAL_INDEX, GROUP_INDEX, MAIN_ARGS, PARAMS_WGSL, storage, WORKGROUP_SIZE } from './wgsl.js';
import { WORKGROUP_REDUCE_WGSL } from './workgroup-reduce.js';

const ROWS = 0;
const LENGTH = 1;
const EPS = 2;

export function layerNormSpec(mode: 'thread' | 'group'): KernelSpec {
  return kernelSpec(`layerNorm:${mode}`, () => {
    const head = `${PARAMS_WGSL}
${FLOAT_CLASS_WGSL}
${WORKGROUP_REDUCE_WGSL}
${storage(1, 'x', 'f32', 'read')}
${storage(2, 'out', 'f32', 'read_write')}
`;
    if (mode === 'thread') {
      return {
        code: `${head}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(${MAIN_ARGS}) {
  let row = ${GLOBAL_INDEX};
  if (row >= pu(${ROWS}u)) { return; }
  let length = pu(${LENGTH}u);
  let base = row * length;
  var total = 0.0;
  for (var i = 0u; i < length; i++) { total += x[base + i]; }
  let rough = total / f32(length);
  var residual = 0.0;
  for (var i = 0u; i < length; i++) { residual += x[base + i] - rough; }
  let correction = residual / f32(length);
  var squares = 0.0;
  for (var i = 0u; i < length; i++) { let c = (x[base + i] - rough) - correction; squares += c * c; }
  let rstd = 1.0 / sqrt(squares / f32(length) + pf(${EPS}u));
  for (var i = 0u; i < length; i++) { out[base + i] = ((x[base + i] - rough) - correction) * rstd; }
}
`,
        storage: ['read', 'read_write'],
      };
    }
    return {
      code: `${head}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(${MAIN_ARGS}) {
  let row = ${GROUP_INDEX};
  let valid = row < pu(${ROWS}u);
  let length = pu(${LENGTH}u);
  let base = row * length;
  var local_sum = 0.0;
  if (valid) {
    for (var i = li; i < length; i += ${WORKGROUP_SIZE}u) { local_sum += x[base + i]; }
  }
  let rough = group_sum(local_sum, li) / f32(length);
  var local_residual = 0.0;
  if (valid) {
    for (var i = li; i < length; i += ${WORKGROUP_SIZE}u) { local_residual += x[base + i] - rough; }
  }
  let correction = group_sum(local_residual, li) / f32(length);
  var local_squares = 0.0;
  if (valid) {
    for (var i = li; i < length; i += ${WORKGROUP_SIZE}u) { let c = (x[base + i] - rough) - correction; local_squares += c * c; }
  }
  let rstd = 1.0 / sqrt(group_sum(local_squares, li) / f32(length) + pf(${EPS}u));
  if (valid) {
    for (var i = li; i < length; i += ${WORKGROUP_SIZE}u) { out[base + i] = ((x[base + i] - rough) - correction) * rstd; }
  }
}
`,
      storage: ['read', 'read_write'],
    };
  });
}

export function runLayerNorm(ctx: KernelContext, x: GpuInfo, eps: number, out: TensorMeta): GpuTensorBuffer {
  const result = ctx.allocate('layerNorm', out);
  const n = sizeOf(out.shape);
  if (n === 0) return result;
  const length = x.shape.at(-1)!;
  const rows = n / length;
  const params = new Params().u32(ROWS, rows).u32(LENGTH, length).f32(EPS, eps);
  const mode = rowMode(rows, length);
  const grid = mode === 'group' ? ctx.grid('layerNorm', rows, 1) : ctx.grid('layerNorm', rows);
  ctx.dispatch('layerNorm', layerNormSpec(mode), params, [x.buffer, result], grid);
  return result;
}

export function layerNormVariants(): KernelSpec[] {
  return [layerNormSpec('thread'), layerNormSpec('group')];
}
