// How the row kernels (layerNorm, softmax) map rows onto invocations, per kernel
// profile, and the WGSL that walks one row under that mapping.
//
// 'software' (llvmpipe): an invocation per row, except a workgroup of 64 for long rows
// that are few; every pass re-reads the row, because barriers cost more there than reloads.
// 'gpu': a workgroup per row whenever the row fills one (length >= 64), for any row count,
// 256 invocations for rows of 1024 and more; each invocation keeps its slice of the row in
// a fixed-size private array (registers), so the kernel reads its inputs from global memory
// once instead of once per pass (3-4 passes), which is what bounds these kernels on a GPU.
// Rows longer than the registers hold (more than 16 per invocation) fall back to re-reading.
// Short rows (attention's 7-26 scores) keep an invocation per row, in registers when at
// most 32 long.

import type { KernelProfile } from './kernel.js';
import { GLOBAL_INDEX, GROUP_INDEX, WORKGROUP_SIZE } from './wgsl.js';
import { workgroupReduceWgsl } from './workgroup-reduce.js';

export interface RowLayout {
  /** 'thread': one invocation per row; 'group': one workgroup per row. */
  readonly mode: 'thread' | 'group';
  /** Invocations per workgroup (thread mode always uses WORKGROUP_SIZE). */
  readonly workgroup: number;
  /** Row elements each invocation keeps in a private array; 0 re-reads memory on every pass. */
  readonly registers: number;
}

/** Row elements per invocation a 'gpu' workgroup keeps in registers. */
const GROUP_REGISTERS = 16;
/** Longest row a 'gpu' invocation-per-row kernel keeps in registers. */
const THREAD_REGISTERS = 32;
/**
 * Row count from which a non-contiguous row (softmax along a middle axis) keeps an
 * invocation per row on a GPU: neighbouring rows are neighbouring in memory, so those
 * reads coalesce and there are enough of them to fill the device, while a workgroup's
 * invocations would each read a different stretch of memory.
 */
const STRIDED_THREAD_ROWS = 16384;

/** Every layout rowLayout can return (for the kernels' variant lists). */
export const ROW_LAYOUTS: readonly RowLayout[] = [
  { mode: 'thread', workgroup: WORKGROUP_SIZE, registers: 0 },
  { mode: 'group', workgroup: WORKGROUP_SIZE, registers: 0 },
  { mode: 'thread', workgroup: WORKGROUP_SIZE, registers: THREAD_REGISTERS },
  { mode: 'group', workgroup: 64, registers: GROUP_REGISTERS },
  { mode: 'group', workgroup: 256, registers: GROUP_REGISTERS },
  { mode: 'group', workgroup: 256, registers: 0 },
];

/** The layout for `rows` rows of `length` elements; `contiguous` when a row's elements are adjacent in memory. */
export function rowLayout(profile: KernelProfile, rows: number, length: number, contiguous = true): RowLayout {
  if (profile === 'software') {
    return { mode: length >= 256 && rows <= 256 ? 'group' : 'thread', workgroup: WORKGROUP_SIZE, registers: 0 };
  }
  if (length < 64 || (!contiguous && rows >= STRIDED_THREAD_ROWS)) {
    return { mode: 'thread', workgroup: WORKGROUP_SIZE, registers: length <= THREAD_REGISTERS ? THREAD_REGISTERS : 0 };
  }
  const workgroup = length >= 1024 ? 256 : 64;
  return { mode: 'group', workgroup, registers: length <= GROUP_REGISTERS * workgroup ? GROUP_REGISTERS : 0 };
}

/** The part of a spec key that names the layout, e.g. "group256r16". */
export function rowLayoutKey(layout: RowLayout): string {
  return `${layout.mode}${layout.workgroup}${layout.registers > 0 ? `r${layout.registers}` : ''}`;
}

/**
 * WGSL fragments for one row under a layout. Inside `each` bodies, `i` is the element's
 * index in the row and `k` its register slot; `value` reads an element from registers
 * (after `load`) or from memory. The row's length must be in a `length` variable.
 */
export class RowWgsl {
  constructor(readonly layout: RowLayout) {}

  /** The workgroup-reduction helpers (group_sum, group_max, nan_max) sized for this layout. */
  get helpers(): string {
    return workgroupReduceWgsl(this.layout.workgroup);
  }

  /** `let row = ...` and an early return past the last row (uniform in group mode, so barriers may follow). */
  header(rowsWord: number): string {
    const index = this.layout.mode === 'group' ? GROUP_INDEX : GLOBAL_INDEX;
    return `let row = ${index};
  if (row >= pu(${rowsWord}u)) { return; }`;
  }

  /** Runs `body` for each of this invocation's elements of the row. */
  each(body: string): string {
    const { mode, workgroup, registers } = this.layout;
    const first = mode === 'group' ? 'li' : '0u';
    const step = mode === 'group' ? `${workgroup}u` : '1u';
    if (registers === 0) return `for (var i = ${first}; i < length; i += ${step}) { ${body} }`;
    return `for (var k = 0u; k < ${registers}u; k++) {
    let i = ${first} + k * ${step};
    if (i < length) { ${body} }
  }`;
  }

  /** Declares and fills `<name>_r` with this invocation's elements of array `name` (nothing without registers). */
  load(name: string, address: string): string {
    if (this.layout.registers === 0) return '';
    return `var ${name}_r: array<f32, ${this.layout.registers}>;
  ${this.each(`${name}_r[k] = ${name}[${address}];`)}`;
  }

  /** Element i of array `name` at `address`: from registers when loaded there. */
  value(name: string, address: string): string {
    return this.layout.registers === 0 ? `${name}[${address}]` : `${name}_r[k]`;
  }

  /** `let <name>` = the row's sum of the f32 expression `term`. */
  sum(name: string, term: string): string {
    return this.combine(name, '0.0', `${name}_part += ${term};`, 'group_sum');
  }

  /** `let <name>` = the row's sums of the two f32 expressions in `terms`, as a vec2 (one reduction). */
  sum2(name: string, terms: readonly [string, string]): string {
    return this.combine(name, 'vec2<f32>(0.0)', `${name}_part += vec2<f32>(${terms[0]}, ${terms[1]});`, 'group_sum2');
  }

  /** `let <name>` = the row's NaN-propagating max of `term`. */
  max(name: string, term: string): string {
    return this.combine(name, 'neg_inf()', `${name}_part = nan_max(${name}_part, ${term});`, 'group_max');
  }

  private combine(name: string, init: string, step: string, across: string): string {
    const total = this.layout.mode === 'group' ? `${across}(${name}_part, li)` : `${name}_part`;
    return `var ${name}_part = ${init};
  ${this.each(step)}
  let ${name} = ${total};`;
  }
}
