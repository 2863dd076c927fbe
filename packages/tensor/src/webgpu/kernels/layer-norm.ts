// layerNorm over the last axis without the affine part, (x - mean) / sqrt(var + eps),
// and its backward, with the variance taken of the centered values (like the CPU backend). The CPU
// sums in float64; here the mean is carried as two float32 terms, a rough mean and
// the mean of the residuals x - rough, and x is centered as (x - rough) - correction
// (the first difference is exact), which matters for rows far from zero (mean 500,
// spread 1), where one float32 mean would be off by half an ulp of 500.
// Rows map onto invocations by row-layout.ts: on GPUs a workgroup per row that keeps x
// (and dy) in registers, so each is read from memory once although the statistics take
// three passes (four more for the backward).

import type { TensorMeta } from '../../ops.js';
import { sizeOf } from '../../shape.js';
import { kernelSpec, Params, type GpuInfo, type GpuTensorBuffer, type KernelContext, type KernelSpec } from './kernel.js';
import { ROW_LAYOUTS, rowLayout, rowLayoutKey, RowWgsl, type RowLayout } from './row-layout.js';
import { FLOAT_CLASS_WGSL, MAIN_ARGS, PARAMS_WGSL, storage } from './wgsl.js';

const ROWS = 0;
const LENGTH = 1;
const EPS = 2;

/**
 * The forward kernel (binding 1 x, 2 out) or the backward one (1 dy, 2 x, 3 dx). Both
 * compute the row's statistics from x; the backward writes
 * dx = rstd (dy - mean(dy) - y mean(dy y)) with y = (x - mean) rstd.
 */
export function layerNormSpec(layout: RowLayout, backward = false): KernelSpec {
  return kernelSpec(`layerNorm${backward ? 'Backward' : ''}:${rowLayoutKey(layout)}`, () => {
    const row = new RowWgsl(layout);
    const bindings = backward
      ? [storage(1, 'dy', 'f32', 'read'), storage(2, 'x', 'f32', 'read'), storage(3, 'out', 'f32', 'read_write')]
      : [storage(1, 'x', 'f32', 'read'), storage(2, 'out', 'f32', 'read_write')];
    const x = row.value('x', 'base + i');
    const dy = row.value('dy', 'base + i');
    const centered = `((${x} - rough) - correction)`;
    const finish = backward
      ? `${row.sum2('dy_totals', [dy, `${dy} * ${centered} * rstd`])}
  let dy_mean = dy_totals.x / f32(length);
  let dy_y_mean = dy_totals.y / f32(length);
  ${row.each(`out[base + i] = rstd * (${dy} - dy_mean - ${centered} * rstd * dy_y_mean);`)}`
      : row.each(`out[base + i] = ${centered} * rstd;`);
    const code = `${PARAMS_WGSL}
${FLOAT_CLASS_WGSL}
${row.helpers}
${bindings.join('\n')}

@compute @workgroup_size(${layout.workgroup})
fn main(${MAIN_ARGS}) {
  ${row.header(ROWS)}
  let length = pu(${LENGTH}u);
  let base = row * length;
  ${row.load('x', 'base + i')}
  ${backward ? row.load('dy', 'base + i') : ''}
  ${row.sum('total', x)}
  let rough = total / f32(length);
  ${row.sum('residual', `${x} - rough`)}
  let correction = residual / f32(length);
  ${row.sum('squares', `${centered} * ${centered}`)}
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
  const rows = n / length; // out: [rows, length] viewed flat
  const params = new Params().u32(ROWS, rows).u32(LENGTH, length).f32(EPS, eps);
  const layout = rowLayout(ctx.profile, rows, length);
  const grid = layout.mode === 'group' ? ctx.grid(op, rows, 1) : ctx.grid(op, rows);
  ctx.dispatch(op, layerNormSpec(layout, backward), params, [...inputs.map((t) => t.buffer), result], grid);
  return result;
}

export function layerNormVariants(): KernelSpec[] {
  return [false, true].flatMap((backward) => ROW_LAYOUTS.map((layout) => layerNormSpec(layout, backward)));
}
