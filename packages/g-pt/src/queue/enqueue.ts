// The coordinator's half of `gpt data --queue`: prepares the dataset folder exactly as the
// single-machine generator would (same manifest, same checks against a folder holding
// another dataset; under the folder's lock, so that no generator runs on it meanwhile)
// and enqueues one job per aligned block of runs that has a run missing.
//
// Enqueuing is idempotent: a block's job id is fixed by the folder and its runs, so a
// block already waiting, delayed or active is left alone, a block whose runs are all on
// disk gets no job, a failed block is retried from its first attempt, and a block that
// completed but lost a run (deleted since) is enqueued again.
import { mkdir } from 'node:fs/promises';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { runNameOf } from '@gpt/checkpoints';
import { DatasetWriter, acquireDatasetLock } from '@gpt/checkpoints/node';
// The single-machine generator's defaults, so that a queue generation groups runs and
// splits the dataset exactly as `gpt data` without --queue does.
import { DEFAULT_CHECKPOINTS_PER_RUN, defaultRunsPerBatch, defaultTestRuns, runIndices } from '../data/generate.js';
import { checkExistingDataset, generatedManifest } from '../data/dataset-manifest.js';
import { registerBuiltinTasks } from '../tasks/builtin.js';
import { getTaskFactory } from '../tasks/registry.js';
import { DEFAULT_QUEUE_NAME, connectRedis, redactQueueUrl } from './redis.js';
import { type DatasetJobData, type DatasetJobResult, type DatasetQueueSpec, QueueConflictError, ensureFolderId, jobIdOf, parseSpec, readFolderId, specConflict, specKey } from './spec.js';

/** Default attempts of a job before it is marked failed, and the first retry's delay (doubled each time). */
export const DEFAULT_ATTEMPTS = 3;
export const DEFAULT_RETRY_DELAY_MS = 10_000;
/** Job states that are still to run. */
export const UNFINISHED_STATES = ['active', 'waiting', 'delayed', 'prioritized', 'waiting-children'] as const;


export interface EnqueueDatasetOptions {
  /** Redis URL, e.g. redis://HOST:6379/0. */
  readonly queue: string;
  readonly queueName?: string;
  readonly task: string;
  readonly taskOptions?: Record<string, unknown>;
  /** URL of a module that registers a custom task (imported here, and by every worker unless it passes its own). */
  readonly taskModule?: string;
  /** Runs 0..runs-1. */
  readonly runs: number;
  readonly out: string;
  readonly checkpointsPerRun?: number;
  /** Runs per job (default: the generator's, 16; 1 for Cartpole). */
  readonly runsPerBatch?: number;
  readonly numTestRuns?: number;
  /** Attempts of a job before it is marked failed (default 3), and the first retry's delay in ms (default 10 s, doubled each retry). */
  readonly attempts?: number;
  readonly retryDelayMs?: number;
  readonly connectTimeoutMs?: number;
  readonly noSync?: boolean;
  readonly signal?: AbortSignal;
}

export interface EnqueueDatasetResult {
  readonly queueName: string;
  readonly spec: DatasetQueueSpec;
  /** Runs of 0..N-1 complete in the folder, and those missing (damaged ones included). */
  readonly complete: number;
  readonly missing: number;
  /** Runs whose file is damaged: their job writes them again. */
  readonly damaged: number;
  /** Blocks with a missing run, and what enqueuing did with each. */
  readonly blocks: number;
  readonly added: number;
  readonly retried: number;
  readonly alreadyQueued: number;
  /** The finished queue of another dataset that was cleared to serve this one. */
  readonly replaced?: string;
}

function checkCount(name: string, value: number | undefined, min: number): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < min)) throw new RangeError(`enqueueDataset: ${name} must be an integer >= ${min}, got ${String(value)}`);
}

interface PreparedFolder {
  readonly spec: Omit<DatasetQueueSpec, 'createdAt'>;
  readonly blocks: { runs: number[]; redo: number[] }[];
  readonly complete: number;
  readonly damaged: number;
}

