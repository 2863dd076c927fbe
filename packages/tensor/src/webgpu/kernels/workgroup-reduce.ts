// WGSL helpers that combine one value per invocation across a workgroup and hand every
// invocation the result. Two levels instead of a halving tree: after one barrier, SEG
// invocations each fold a strided SEG-th of the values (conflict-free reads), and after a
// second every invocation folds the SEG partials itself (broadcast reads). Two barriers per
// call instead of log2(size) + 2, which matters where barriers are slow (llvmpipe) and is
// no worse on GPUs. No trailing barrier is needed: a following call writes `partials` only
// after its own first barrier, which every invocation reaches after reading these.
// Call them from uniform control flow: they contain barriers. The scratch arrays hold one
// value per invocation, so the helpers are built for one workgroup size.

import { WORKGROUP_SIZE } from './wgsl.js';

/** One helper `name(v, li)` folding values of type `T` with the statement `fold` (`a = a (+) b`). */
function twoLevel(name: string, T: string, fold: (a: string, b: string) => string, size: number, seg: number): string {
  return `var<workgroup> ${name}_scratch: array<${T}, ${size}>;
var<workgroup> ${name}_partials: array<${T}, ${seg}>;
fn ${name}(v: ${T}, li: u32) -> ${T} {
  ${name}_scratch[li] = v;
  workgroupBarrier();
  if (li < ${seg}u) {
    var a = ${name}_scratch[li];
    for (var j = 1u; j < ${size / seg}u; j++) {
      let b = ${name}_scratch[li + j * ${seg}u];
      ${fold('a', 'b')}
    }
    ${name}_partials[li] = a;
  }
  workgroupBarrier();
  var a = ${name}_partials[0];
  for (var j = 1u; j < ${seg}u; j++) {
    let b = ${name}_partials[j];
    ${fold('a', 'b')}
  }
  return a;
}`;
}

/** group_sum / group_sum2 / group_max (and nan_max) for a workgroup of `size` invocations (a power of two). */
export function workgroupReduceWgsl(size: number): string {
  if (!Number.isInteger(Math.log2(size))) throw new Error(`workgroupReduceWgsl: size must be a power of two, got ${size}`);
  // size = seg * (size / seg) with seg the larger factor: 64 -> 8 x 8, 256 -> 16 x 16, 128 -> 16 x 8.
  const seg = 2 ** Math.ceil(Math.log2(size) / 2);
  const add = (a: string, b: string) => `${a} = ${a} + ${b};`;
  return `
fn nan_max(a: f32, b: f32) -> f32 {
  if (is_nan(a) || is_nan(b)) { return select(b, a, is_nan(a)); }
  return max(a, b);
}
${twoLevel('group_sum', 'f32', add, size, seg)}
// Two sums in one reduction; its arrays take workgroup memory only in kernels that call it.
${twoLevel('group_sum2', 'vec2<f32>', add, size, seg)}
${twoLevel('group_max', 'f32', (a, b) => `${a} = nan_max(${a}, ${b});`, size, seg)}
`;
}

/** The helpers for the 1-D kernels' WORKGROUP_SIZE. */
export const WORKGROUP_REDUCE_WGSL = workgroupReduceWgsl(WORKGROUP_SIZE);
