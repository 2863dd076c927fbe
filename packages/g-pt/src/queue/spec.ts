// What a dataset queue holds and how its pieces are named. A queue serves one dataset:
// its description (the spec) is kept in Redis beside BullMQ's keys and copied into every
// job, so that a worker needs nothing but the job to train it, and both the coordinator
// and the workers can refuse a queue or a job of another task or folder.
//
// A folder is told from another by an id written once into it
// (<dir>/runs/.gpt-queue/folder.json): a path means nothing across machines (a shared
// file system is mounted where each machine likes), an id in the folder does. It lives
// under runs/ behind a dot, where the dataset readers and the resuming generator never
// look (they take run files only, and dot-names are never run files).
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { RUNS_DIR } from '@gpt/checkpoints/node';
import { runNameOf } from '@gpt/checkpoints';

/** Hidden folder of the queue's own files inside a dataset folder. */
export const QUEUE_DIR = '.gpt-queue';
const FOLDER_FILE = 'folder.json';

/** Everything a worker needs to train a job's runs, and what tells one dataset from another. */
export interface DatasetQueueSpec {
  /** Id of the dataset folder (its folder.json). */
  readonly folderId: string;
  /** The folder as the coordinator named it (for messages: workers pass their own --out). */
  readonly out: string;
  readonly task: string;
  readonly taskOptions: Record<string, unknown>;
  /** URL of the module that registers a custom task, as the coordinator saw it (a worker's --task-module wins). */
  readonly taskModule?: string;
  readonly checkpointsPerRun: number;
  readonly runsPerBatch: number;
  readonly numTestRuns: number;
  /** Runs 0..runs-1 are asked for. */
  readonly runs: number;
  readonly createdAt: string;
}

/** One job: train these runs (one aligned block of runsPerBatch) of the spec's dataset and write them into its folder. */
export interface DatasetJobData {
  readonly spec: DatasetQueueSpec;
  readonly runs: readonly number[];
  /** Runs whose file the coordinator found damaged: written again (replaced) even though a file is there. */
  readonly redo?: readonly number[];
}

/** What a job returns (BullMQ keeps it as the job's return value). */
export interface DatasetJobResult {
  /** Runs this worker trained and put into the folder. */
  readonly written: readonly number[];
  /** Runs already complete in the folder (not written again). */
  readonly skipped: readonly number[];
  readonly nonFinite: readonly number[];
  readonly seconds: number;
  readonly worker: string;
}

/** The queue holds jobs of another dataset, or a worker's folder is not the queue's: nothing was changed. */
export class QueueConflictError extends Error {
  override readonly name = 'QueueConflictError';
}

/** Redis key of the queue's spec, beside BullMQ's own keys ("bull:<name>:..."). */
export function specKey(queueName: string): string {
  return `bull:${queueName}:gpt-dataset`;
}

/** Job id of a block: "<folder id>-<first run>-<last run>", the same on every enqueue, so adding it twice is a no-op. */
export function jobIdOf(folderId: string, runs: readonly number[]): string {
  return `${folderId}-${runNameOf(runs[0]!)}-${runNameOf(runs[runs.length - 1]!)}`;
}

/** The number of runs a job id covers (blocks are ranges of consecutive runs), or 0 for a foreign id. */
export function runCountOfJobId(id: string): number {
  const match = /-(\d{6})-(\d{6})$/.exec(id);
  return match ? Number(match[2]) - Number(match[1]) + 1 : 0;
}

/**
 * Why a queue holding `held` cannot take jobs of `asked`, or null when both describe the
 * same dataset (same folder, task, task options, checkpoints per run and blocks; the run
 * count may grow).
 */
export function specConflict(held: DatasetQueueSpec, asked: DatasetQueueSpec): string | null {
  if (held.folderId !== asked.folderId) return `folder ${held.out} (id ${held.folderId}), not ${asked.out} (id ${asked.folderId})`;
  if (held.task !== asked.task) return `task "${held.task}", not "${asked.task}"`;
  if (!isDeepStrictEqual(held.taskOptions, asked.taskOptions)) return `task options ${JSON.stringify(held.taskOptions)}, not ${JSON.stringify(asked.taskOptions)}`;
  if (held.checkpointsPerRun !== asked.checkpointsPerRun) return `${held.checkpointsPerRun} checkpoints per run, not ${asked.checkpointsPerRun}`;
  if (held.runsPerBatch !== asked.runsPerBatch) return `blocks of ${held.runsPerBatch} runs, not ${asked.runsPerBatch}`;
  return null;
}

/** Checks that `value` (a job's data, from Redis) is a dataset job; throws saying what is missing. */
export function checkJobData(value: unknown, jobId: string): DatasetJobData {
  const data = value as Partial<DatasetJobData> | null;
  const spec = data?.spec as Partial<DatasetQueueSpec> | undefined;
  const ok =
    spec !== undefined &&
    typeof spec.folderId === 'string' &&
    typeof spec.task === 'string' &&
    spec.taskOptions !== null &&
    typeof spec.taskOptions === 'object' &&
    Number.isSafeInteger(spec.checkpointsPerRun) &&
    Number.isSafeInteger(spec.runsPerBatch) &&
    Array.isArray(data?.runs) &&
    data.runs.length > 0 &&
    data.runs.every((r) => Number.isSafeInteger(r) && r >= 0);
  if (!ok) throw new QueueConflictError(`job ${jobId} is not a dataset-generation job of gpt data --queue (its data has no spec or no runs)`);
  return data as DatasetJobData;
}

/** Parses the spec kept in Redis (null when the queue has none). */
export function parseSpec(text: string | null): DatasetQueueSpec | null {
  if (text === null) return null;
  try {
    return JSON.parse(text) as DatasetQueueSpec;
  } catch {
    return null;
  }
}

/** <dir>/runs/.gpt-queue: the queue's files inside the dataset folder. */
export function queueDirOf(dir: string): string {
  return join(dir, RUNS_DIR, QUEUE_DIR);
}

/** The folder's id, or null when no queue has used it yet. */
export async function readFolderId(dir: string): Promise<string | null> {
  let text: string;
  try {
    text = await readFile(join(queueDirOf(dir), FOLDER_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const id = (JSON.parse(text) as { id?: unknown }).id;
  if (typeof id !== 'string' || !/^[0-9a-f]{12}$/.test(id)) throw new Error(`${join(queueDirOf(dir), FOLDER_FILE)}: no folder id in it (damaged? delete it and enqueue again)`);
  return id;
}

/** The folder's id, created on first use (exclusively, so two coordinators agree on one). */
export async function ensureFolderId(dir: string): Promise<string> {
  const existing = await readFolderId(dir);
  if (existing) return existing;
  await mkdir(queueDirOf(dir), { recursive: true });
  const id = randomBytes(6).toString('hex');
  try {
    const handle = await open(join(queueDirOf(dir), FOLDER_FILE), 'wx');
    try {
      await handle.writeFile(`${JSON.stringify({ id, createdAt: new Date().toISOString() })}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return id;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return (await readFolderId(dir))!;
  }
}