/** Checks or creates the folder's manifest and id under its lock, and finds the blocks with a missing run. */
async function prepareFolder(options: EnqueueDatasetOptions): Promise<PreparedFolder> {
  registerBuiltinTasks();
  if (options.taskModule) await import(options.taskModule);
  const taskOptions = options.taskOptions ?? {};
  const task = await getTaskFactory(options.task).create(taskOptions);
  options.signal?.throwIfAborted();
  const runs = runIndices(options.runs);
  const checkpointsPerRun = options.checkpointsPerRun ?? DEFAULT_CHECKPOINTS_PER_RUN;
  const runsPerBatch = options.runsPerBatch ?? defaultRunsPerBatch(task.dataset);

  await mkdir(options.out, { recursive: true });
  const lock = await acquireDatasetLock(options.out, { command: 'gpt data --queue (preparing the folder)' });
  try {
    const wanted = generatedManifest(task, {
      checkpointsPerRun,
      numTestRuns: options.numTestRuns ?? defaultTestRuns(task.dataset, runs.length),
      runsPerBatch,
    });
    const existing = await checkExistingDataset(options.out, wanted, options.numTestRuns !== undefined);
    const writer = await DatasetWriter.create(options.out, existing ?? wanted, { lock, noSync: options.noSync });
    try {
      const folderId = await ensureFolderId(options.out);
      const onDisk = new Set(await writer.completedRuns());
      const blocks = new Map<number, { runs: number[]; redo: number[]; missing: boolean }>();
      let complete = 0;
      let damaged = 0;
      for (const run of runs) {
        const name = runNameOf(run);
        const status = onDisk.has(name) ? await writer.runStatus(name) : 'absent';
        const key = Math.floor(run / runsPerBatch);
        const block = blocks.get(key) ?? { runs: [], redo: [], missing: false };
        blocks.set(key, block);
        block.runs.push(run);
        if (status === 'complete') {
          complete++;
          continue;
        }
        block.missing = true;
        if (status !== 'absent') {
          damaged++;
          block.redo.push(run);
        }
      }
      const spec = {
        folderId,
        out: options.out,
        task: options.task,
        taskOptions,
        ...(options.taskModule ? { taskModule: options.taskModule } : {}),
        checkpointsPerRun,
        runsPerBatch,
        numTestRuns: writer.manifest.split.numTestRuns,
        runs: runs.length,
      };
      const missingBlocks = [...blocks.values()].filter((b) => b.missing).map(({ runs: r, redo }) => ({ runs: r, redo }));
      return { spec, blocks: missingBlocks, complete, damaged };
    } finally {
      await writer.close();
    }
  } finally {
    await lock.release();
  }
}

