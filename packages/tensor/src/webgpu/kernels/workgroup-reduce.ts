// WGSL helpers that combine one f32 per invocation across a workgroup (tree
// reduction through workgroup memory) and hand every invocation the result.
// Call them from uniform control flow: they contain barriers. The scratch arrays
// hold one value per invocation, so the helpers are built for one workgroup size.

import { WORKGROUP_SIZE } from './wgsl.js';

/** group_sum / group_max (and nan_max) for a workgroup of `size` invocations (a power of two). */
export function workgroupReduceWgsl(size: number): string {
  if (!Number.isInteger(Math.log2(size))) throw new Error(`workgroupReduceWgsl: size must be a power of two, got ${size}`);
  return `
var<workgroup> scratch: array<f32, ${size}>;
fn nan_max(a: f32, b: f32) -> f32 {
  if (is_nan(a) || is_nan(b)) { return select(b, a, is_nan(a)); }
  return max(a, b);
}
fn group_sum(v: f32, li: u32) -> f32 {
  scratch[li] = v;
  workgroupBarrier();
  for (var half = ${size / 2}u; half > 0u; half >>= 1u) {
    if (li < half) { scratch[li] = scratch[li] + scratch[li + half]; }
    workgroupBarrier();
  }
  let total = scratch[0];
  workgroupBarrier();
  return total;
}
// Two sums in one tree (half the barriers of two group_sum calls); its own scratch,
// which takes workgroup memory only in kernels that call it.
var<workgroup> scratch2: array<vec2<f32>, ${size}>;
fn group_sum2(v: vec2<f32>, li: u32) -> vec2<f32> {
  scratch2[li] = v;
  workgroupBarrier();
  for (var half = ${size / 2}u; half > 0u; half >>= 1u) {
    if (li < half) { scratch2[li] = scratch2[li] + scratch2[li + half]; }
    workgroupBarrier();
  }
  let total = scratch2[0];
  workgroupBarrier();
  return total;
}
fn group_max(v: f32, li: u32) -> f32 {
  scratch[li] = v;
  workgroupBarrier();
  for (var half = ${size / 2}u; half > 0u; half >>= 1u) {
    if (li < half) { scratch[li] = nan_max(scratch[li], scratch[li + half]); }
    workgroupBarrier();
  }
  let best = scratch[0];
  workgroupBarrier();
  return best;
}
`;
}

/** The helpers for the 1-D kernels' WORKGROUP_SIZE. */
export const WORKGROUP_REDUCE_WGSL = workgroupReduceWgsl(WORKGROUP_SIZE);
