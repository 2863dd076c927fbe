// `gpt data --queue` without --detach: enqueue, then follow the queue until every job
// has finished, then count the runs in the folder. A queue that lost its jobs while being
// followed (Redis restarted without persistence, or flushed) is enqueued again, which is
// safe because enqueuing is idempotent: what is on disk is not enqueued, what is queued is
// not enqueued twice.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RUNS_DIR } from '@gpt/checkpoints/node';
import { runNameOf } from '@gpt/checkpoints';
import { type EnqueueDatasetOptions, type EnqueueDatasetResult, checkEnqueueOptions, enqueueOn, openQueue } from './enqueue.js';
import { DEFAULT_QUEUE_NAME, connectRedis } from './redis.js';
import { type QueueFailure, type QueueSnapshot, isFinished, queueSnapshot } from './status.js';

export interface QueueGenerationOptions extends EnqueueDatasetOptions {
  /** Return once enqueued, without following the queue. */
  readonly detach?: boolean;
  /** How often the queue is read (default 1 s). */
  readonly pollMs?: number;
  readonly onProgress?: (event: QueueGenerationEvent) => void;
}

export type QueueGenerationEvent =
  | { type: 'enqueued'; result: EnqueueDatasetResult; again: boolean }
  | { type: 'progress'; snapshot: QueueSnapshot }
  /** The queue's jobs are gone (Redis restarted without persistence?): they are enqueued again. */
  | { type: 'queue-lost' }
  | { type: 'connection'; state: 'lost' | 'restored'; error?: string };

export interface QueueGenerationResult {
  readonly enqueued: EnqueueDatasetResult;
  /** The last snapshot (absent with detach). */
  readonly snapshot?: QueueSnapshot;
  /** Runs of 0..N-1 on disk at the end (absent with detach). */
  readonly complete?: number;
  readonly failures: readonly QueueFailure[];
}

/** How many of runs 0..runs-1 have a file in `dir`. */
async function runsOnDisk(dir: string, runs: number): Promise<number> {
  const names = new Set(await readdir(join(dir, RUNS_DIR)).catch(() => [] as string[]));
  let count = 0;
  for (let r = 0; r < runs; r++) if (names.has(`${runNameOf(r)}.safetensors`)) count++;
  return count;
}

/** Enqueues the dataset's missing blocks and (unless detach) follows the queue until all its jobs are done or failed. */
export async function generateDatasetOnQueue(options: QueueGenerationOptions): Promise<QueueGenerationResult> {
  checkEnqueueOptions(options);
  const { signal, onProgress } = options;
  const pollMs = options.pollMs ?? 1000;
  const redis = await connectRedis(options.queue, {
    connectTimeoutMs: options.connectTimeoutMs,
    signal,
    onConnection: (state, error) => onProgress?.({ type: 'connection', state, ...(error ? { error } : {}) }),
  });
  try {
    const queue = await openQueue(redis, options.queueName ?? DEFAULT_QUEUE_NAME);
    try {
      let enqueued = await enqueueOn(redis, queue, options);
      onProgress?.({ type: 'enqueued', result: enqueued, again: false });
      if (options.detach) return { enqueued, failures: [] };
      let snapshot: QueueSnapshot;
      for (;;) {
        signal?.throwIfAborted();
        snapshot = await queueSnapshot(redis, queue);
        if (snapshot.spec === null) {
          onProgress?.({ type: 'queue-lost' });
          enqueued = await enqueueOn(redis, queue, options);
          onProgress?.({ type: 'enqueued', result: enqueued, again: true });
          continue;
        }
        onProgress?.({ type: 'progress', snapshot });
        if (isFinished(snapshot)) break;
        await sleep(pollMs, undefined, { signal });
      }
      const complete = await runsOnDisk(options.out, options.runs);
      return { enqueued, snapshot, complete, failures: snapshot.failures };
    } finally {
      await queue.close();
    }
  } finally {
    redis.disconnect();
  }
}
