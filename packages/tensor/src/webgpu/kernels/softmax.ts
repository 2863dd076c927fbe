// softmax and logSoftmax along any axis, one row at a time: max, sum of exp(x - max),
// then the output. Short rows (attention, class scores) give each row one
// invocation; long rows, when few, give each row a workgroup. A row of -inf is shifted by 0,
// like the CPU backend, and a NaN anywhere in a row makes the row NaN.

import type { TensorMeta } from '../../ops.js';
import { normalizeAxis, sizeOf } from '../../shape.js';
import { kernelSpec, Params, type GpuInfo, type GpuTensorBuffer, type KernelContext, type KernelSpec } from './kernel.js';
import { FLOAT_CLASS_WGSL, GLOBAL_INDEX, GROUP_INDEX, MAIN_ARGS, PARAMS_WGSL, storage, WORKGROUP_SIZE } from './wgsl.js';
import { WORKGROUP_REDUCE_WGSL } from './workgroup-reduce.js';

export type RowMode = 'thread' | 'group';

const ROWS = 0;
const LENGTH = 1;
const INNER = 2;

/**
 * A workgroup per row only for long rows that are few (an invocation per row keeps
 * more rows in flight and avoids barriers, which llvmpipe makes expensive).
 */
export function rowMode(rows: number, length: number): RowMode {
  return length >= 256 && rows <= 256 ? 'group' : 'thread';
}

/** The output for input `v`: (v - m) first, which is exact for large logits, then the small log(s). */
function output(log: boolean, v: string): string {
  return log ? `(${v} - m) - log_s` : `exp(${v} - m) / s`;
}

export function softmaxSpec(log: boolean, mode: RowMode): KernelSpec {
  const name = log ? 'logSoftmax' : 'softmax';
  return kernelSpec(`${name}:${mode}`, () => {
    const head = `${PARAMS_WGSL}
${FLOAT_CLASS_WGSL}
${WORKGROUP_REDUCE_WGSL}
${storage(1, 'x', 'f32', 'read')}
${storage(2, 'out', 'f32', 'read_write')}
`;
    const geometry = `
  let length = pu(${LENGTH}u);
  let inner = pu(${INNER}u);
  let base = (row / inner) * length * inner + row % inner;`;
    const finish = `
  if (m == neg_inf()) { m = 0.0; }
  let log_s = log(s);`;
    if (mode === 'thread') {
      return {
        code: `${head}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(${MAIN_ARGS}) {
  let row = ${GLOBAL_INDEX};
  if (row >= pu(${ROWS}u)) { return; }
  ${geometry}
  var m = neg_inf();
  for (var i = 0u; i < length; i++) { m = nan_max(m, x[base + i * inner]); }
  var s = 0.0;
  let shift = select(m, 0.0, m == neg_inf());
  for (var i = 0u; i < length; i++) { s += exp(x[base + i * inner] - shift); }
  ${finish}
  for (var i = 0u; i < length; i++) {
    let v = x[base + i * inner];
    out[base + i * inner] = ${output(log, 'v')};
  }
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
  ${geometry}
  var local_max = neg_inf();
  if (valid) {
    for (var i = li; i < length; i += ${WORKGROUP_SIZE}u) { local_max = nan_max(local_max, x[base + i * inner]); }
  }
  var m = group_max(local_max, li);
  let shift = select(m, 0.0, m == neg_inf());
  var local_sum = 0.0;
  if (valid) {
    for (var i = li; i < length; i += ${WORKGROUP_SIZE}u) { local_sum += exp(x[base + i * inner] - shift); }
  }
  let s = group_sum(local_sum, li);
  ${finish}
  if (valid) {
    for (var i = li; i < length; i += ${WORKGROUP_SIZE}u) {
      let v = x[base + i * inner];
      out[base + i * inner] = ${output(log, 'v')};
    }
  }
}
`,
      storage: ['read', 'read_write'],
    };
  });
}

export function runSoftmax(ctx: KernelContext, log: boolean, x: GpuInfo, axis: number, out: TensorMeta): GpuTensorBuffer {
  const op = log ? 'logSoftmax' : 'softmax';
  const result = ctx.allocate(op, out);
  if (sizeOf(out.shape) === 0) return result;
  const ax = normalizeAxis(op, axis, x.shape.length);
  const length = x.shape[ax]!;
  const rows = sizeOf(x.shape) / length;
  const params = new Params().u32(ROWS, rows).u32(LENGTH, length).u32(INNER, sizeOf(x.shape.slice(ax + 1)));
  const mode = rowMode(rows, length);
  const grid = mode === 'group' ? ctx.grid(op, rows, 1) : ctx.grid(op, rows);
  ctx.dispatch(op, softmaxSpec(log, mode), params, [x.buffer, result], grid);
  return result;
}

export function softmaxVariants(): KernelSpec[] {
  return [false, true].flatMap((log) => (['thread', 'group'] as const).map((mode) => softmaxSpec(log, mode)));
}
