// One instance of the WASM kernels (assembly/) over its own memory, plus the
// memory map the JS side uses: a control block for the worker pool, one job block,
// and a workspace that each kernel call fills from the start (calls never overlap:
// the backend is synchronous). With SharedArrayBuffer the memory is shared, so
// worker threads can instantiate the same module over it (thread-pool.ts).

import { kernelBytes, type KernelVariant } from './kernel-bytes.js';

/** Byte address of the worker pool's control words (thread-pool.ts). */
export const CONTROL_ADDRESS = 256;
/** Byte address of the job block (assembly/job.ts). */
export const JOB_ADDRESS = 1024;
/** Byte address where each call's scratch, tables and operands start. */
export const WORKSPACE_ADDRESS = 65536;

const PAGE = 65536;
/** 2 GiB: the most one call may use (operands, results and packing scratch). */
const MAX_PAGES = 32768;

/** The constants the module exports so that JS writes job blocks the way it reads them. */
const LAYOUT_NAMES = [
  'JOB_KIND', 'JOB_TASKS', 'JOB_NEXT', 'JOB_DONE', 'JOB_SLOT', 'JOB_SCRATCH', 'JOB_SCRATCH_BYTES', 'JOB_ARGS', 'KIND_GEMM',
  'GEMM_M', 'GEMM_N', 'GEMM_K', 'GEMM_A_RS', 'GEMM_A_CS', 'GEMM_B_RS', 'GEMM_B_CS', 'GEMM_LDC', 'GEMM_BATCH',
  'GEMM_TABLE', 'GEMM_SUM_BATCH', 'GEMM_ACCUMULATE', 'GEMM_TILE_M', 'GEMM_TILE_N', 'GEMM_MR', 'GEMM_NR',
  'KIND_ELEMENTWISE', 'EW_BLOCK', 'EW_COUNT', 'EW_PROGRAM', 'EW_INSTRUCTIONS', 'EW_REGISTERS', 'EW_OUT', 'EW_TASK_SIZE', 'EW_INPUTS',
  'OP_INPUT', 'OP_CONST', 'OP_NEG', 'OP_ABS', 'OP_SQRT', 'OP_EXP', 'OP_ERF', 'OP_SIGN', 'OP_ADD', 'OP_SUB', 'OP_MUL', 'OP_DIV',
  'OP_MAX', 'OP_MIN', 'OP_LT', 'OP_LE', 'OP_GT', 'OP_GE', 'OP_EQ', 'OP_NE', 'OP_SELECT',
] as const;
export type LayoutName = (typeof LAYOUT_NAMES)[number];

export interface KernelExports {
  /** Claims and runs tasks of the job at byte address `job` until none are left. */
  run(job: number): void;
  gemmScratchBytes(tileM: number, tileN: number, k: number): number;
}

export class WasmKernels {
  readonly layout: Readonly<Record<LayoutName, number>>;
  private f32 = new Float32Array(0);
  private i32 = new Int32Array(0);

  private constructor(
    readonly module: WebAssembly.Module,
    readonly memory: WebAssembly.Memory,
    readonly exports: KernelExports,
    readonly variant: KernelVariant,
  ) {
    const raw = exports as unknown as Record<string, WebAssembly.Global | undefined>;
    const layout = {} as Record<LayoutName, number>;
    for (const name of LAYOUT_NAMES) {
      const global = raw[name];
      if (!global) throw new Error(`the WASM kernels do not export ${name}: build/ is stale, run \`pnpm build\``);
      layout[name] = global.value as number;
    }
    this.layout = layout;
  }

  /** Compiles and instantiates the kernels; throws with the reason when that is impossible here. */
  static create(variant: KernelVariant): WasmKernels {
    if (typeof WebAssembly !== 'object') throw new Error('this JavaScript engine has no WebAssembly');
    const bytes = kernelBytes(variant);
    const module = new WebAssembly.Module(bytes as BufferSource);
    const pages = WORKSPACE_ADDRESS / PAGE + 16;
    const memory = new WebAssembly.Memory({ initial: pages, maximum: MAX_PAGES, shared: variant === 'shared' } as WebAssembly.MemoryDescriptor);
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    return new WasmKernels(module, memory, instance.exports as unknown as KernelExports, variant);
  }

  /** Grows the memory to at least `bytes`; returns false when that exceeds the 2 GiB the kernels may use. */
  reserve(bytes: number): boolean {
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return true;
    const pages = Math.ceil((bytes - have) / PAGE);
    if (have / PAGE + pages > MAX_PAGES) return false;
    this.memory.grow(pages);
    return true;
  }

  /** Float32 view of the whole memory (re-created after the memory grew). */
  heapF32(): Float32Array {
    if (this.f32.buffer !== this.memory.buffer || this.f32.byteLength !== this.memory.buffer.byteLength) {
      this.f32 = new Float32Array(this.memory.buffer);
    }
    return this.f32;
  }

  heapI32(): Int32Array {
    if (this.i32.buffer !== this.memory.buffer || this.i32.byteLength !== this.memory.buffer.byteLength) {
      this.i32 = new Int32Array(this.memory.buffer);
    }
    return this.i32;
  }
}
