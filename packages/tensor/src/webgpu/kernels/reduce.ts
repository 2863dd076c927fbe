// sum / max / min over any set of axes, and argmax / argmin along one axis.
// The input is viewed as [kept axes] x [reduced axes], each merged where contiguous.
// With the 'software' kernels each output usually gets one invocation; long reductions
// with few outputs give each output a workgroup whose invocations reduce contiguous
// slices and combine them in a tree. With the 'gpu' kernels every reduction of 64 or
// more elements gets a workgroup per output (any output count: a GPU needs the
// invocations), whose invocations interleave (invocation li takes elements li, li + 256,
// ...), so neighbouring invocations read neighbouring addresses of a contiguous
// reduction. Float sums add at most 64 terms per partial result.
// max/min propagate NaN like the CPU backend; argmax/argmin take the first extreme.

import type { DType } from '../../dtype.js';
import type { OpAttrs, TensorMeta } from '../../ops.js';
import { normalizeAxis, sizeOf, stridesOf } from '../../shape.js';
import { kernelSpec, Params, type GpuInfo, type GpuTensorBuffer, type KernelContext, type KernelProfile, type KernelSpec } from './kernel.js';
import { assertRank, coalesce } from './strided-layout.js';
import { FLOAT_CLASS_WGSL, GLOBAL_INDEX, GROUP_INDEX, MAIN_ARGS, MAX_RANK, PARAMS_WGSL, storage, unravelWgsl, WORKGROUP_SIZE, wgslType } from './wgsl.js';

export type ReduceKind = 'sum' | 'max' | 'min';
/**
 * `thread`: one invocation per output; `group`: one workgroup of WORKGROUP_SIZE per output,
 * each invocation a contiguous slice; `interleaved`: one workgroup per output, invocations
 * striding over the reduced elements.
 */
export type ReduceMode = 'thread' | 'group' | 'interleaved';

/** How one reduction dispatches: the mode and its invocations per workgroup. */
export interface ReduceLayout {
  readonly mode: ReduceMode;
  readonly workgroup: number;
}

const N = 0;
const KEPT_RANK = 1;
const RED_RANK = 2;
const RED_COUNT = 3;
const SPLITS = 4;
const KEPT_SHAPE = 8;
const KEPT_STRIDES = KEPT_SHAPE + MAX_RANK;
const RED_SHAPE = KEPT_STRIDES + MAX_RANK;
const RED_STRIDES = RED_SHAPE + MAX_RANK;

/** Terms per partial result of a float sum (then partials are added). */
const PARTIAL = 64;

/**
 * 'software': a workgroup per output for long reductions with few outputs (full sums,
 * norms); otherwise an invocation per output is both simpler and faster on llvmpipe.
 * 'gpu': a workgroup per output from 64 elements on, 256 invocations from 1024 elements.
 */
export function reduceLayout(profile: KernelProfile, outputs: number, count: number): ReduceLayout {
  if (profile === 'software') return { mode: count >= 256 && outputs <= 256 ? 'group' : 'thread', workgroup: WORKGROUP_SIZE };
  if (count < 64) return { mode: 'thread', workgroup: WORKGROUP_SIZE };
  return { mode: 'interleaved', workgroup: count >= 1024 ? 256 : 64 };
}

const REDUCE_LAYOUTS: readonly ReduceLayout[] = [
  { mode: 'thread', workgroup: WORKGROUP_SIZE },
  { mode: 'group', workgroup: WORKGROUP_SIZE },
  { mode: 'interleaved', workgroup: 64 },
  { mode: 'interleaved', workgroup: 256 },
];

function identity(kind: ReduceKind, T: string): string {
  if (kind === 'sum') return `${T}(0)`;
  if (T === 'f32') return kind === 'max' ? 'neg_inf()' : 'pos_inf()';
  return kind === 'max' ? 'i32(-2147483648)' : 'i32(2147483647)';
}

