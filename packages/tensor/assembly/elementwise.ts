// Elementwise float32 kernels: a small register machine that evaluates one
// expression (src/expr.ts, compiled to instructions by src/wasm/wasm-elementwise.ts)
// over blocks of 256 elements, each instruction a SIMD loop over whole blocks, so
// decoding costs once per block, not per element. Inputs are read densely, as a
// scalar, or broadcast by a (repeat, period) pattern: element i reads input index
// floor(i / repeat) % period, which covers bias rows ([N, C] + [C]) and per-row
// values ([N, C] * [N, 1]).

import { JOB_ARGS, jobWord } from './job';
import { erfV, expV, geluGradV, geluV } from './vector-math';

export const EW_BLOCK: i32 = 256;
const BLOCK_BYTES: usize = <usize>EW_BLOCK << 2;

// Argument words of an elementwise job.
export const EW_COUNT: i32 = JOB_ARGS;
export const EW_PROGRAM: i32 = JOB_ARGS + 1;
export const EW_INSTRUCTIONS: i32 = JOB_ARGS + 2;
export const EW_REGISTERS: i32 = JOB_ARGS + 3;
export const EW_OUT: i32 = JOB_ARGS + 4;
/** Elements per task (a multiple of EW_BLOCK). */
export const EW_TASK_SIZE: i32 = JOB_ARGS + 5;
/** Per input i (up to 6, the most an expression reads): byte address, repeat and period at EW_INPUTS + 3*i (+1, +2); period 0 = dense. */
export const EW_INPUTS: i32 = JOB_ARGS + 6;

/** Instructions are 5 words: opcode, destination register, then up to three operands. */
export const OP_INPUT: i32 = 1; // a = input index
export const OP_CONST: i32 = 2; // a = float32 bits
export const OP_NEG: i32 = 3;
export const OP_ABS: i32 = 4;
export const OP_SQRT: i32 = 5;
export const OP_EXP: i32 = 6;
export const OP_ERF: i32 = 7;
export const OP_SIGN: i32 = 8;
export const OP_ADD: i32 = 9;
export const OP_SUB: i32 = 10;
export const OP_MUL: i32 = 11;
export const OP_DIV: i32 = 12;
export const OP_MAX: i32 = 13;
export const OP_MIN: i32 = 14;
export const OP_LT: i32 = 15;
export const OP_LE: i32 = 16;
export const OP_GT: i32 = 17;
export const OP_GE: i32 = 18;
export const OP_EQ: i32 = 19;
export const OP_NE: i32 = 20;
export const OP_SELECT: i32 = 21;
export const OP_GELU: i32 = 22;
export const OP_GELU_GRAD: i32 = 23;
/** a * geluGrad(b): GELU's backward (dy, x) in one pass instead of GELU_GRAD then MUL. */
export const OP_GELU_BACKWARD: i32 = 24;

/** Scratch bytes per thread: one block per register, and a table of where each block is. */
export function elementwiseScratchBytes(registers: i32): i32 {
  return registers * (EW_BLOCK * 4 + 4);
}

/** Fills a register with `count` elements of an input starting at element `start`. */
function loadInput(dst: usize, base: usize, repeat: i32, period: i32, start: i32, count: i32): void {
  if (period == 0) {
    memory.copy(dst, base + (<usize>start << 2), <usize>count << 2);
  } else if (period == 1) {
    const v = v128.load32_splat(base);
    for (let o: usize = 0; o < BLOCK_BYTES; o += 16) v128.store(dst + o, v);
  } else if (repeat == 1) {
    // A row broadcast ([N, C] op [C]): copy runs of the row.
    let k = start % period;
    for (let i = 0; i < count; ) {
      const run = min(period - k, count - i);
      memory.copy(dst + (<usize>i << 2), base + (<usize>k << 2), <usize>run << 2);
      i += run;
      k = 0;
    }
  } else {
    // A column broadcast ([N, C] op [N, 1]): runs of one repeated value.
    let j = start % repeat;
    let k = (start / repeat) % period;
    for (let i = 0; i < count; ) {
      const run = min(repeat - j, count - i);
      const v = load<f32>(base + (<usize>k << 2));
      for (let r = 0; r < run; r++) store<f32>(dst + (<usize>(i + r) << 2), v);
      i += run;
      j = 0;
      if (++k == period) k = 0;
    }
  }
}

