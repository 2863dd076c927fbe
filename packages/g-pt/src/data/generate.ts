// Generating a checkpoint dataset (gpt-paper.md §1.5-1.7): N training runs of one task,
// run r seeded by r and stored as `runs/<runNameOf(r)>.safetensors` through
// @gpt/checkpoints' DatasetWriter (one atomic file per run, so readers only ever see
// complete runs). Runs are trained in fixed batches of `runsPerBatch` consecutive run
// indices, spread over worker threads; the main thread alone writes.
//
// Resuming: the same call after kill -9 or Ctrl-C keeps every complete run on disk and
// trains exactly the batches with a run missing, writing only their missing runs. The
// batches are the same on every attempt, so a resumed dataset is identical, byte for
// byte, to an uninterrupted one (batched training equals one-by-one training only
// within float tolerance, so the grouping matters for bit-exactness).
import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { type DatasetManifest, type RunData, firstNonFinite, runNameOf } from '@gpt/checkpoints';
import { DatasetWriter } from '@gpt/checkpoints/node';
import { BUILTIN_TASKS } from '../tasks/builtin.js'; // registers them, for this thread's getTaskFactory
import { getTaskFactory } from '../tasks/registry.js';
import type { TaskFactory } from '../tasks/task.js';
import { acquireDatasetLock } from './dataset-lock.js';
import { checkExistingDataset, generatedManifest } from './dataset-manifest.js';
import { type BatchTrainer, type TrainedBatch, defaultWorkerCount, inThreadTrainer, startWorkerTrainer } from './trainers.js';

/** Paper: 200 checkpoints per run (initialization, 198 random iterations, final). */
export const DEFAULT_CHECKPOINTS_PER_RUN = 200;
/** Runs per trainRuns call; a batch is also what a kill can cost (it is retrained whole). */
export const DEFAULT_RUNS_PER_BATCH = 16;
/**
 * Datasets whose task trains run by run (no batched trainer): batching them gains nothing,
 * delays every progress update by a whole batch and loses more to a kill.
 */
const RUN_BY_RUN_DATASETS: readonly string[] = ['cartpole'];

/** Runs per batch (or per queue job) unless told: 1 where the task trains run by run. */
export function defaultRunsPerBatch(dataset: string): number {
  return RUN_BY_RUN_DATASETS.includes(dataset) ? 1 : DEFAULT_RUNS_PER_BATCH;
}
/** Run names have 6 digits, like the official run folders; larger indices would not sort. */
export const MAX_RUN_INDEX = 999_999;

export interface GenerateDatasetOptions {
  /** Registry name of the task, e.g. "mnist_error" (a custom task: registerTask first). */
  task: string;
  /** JSON options of the task (data folder, recipe knobs); workers rebuild the task from them. */
  taskOptions?: Record<string, unknown>;
  /**
   * URL of a module that registers the task, imported by each worker before it rebuilds
   * the task (default: the factory's moduleUrl). `gpt data --task-module` passes its file.
   */
  taskModule?: string;
  /**
   * How many runs (runs 0..N-1), or the run indices themselves (e.g. one machine's share;
   * ranges aligned to runsPerBatch are batched exactly as in one whole generation).
   */
  runs: number | readonly number[];
  /** The dataset folder (created when missing). */
  out: string;
  /** Checkpoints per run, initialization and final iteration included (default 200). */
  checkpointsPerRun?: number;
  /** Worker threads (default: one per core); 0 trains in this thread. */
  workers?: number;
  /** Consecutive runs per trainRuns call (default 16; 1 for Cartpole, which trains run by run). */
  runsPerBatch?: number;
  /**
   * Runs at the end (by name) that form the test split. Default: the folder's when it
   * holds a dataset, else 5% of the runs capped at the paper's count for its datasets
   * (MNIST 500, CIFAR-10 and Cartpole 2,050), which gives the paper's splits at its sizes.
   */
  numTestRuns?: number;
  signal?: AbortSignal;
  onProgress?: (event: DatasetProgressEvent) => void;
  /** Skip fsync (faster, not crash-safe against power loss; a killed process is still safe). Default false. */
  noSync?: boolean;
}

