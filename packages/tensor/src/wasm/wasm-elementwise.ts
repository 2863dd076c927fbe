// Elementwise float32 ops in WASM SIMD: compiles an op's expression (expr.ts, the
// same one the TS kernel and WGSL use) into instructions for the register machine
// in assembly/elementwise.ts and runs one job (split over the pool for large
// arrays). The result is a view into the kernels' heap where memory is shared (the
// backend releases it when the tensor is freed); inputs in the heap are read in place. Expressions with functions the
// machine lacks (pow, log, sin, cos, tanh) and broadcasts that are not one
// contiguous run of axes return null: the TS kernel handles those.

import type { TensorInfo } from '../backend.js';
import type { Expr, Fn } from '../expr.js';
import type { TensorMeta } from '../ops.js';
import { sizeOf } from '../shape.js';
import type { ThreadPool } from './thread-pool.js';
import { CallBlocks, JOB_ADDRESS, type LayoutName, type WasmKernels } from './wasm-kernels.js';

const OPCODES: Partial<Record<Fn, LayoutName>> = {
  neg: 'OP_NEG', abs: 'OP_ABS', sqrt: 'OP_SQRT', exp: 'OP_EXP', erf: 'OP_ERF', sign: 'OP_SIGN',
  add: 'OP_ADD', sub: 'OP_SUB', mul: 'OP_MUL', div: 'OP_DIV', max: 'OP_MAX', min: 'OP_MIN',
  lt: 'OP_LT', le: 'OP_LE', gt: 'OP_GT', ge: 'OP_GE', eq: 'OP_EQ', ne: 'OP_NE', select: 'OP_SELECT',
  gelu: 'OP_GELU', geluGrad: 'OP_GELU_GRAD',
};

/** Registers a program may use (each is one 1 KiB block per thread). */
const MAX_REGISTERS = 64;
/** Elements per task when a job is split over threads (several tasks per thread balance load). */
const TASKS_PER_THREAD = 4;

interface Program {
  /** 5 words per instruction: opcode, destination, operands. */
  readonly words: Int32Array;
  readonly registers: number;
}

const programs = new WeakMap<Expr, Program | null>();
const f32Bits = new Int32Array(new Float32Array(1).buffer);

function compile(expr: Expr, layout: Readonly<Record<LayoutName, number>>): Program | null {
  const words: number[] = [];
  const cache = new Map<string, number>();
  let registers = 0;
  const emit = (op: number, a = 0, b = 0, c = 0): number => {
    words.push(op, registers, a, b, c);
    return registers++;
  };
  const visit = (e: Expr): number | null => {
    if (e.kind === 'input' || e.kind === 'const') {
      const key = e.kind === 'input' ? `i${e.index}` : `c${e.value}`;
      let r = cache.get(key);
      if (r === undefined) {
        if (e.kind === 'input') r = emit(layout.OP_INPUT, e.index);
        else {
          new Float32Array(f32Bits.buffer)[0] = e.value;
          r = emit(layout.OP_CONST, f32Bits[0]!);
        }
        cache.set(key, r);
      }
      return r;
    }
    // mul(dy, geluGrad(x)), GELU's backward, is one fused instruction: a single pass per block.
    const inner = e.fn === 'mul' ? e.args[1] : undefined;
    const fused = inner?.kind === 'call' && inner.fn === 'geluGrad';
    const name = fused ? 'OP_GELU_BACKWARD' : OPCODES[e.fn];
    if (!name) return null;
    const args: number[] = [];
    for (const arg of fused ? [e.args[0]!, inner.args[0]!] : e.args) {
      const r = visit(arg);
      if (r === null) return null;
      args.push(r);
    }
    return emit(layout[name], args[0], args[1], args[2]);
  };
  const result = visit(expr);
  if (result === null || registers > MAX_REGISTERS) return null;
  return { words: Int32Array.from(words), registers };
}

function programFor(expr: Expr, layout: Readonly<Record<LayoutName, number>>): Program | null {
  let program = programs.get(expr);
  if (program === undefined) {
    program = compile(expr, layout);
    programs.set(expr, program);
  }
  return program;
}

/**
 * How an input broadcast to `out` is read: element i of the output reads input
 * element floor(i / repeat) % period (period 0: dense, period 1: a scalar); null when
 * the input's real axes are not one contiguous run.
 */