@inline function one(): v128 {
  return f32x4.splat(1);
}

/** Runs one instruction over a whole block of registers (one SIMD loop per opcode). */
function execute(op: i32, d: usize, a: usize, b: usize, c: usize): void {
  const zero = f32x4.splat(0);
  switch (op) {
    case OP_NEG: for (let o: usize = 0; o < BLOCK_BYTES; o += 16) v128.store(d + o, f32x4.neg(v128.load(a + o))); return;
    case OP_ABS: for (let o: usize = 0; o < BLOCK_BYTES; o += 16) v128.store(d + o, f32x4.abs(v128.load(a + o))); return;
    case OP_SQRT: for (let o: usize = 0; o < BLOCK_BYTES; o += 16) v128.store(d + o, f32x4.sqrt(v128.load(a + o))); return;
    case OP_EXP: for (let o: usize = 0; o < BLOCK_BYTES; o += 16) v128.store(d + o, expV(v128.load(a + o))); return;
    case OP_ERF: for (let o: usize = 0; o < BLOCK_BYTES; o += 16) v128.store(d + o, erfV(v128.load(a + o))); return;
    case OP_GELU: for (let o: usize = 0; o < BLOCK_BYTES; o += 16) v128.store(d + o, geluV(v128.load(a + o))); return;
    case OP_GELU_GRAD: for (let o: usize = 0; o < BLOCK_BYTES; o += 16) v128.store(d + o, geluGradV(v128.load(a + o))); return;
    case OP_GELU_BACKWARD:
      for (let o: usize = 0; o < BLOCK_BYTES; o += 16) v128.store(d + o, f32x4.mul(v128.load(a + o), geluGradV(v128.load(b + o))));
      return;
    case OP_SIGN:
      // Math.sign: +-1, and x itself for +-0 and NaN.
      for (let o: usize = 0; o < BLOCK_BYTES; o += 16) {
        const x = v128.load(a + o);
        const s = v128.bitselect(one(), f32x4.neg(one()), f32x4.gt(x, zero));
        v128.store(d + o, v128.bitselect(s, x, v128.or(f32x4.gt(x, zero), f32x4.lt(x, zero))));
      }
      return;
    case OP_ADD: for (let o: usize = 0; o < BLOCK_BYTES; o += 16) v128.store(d + o, f32x4.add(v128.load(a + o), v128.load(b + o))); return;
    case OP_SUB: for (let o: usize = 0; o < BLOCK_BYTES; o += 16) v128.store(d + o, f32x4.sub(v128.load(a + o), v128.load(b + o))); return;
    case OP_MUL: for (let o: usize = 0; o < BLOCK_BYTES; o += 16) v128.store(d + o, f32x4.mul(v128.load(a + o), v128.load(b + o))); return;
    case OP_DIV: for (let o: usize = 0; o < BLOCK_BYTES; o += 16) v128.store(d + o, f32x4.div(v128.load(a + o), v128.load(b + o))); return;
    case OP_MAX:
      // The semantics of expr.ts: a if a > b or a is NaN, else b.
      for (let o: usize = 0; o < BLOCK_BYTES; o += 16) {
        const x = v128.load(a + o);
        const y = v128.load(b + o);
        v128.store(d + o, v128.bitselect(x, y, v128.or(f32x4.gt(x, y), f32x4.ne(x, x))));
      }
      return;
    case OP_MIN:
      for (let o: usize = 0; o < BLOCK_BYTES; o += 16) {
        const x = v128.load(a + o);
        const y = v128.load(b + o);
        v128.store(d + o, v128.bitselect(x, y, v128.or(f32x4.lt(x, y), f32x4.ne(x, x))));
      }
      return;
    case OP_LT: for (let o: usize = 0; o < BLOCK_BYTES; o += 16) v128.store(d + o, v128.and(f32x4.lt(v128.load(a + o), v128.load(b + o)), one())); return;
    case OP_LE: for (let o: usize = 0; o < BLOCK_BYTES; o += 16) v128.store(d + o, v128.and(f32x4.le(v128.load(a + o), v128.load(b + o)), one())); return;
    case OP_GT: for (let o: usize = 0; o < BLOCK_BYTES; o += 16) v128.store(d + o, v128.and(f32x4.gt(v128.load(a + o), v128.load(b + o)), one())); return;
    case OP_GE: for (let o: usize = 0; o < BLOCK_BYTES; o += 16) v128.store(d + o, v128.and(f32x4.ge(v128.load(a + o), v128.load(b + o)), one())); return;
    case OP_EQ: for (let o: usize = 0; o < BLOCK_BYTES; o += 16) v128.store(d + o, v128.and(f32x4.eq(v128.load(a + o), v128.load(b + o)), one())); return;
    case OP_NE: for (let o: usize = 0; o < BLOCK_BYTES; o += 16) v128.store(d + o, v128.and(f32x4.ne(v128.load(a + o), v128.load(b + o)), one())); return;
    case OP_SELECT:
      for (let o: usize = 0; o < BLOCK_BYTES; o += 16) {
        v128.store(d + o, v128.bitselect(v128.load(b + o), v128.load(c + o), f32x4.ne(v128.load(a + o), zero)));
      }
      return;
    default:
      unreachable();
  }
}