export type DatasetProgressEvent =
  /** The folder is checked and locked; `missing` runs will be trained in `batches` batches. */
  | {
      type: 'started';
      out: string;
      task: string;
      dataset: string;
      total: number;
      existing: number;
      missing: number;
      batches: number;
      workers: number;
      runsPerBatch: number;
      /** Why the runs train in this thread although workers were asked for. */
      inThreadReason?: string;
    }
  /** A run file on disk did not validate; the run is trained again and replaced. */
  | { type: 'run-redo'; run: number; name: string; problem: string }
  /** Training progress reported by the task (a few per second per worker at most). */
  | { type: 'run-progress'; run: number; done: number; total: number }
  /** A run is on disk. `seconds`: its share of its batch's training time. */
  | {
      type: 'run-written';
      run: number;
      name: string;
      seconds: number;
      bytes: number;
      /** Whether its parameters hold NaN or ±Infinity (kept; the bad-run filter drops it when reading). */
      nonFinite: boolean;
      /** Runs of the requested set on disk now, and their number. */
      done: number;
      total: number;
      /** Runs written per hour by this call so far, and the seconds left at that rate. */
      runsPerHour: number;
      etaSeconds: number;
    }
  | { type: 'finished'; written: number; skipped: number; total: number; seconds: number; runsPerHour: number; bytes: number };

export interface GenerateDatasetResult {
  readonly out: string;
  readonly manifest: DatasetManifest;
  /** Run indices trained and written by this call, and those already complete. */
  readonly written: readonly number[];
  readonly skipped: readonly number[];
  /** Written runs whose parameters hold NaN or ±Infinity. */
  readonly nonFinite: readonly number[];
  readonly bytes: number;
  readonly seconds: number;
  readonly runsPerHour: number;
}

const PAPER_TEST_RUNS: Readonly<Record<string, number>> = { mnist: 500, cifar10: 2050, cartpole: 2050 };

/** Test-split runs unless told: 5% of the runs, capped at the paper's split sizes. */
export function defaultTestRuns(dataset: string, runs: number): number {
  return Math.min(PAPER_TEST_RUNS[dataset] ?? Infinity, Math.floor(runs * 0.05));
}

function checkInteger(name: string, value: unknown, min: number, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`generateDataset: ${name} must be an integer >= ${min} (${what}), got ${String(value)}`);
  }
  return value;
}

/** The run indices asked for, validated. */
export function runIndices(runs: number | readonly number[]): number[] {
  if (typeof runs === 'number') {
    checkInteger('runs', runs, 1, 'the number of runs');
    if (runs > MAX_RUN_INDEX + 1) throw new RangeError(`generateDataset: runs must be at most ${MAX_RUN_INDEX + 1}, got ${runs}`);
    return Array.from({ length: runs }, (_, i) => i);
  }
  if (!Array.isArray(runs) || runs.length === 0) throw new RangeError(`generateDataset: runs must be a positive number or a non-empty list of run indices`);
  const seen = new Set<number>();
  for (const r of runs as readonly unknown[]) {
    checkInteger('each run index', r, 0, 'run r is seeded by r');
    if ((r as number) > MAX_RUN_INDEX) throw new RangeError(`generateDataset: run index ${String(r)} is above ${MAX_RUN_INDEX} (run names have 6 digits)`);
    if (seen.has(r as number)) throw new RangeError(`generateDataset: run ${String(r)} is listed twice`);
    seen.add(r as number);
  }
  return [...(runs as readonly number[])];
}

function workerModuleOf(factory: TaskFactory, taskModule: string | undefined): string | undefined {
  return taskModule ?? factory.moduleUrl;
}

/**
 * Groups `runs` by aligned blocks of `size` indices (runs r with the same floor(r / size)),
 * in increasing order: the same batches on every attempt, and for runs 0..N-1 (or shares
 * that are ranges aligned to `size`) the same batches as one whole generation.
 */