export function broadcastPattern(shape: readonly number[], out: readonly number[]): [number, number] | null {
  const size = sizeOf(shape);
  if (size === sizeOf(out)) return [1, 0];
  if (size === 1) return [1, 1];
  const aligned = [...Array<number>(out.length - shape.length).fill(1), ...shape];
  let lo = -1;
  let hi = -1;
  for (let d = 0; d < out.length; d++) {
    if (aligned[d] === out[d] && out[d]! > 1) {
      if (hi !== -1 && hi !== d) return null; // a gap between real axes
      if (lo === -1) lo = d;
      hi = d + 1;
    }
  }
  return [sizeOf(out.slice(hi)), sizeOf(out.slice(lo, hi))];
}

function roundUp(value: number, multiple: number): number {
  return Math.ceil(value / multiple) * multiple;
}

/** Runs `expr` over float32 inputs; null when this expression or broadcast is not supported here. */
export function wasmElementwise(
  kernels: WasmKernels,
  pool: ThreadPool | null,
  expr: Expr,
  inputs: readonly TensorInfo<Float32Array>[],
  out: TensorMeta,
): Float32Array | null {
  const L = kernels.layout;
  const program = programFor(expr, L);
  if (!program) return null;
  const patterns = inputs.map((t) => broadcastPattern(t.shape, out.shape));
  if (patterns.some((p) => p === null)) return null;
  const count = sizeOf(out.shape);
  if (count === 0) return new Float32Array(0);

  const block = L.EW_BLOCK;
  const threads = pool ? pool.workers + 1 : 1;
  const taskSize = roundUp(threads > 1 ? Math.ceil(count / (threads * TASKS_PER_THREAD)) : count, block);
  const tasks = Math.ceil(count / taskSize);
  const participants = pool && tasks > 1 ? threads : 1;
  const scratchBytes = roundUp(program.registers * (block * 4 + 4), 64); // register blocks + where each one is

  const blocks = new CallBlocks(kernels);
  try {
    const scratchAt = blocks.take(participants * scratchBytes);
    const programAt = blocks.take(program.words.byteLength);
    // Inputs already in the heap are read in place; others are copied in (once per distinct buffer).
    const inputAt = new Map<Float32Array, number | null>();
    for (const t of inputs) {
      if (!inputAt.has(t.buffer)) inputAt.set(t.buffer, kernels.addressOf(t.buffer) ?? blocks.take(t.buffer.length * 4));
    }
    const view = kernels.viewF32(count);
    const outAt = view ? view.byteOffset : blocks.take(count * 4);
    if (scratchAt === null || programAt === null || outAt === null || [...inputAt.values()].includes(null)) {
      if (view) kernels.releaseView(view);
      return null;
    }
    const f32 = kernels.heapF32();
    const i32 = kernels.beginJob(L.KIND_ELEMENTWISE, tasks, participants, scratchAt, scratchBytes);
    i32.set(program.words, programAt / 4);
    for (const [buffer, address] of inputAt) if (kernels.addressOf(buffer) === null) f32.set(buffer, address! / 4);
    const job = JOB_ADDRESS / 4;
    i32[job + L.EW_COUNT] = count;
    i32[job + L.EW_PROGRAM] = programAt;
    i32[job + L.EW_INSTRUCTIONS] = program.words.length / 5;
    i32[job + L.EW_REGISTERS] = program.registers;
    i32[job + L.EW_OUT] = outAt;
    i32[job + L.EW_TASK_SIZE] = taskSize;
    inputs.forEach((t, i) => {
      const [repeat, period] = patterns[i]!;
      i32[job + L.EW_INPUTS + 3 * i] = inputAt.get(t.buffer)!;
      i32[job + L.EW_INPUTS + 3 * i + 1] = repeat;
      i32[job + L.EW_INPUTS + 3 * i + 2] = period;
    });
    try {
      if (participants > 1) pool!.run(tasks);
      else kernels.exports.run(JOB_ADDRESS);
    } catch (error) {
      if (view) kernels.releaseView(view);
      throw error;
    }
    return view ?? f32.slice(outAt / 4, outAt / 4 + count);
  } finally {
    blocks.releaseAll();
  }
}