/** Counts of the queue's jobs by state. */
export async function unfinishedJobs(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts(...UNFINISHED_STATES);
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/**
 * Enqueues on an open connection (the coordinator's watch loop uses it again when the
 * queue lost its jobs, e.g. a Redis restarted without persistence).
 */
export async function enqueueOn(redis: Redis, queue: Queue<DatasetJobData, DatasetJobResult>, options: EnqueueDatasetOptions): Promise<EnqueueDatasetResult> {
  const queueName = queue.name;
  const refuseIfBusy = async (conflict: string): Promise<void> => {
    const unfinished = await unfinishedJobs(queue);
    if (unfinished === 0) return;
    throw new QueueConflictError(
      `queue "${queueName}" at ${redactQueueUrl(options.queue)} holds ${unfinished} unfinished jobs of another dataset (${conflict}); nothing was enqueued. ` +
        'Wait for them (gpt data --status --queue URL), or use another queue: --queue-name NAME or another Redis database (redis://HOST:PORT/1)',
    );
  };
  const held = parseSpec(await redis.get(specKey(queueName)));
  // Another folder's queue is refused before this folder is touched.
  const folderId = await readFolderId(options.out).catch(() => null);
  if (held && held.folderId !== folderId) await refuseIfBusy(`folder ${held.out} (id ${held.folderId}), not ${options.out}`);
  const prepared = await prepareFolder(options);
  options.signal?.throwIfAborted();
  const asked: DatasetQueueSpec = { ...prepared.spec, createdAt: new Date().toISOString() };
  let replaced: string | undefined;
  let spec = asked;
  const conflict = held ? specConflict(held, asked) : null;
  if (held && conflict === null) {
    spec = { ...asked, runs: Math.max(held.runs, asked.runs), createdAt: held.createdAt };
  } else if (held && conflict !== null) {
    await refuseIfBusy(conflict);
    // Every job of the other dataset is done or failed: its records go, its folder stays.
    replaced = `task "${held.task}" into ${held.out}`;
    await queue.obliterate({ force: true });
  }
  await redis.set(specKey(queueName), JSON.stringify(spec));

  const attempts = options.attempts ?? DEFAULT_ATTEMPTS;
  const jobOptions = { attempts, backoff: { type: 'exponential' as const, delay: options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS }, removeOnComplete: false, removeOnFail: false };
  const toAdd: { name: string; data: DatasetJobData; opts: typeof jobOptions & { jobId: string } }[] = [];
  let retried = 0;
  let alreadyQueued = 0;
  for (const block of prepared.blocks) {
    options.signal?.throwIfAborted();
    const jobId = jobIdOf(spec.folderId, block.runs);
    const data: DatasetJobData = { spec, runs: block.runs, ...(block.redo.length > 0 ? { redo: block.redo } : {}) };
    const job = await queue.getJob(jobId);
    const state = job ? await job.getState() : 'unknown';
    if (state === 'failed') {
      await job!.updateData(data);
      await job!.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      retried++;
    } else if (state === 'completed' || state === 'unknown') {
      if (job) await job.remove(); // completed, yet a run is missing now: train it again
      toAdd.push({ name: `runs ${runNameOf(block.runs[0]!)}-${runNameOf(block.runs[block.runs.length - 1]!)}`, data, opts: { ...jobOptions, jobId } });
    } else {
      alreadyQueued++;
    }
  }
  for (let i = 0; i < toAdd.length; i += 1000) await queue.addBulk(toAdd.slice(i, i + 1000));
  return {
    queueName,
    spec,
    complete: prepared.complete,
    missing: prepared.spec.runs - prepared.complete,
    damaged: prepared.damaged,
    blocks: prepared.blocks.length,
    added: toAdd.length,
    retried,
    alreadyQueued,
    ...(replaced ? { replaced } : {}),
  };
}

export function checkEnqueueOptions(options: EnqueueDatasetOptions): void {
  if (typeof options.out !== 'string' || options.out.length === 0) throw new TypeError('enqueueDataset: out must name the dataset folder');
  runIndices(options.runs);
  checkCount('checkpointsPerRun', options.checkpointsPerRun, 2);
  checkCount('runsPerBatch', options.runsPerBatch, 1);
  checkCount('numTestRuns', options.numTestRuns, 0);
  checkCount('attempts', options.attempts, 1);
  if (options.retryDelayMs !== undefined && !(options.retryDelayMs >= 0)) throw new RangeError(`enqueueDataset: retryDelayMs must be >= 0, got ${String(options.retryDelayMs)}`);
}

/** Opens the queue on a connection (BullMQ loaded here, on first use). */
export async function openQueue(redis: Redis, queueName: string): Promise<Queue<DatasetJobData, DatasetJobResult>> {
  const { Queue: BullQueue } = await import('bullmq');
  const queue = new BullQueue<DatasetJobData, DatasetJobResult>(queueName, { connection: redis });
  queue.on('error', () => undefined); // connection errors: the connection reconnects, callers see their own commands wait
  await queue.waitUntilReady();
  return queue;
}

/**
 * Enqueues the blocks of `options.runs` runs that have a run missing in `options.out`
 * (idempotent; see above). Throws before changing anything when Redis is unreachable,
 * the folder holds another dataset, or the queue holds unfinished jobs of another one.
 */
export async function enqueueDataset(options: EnqueueDatasetOptions): Promise<EnqueueDatasetResult> {
  checkEnqueueOptions(options);
  const redis = await connectRedis(options.queue, { connectTimeoutMs: options.connectTimeoutMs, signal: options.signal });
  try {
    const queue = await openQueue(redis, options.queueName ?? DEFAULT_QUEUE_NAME);
    try {
      return await enqueueOn(redis, queue, options);
    } finally {
      await queue.close();
    }
  } finally {
    redis.disconnect();
  }
}