function batchesOf(runs: readonly number[], size: number): number[][] {
  const blocks = new Map<number, number[]>();
  for (const run of [...runs].sort((a, b) => a - b)) {
    const block = Math.floor(run / size);
    const batch = blocks.get(block);
    if (batch) batch.push(run);
    else blocks.set(block, [run]);
  }
  return [...blocks.values()];
}

/**
 * Generates (or completes) the dataset of `task` in `out`. Throws before writing
 * anything on bad options, an unknown task, missing task data, or a folder that holds
 * another dataset; an abort or a training error stops it with every finished run kept.
 */
export async function generateDataset(options: GenerateDatasetOptions): Promise<GenerateDatasetResult> {
  const { out, signal, onProgress } = options;
  if (typeof out !== 'string' || out.length === 0) throw new TypeError('generateDataset: out must name the dataset folder');
  const runs = runIndices(options.runs);
  const checkpointsPerRun = checkInteger('checkpointsPerRun', options.checkpointsPerRun ?? DEFAULT_CHECKPOINTS_PER_RUN, 2, 'the initialization and the final iteration at least');
  const workersAsked = checkInteger('workers', options.workers ?? defaultWorkerCount(), 0, '0 trains in this thread');
  if (options.runsPerBatch !== undefined) checkInteger('runsPerBatch', options.runsPerBatch, 1, 'runs per trainRuns call');
  if (options.numTestRuns !== undefined) checkInteger('numTestRuns', options.numTestRuns, 0, 'runs of the test split');
  signal?.throwIfAborted();

  const factory = getTaskFactory(options.task);
  const taskOptions = options.taskOptions ?? {};
  const task = await factory.create(taskOptions);
  signal?.throwIfAborted();
  const runsPerBatch = options.runsPerBatch ?? defaultRunsPerBatch(task.dataset);

  await mkdir(out, { recursive: true });
  const lock = await acquireDatasetLock(out);
  const trainers: BatchTrainer[] = [];
  const closeTrainers = (): Promise<unknown> => Promise.all(trainers.map((t) => t.close()));
  signal?.addEventListener('abort', closeTrainers);
  try {
    const wanted = generatedManifest(task, {
      checkpointsPerRun,
      numTestRuns: options.numTestRuns ?? defaultTestRuns(task.dataset, runs.length),
      runsPerBatch,
    });
    const existing = await checkExistingDataset(out, wanted, options.numTestRuns !== undefined);
    // The writer works under the lock taken above (before the folder was inspected); this function releases it.
    const writer = await DatasetWriter.create(out, existing ?? wanted, { noSync: options.noSync, lock });

    // Which runs are complete, which are missing, which are damaged (redone).
    const onDisk = new Set(await writer.completedRuns());
    const todo = new Map<number, boolean>(); // run -> overwrite
    for (const run of runs) {
      const name = runNameOf(run);
      if (!onDisk.has(name)) {
        todo.set(run, false);
        continue;
      }
      const status = await writer.runStatus(name);
      if (status === 'complete') continue;
      if (status === 'absent') {
        todo.set(run, false);
      } else {
        todo.set(run, true);
        onProgress?.({ type: 'run-redo', run, name, problem: status.problem });
      }
    }
    const skipped = runs.filter((r) => !todo.has(r));
    const batches = batchesOf(runs, runsPerBatch).filter((batch) => batch.some((r) => todo.has(r)));

    let inThreadReason: string | undefined;
    let workerCount = Math.min(workersAsked, batches.length);
    const moduleUrl = workerModuleOf(factory, options.taskModule);
    if (workerCount > 0 && moduleUrl === undefined && !BUILTIN_TASKS.includes(factory)) {
      inThreadReason = `task "${factory.name}" trains in this thread: a worker thread needs the module that registers it (TaskFactory.moduleUrl or the taskModule option)`;
      workerCount = 0;
    }
    onProgress?.({
      type: 'started',
      out,
      task: task.name,
      dataset: task.dataset,
      total: runs.length,
      existing: skipped.length,
      missing: todo.size,
      batches: batches.length,
      workers: workerCount,
      runsPerBatch,
      ...(inThreadReason ? { inThreadReason } : {}),
    });

    if (workerCount === 0) {
      trainers.push(inThreadTrainer(task, checkpointsPerRun, signal));
    } else {
      const kernelThreads = Math.max(1, Math.floor(availableParallelism() / workerCount));
      const setup = { task: factory.name, taskOptions, checkpointsPerRun, kernelThreads, ...(moduleUrl ? { moduleUrl } : {}) };
      const started = await Promise.allSettled(Array.from({ length: workerCount }, () => startWorkerTrainer(setup)));
      for (const s of started) if (s.status === 'fulfilled') trainers.push(s.value);
      const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
      if (signal?.aborted) await closeTrainers();
    }
    signal?.throwIfAborted();

    // Lanes: each trainer takes the next batch, trains it, and the runs are written one
    // batch at a time (the writer is single). The first error stops every lane.
    const start = performance.now();
    const written: number[] = [];
    const nonFinite: number[] = [];
    let bytes = 0;
    let next = 0;
    let failure: unknown = null;
    let writing: Promise<void> = Promise.resolve();

    const writeBatch = async (batch: readonly number[], trained: TrainedBatch): Promise<void> => {
      for (const [i, run] of batch.entries()) {
        if (!todo.has(run)) continue;
        signal?.throwIfAborted();
        const data: RunData = trained.runs[i]!;
        const name = runNameOf(run);
        if (data.iterations.length !== checkpointsPerRun) {
          throw new Error(`task "${task.name}" returned ${data.iterations.length} checkpoints for run ${run}; checkpointsPerRun is ${checkpointsPerRun}`);
        }
        const bad = firstNonFinite(data.parameters) >= 0;
        const result = await writer.writeRun(name, data, { signal, overwrite: todo.get(run), allowNonFinite: true });
        written.push(run);
        if (bad) nonFinite.push(run);
        bytes += result.bytes;
        const elapsed = (performance.now() - start) / 1000;
        const runsPerHour = (written.length / Math.max(elapsed, 1e-9)) * 3600;
        const done = skipped.length + written.length;
        onProgress?.({
          type: 'run-written',
          run,
          name,
          seconds: trained.seconds / batch.length,
          bytes: result.bytes,
          nonFinite: bad,
          done,
          total: runs.length,
          runsPerHour,
          etaSeconds: ((runs.length - done) / runsPerHour) * 3600,
        });
      }
    };

    const lane = async (trainer: BatchTrainer): Promise<void> => {
      while (failure === null && next < batches.length) {
        signal?.throwIfAborted();
        const index = next++;
        const batch = batches[index]!;
        const trained = await trainer.train(index, batch, (event) => onProgress?.({ type: 'run-progress', run: event.run, done: event.done, total: event.total }));
        writing = writing.then(() => writeBatch(batch, trained));
        await writing;
      }
    };

    await Promise.all(
      trainers.map((trainer) =>
        lane(trainer).catch(async (error: unknown) => {
          if (failure === null) {
            failure = error;
            await closeTrainers(); // stop the other lanes' batches now
          }
        }),
      ),
    );
    signal?.throwIfAborted();
    if (failure !== null) throw failure;

    const seconds = (performance.now() - start) / 1000;
    const runsPerHour = written.length > 0 ? (written.length / seconds) * 3600 : 0;
    onProgress?.({ type: 'finished', written: written.length, skipped: skipped.length, total: runs.length, seconds, runsPerHour, bytes });
    return { out, manifest: writer.manifest, written, skipped, nonFinite, bytes, seconds, runsPerHour };
  } finally {
    signal?.removeEventListener('abort', closeTrainers);
    await closeTrainers();
    await lock.release();
  }
}
