// One instance of the WASM kernels (assembly/) over its own memory, plus the
// memory map the JS side uses: a control block for the worker pool, one job block,
// and above HEAP_ADDRESS a heap of blocks that kernel calls take their scratch and
// operand copies from. With SharedArrayBuffer the memory is shared, so worker
// threads can instantiate the same module over it (thread-pool.ts), and views into
// it survive growth: the CPU backend then keeps the results of WASM kernels in the
// heap as views (viewF32), so chained kernels neither copy their operands nor touch
// fresh pages (on this project's machines a fresh page costs far more than the
// arithmetic done on it).

import { kernelBytes, type KernelVariant } from './kernel-bytes.js';

/** Byte address of the worker pool's control words (thread-pool.ts). */
export const CONTROL_ADDRESS = 256;
/** Byte address of the job block (assembly/job.ts). */
export const JOB_ADDRESS = 1024;
/** Byte address where the heap starts. */
export const HEAP_ADDRESS = 65536;

const PAGE = 65536;
/** 2 GiB: the most one call may use (operands, results and packing scratch). */
const MAX_PAGES = 32768;

/** The constants the module exports so that JS writes job blocks the way it reads them. */
const LAYOUT_NAMES = [
  'JOB_KIND', 'JOB_TASKS', 'JOB_NEXT', 'JOB_DONE', 'JOB_SLOT', 'JOB_SCRATCH', 'JOB_SCRATCH_BYTES', 'JOB_MAX_SLOTS', 'JOB_ARGS', 'KIND_GEMM',
  'GEMM_M', 'GEMM_N', 'GEMM_K', 'GEMM_A_RS', 'GEMM_A_CS', 'GEMM_B_RS', 'GEMM_B_CS', 'GEMM_LDC', 'GEMM_BATCH',
  'GEMM_TABLE', 'GEMM_SUM_BATCH', 'GEMM_ACCUMULATE', 'GEMM_TILE_M', 'GEMM_TILE_N', 'GEMM_BIAS', 'GEMM_MR', 'GEMM_NR',
  'KIND_ELEMENTWISE', 'EW_BLOCK', 'EW_COUNT', 'EW_PROGRAM', 'EW_INSTRUCTIONS', 'EW_REGISTERS', 'EW_OUT', 'EW_TASK_SIZE', 'EW_INPUTS',
  'OP_INPUT', 'OP_CONST', 'OP_NEG', 'OP_ABS', 'OP_SQRT', 'OP_EXP', 'OP_ERF', 'OP_SIGN', 'OP_ADD', 'OP_SUB', 'OP_MUL', 'OP_DIV',
  'OP_MAX', 'OP_MIN', 'OP_LT', 'OP_LE', 'OP_GT', 'OP_GE', 'OP_EQ', 'OP_NE', 'OP_SELECT', 'OP_GELU', 'OP_GELU_GRAD', 'OP_GELU_BACKWARD',
  'KIND_ROWS', 'ROWS_OP', 'ROWS_COUNT', 'ROWS_LENGTH', 'ROWS_SRC', 'ROWS_DST', 'ROWS_PER_TASK', 'ROWS_PARAM', 'ROWS_GRAD',
  'ROW_LAYER_NORM', 'ROW_SOFTMAX', 'ROW_LOG_SOFTMAX', 'ROW_SUM', 'ROW_LAYER_NORM_BACKWARD',
  'KIND_IM2COL', 'CONV_C', 'CONV_H', 'CONV_W', 'CONV_KH', 'CONV_KW', 'CONV_OH', 'CONV_OW', 'CONV_SH', 'CONV_SW', 'CONV_PH', 'CONV_PW',
  'CONV_IMAGES', 'CONV_COLS', 'CONV_BACKWARD',
  'KIND_ADAM', 'ADAM_COUNT', 'ADAM_TASK_SIZE', 'ADAM_ARRAYS', 'ADAM_SCALARS',
  'KIND_COPY', 'COPY_RANK', 'COPY_SRC', 'COPY_DST', 'COPY_ROWS_PER_TASK', 'COPY_SHAPE', 'COPY_SRC_STRIDES', 'COPY_DST_STRIDES',
] as const;
export type LayoutName = (typeof LAYOUT_NAMES)[number];

