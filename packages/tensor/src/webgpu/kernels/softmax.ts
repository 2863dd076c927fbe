// softmax and logSoftmax along any axis, one row at a time: max, sum of exp(x - max),
// then the output. Rows map onto invocations by row-layout.ts (an invocation per short
// row; a workgroup per long row, always on GPUs, only when rows are few on llvmpipe; on
// GPUs the row is kept in registers and read once). A row of -inf is shifted by 0,
// like the CPU backend, and a NaN anywhere in a row makes the row NaN.

import type { TensorMeta } from '../../ops.js';
import { normalizeAxis, sizeOf } from '../../shape.js';
import { kernelSpec, Params, type GpuInfo, type GpuTensorBuffer, type KernelContext, type KernelSpec } from './kernel.js';
import { ROW_LAYOUTS, rowLayout, rowLayoutKey, RowWgsl, type RowLayout } from './row-layout.js';
import { FLOAT_CLASS_WGSL, MAIN_ARGS, PARAMS_WGSL, storage } from './wgsl.js';

const ROWS = 0;
const LENGTH = 1;
const INNER = 2;

/** The output for input `v`: (v - m) first, which is exact for large logits, then the small log(s). */
function output(log: boolean, v: string): string {
  return log ? `(${v} - m) - log_s` : `exp(${v} - m) / s`;
}

/** Bindings: 1 x, 2 out. Element i of a row sits at base + i * inner (inner: the axes after the softmax axis). */
export function softmaxSpec(log: boolean, layout: RowLayout): KernelSpec {
  const name = log ? 'logSoftmax' : 'softmax';
  return kernelSpec(`${name}:${rowLayoutKey(layout)}`, () => {
    const row = new RowWgsl(layout);
    const address = 'base + i * inner';
    const v = row.value('x', address);
    const code = `${PARAMS_WGSL}
${FLOAT_CLASS_WGSL}
${row.helpers}
${storage(1, 'x', 'f32', 'read')}
${storage(2, 'out', 'f32', 'read_write')}

@compute @workgroup_size(${layout.workgroup})
fn main(${MAIN_ARGS}) {
  ${row.header(ROWS)}
  let length = pu(${LENGTH}u);
  let inner = pu(${INNER}u);
  let base = (row / inner) * length * inner + row % inner;
  ${row.load('x', address)}
  ${row.max('row_max', v)}
  var m = row_max;
  let shift = select(m, 0.0, m == neg_inf());
  ${row.sum('s', `exp(${v} - shift)`)}
  if (m == neg_inf()) { m = 0.0; }
  let log_s = log(s);
  ${row.each(`out[${address}] = ${output(log, v)};`)}
}
`;
    return { code, storage: ['read', 'read_write'] };
  });
}

export function runSoftmax(ctx: KernelContext, log: boolean, x: GpuInfo, axis: number, out: TensorMeta): GpuTensorBuffer {
  const op = log ? 'logSoftmax' : 'softmax';
  const result = ctx.allocate(op, out);
  if (sizeOf(out.shape) === 0) return result;
  const ax = normalizeAxis(op, axis, x.shape.length);
  const length = x.shape[ax]!;
  const rows = sizeOf(x.shape) / length;
  const inner = sizeOf(x.shape.slice(ax + 1));
  const params = new Params().u32(ROWS, rows).u32(LENGTH, length).u32(INNER, inner);
  const layout = rowLayout(ctx.profile, rows, length, inner === 1);
  const grid = layout.mode === 'group' ? ctx.grid(op, rows, 1) : ctx.grid(op, rows);
  ctx.dispatch(op, softmaxSpec(log, layout), params, [x.buffer, result], grid);
  return result;
}

export function softmaxVariants(): KernelSpec[] {
  return [false, true].flatMap((log) => ROW_LAYOUTS.map((layout) => softmaxSpec(log, layout)));
}