/** Runs task `t` of an elementwise job: elements [t * taskSize, min(count, (t+1) * taskSize)). */
export function elementwiseTask(job: usize, t: i32, scratch: usize): void {
  const count = jobWord(job, EW_COUNT);
  const taskSize = jobWord(job, EW_TASK_SIZE);
  const program = <usize>jobWord(job, EW_PROGRAM);
  const instructions = jobWord(job, EW_INSTRUCTIONS);
  const registers = jobWord(job, EW_REGISTERS);
  const out = <usize>jobWord(job, EW_OUT);
  // Where each register's block is this time: its scratch block, or (full blocks
  // only) the dense input it names or the output, read and written in place.
  const where = scratch + <usize>registers * BLOCK_BYTES;
  const end = min(count, (t + 1) * taskSize);
  for (let start = t * taskSize; start < end; start += EW_BLOCK) {
    const n = min(EW_BLOCK, end - start);
    const full = n == EW_BLOCK;
    for (let r = 0; r < registers; r++) store<usize>(where + (<usize>r << 2), scratch + <usize>r * BLOCK_BYTES);
    let last: usize = scratch;
    for (let i = 0; i < instructions; i++) {
      const ins = program + <usize>i * 20;
      const op = load<i32>(ins);
      const dIndex = <usize>load<i32>(ins, 4) << 2;
      const a = load<i32>(ins, 8);
      if (op == OP_INPUT) {
        const w = EW_INPUTS + 3 * a;
        const base = <usize>jobWord(job, w);
        const period = jobWord(job, w + 2);
        if (full && period == 0) store<usize>(where + dIndex, base + (<usize>start << 2));
        else loadInput(load<usize>(where + dIndex), base, jobWord(job, w + 1), period, start, n);
      } else if (op == OP_CONST) {
        const v = i32x4.splat(a);
        const d = load<usize>(where + dIndex);
        for (let o: usize = 0; o < BLOCK_BYTES; o += 16) v128.store(d + o, v);
      } else {
        if (full && i == instructions - 1) store<usize>(where + dIndex, out + (<usize>start << 2));
        const pa = load<usize>(where + (<usize>a << 2));
        const pb = load<usize>(where + (<usize>load<i32>(ins, 12) << 2));
        const pc = load<usize>(where + (<usize>load<i32>(ins, 16) << 2));
        execute(op, load<usize>(where + dIndex), pa, pb, pc);
      }
      last = load<usize>(where + dIndex);
    }
    if (last != out + (<usize>start << 2)) memory.copy(out + (<usize>start << 2), last, <usize>n << 2);
  }
}
