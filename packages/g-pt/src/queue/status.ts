// Progress of a dataset queue, read from the queue itself (so `gpt data --status` on any
// machine sees what every worker did): jobs by state, the runs they hold, the workers
// connected, runs/hour over the jobs completed in the last minutes, and the ETA.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { DEFAULT_QUEUE_NAME, connectRedis, redactQueueUrl } from './redis.js';
import { type DatasetJobData, type DatasetJobResult, type DatasetQueueSpec, parseSpec, runCountOfJobId, specKey } from './spec.js';
import { UNFINISHED_STATES, openQueue } from './enqueue.js';

/** Completed jobs the rate looks at (the newest), and how old they may be. */
const RATE_JOBS = 50;
const RATE_WINDOW_MS = 15 * 60_000;
const FAILURES_SHOWN = 10;

export interface QueueFailure {
  readonly job: string;
  readonly runs: readonly number[];
  readonly attempts: number;
  readonly error: string;
}

export interface QueueSnapshot {
  readonly queueName: string;
  /** The dataset the queue serves (null: nothing enqueued, or Redis lost it). */
  readonly spec: DatasetQueueSpec | null;
  readonly jobs: { readonly completed: number; readonly active: number; readonly waiting: number; readonly delayed: number; readonly failed: number };
  /** Runs of the spec's 0..N-1: in unfinished jobs by state, in failed jobs, and the rest (done). */
  readonly runs: { readonly total: number; readonly done: number; readonly active: number; readonly waiting: number; readonly failed: number };
  /** Workers connected to the queue now. */
  readonly workers: number;
  /** Runs written per hour by the jobs completed in the last 15 minutes (undefined: none). */
  readonly runsPerHour: number | undefined;
  readonly etaSeconds: number | undefined;
  /** The first failed jobs, with their errors. */
  readonly failures: readonly QueueFailure[];
}

async function runsIn(queue: Queue, states: readonly string[]): Promise<number> {
  const ids = await queue.getRanges(states as Parameters<Queue['getRanges']>[0], 0, -1);
  return [...new Set(ids)].reduce((sum, id) => sum + runCountOfJobId(id), 0);
}

/** Runs/hour of the newest completed jobs: runs they wrote over the span from the first start to the last end. */
async function recentRate(queue: Queue<DatasetJobData, DatasetJobResult>): Promise<number | undefined> {
  const jobs = await queue.getJobs(['completed'], 0, RATE_JOBS - 1, false);
  const now = Date.now();
  let written = 0;
  let first = Infinity;
  let last = -Infinity;
  for (const job of jobs) {
    if (!job?.finishedOn || !job.processedOn || now - job.finishedOn > RATE_WINDOW_MS) continue;
    written += job.returnvalue?.written?.length ?? 0;
    first = Math.min(first, job.processedOn);
    last = Math.max(last, job.finishedOn);
  }
  if (written === 0 || !(last > first)) return undefined;
  return (written / (last - first)) * 3_600_000;
}

/** The queue's state now. */
export async function queueSnapshot(redis: Redis, queue: Queue<DatasetJobData, DatasetJobResult>): Promise<QueueSnapshot> {
  const spec = parseSpec(await redis.get(specKey(queue.name)));
  const counts = await queue.getJobCounts('completed', 'failed', ...UNFINISHED_STATES);
  const waiting = (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts['waiting-children'] ?? 0);
  const [activeRuns, waitingRuns, failedRuns, workers, rate, failedJobs] = await Promise.all([
    runsIn(queue, ['active']),
    runsIn(queue, ['waiting', 'delayed', 'prioritized', 'waiting-children']),
    runsIn(queue, ['failed']),
    queue.getWorkersCount(),
    recentRate(queue),
    queue.getJobs(['failed'], 0, FAILURES_SHOWN - 1, true),
  ]);
  const total = spec?.runs ?? 0;
  const done = Math.max(0, total - activeRuns - waitingRuns - failedRuns);
  const left = total - done - failedRuns;
  return {
    queueName: queue.name,
    spec,
    jobs: { completed: counts.completed ?? 0, active: counts.active ?? 0, waiting, delayed: counts.delayed ?? 0, failed: counts.failed ?? 0 },
    runs: { total, done, active: activeRuns, waiting: waitingRuns, failed: failedRuns },
    workers,
    runsPerHour: rate,
    etaSeconds: left <= 0 ? 0 : rate ? (left / rate) * 3600 : undefined,
    failures: failedJobs.filter(Boolean).map((job) => ({ job: job.id ?? '?', runs: job.data?.runs ?? [], attempts: job.attemptsMade, error: job.failedReason ?? '' })),
  };
}

/** Whether no job of the queue is still to run (failed ones count as finished). */
export function isFinished(snapshot: QueueSnapshot): boolean {
  const { active, waiting, delayed } = snapshot.jobs;
  return snapshot.spec !== null && active + waiting + delayed === 0;
}

export interface QueueStatusOptions {
  readonly queue: string;
  readonly queueName?: string;
  readonly connectTimeoutMs?: number;
}

/** `gpt data --status`: one snapshot of the queue at `options.queue`. */
export async function datasetQueueStatus(options: QueueStatusOptions): Promise<QueueSnapshot & { readonly url: string }> {
  const redis = await connectRedis(options.queue, { connectTimeoutMs: options.connectTimeoutMs });
  try {
    const queue = await openQueue(redis, options.queueName ?? DEFAULT_QUEUE_NAME);
    try {
      return { ...(await queueSnapshot(redis, queue)), url: redactQueueUrl(options.queue) };
    } finally {
      await queue.close();
    }
  } finally {
    redis.disconnect();
  }
}