/** One accumulation step `a = a (+) v`; float max/min spell out NaN propagation (WGSL's max/min leave it undefined). */
function stepWgsl(kind: ReduceKind, T: string, a: string, v: string): string {
  if (kind === 'sum') return `${a} = ${a} + ${v};`;
  if (T !== 'f32') return `${a} = ${kind}(${a}, ${v});`;
  return `if (is_nan(${a}) || is_nan(${v})) { ${a} = select(${v}, ${a}, is_nan(${a})); } else { ${a} = ${kind}(${a}, ${v}); }`;
}

/** The tree that combines one `acc` per invocation of a workgroup of `size` into `partial[0]`. */
function workgroupCombine(step: (a: string, v: string) => string, size: number): string {
  return `partial[li] = acc;
  workgroupBarrier();
  for (var half = ${size / 2}u; half > 0u; half >>= 1u) {
    if (li < half) {
      var a = partial[li];
      let v = partial[li + half];
      ${step('a', 'v')}
      partial[li] = a;
    }
    workgroupBarrier();
  }`;
}

export function reduceSpec(kind: ReduceKind, dtype: DType, layout: ReduceLayout): KernelSpec {
  const T = wgslType(dtype);
  const { mode, workgroup } = layout;
  const key = `reduce:${kind}:${dtype}:${mode}${mode === 'interleaved' ? workgroup : ''}`;
  return kernelSpec(key, () => {
    const step = (a: string, v: string) => stepWgsl(kind, T, a, v);
    const base = `
${PARAMS_WGSL}
${FLOAT_CLASS_WGSL}
${storage(1, 'x', T, 'read')}
${storage(2, 'out', T, 'read_write')}
fn reduced_offset(r: u32) -> u32 {
  ${unravelWgsl('r', RED_RANK, RED_SHAPE, ['o'], [RED_STRIDES])}
  return o;
}
fn kept_offset(i: u32) -> u32 {
  ${unravelWgsl('i', KEPT_RANK, KEPT_SHAPE, ['o'], [KEPT_STRIDES])}
  return o;
}
// Reduces reduced-index range [r_begin, r_end) of the output whose data starts at
// \`start\`: runs along the innermost reduced axis, at most ${PARTIAL} terms per partial
// result (so float sums stay accurate), one index unravel per run.
fn reduce_range(start: u32, r_begin: u32, r_end: u32) -> ${T} {
  let red_rank = pu(${RED_RANK}u);
  let last = max(red_rank, 1u) - 1u;
  let inner = select(1u, pu(${RED_SHAPE}u + last), red_rank > 0u);
  let inner_stride = select(0u, pu(${RED_STRIDES}u + last), red_rank > 0u);
  var acc = ${identity(kind, T)};
  var r = r_begin;
  while (r < r_end) {
    let len = min(min(inner - r % inner, r_end - r), ${PARTIAL}u);
    let run_base = start + reduced_offset(r);
    var part = ${identity(kind, T)};
    for (var j = 0u; j < len; j++) {
      let v = x[run_base + j * inner_stride];
      ${step('part', 'v')}
    }
    ${step('acc', 'part')}
    r += len;
  }
  return acc;
}
`;
    if (mode === 'thread') {
      return {
        code: `${base}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(${MAIN_ARGS}) {
  let idx = ${GLOBAL_INDEX};
  if (idx >= pu(${N}u)) { return; }
  out[idx] = reduce_range(kept_offset(idx), 0u, pu(${RED_COUNT}u));
}
`,
        storage: ['read', 'read_write'],
      };
    }
    if (mode === 'interleaved') {
      return {
        code: `${base}
// Offset of reduced element r; one multiply when the reduced axes merged into one.
fn element_offset(r: u32) -> u32 {
  if (pu(${RED_RANK}u) <= 1u) { return r * pu(${RED_STRIDES}u); }
  return reduced_offset(r);
}
var<workgroup> partial: array<${T}, ${workgroup}>;
@compute @workgroup_size(${workgroup})
fn main(${MAIN_ARGS}) {
  // Workgroup g reduces split g % splits of output g / splits into out[g] (splits = 1: the whole output).
  let g = ${GROUP_INDEX};
  let splits = pu(${SPLITS}u);
  if (g >= pu(${N}u) * splits) { return; }
  let row = g / splits;
  let total = pu(${RED_COUNT}u);
  let chunk = (total + splits - 1u) / splits;
  let begin = min((g % splits) * chunk, total);
  let count = min(begin + chunk, total);
  let start = kept_offset(row);
  var acc = ${identity(kind, T)};
  // Partial results of at most ${PARTIAL} terms each (this invocation's elements r0, r0 + ${workgroup}, ...).
  for (var r0 = begin + li; r0 < count; r0 += ${workgroup * PARTIAL}u) {
    let r_end = min(count, r0 + ${workgroup * PARTIAL}u);
    var part = ${identity(kind, T)};
    for (var r = r0; r < r_end; r += ${workgroup}u) {
      let v = x[start + element_offset(r)];
      ${step('part', 'v')}
    }
    ${step('acc', 'part')}
  }
  ${workgroupCombine(step, workgroup)}
  if (li == 0u) { out[g] = partial[0]; }
}
`,
        storage: ['read', 'read_write'],
      };
    }
    return {
      code: `${base}
var<workgroup> partial: array<${T}, ${WORKGROUP_SIZE}>;
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(${MAIN_ARGS}) {
  let row = ${GROUP_INDEX};
  let valid = row < pu(${N}u);
  var acc = ${identity(kind, T)};
  if (valid) {
    // Each invocation takes one contiguous slice of the reduced elements.
    let count = pu(${RED_COUNT}u);
    let chunk = (count + ${WORKGROUP_SIZE - 1}u) / ${WORKGROUP_SIZE}u;
    let r_begin = min(li * chunk, count);
    acc = reduce_range(kept_offset(row), r_begin, min(r_begin + chunk, count));
  }
  ${workgroupCombine(step, WORKGROUP_SIZE)}
  if (valid && li == 0u) { out[row] = partial[0]; }
}
`,
      storage: ['read', 'read_write'],
    };
  });
}

