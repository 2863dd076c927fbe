// A dataset worker (`gpt worker`): takes jobs ("train runs i..j of task T and write them
// into DIR") from the BullMQ queue, trains them with the single-machine generator's
// batch trainers (worker threads, the same aligned blocks, so every run is identical to
// the one `gpt data` writes on one machine) and publishes each run into DIR through a
// private staging folder (staging.ts). The main thread only talks to Redis and writes
// files, so BullMQ's lock on a job is renewed while the block trains; a worker killed
// mid-job stops renewing it, the job becomes stalled and another worker takes it.
//
// A run already in DIR is never trained again: a job whose runs are all there completes
// at once; a block with some runs there is trained whole (its runs are trained together,
// which fixes their bits) and only the missing ones are written.
import { availableParallelism, hostname } from 'node:os';
import type { Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { type DatasetManifest, MANIFEST_FILE, firstNonFinite, runNameOf } from '@gpt/checkpoints';
import { readManifest, runFilePath } from '@gpt/checkpoints/node';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { type BatchTrainer, startWorkerTrainer } from '../data/trainers.js';
import type { WorkerSetup } from '../data/worker-protocol.js';
import { DEFAULT_QUEUE_NAME, connectRedis, redactQueueUrl } from './redis.js';
import { type DatasetJobData, type DatasetJobResult, type DatasetQueueSpec, QueueConflictError, checkJobData, parseSpec, readFolderId, specKey } from './spec.js';
import { type StagingFolder, openStagingFolder, removeDeadStagingFolders } from './staging.js';

/** Default time a job stays locked after its worker stops renewing the lock (BullMQ's default). */
export const DEFAULT_LOCK_DURATION_MS = 30_000;
/** Times a job may be taken back from a dead worker before it fails. */
const MAX_STALLED_COUNT = 3;
const JOB_PROGRESS_INTERVAL_MS = 1000;

export interface DatasetWorkerOptions {
  /** Redis URL, e.g. redis://HOST:6379/0. */
  readonly queue: string;
  readonly queueName?: string;
  /** The dataset folder, as this machine sees it (the coordinator's folder, e.g. on a shared file system). */
  readonly out: string;
  /** Jobs at once, each in its own worker thread (default 1). */
  readonly concurrency?: number;
  /** Module URL that registers a custom task (default: the one the coordinator named). */
  readonly taskModule?: string;
  /** How long a job stays locked without renewal: a killed worker's job is taken over after about this long (default 30 s). */
  readonly lockDurationMs?: number;
  readonly noSync?: boolean;
  readonly connectTimeoutMs?: number;
  readonly onProgress?: (event: DatasetWorkerEvent) => void;
}

export type DatasetWorkerEvent =
  | { type: 'ready'; worker: string; queue: string; queueName: string; out: string; concurrency: number; removedStaging: number }
  | { type: 'job-started'; job: string; runs: readonly number[]; attempt: number }
  | { type: 'run-progress'; job: string; run: number; done: number; total: number }
  | { type: 'job-trained'; job: string; runs: readonly number[]; seconds: number }
  | { type: 'run-written'; job: string; run: number; name: string; bytes: number; nonFinite: boolean }
  /** Already in the folder before training ('complete'), or published by another worker meanwhile ('exists'). */
  | { type: 'run-skipped'; job: string; run: number; reason: 'complete' | 'exists' }
  | { type: 'job-done'; job: string; written: number; skipped: number; seconds: number }
  | { type: 'job-failed'; job: string; error: string; attempt: number; attempts: number; final: boolean }
  | { type: 'connection'; state: 'lost' | 'restored'; error?: string }
  | { type: 'warning'; message: string }
  | { type: 'stopping'; force: boolean }
  | { type: 'stopped'; jobs: number; written: number };

export interface DatasetWorkerResult {
  readonly jobs: number;
  readonly written: number;
  readonly skipped: number;
  readonly failedJobs: number;
}

export interface DatasetWorker {
  /** host:pid, as BullMQ records it on every job this worker takes. */
  readonly id: string;
  /** Settles when the worker has stopped (rejects when it stopped on an error, e.g. a job of another folder). */
  readonly finished: Promise<DatasetWorkerResult>;
  /** Stops taking jobs; resolves after the current ones are done (force: at once, their jobs go back to the queue when their locks expire). */
  close(options?: { force?: boolean }): Promise<DatasetWorkerResult>;
}

interface Slot {
  busy: boolean;
  trainer: BatchTrainer | null;
  setupKey: string | null;
  staging: StagingFolder | null;
}

function setupOf(spec: DatasetQueueSpec, taskModule: string | undefined, kernelThreads: number): WorkerSetup {
  const moduleUrl = taskModule ?? spec.taskModule;
  return { task: spec.task, taskOptions: spec.taskOptions, checkpointsPerRun: spec.checkpointsPerRun, kernelThreads, ...(moduleUrl ? { moduleUrl } : {}) };
}

async function fileExists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

interface PreparedFolder {
  readonly folderId: string;
  readonly manifest: DatasetManifest;
}

/**
 * Checks `out` against the queue: a folder prepared by a coordinator (manifest and folder
 * id) and, when the queue serves a dataset already, that dataset's folder. Null when
 * neither exists yet (a worker started before the coordinator: checked again on the
 * first job).
 */
async function checkFolder(redis: Redis, queueName: string, out: string, url: string): Promise<PreparedFolder | null> {
  const spec = parseSpec(await redis.get(specKey(queueName)));
  const folderId = await readFolderId(out).catch(() => null);
  const hasManifest = await fileExists(join(out, MANIFEST_FILE));
  const where = `queue "${queueName}" at ${redactQueueUrl(url)}`;
  if (!hasManifest || folderId === null) {
    if (spec === null) return null;
    throw new QueueConflictError(
      `${where} serves the folder ${spec.out} (id ${spec.folderId}), and --out ${out} holds no dataset prepared by gpt data --queue ` +
        `(${hasManifest ? 'no runs/.gpt-queue/folder.json' : `no ${MANIFEST_FILE}`}); give every worker the coordinator's folder (e.g. on a shared file system)`,
    );
  }
  if (spec && spec.folderId !== folderId) {
    throw new QueueConflictError(`${where} serves the folder ${spec.out} (id ${spec.folderId}), and --out ${out} is another folder (id ${folderId}); give this worker the folder the coordinator writes`);
  }
  return { folderId, manifest: await readManifest(out) };
}

/** Starts a worker on the queue at `options.queue`; it runs until close() (or an error). */
export async function startDatasetWorker(options: DatasetWorkerOptions): Promise<DatasetWorker> {
  const queueName = options.queueName ?? DEFAULT_QUEUE_NAME;
  const concurrency = options.concurrency ?? 1;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new RangeError(`startDatasetWorker: concurrency must be an integer >= 1, got ${String(concurrency)}`);
  const lockDuration = options.lockDurationMs ?? DEFAULT_LOCK_DURATION_MS;
  if (!Number.isFinite(lockDuration) || lockDuration < 200) throw new RangeError(`startDatasetWorker: lockDurationMs must be at least 200, got ${String(lockDuration)}`);
  const emit = (event: DatasetWorkerEvent): void => options.onProgress?.(event);
  const { out } = options;
  const noSync = options.noSync ?? false;

  const redis = await connectRedis(options.queue, { connectTimeoutMs: options.connectTimeoutMs, onConnection: (state, error) => emit({ type: 'connection', state, ...(error ? { error } : {}) }) });
  let folder: PreparedFolder | null;
  try {
    folder = await checkFolder(redis, queueName, out, options.queue);
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  const removedStaging = await removeDeadStagingFolders(out);
  const { Worker: BullWorker, WaitingError, UnrecoverableError } = await import('bullmq');

  const id = `${hostname()}:${process.pid}`;
  const kernelThreads = Math.max(1, Math.floor(availableParallelism() / concurrency));
  const slots: Slot[] = Array.from({ length: concurrency }, () => ({ busy: false, trainer: null, setupKey: null, staging: null }));
  const totals = { jobs: 0, written: 0, skipped: 0, failedJobs: 0 };
  let batchCounter = 0;
  let refusal: Error | null = null;
  let stopping: Promise<DatasetWorkerResult> | null = null;
  let bull: Worker<DatasetJobData, DatasetJobResult> | null = null;

  const refuse = (error: Error): void => {
    if (refusal) return;
    refusal = error;
    void close({ force: false }).catch(() => undefined);
  };

  const slotTrainer = async (slot: Slot, index: number, spec: DatasetQueueSpec, manifest: DatasetManifest): Promise<{ trainer: BatchTrainer; staging: StagingFolder }> => {
    const setup = setupOf(spec, options.taskModule, kernelThreads);
    const key = JSON.stringify(setup);
    if (slot.trainer && slot.setupKey !== key) {
      await slot.trainer.close();
      slot.trainer = null;
    }
    slot.staging ??= await openStagingFolder(out, manifest, index, noSync);
    slot.trainer ??= await startWorkerTrainer(setup);
    slot.setupKey = key;
    return { trainer: slot.trainer, staging: slot.staging };
  };

  const processJob = async (job: Job<DatasetJobData, DatasetJobResult>, token: string | undefined, signal: AbortSignal | undefined): Promise<DatasetJobResult> => {
    const jobId = job.id ?? '?';
    let data: DatasetJobData;
    try {
      data = checkJobData(job.data, jobId);
    } catch (error) {
      throw new UnrecoverableError((error as Error).message);
    }
    let conflict: Error | null = null;
    folder ??= await checkFolder(redis, queueName, out, options.queue).catch((error: Error) => ((conflict = error), null));
    if (!conflict && folder?.folderId !== data.spec.folderId) {
      conflict = new QueueConflictError(`job ${jobId} belongs to the folder ${data.spec.out} (id ${data.spec.folderId}), and this worker writes ${out} (${folder ? `id ${folder.folderId}` : 'no dataset there'})`);
    }
    if (conflict) {
      // This worker's folder is not the job's: give the job back untouched and stop.
      await job.moveToWait(token);
      refuse(new QueueConflictError(`${(conflict as Error).message}; the job was put back for another worker`));
      throw new WaitingError();
    }
    const prepared = folder!;
    const start = performance.now();
    emit({ type: 'job-started', job: jobId, runs: data.runs, attempt: job.attemptsMade + 1 });
    const redo = new Set(data.redo ?? []);
    const missing: number[] = [];
    const skipped: number[] = [];
    for (const run of data.runs) {
      if (!redo.has(run) && (await fileExists(runFilePath(out, runNameOf(run))))) {
        skipped.push(run);
        emit({ type: 'run-skipped', job: jobId, run, reason: 'complete' });
      } else {
        missing.push(run);
      }
    }
    const written: number[] = [];
    const nonFinite: number[] = [];
    if (missing.length > 0) {
      const index = slots.findIndex((s) => !s.busy);
      if (index < 0) throw new Error('gpt worker: no free slot (BullMQ ran more jobs than --concurrency)');
      const slot = slots[index]!;
      slot.busy = true;
      const onAbort = (): void => void slot.trainer?.close();
      signal?.addEventListener('abort', onAbort);
      try {
        const { trainer, staging } = await slotTrainer(slot, index, data.spec, prepared.manifest);
        let lastProgress = 0;
        const trained = await trainer.train(batchCounter++, data.runs, (event) => {
          emit({ type: 'run-progress', job: jobId, run: event.run, done: event.done, total: event.total });
          const now = performance.now();
          if (now - lastProgress >= JOB_PROGRESS_INTERVAL_MS) {
            lastProgress = now;
            void job.updateProgress({ run: event.run, done: event.done, total: event.total }).catch(() => undefined);
          }
        });
        emit({ type: 'job-trained', job: jobId, runs: data.runs, seconds: trained.seconds });
        for (const [i, run] of data.runs.entries()) {
          if (!missing.includes(run)) continue;
          signal?.throwIfAborted();
          const runData = trained.runs[i]!;
          if (runData.iterations.length !== data.spec.checkpointsPerRun) {
            throw new Error(`task "${data.spec.task}" returned ${runData.iterations.length} checkpoints for run ${run}; checkpointsPerRun is ${data.spec.checkpointsPerRun}`);
          }
          const bad = firstNonFinite(runData.parameters) >= 0;
          const name = runNameOf(run);
          const { outcome, bytes } = await staging.publish(name, runData, { replace: redo.has(run), signal });
          if (outcome === 'exists') {
            skipped.push(run);
            emit({ type: 'run-skipped', job: jobId, run, reason: 'exists' });
            continue;
          }
          written.push(run);
          if (bad) nonFinite.push(run);
          emit({ type: 'run-written', job: jobId, run, name, bytes, nonFinite: bad });
        }
      } catch (error) {
        // A trainer that failed (its task threw, its thread died, or it was stopped) is not reused.
        await slot.trainer?.close();
        slot.trainer = null;
        throw error;
      } finally {
        signal?.removeEventListener('abort', onAbort);
        slot.busy = false;
      }
    }
    const seconds = (performance.now() - start) / 1000;
    totals.jobs++;
    totals.written += written.length;
    totals.skipped += skipped.length;
    emit({ type: 'job-done', job: jobId, written: written.length, skipped: skipped.length, seconds });
    return { written, skipped, nonFinite, seconds, worker: id };
  };

  bull = new BullWorker<DatasetJobData, DatasetJobResult>(queueName, processJob, {
    connection: redis,
    concurrency,
    name: id,
    lockDuration,
    stalledInterval: Math.max(100, Math.round(lockDuration / 2)),
    maxStalledCount: MAX_STALLED_COUNT,
    // An idle worker polls again within a second: a queue whose Redis restarted is found soon.
    drainDelay: 1,
    autorun: false,
  });
  bull.on('failed', (job, error) => {
    if (!job || error instanceof WaitingError || error.name === 'WaitingError') return;
    const attempts = job.opts.attempts ?? 1;
    const final = job.attemptsMade >= attempts || error.name === 'UnrecoverableError';
    if (final) totals.failedJobs++;
    emit({ type: 'job-failed', job: job.id ?? '?', error: error.message, attempt: job.attemptsMade, attempts, final });
  });
  bull.on('error', (error) => emit({ type: 'warning', message: error.message }));

  let settle!: { resolve: (r: DatasetWorkerResult) => void; reject: (e: Error) => void };
  const finished = new Promise<DatasetWorkerResult>((resolve, reject) => (settle = { resolve, reject }));
  finished.catch(() => undefined); // observed through close() or by the caller

  async function close(closeOptions: { force?: boolean } = {}): Promise<DatasetWorkerResult> {
    const force = closeOptions.force ?? false;
    if (stopping && !force) return stopping;
    emit({ type: 'stopping', force });
    const stop = (async () => {
      try {
        await bull!.close(force);
      } finally {
        for (const slot of slots) {
          await slot.trainer?.close();
          slot.trainer = null;
          await slot.staging?.remove().catch(() => undefined);
          slot.staging = null;
        }
        // This worker's dead neighbours on the host (a kill -9) leave staging folders too.
        await removeDeadStagingFolders(out).catch(() => 0);
        redis.disconnect();
      }
      const result = { ...totals };
      emit({ type: 'stopped', jobs: result.jobs, written: result.written });
      if (refusal) settle.reject(refusal);
      else settle.resolve(result);
      return result;
    })();
    stopping = stop;
    return stop;
  }

  await bull.waitUntilReady();
  emit({ type: 'ready', worker: id, queue: redactQueueUrl(options.queue), queueName, out, concurrency, removedStaging });
  bull.run().catch((error: Error) => {
    refusal ??= error;
    void close({ force: true }).catch(() => undefined);
  });
  return { id, finished, close };
}
