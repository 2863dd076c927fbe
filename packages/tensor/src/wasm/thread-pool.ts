// A pool of worker threads that run WASM kernel jobs over shared memory, so large
// GEMMs use every core. Workers start once (lazily, on the first threaded call) and
// then sleep in Atomics.wait between jobs. A job is run by the main thread together
// with whichever workers join it: tasks are claimed from an atomic counter, so the
// result never depends on how many workers are awake, only the speed does.
//
// Protocol (control words in CONTROL): the main thread writes the job block, sets
// OPEN to its address, increments WAKE and notifies. A woken worker increments
// ACTIVE, joins the job if OPEN is still set, then decrements ACTIVE. When all tasks
// are done the main thread clears OPEN and waits for ACTIVE to reach 0 before it may
// write the next job; sequentially consistent atomics make that handshake race-free.

import { CONTROL_ADDRESS, JOB_ADDRESS, type WasmKernels } from './wasm-kernels.js';
import { CONTROL, CONTROL_WORDS, workerSource } from './worker-source.js';

interface NodeWorker {
  unref(): void;
  terminate(): Promise<number>;
  on(event: 'error', listener: (error: Error) => void): void;
}
interface NodeWorkerThreads {
  Worker: new (source: string, options: { eval: true; workerData: unknown }) => NodeWorker;
}
interface WebWorker {
  postMessage(message: unknown): void;
  terminate(): void;
}

type Proc = { getBuiltinModule?: (id: string) => unknown; versions?: { node?: string } };

function nodeBuiltin<T>(id: string): T | undefined {
  const proc = (globalThis as { process?: Proc }).process;
  return proc?.versions?.node ? (proc.getBuiltinModule?.(id) as T | undefined) : undefined;
}

let cores: number | undefined;

/** Logical cores available to this process (1 when unknown); asked once, it is a system call. */
export function availableCores(): number {
  if (cores !== undefined) return cores;
  const os = nodeBuiltin<{ availableParallelism?: () => number; cpus(): unknown[] }>('node:os');
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  cores = Math.max(1, os ? (os.availableParallelism?.() ?? os.cpus().length) : (nav?.hardwareConcurrency ?? 1));
  return cores;
}

/** Why worker threads cannot run the kernels here, or null when they can. */
export function threadsUnavailableReason(kernels: WasmKernels): string | null {
  if (kernels.variant !== 'shared') return 'SharedArrayBuffer is unavailable here (browsers need cross-origin isolation), so the kernels run on one thread';
  const proc = (globalThis as { process?: Proc }).process;
  if (proc?.versions?.node) {
    return nodeBuiltin('node:worker_threads') ? null : 'node:worker_threads cannot be loaded synchronously on this Node version (needs >= 20.16)';
  }
  if (typeof (globalThis as { Worker?: unknown }).Worker !== 'function') return 'this environment has no Web Workers';
  return null;
}

/** Whether this thread may block in Atomics.wait (not a browser's main thread). */
function canBlock(control: Int32Array): boolean {
  try {
    Atomics.wait(control, CONTROL.WAKE, Atomics.load(control, CONTROL.WAKE) + 1, 0);
    return true;
  } catch {
    return false;
  }
}

/** Spins briefly (a job often ends within microseconds), then sleeps until `index` changes from `value`. */
function waitWhileEqual(view: Int32Array, index: number, value: number, block: boolean): void {
  for (let spin = 0; spin < 4000; spin++) if (Atomics.load(view, index) !== value) return;
  if (block) Atomics.wait(view, index, value);
}

export class ThreadPool {
  private readonly control: Int32Array;
  private readonly handles: (NodeWorker | WebWorker)[] = [];
  private readonly block: boolean;
  private failure: string | null = null;

  /** Starts `workers` workers; call threadsUnavailableReason() first. */
  constructor(
    private readonly kernels: WasmKernels,
    readonly workers: number,
  ) {
    this.control = new Int32Array(kernels.memory.buffer, CONTROL_ADDRESS, CONTROL_WORDS);
    this.control.fill(0);
    this.block = canBlock(this.control);
    const init = { module: kernels.module, memory: kernels.memory, control: CONTROL_ADDRESS };
    const source = workerSource(kernels.layout.JOB_DONE);
    const threads = nodeBuiltin<NodeWorkerThreads>('node:worker_threads');
    for (let i = 0; i < workers; i++) {
      if (threads) {
        const worker = new threads.Worker(source, { eval: true, workerData: init });
        // Workers sleep between jobs and must never keep the process alive.
        worker.unref();
        worker.on('error', (error) => (this.failure = `a kernel worker failed: ${error.message}`));
        this.handles.push(worker);
      } else {
        const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
        const worker = new (globalThis as unknown as { Worker: new (url: string) => WebWorker }).Worker(url);
        worker.postMessage(init);
        this.handles.push(worker);
      }
    }
  }

  /** Workers that have started and wait for jobs. */
  get ready(): number {
    return Atomics.load(this.control, CONTROL.READY);
  }

  /** Set when a worker failed; the pool is then no longer used. */
  get failed(): string | null {
    return this.failure;
  }

  /** Runs the job already written at JOB_ADDRESS with `tasks` tasks on this thread and the workers. */
  run(tasks: number): void {
    const control = this.control;
    const heap = this.kernels.heapI32();
    const done = JOB_ADDRESS / 4 + this.kernels.layout.JOB_DONE;
    Atomics.store(control, CONTROL.OPEN, JOB_ADDRESS);
    Atomics.add(control, CONTROL.WAKE, 1);
    Atomics.notify(control, CONTROL.WAKE);
    let mainError: unknown = null;
    try {
      this.kernels.exports.run(JOB_ADDRESS);
    } catch (error) {
      // A task this thread claimed will never finish; the workers still drain the rest.
      mainError = error;
    }
    if (mainError === null) {
      for (let d = Atomics.load(heap, done); d < tasks && Atomics.load(control, CONTROL.FAILED) === 0; d = Atomics.load(heap, done)) {
        waitWhileEqual(heap, done, d, this.block);
      }
    }
    Atomics.store(control, CONTROL.OPEN, 0);
    for (let a = Atomics.load(control, CONTROL.ACTIVE); a !== 0; a = Atomics.load(control, CONTROL.ACTIVE)) {
      waitWhileEqual(control, CONTROL.ACTIVE, a, this.block);
    }
    if (mainError !== null) throw mainError;
    if (Atomics.load(control, CONTROL.FAILED) !== 0) {
      this.failure = 'a kernel worker threw while running a job';
      throw new Error(`@gpt/tensor: ${this.failure}; the WASM kernels now run on one thread`);
    }
  }

  /** Stops the workers (they also die with the process, since they are unref'd). */
  close(): void {
    this.failure ??= 'the pool was closed';
    for (const worker of this.handles) void worker.terminate();
    this.handles.length = 0;
  }
}
