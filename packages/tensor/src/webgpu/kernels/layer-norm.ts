// layerNorm over the last axis without the affine part, (x - mean) / sqrt(var + eps),
// and its backward, with the variance taken of the centered values (like the CPU backend). The CPU
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

type RowMode = 'thread' | 'group';

/** WGSL that sums the f32 expression `term` (of the element index i) over the row into `name`. */
function rowSum(mode: RowMode, name: string, term: string): string {
  if (mode === 'thread') return `var ${name} = 0.0;\n  for (var i = 0u; i < length; i++) { ${name} += ${term}; }`;
  return `var ${name}_part = 0.0;
  if (valid) {
    for (var i = li; i < length; i += ${WORKGROUP_SIZE}u) { ${name}_part += ${term}; }
  }
  let ${name} = group_sum(${name}_part, li);`;
}

/** WGSL that runs `statement` for every element index i of the row. */
function rowEach(mode: RowMode, statement: string): string {
  if (mode === 'thread') return `for (var i = 0u; i < length; i++) { ${statement} }`;
  return `if (valid) {
    for (var i = li; i < length; i += ${WORKGROUP_SIZE}u) { ${statement} }
  }`;
}

/**
 * The forward kernel (binding 1 x, 2 out) or the backward one (1 dy, 2 x, 3 dx). Both
 * recompute the row's statistics from x; the backward writes
 * dx = rstd (dy - mean(dy) - y mean(dy y)) with y = (x - mean) rstd.
 */
export function layerNormSpec(mode: RowMode, backward = false): KernelSpec {
  return kernelSpec(`layerNorm${backward ? 'Backward' : ''}:${mode}`, () => {
    const bindings = backward
      ? [storage(1, 'dy', 'f32', 'read'), storage(2, 'x', 'f32', 'read'), storage(3, 'out', 'f32', 'read_write')]
      : [storage(1, 'x', 'f32', 'read'), storage(2, 'out', 'f32', 'read_write')];
    const row =
      mode === 'thread'
        ? `let row = ${GLOBAL_INDEX};
  if (row >= pu(${ROWS}u)) { return; }`
        : `let row = ${GROUP_INDEX};
  let valid = row < pu(${ROWS}u);`;
    const centered = '((x[base + i] - rough) - correction)';
    const finish = backward
      ? `${rowSum(mode, 'dy_total', 'dy[base + i]')}
  ${rowSum(mode, 'dy_y_total', `dy[base + i] * ${centered} * rstd`)}
  let dy_mean = dy_total / f32(length);
  let dy_y_mean = dy_y_total / f32(length);
  ${rowEach(mode, `out[base + i] = rstd * (dy[base + i] - dy_mean - ${centered} * rstd * dy_y_mean);`)}`
      : rowEach(mode, `out[base + i] = ${centered} * rstd;`);
    const code = `${PARAMS_WGSL}
${FLOAT_CLASS_WGSL}
${WORKGROUP_REDUCE_WGSL}
${bindings.join('\n')}

@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(${MAIN_ARGS}) {
  ${row}
  let length = pu(${LENGTH}u);
  let base = row * length;
  ${rowSum(mode, 'total', 'x[base + i]')}
  let rough = total / f32(length);
  ${rowSum(mode, 'residual', 'x[base + i] - rough')}
  let correction = residual / f32(length);
  ${rowSum(mode, 'squares', `${centered} * ${centered}`)}
  let rstd = 1.0 / sqrt(squares / f32(length) + pf(${EPS}u));
  ${finish}
}
`;
    return { code, storage: backward ? ['read', 'read', 'read_write'] : ['read', 'read_write'] };
  });
}

/** layerNorm (inputs [x]) or its backward (inputs [dy, x]) over the last axis. */
export function runLayerNorm(ctx: KernelContext, inputs: readonly GpuInfo[], eps: number, out: TensorMeta): GpuTensorBuffer {
  const backward = inputs.length === 2;
  const op = backward ? 'layerNormBackward' : 'layerNorm';
  const result = ctx.allocate(op, out);
  const n = sizeOf(out.shape);
  if (n === 0) return result;
  const length = out.shape.at(-1)!;
  const rows = n / length;
  const params = new Params().u32(ROWS, rows).u32(LENGTH, length).f32(EPS, eps);
  const mode = rowMode(rows, length);
  const grid = mode === 'group' ? ctx.grid(op, rows, 1) : ctx.grid(op, rows);
  ctx.dispatch(op, layerNormSpec(mode, backward), params, [...inputs.map((t) => t.buffer), result], grid);
  return result;
}

export function layerNormVariants(): KernelSpec[] {
  return [layerNormSpec('thread'), layerNormSpec('group'), layerNormSpec('thread', true), layerNormSpec('group', true)];
}