/** Block sizes: eight classes per power of two (at most 12.5% unused), from 64 bytes. */
function sizeClass(bytes: number): number {
  if (bytes <= 64) return 64;
  const step = Math.max(64, 2 ** Math.floor(Math.log2(bytes)) / 8);
  return Math.ceil(bytes / step) * step;
}

export interface KernelExports {
  /** Claims and runs tasks of the job at byte address `job` until none are left. */
  run(job: number): void;
  gemmScratchBytes(tileM: number, tileN: number, k: number): number;
}

export class WasmKernels {
  readonly layout: Readonly<Record<LayoutName, number>>;
  private f32 = new Float32Array(0);
  private i32 = new Int32Array(0);
  /** End of the blocks handed out so far; blocks above it are untouched. */
  private top = HEAP_ADDRESS;
  /** Released blocks by size class, ready for reuse. */
  private readonly freeBlocks = new Map<number, number[]>();
  /** Heap views handed out by viewF32, with their block size. */
  private readonly views = new WeakMap<Float32Array, number>();
  /**
   * Returns the block of a view that was garbage-collected without releaseView (a
   * tensor that was never disposed), as ordinary arrays would be reclaimed.
   */
  private readonly orphans = new FinalizationRegistry<[number, number]>(([at, bytes]) => this.release(at, bytes));

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
    const pages = HEAP_ADDRESS / PAGE + 16;
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

  /** A block of at least `bytes` bytes (64-byte aligned), or null when the 2 GiB are used up. */
  alloc(bytes: number): number | null {
    const size = sizeClass(bytes);
    const reused = this.freeBlocks.get(size)?.pop();
    if (reused !== undefined) return reused;
    if (!this.reserve(this.top + size)) return null;
    const at = this.top;
    this.top += size;
    return at;
  }

  /** Returns a block from alloc(bytes) to the heap. */
  release(address: number, bytes: number): void {
    const size = sizeClass(bytes);
    const list = this.freeBlocks.get(size);
    if (list) list.push(address);
    else this.freeBlocks.set(size, [address]);
  }

  /**
   * A float32 view of a new heap block (contents undefined), or null where views could
   * not outlive memory growth (no shared memory) or the heap is full.
   */
  viewF32(count: number): Float32Array | null {
    if (this.variant !== 'shared') return null;
    const at = this.alloc(count * 4);
    if (at === null) return null;
    const view = new Float32Array(this.memory.buffer, at, count);
    this.views.set(view, count * 4);
    this.orphans.register(view, [at, count * 4], view);
    return view;
  }

  /** Byte address of a view from viewF32, or null for any other array. */
  addressOf(view: Float32Array): number | null {
    return this.views.has(view) ? view.byteOffset : null;
  }

  /** Returns a view from viewF32 to the heap; false (doing nothing) for any other array. */
  releaseView(view: Float32Array): boolean {
    const bytes = this.views.get(view);
    if (bytes === undefined) return false;
    this.views.delete(view);
    this.orphans.unregister(view);
    this.release(view.byteOffset, bytes);
    return true;
  }

  /**
   * Clears the job block and writes its header: `slots` threads may join, each with
   * `scratchBytes` of scratch from `scratch` on. Returns the Int32 view to write the
   * kind's arguments with (word index JOB_ADDRESS / 4 + argument).
   */
  beginJob(kind: number, tasks: number, slots: number, scratch = 0, scratchBytes = 0): Int32Array {
    const i32 = this.heapI32();
    const job = JOB_ADDRESS / 4;
    const L = this.layout;
    i32.fill(0, job, job + L.JOB_ARGS + 32);
    i32[job + L.JOB_KIND] = kind;
    i32[job + L.JOB_TASKS] = tasks;
    i32[job + L.JOB_MAX_SLOTS] = slots;
    i32[job + L.JOB_SCRATCH] = scratch;
    i32[job + L.JOB_SCRATCH_BYTES] = scratchBytes;
    return i32;
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

/** The heap blocks one kernel call takes (scratch, tables, operand copies), released together. */
export class CallBlocks {
  private readonly taken: [number, number][] = [];
  constructor(private readonly kernels: WasmKernels) {}

  /** A block of `bytes`, or null when the heap is full. */
  take(bytes: number): number | null {
    const at = this.kernels.alloc(bytes);
    if (at !== null) this.taken.push([at, bytes]);
    return at;
  }

  releaseAll(): void {
    for (const [at, bytes] of this.taken) this.kernels.release(at, bytes);
    this.taken.length = 0;
  }
}