export function runReduce(ctx: KernelContext, kind: ReduceKind, x: GpuInfo, { axes }: OpAttrs['sum'], out: TensorMeta): GpuTensorBuffer {
  const n = sizeOf(out.shape);
  if (n === 0) return ctx.allocate(kind, out);
  const rank = x.shape.length;
  const reduced = new Set(axes.map((a) => normalizeAxis(kind, a, rank)));
  const strides = stridesOf(x.shape);
  const keptAxes = [...Array(rank).keys()].filter((a) => !reduced.has(a));
  const redAxes = [...Array(rank).keys()].filter((a) => reduced.has(a));
  const kept = coalesce(keptAxes.map((a) => x.shape[a]!), [keptAxes.map((a) => strides[a]!)]);
  const red = coalesce(redAxes.map((a) => x.shape[a]!), [redAxes.map((a) => strides[a]!)]);
  assertRank(kind, kept, x.shape);
  assertRank(kind, red, x.shape);
  const count = sizeOf(red.shape);
  const params = new Params()
    .u32(N, n)
    .u32(KEPT_RANK, kept.shape.length)
    .u32(RED_RANK, red.shape.length)
    .u32(RED_COUNT, count)
    .u32s(KEPT_SHAPE, kept.shape)
    .u32s(KEPT_STRIDES, kept.strides[0]!)
    .u32s(RED_SHAPE, red.shape)
    .u32s(RED_STRIDES, red.strides[0]!);
  const layout = reduceLayout(ctx.profile, n, count);
  const splits = layout.mode === 'interleaved' ? reduceSplits(n, count) : 1;
  params.u32(SPLITS, splits);
  if (splits === 1) {
    const result = ctx.allocate(kind, out);
    const grid = layout.mode === 'thread' ? ctx.grid(kind, n) : ctx.grid(kind, n, 1);
    ctx.dispatch(kind, reduceSpec(kind, x.dtype, layout), params, [x.buffer, result], grid);
    return result;
  }
  // Few long outputs (a full sum, a norm): one workgroup each would leave most of a GPU idle,
  // so workgroups reduce splits into partials [n, splits], and a second pass reduces those.
  const partials = ctx.allocate(kind, { shape: [n, splits], dtype: out.dtype });
  try {
    ctx.dispatch(kind, reduceSpec(kind, x.dtype, layout), params, [x.buffer, partials], ctx.grid(kind, n * splits, 1));
    return runReduce(ctx, kind, { buffer: partials, shape: [n, splits], dtype: x.dtype }, { axes: [1] }, out);
  } finally {
    ctx.release(partials);
  }
}

