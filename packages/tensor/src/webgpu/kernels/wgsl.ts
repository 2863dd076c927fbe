// WGSL text shared by every kernel: the per-dispatch parameter block, the global
// invocation index over a 2-D grid of workgroups, and dtype -> WGSL type mapping.
// Shapes and strides travel in the parameter block (a uniform), never in the
// shader source, so one compiled pipeline serves every shape.

import type { DType } from '../../dtype.js';

/** Invocations per workgroup of the 1-D kernels. */
export const WORKGROUP_SIZE = 64;

/** 32-bit words in one dispatch's parameter block (256 bytes: the usual uniform offset alignment). */
export const PARAM_WORDS = 64;

/** Highest rank a strided kernel handles after merging contiguous axes. */
export const MAX_RANK = 8;

/** WGSL storage type of a dtype: bool is stored as one u32 per element (WGSL has no 8-bit storage). */
export type WgslType = 'f32' | 'i32' | 'u32';

export function wgslType(dtype: DType): WgslType {
  return dtype === 'float32' ? 'f32' : dtype === 'int32' ? 'i32' : 'u32';
}

/** The parameter block at binding 0 and typed accessors into it. */
export const PARAMS_WGSL = `
@group(0) @binding(0) var<uniform> P: array<vec4<u32>, ${PARAM_WORDS / 4}>;
fn pu(i: u32) -> u32 { return P[i >> 2u][i & 3u]; }
fn pi(i: u32) -> i32 { return bitcast<i32>(pu(i)); }
fn pf(i: u32) -> f32 { return bitcast<f32>(pu(i)); }
`;

/**
 * NaN/infinity tests on the bits (compilers may fold x != x away, never a bit test).
 * Infinities come from a private variable: WGSL rejects them in constant expressions.
 */
export const FLOAT_CLASS_WGSL = `
var<private> inf_bits: u32 = 0x7f800000u;
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn is_inf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }
fn pos_inf() -> f32 { return bitcast<f32>(inf_bits); }
fn neg_inf() -> f32 { return bitcast<f32>(inf_bits | 0x80000000u); }
`;

/** Entry-point arguments of a 1-D kernel and the global index they give. */
export const MAIN_ARGS =
  '@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32';
export const GLOBAL_INDEX = `(wg.y * nwg.x + wg.x) * ${WORKGROUP_SIZE}u + li`;
/** Index of the workgroup itself (kernels that give one workgroup to each row). */
export const GROUP_INDEX = 'wg.y * nwg.x + wg.x';

/** Declares storage binding `binding` named `name` holding `array<type>`. */
export function storage(binding: number, name: string, type: string, access: 'read' | 'read_write'): string {
  return `@group(0) @binding(${binding}) var<storage, ${access}> ${name}: array<${type}>;`;
}

/** The error-flag word kernels set when they meet bad data (out-of-range indices). */
export function statusBinding(binding: number): string {
  return `@group(0) @binding(${binding}) var<storage, read_write> status: array<atomic<u32>>;`;
}

/**
 * Statements that turn flat index `flat` into per-operand offsets: for each name in
 * `offsets`, `var <name> = 0u;` accumulates coordinate * stride, where the shape
 * sits at params word `shapeAt` and operand k's strides at `stridesAt[k]`
 * (MAX_RANK words each, innermost axis last). The rank sits at word `rankAt`.
 */
export function unravelWgsl(flat: string, rankAt: number, shapeAt: number, offsets: readonly string[], stridesAt: readonly number[]): string {
  // The loop's own names carry a prefix so they never shadow the caller's offsets.
  return [
    ...offsets.map((o) => `var ${o} = 0u;`),
    `{`,
    `  var unravel_rem = ${flat};`,
    `  let unravel_rank = pu(${rankAt}u);`,
    `  for (var unravel_d = 0u; unravel_d < unravel_rank; unravel_d++) {`,
    `    let unravel_k = unravel_rank - 1u - unravel_d;`,
    `    let unravel_size = pu(${shapeAt}u + unravel_k);`,
    `    let unravel_c = unravel_rem % unravel_size;`,
    `    unravel_rem = unravel_rem / unravel_size;`,
    ...offsets.map((o, i) => `    ${o} += unravel_c * pu(${stridesAt[i]}u + unravel_k);`),
    `  }`,
    `}`,
  ].join('\n  ');
}

