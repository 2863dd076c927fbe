// gather (torch.gather) and scatterAdd (torch.scatter_add). scatterAdd is
// deterministic without atomics: one invocation per output element walks the index
// entries that can target it, in the CPU backend's order, so both backends add the
// same terms in the same order. An index outside [-size, size) sets a flag in the
// status buffer; the backend turns it into an error on the next read.

import type { DType } from '../../dtype.js';
import type { OpAttrs, TensorMeta } from '../../ops.js';
import { normalizeAxis, sizeOf, stridesOf } from '../../shape.js';
import { kernelSpec, Params, type GpuInfo, type GpuTensorBuffer, type KernelContext, type KernelSpec } from './kernel.js';
import { GLOBAL_INDEX, MAIN_ARGS, MAX_RANK, PARAMS_WGSL, statusBinding, storage, wgslType } from './wgsl.js';

/** Status flag bits, decoded by the backend. */
export const STATUS_GATHER_INDEX = 1;
export const STATUS_SCATTER_INDEX = 2;

const N = 0;
const RANK = 1;
const AXIS = 2;
const AXIS_SIZE = 3;
const AXIS_LENGTH = 4;
const SHAPE_A = 8;
const SHAPE_B = SHAPE_A + MAX_RANK;
const STRIDES = SHAPE_B + MAX_RANK;

function assertRankFits(op: string, rank: number): void {
  if (rank > MAX_RANK) throw new Error(`${op}: the WebGPU backend handles tensors of rank <= ${MAX_RANK}, got rank ${rank}`);
}

export function gatherSpec(): KernelSpec {
  // SHAPE_A: index shape; STRIDES: strides of x.
  return kernelSpec('gather', () => ({
    code: `${PARAMS_WGSL}
${storage(1, 'x', 'u32', 'read')}
${storage(2, 'index', 'i32', 'read')}
${storage(3, 'out', 'u32', 'read_write')}
${statusBinding(4)}
@compute @workgroup_size(64)
fn main(${MAIN_ARGS}) {
  let idx = ${GLOBAL_INDEX};
  if (idx >= pu(${N}u)) { return; }
  let axis = pu(${AXIS}u);
  let size = pi(${AXIS_SIZE}u);
  var v = index[idx];
  if (v < -size || v >= size) {
    atomicOr(&status[0], ${STATUS_GATHER_INDEX}u);
    out[idx] = 0u;
    return;
  }
  if (v < 0) { v += size; }
  var rem = idx;
  var offset = 0u;
  let rank = pu(${RANK}u);
  for (var d = 0u; d < rank; d++) {
    let k = rank - 1u - d;
    let extent = pu(${SHAPE_A}u + k);
    var c = rem % extent;
    rem = rem / extent;
    if (k == axis) { c = u32(v); }
    offset += c * pu(${STRIDES}u + k);
  }
  out[idx] = x[offset];
}
`,
    storage: ['read', 'read', 'read_write', 'read_write'],
  }));
}

export function runGather(ctx: KernelContext, inputs: readonly GpuInfo[], { axis }: OpAttrs['gather'], out: TensorMeta): GpuTensorBuffer {
  const [x, index] = inputs as [GpuInfo, GpuInfo];
  const ax = normalizeAxis('gather', axis, x.shape.length);
  assertRankFits('gather', x.shape.length);
  const result = ctx.allocate('gather', out);
  const n = sizeOf(out.shape);
  if (n === 0) return result;
  const params = new Params()
    .u32(N, n)
    .u32(RANK, x.shape.length)
    .u32(AXIS, ax)
    .u32(AXIS_SIZE, x.shape[ax]!)
    .u32s(SHAPE_A, index.shape)
    .u32s(STRIDES, stridesOf(x.shape));
  ctx.dispatch('gather', gatherSpec(), params, [x.buffer, index.buffer, result, ctx.status], ctx.grid('gather', n));
  return result;
}

export function scatterAddSpec(dtype: DType): KernelSpec {
  // SHAPE_A: x shape; SHAPE_B: index shape; STRIDES: strides of index (and src).
  const T = wgslType(dtype);
  return kernelSpec(`scatterAdd:${dtype}`, () => ({
    code: `${PARAMS_WGSL}
${storage(1, 'x', T, 'read')}
${storage(2, 'index', 'i32', 'read')}
${storage(3, 'src', T, 'read')}
${storage(4, 'out', T, 'read_write')}
${statusBinding(5)}
@compute @workgroup_size(64)
fn main(${MAIN_ARGS}) {
  let idx = ${GLOBAL_INDEX};
  if (idx >= pu(${N}u)) { return; }
  let axis = pu(${AXIS}u);
  let size = pi(${AXIS_SIZE}u);
  var acc = x[idx];
  // Coordinates of this element; the index entries that may land here share them off the axis.
  var rem = idx;
  var base = 0u;
  var target_index = 0;
  var inside = true;
  let rank = pu(${RANK}u);
  for (var d = 0u; d < rank; d++) {
    let k = rank - 1u - d;
    let extent = pu(${SHAPE_A}u + k);
    let c = rem % extent;
    rem = rem / extent;
    if (k == axis) {
      target_index = i32(c);
    } else {
      if (c >= pu(${SHAPE_B}u + k)) { inside = false; }
      base += c * pu(${STRIDES}u + k);
    }
  }
  if (inside) {
    let step = pu(${STRIDES}u + axis);
    for (var j = 0u; j < pu(${AXIS_LENGTH}u); j++) {
      let p = base + j * step;
      var v = index[p];
      if (v < -size || v >= size) {
        atomicOr(&status[0], ${STATUS_SCATTER_INDEX}u);
        continue;
      }
      if (v < 0) { v += size; }
      if (v == target_index) { acc += src[p]; }
    }
  }
  out[idx] = acc;
}
`,
    storage: ['read', 'read', 'read', 'read_write', 'read_write'],
  }));
}

export function runScatterAdd(ctx: KernelContext, inputs: readonly GpuInfo[], { axis }: OpAttrs['scatterAdd'], out: TensorMeta): GpuTensorBuffer {
  const [x, index, src] = inputs as [GpuInfo, GpuInfo, GpuInfo];
  const ax = normalizeAxis('scatterAdd', axis, x.shape.length);
  assertRankFits('scatterAdd', x.shape.length);
  const result = ctx.allocate('scatterAdd', out);
  const n = sizeOf(out.shape);
  if (n === 0) return result;
  const params = new Params()
    .u32(N, n)
    .u32(RANK, x.shape.length)
    .u32(AXIS, ax)
    .u32(AXIS_SIZE, x.shape[ax]!)
    .u32(AXIS_LENGTH, sizeOf(index.shape) === 0 ? 0 : index.shape[ax]!)
    .u32s(SHAPE_A, x.shape)
    .u32s(SHAPE_B, index.shape)
    .u32s(STRIDES, stridesOf(index.shape));
  ctx.dispatch('scatterAdd', scatterAddSpec(x.dtype), params, [x.buffer, index.buffer, src.buffer, result, ctx.status], ctx.grid('scatterAdd', n));
  return result;
}

export function gatherVariants(): KernelSpec[] {
  return [gatherSpec(), scatterAddSpec('float32'), scatterAddSpec('int32'), scatterAddSpec('bool')];
}
