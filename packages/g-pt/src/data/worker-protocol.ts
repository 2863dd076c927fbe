// The messages between the generator (main thread) and its training workers, and how a
// batch of trained runs crosses the thread boundary: as typed arrays whose buffers are
// transferred (moved, not copied). The worker trains; the main thread alone writes files.
import type { RunData } from '@gpt/checkpoints';

/** What a worker needs to rebuild the task: its registry name, JSON options and, for a custom task, the module that registers it. */
export interface WorkerSetup {
  readonly task: string;
  readonly taskOptions: Record<string, unknown>;
  /** Imported before the task is built (TaskFactory.moduleUrl). */
  readonly moduleUrl?: string;
  readonly checkpointsPerRun: number;
  /** CPU kernel threads this worker may use (the cores divided among the workers). */
  readonly kernelThreads: number;
}

export type MainToWorker = { readonly type: 'train'; readonly batch: number; readonly runs: readonly number[] };

export type WorkerToMain =
  | { readonly type: 'ready' }
  | { readonly type: 'progress'; readonly batch: number; readonly run: number; readonly done: number; readonly total: number }
  | { readonly type: 'trained'; readonly batch: number; readonly runs: readonly RunData[]; readonly seconds: number }
  | { readonly type: 'failed'; readonly message: string; readonly stack?: string };

/**
 * The runs as freshly owned typed arrays plus the buffers to transfer. An array that owns
 * its whole (non-shared) buffer is moved as is; a view into a larger or shared buffer (a
 * slice of a stacked batch, WASM memory) is copied first, so that moving it neither
 * detaches memory the task still uses nor hands over a buffer another thread writes.
 */
export function packRuns(runs: readonly RunData[]): { runs: RunData[]; transfer: ArrayBuffer[] } {
  const transfer = new Set<ArrayBuffer>();
  const own = <T extends Float32Array | Float64Array | Int32Array>(array: T, copy: (a: ArrayLike<number>) => T): T => {
    const buffer = array.buffer;
    const whole = buffer instanceof ArrayBuffer && array.byteOffset === 0 && array.byteLength === buffer.byteLength && !transfer.has(buffer);
    const result = whole ? array : copy(array);
    transfer.add(result.buffer as ArrayBuffer);
    return result;
  };
  const packed = runs.map((run) => ({
    parameters: own(run.parameters, (a) => Float32Array.from(a)),
    iterations: own(run.iterations instanceof Int32Array ? run.iterations : Int32Array.from(run.iterations), (a) => Int32Array.from(a)),
    metrics: Object.fromEntries(
      Object.entries(run.metrics).map(([name, values]) => [name, own(values instanceof Float64Array ? values : Float64Array.from(values), (a) => Float64Array.from(a))]),
    ),
    ...(run.metadata ? { metadata: { ...run.metadata } } : {}),
  }));
  return { runs: packed, transfer: [...transfer] };
}