/**
 * Elements each invocation of an elementwise or copy kernel handles. llvmpipe (and
 * other CPU-side implementations) pay a fixed cost per invocation that dwarfs one
 * multiply-add; eight elements each cut that 3-5x, and GPUs do not mind.
 */
export const ELEMENTS_PER_INVOCATION = 8;

/**
 * A grid-stride loop over [0, n): `body` is WGSL run with `i` the element index.
 * Neighbouring invocations touch neighbouring elements on every pass.
 */
export function gridStrideWgsl(n: string, body: string): string {
  return `let grid_stride = nwg.x * nwg.y * ${WORKGROUP_SIZE}u;
  for (var i = ${GLOBAL_INDEX}; i < ${n}; i += grid_stride) {
    ${body}
  }`;
}

/**
 * Module-scope WGSL for `stridedRunWgsl`: strided_offsets(flat) unravels a flat index
 * over the shape at params word `shapeAt` (rank at `rankAt`) into one offset per
 * stride list (operand k's strides at `stridesAt[k]`).
 */
export function stridedOffsetsWgsl(rankAt: number, shapeAt: number, stridesAt: readonly number[]): string {
  const k = stridesAt.length;
  return `
fn strided_offsets(flat: u32) -> array<u32, ${k}> {
  var offsets: array<u32, ${k}>;
  var rem = flat;
  let rank = pu(${rankAt}u);
  for (var d = 0u; d < rank; d++) {
    let axis = rank - 1u - d;
    let size = pu(${shapeAt}u + axis);
    let c = rem % size;
    rem = rem / size;
${stridesAt.map((at, j) => `    offsets[${j}] += c * pu(${at}u + axis);`).join('\n')}
  }
  return offsets;
}
`;
}

/**
 * The main-function body that walks a contiguous run of ELEMENTS_PER_INVOCATION
 * elements of [0, pu(nAt)): `body` runs with `i` the flat index and `offsets[k]` the
 * element's offset for stride list k (from stridedOffsetsWgsl). Offsets advance by the
 * innermost strides and are recomputed only when the run crosses a row, so the
 * integer divisions (slow on CPU-side implementations) happen once per run.
 */
export function stridedRunWgsl(nAt: number, rankAt: number, shapeAt: number, stridesAt: readonly number[], body: string): string {
  return `let run_start = (${GLOBAL_INDEX}) * ${ELEMENTS_PER_INVOCATION}u;
  let run_n = pu(${nAt}u);
  if (run_start >= run_n) { return; }
  let run_end = min(run_start + ${ELEMENTS_PER_INVOCATION}u, run_n);
  let run_rank = pu(${rankAt}u);
  let run_last = max(run_rank, 1u) - 1u;
  let run_inner = select(1u, pu(${shapeAt}u + run_last), run_rank > 0u);
  var run_c = run_start % run_inner;
  var offsets = strided_offsets(run_start);
  for (var i = run_start; i < run_end; i++) {
    if (run_c == run_inner) {
      offsets = strided_offsets(i);
      run_c = 0u;
    }
    ${body}
${stridesAt.map((at, j) => `    offsets[${j}] += select(0u, pu(${at}u + run_last), run_rank > 0u);`).join('\n')}
    run_c += 1u;
  }`;
}

/**
 * The transposed window loop shared by the backward kernels of conv2d and avgPool2d:
 * for input pixel (yy, xx), visits every output (oy, ox) whose window reads it, with the
 * window offsets (i, j). Expects KH, KW, SH, SW, PH, PW, OH, OW in scope.
 */
export function windowsReadingPixelWgsl(body: string): string {
  return `  for (var i = 0u; i < KH; i++) {
    let ty = i32(yy + PH) - i32(i);
    if (ty < 0 || u32(ty) % SH != 0u) { continue; }
    let oy = u32(ty) / SH;
    if (oy >= OH) { continue; }
    for (var j = 0u; j < KW; j++) {
      let tx = i32(xx + PW) - i32(j);
      if (tx < 0 || u32(tx) % SW != 0u) { continue; }
      let ox = u32(tx) / SW;
      if (ox >= OW) { continue; }
      ${body}
    }
  }`;
}
