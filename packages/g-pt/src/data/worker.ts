// A training worker of dataset generation (one per core). It rebuilds the task from its
// name and JSON options (importing the custom task's module first), then trains the
// batches of runs the main thread sends and posts each batch's runs back as transferred
// typed arrays. It writes nothing: the main thread is the dataset's only writer.
import { parentPort, workerData } from 'node:worker_threads';
import { getCpuKernels, setCpuKernels } from '@gpt/tensor';
import { registerBuiltinTasks } from '../tasks/builtin.js';
import { createTask } from '../tasks/registry.js';
import type { Task } from '../tasks/task.js';
import { type MainToWorker, type WorkerSetup, type WorkerToMain, packRuns } from './worker-protocol.js';

const PROGRESS_INTERVAL_MS = 250;

const port = parentPort;
if (!port) throw new Error('@gpt/g-pt data worker: this module runs only as a worker thread');

function post(message: WorkerToMain, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

function fail(error: unknown): void {
  const e = error instanceof Error ? error : new Error(String(error));
  post({ type: 'failed', message: e.message, ...(e.stack ? { stack: e.stack } : {}) });
}

async function setUp(setup: WorkerSetup): Promise<Task> {
  // The workers share the cores: each keeps its kernels to its share of threads.
  setCpuKernels(getCpuKernels(), { threads: setup.kernelThreads });
  // Called, not just imported: the bundler drops side-effect-only imports (sideEffects: false).
  registerBuiltinTasks();
  if (setup.moduleUrl) await import(setup.moduleUrl);
  return createTask(setup.task, setup.taskOptions);
}

const setup = workerData as WorkerSetup;
const ready = setUp(setup);
// Batches run one at a time, in the order they arrive.
let queue: Promise<void> = ready.then(
  () => post({ type: 'ready' }),
  (error) => fail(error),
);

port.on('message', (message: MainToWorker) => {
  queue = queue.then(async () => {
    let task: Task;
    try {
      task = await ready;
    } catch {
      return; // already reported
    }
    try {
      const start = performance.now();
      let lastProgress = -Infinity;
      const runs = await task.trainRuns(message.runs, {
        checkpointsPerRun: setup.checkpointsPerRun,
        onProgress: (event) => {
          // A message per training step would cost more than the step; a few per second is enough to draw.
          const now = performance.now();
          if (now - lastProgress < PROGRESS_INTERVAL_MS && event.done < event.total) return;
          lastProgress = now;
          post({ type: 'progress', batch: message.batch, run: event.run, done: event.done, total: event.total });
        },
      });
      if (runs.length !== message.runs.length) {
        throw new Error(`task "${task.name}": trainRuns returned ${runs.length} runs for ${message.runs.length} run indices`);
      }
      const packed = packRuns(runs);
      post({ type: 'trained', batch: message.batch, runs: packed.runs, seconds: (performance.now() - start) / 1000 }, packed.transfer);
    } catch (error) {
      fail(error);
    }
  });
});
