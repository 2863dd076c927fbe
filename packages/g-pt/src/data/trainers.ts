// Where the runs of a dataset are trained: in this thread, or in worker threads that
// each rebuild the task and train whole batches (one batch per worker at a time). Both
// kinds of trainer take a batch of run indices and give back its runs, so the generator
// drives them alike; only the main thread writes files.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import type { RunData } from '@gpt/checkpoints';
import type { RunProgressEvent, Task } from '../tasks/task.js';
import type { MainToWorker, WorkerSetup, WorkerToMain } from './worker-protocol.js';

export interface TrainedBatch {
  readonly runs: readonly RunData[];
  /** Wall seconds the batch took to train (in its thread). */
  readonly seconds: number;
}

export interface BatchTrainer {
  /** Trains `runs` (run r seeded by r); one batch at a time per trainer. */
  train(batch: number, runs: readonly number[], onProgress: (event: RunProgressEvent) => void): Promise<TrainedBatch>;
  /** Stops the trainer (a worker is terminated at once; a batch in flight rejects). */
  close(): Promise<void>;
}

/** Trains in this thread with the task already built here. */
export function inThreadTrainer(task: Task, checkpointsPerRun: number, signal: AbortSignal | undefined): BatchTrainer {
  return {
    async train(_batch, runs, onProgress) {
      const start = performance.now();
      const trained = await task.trainRuns(runs, { checkpointsPerRun, signal, onProgress });
      if (trained.length !== runs.length) throw new Error(`task "${task.name}": trainRuns returned ${trained.length} runs for ${runs.length} run indices`);
      return { runs: trained, seconds: (performance.now() - start) / 1000 };
    },
    async close() {},
  };
}

// This module's own URL (the CommonJS build gets it through tsup's import.meta.url shim).
const HERE: string = import.meta.url;

/**
 * How to start the worker module. From the built package it is dist/data-worker.{js,cjs}
 * beside this code. From the TypeScript sources (tests, examples under tsx) Node 20 does
 * not carry tsx's loader hooks into worker threads, so the worker starts from a two-line
 * bootstrap that registers tsx in the worker and then imports worker.ts, with the
 * `@gpt/source` condition so that workspace packages resolve to their sources too.
 */
export function dataWorkerEntry(here: string = HERE): { entry: string | URL; options: WorkerOptions } {
  if (here.endsWith('.ts')) {
    const workerUrl = new URL('./worker.ts', here).href;
    const bootstrap = `import(${JSON.stringify(tsxApiUrl(here))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(workerUrl)}); });`;
    const condition = '--conditions=@gpt/source';
    const execArgv = process.execArgv.includes(condition) ? [...process.execArgv] : [...process.execArgv, condition];
    return { entry: bootstrap, options: { eval: true, execArgv } };
  }
  return { entry: new URL(here.endsWith('.cjs') ? './data-worker.cjs' : './data-worker.js', here), options: {} };
}

/** The file URL of tsx's ESM API (its `register()` installs the TypeScript loader in the calling thread). */
function tsxApiUrl(here: string): string {
  const require = createRequire(here);
  let packageJson: string;
  try {
    packageJson = require.resolve('tsx/package.json');
  } catch (error) {
    throw new Error('dataset generation from the TypeScript sources starts its worker threads through tsx, which is not installed here (use workers: 0, or the built package)', { cause: error });
  }
  const exports = JSON.parse(readFileSync(packageJson, 'utf8')).exports as Record<string, { import?: { default?: string } }>;
  const relative = exports['./esm/api']?.import?.default;
  if (!relative) throw new Error(`${packageJson}: no "./esm/api" import export (tsx 4 has one)`);
  return pathToFileURL(join(dirname(packageJson), relative)).href;
}

/** The default worker count: one per core the process may use. */
export function defaultWorkerCount(): number {
  return availableParallelism();
}

/** Starts a worker that rebuilds the task; resolves once the task is built there. */
export async function startWorkerTrainer(setup: WorkerSetup): Promise<BatchTrainer> {
  const { entry, options } = dataWorkerEntry();
  const worker = new Worker(entry, { ...options, workerData: setup });
  let pending: { resolve: (batch: TrainedBatch) => void; reject: (error: Error) => void; batch: number; onProgress: (event: RunProgressEvent) => void } | null = null;
  let ready: { resolve: () => void; reject: (error: Error) => void } | null = null;
  let closed = false;
  let failure: Error | null = null;

  const failAll = (error: Error): void => {
    failure ??= error;
    ready?.reject(error);
    pending?.reject(error);
    ready = null;
    pending = null;
  };
  worker.on('message', (message: WorkerToMain) => {
    if (message.type === 'ready') {
      ready?.resolve();
      ready = null;
    } else if (message.type === 'failed') {
      const error = new Error(message.message);
      if (message.stack) error.stack = `${message.message}\n(in a data worker thread)\n${message.stack}`;
      failAll(error);
    } else if (message.type === 'progress') {
      if (pending?.batch === message.batch) pending.onProgress({ type: 'run-progress', run: message.run, done: message.done, total: message.total });
    } else if (message.type === 'trained' && pending?.batch === message.batch) {
      const p = pending;
      pending = null;
      p.resolve({ runs: message.runs, seconds: message.seconds });
    }
  });
  worker.on('error', (error) => failAll(error));
  worker.on('exit', (code) => {
    failAll(new Error(closed ? 'data worker stopped' : `data worker exited unexpectedly (exit code ${code})`));
  });

  const trainer: BatchTrainer = {
    train(batch, runs, onProgress) {
      if (failure) return Promise.reject(failure);
      if (pending) return Promise.reject(new Error('data worker: one batch at a time'));
      return new Promise<TrainedBatch>((resolve, reject) => {
        pending = { resolve, reject, batch, onProgress };
        worker.postMessage({ type: 'train', batch, runs: [...runs] } satisfies MainToWorker);
      });
    },
    async close() {
      closed = true;
      await worker.terminate();
    },
  };
  try {
    await new Promise<void>((resolve, reject) => {
      if (failure) reject(failure);
      else ready = { resolve, reject };
    });
  } catch (error) {
    await trainer.close();
    throw error;
  }
  return trainer;
}