/** Workgroups per output: enough for ~512 in all when outputs are few, each reducing >= 16,384 elements. */
export function reduceSplits(outputs: number, count: number): number {
  if (outputs >= 128) return 1;
  return Math.max(1, Math.min(Math.ceil(count / 16384), Math.ceil(512 / outputs)));
}

// ---- argmax / argmin ---------------------------------------------------------

const A_N = 0;
const A_LENGTH = 1;
const A_INNER = 2;

export function argReduceSpec(kind: 'argmax' | 'argmin', dtype: DType): KernelSpec {
  const T = wgslType(dtype);
  const cmp = kind === 'argmax' ? '>' : '<';
  // NaN counts as the extreme value: the first NaN wins.
  const better = T === 'f32' ? `(v ${cmp} best && !is_nan(best)) || (is_nan(v) && !is_nan(best))` : `v ${cmp} best`;
  return kernelSpec(`${kind}:${dtype}`, () => ({
    code: `${PARAMS_WGSL}
${FLOAT_CLASS_WGSL}
${storage(1, 'x', T, 'read')}
${storage(2, 'out', 'i32', 'read_write')}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(${MAIN_ARGS}) {
  let idx = ${GLOBAL_INDEX};
  if (idx >= pu(${A_N}u)) { return; }
  let inner = pu(${A_INNER}u);
  let length = pu(${A_LENGTH}u);
  let base = (idx / inner) * length * inner + idx % inner;
  var best = x[base];
  var index = 0;
  for (var r = 1u; r < length; r++) {
    let v = x[base + r * inner];
    if (${better}) {
      best = v;
      index = i32(r);
    }
  }
  out[idx] = index;
}
`,
    storage: ['read', 'read_write'],
  }));
}

export function runArgReduce(ctx: KernelContext, kind: 'argmax' | 'argmin', x: GpuInfo, { axis }: OpAttrs['argmax'], out: TensorMeta): GpuTensorBuffer {
  const result = ctx.allocate(kind, out);
  const n = sizeOf(out.shape);
  if (n === 0) return result;
  const ax = normalizeAxis(kind, axis, x.shape.length);
  const params = new Params()
    .u32(A_N, n)
    .u32(A_LENGTH, x.shape[ax]!)
    .u32(A_INNER, sizeOf(x.shape.slice(ax + 1)));
  ctx.dispatch(kind, argReduceSpec(kind, x.dtype), params, [x.buffer, result], ctx.grid(kind, n));
  return result;
}

export function reduceVariants(): KernelSpec[] {
  const specs: KernelSpec[] = [];
  for (const kind of ['sum', 'max', 'min'] as const) {
    for (const dtype of ['float32', 'int32'] as const) {
      for (const layout of REDUCE_LAYOUTS) specs.push(reduceSpec(kind, dtype, layout));
    }
  }
  for (const kind of ['argmax', 'argmin'] as const) {
    for (const dtype of ['float32', 'int32'] as const) specs.push(argReduceSpec(kind, dtype));
  }
  return specs;
}
