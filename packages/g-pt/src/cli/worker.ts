// `gpt worker`: takes dataset-generation jobs from the queue of `gpt data --queue` and
// trains them on this machine, writing the runs into the shared dataset folder. Run one
// (or several, with --concurrency) on every machine. SIGTERM or Ctrl-C: finish the
// current job, then exit; a second one: exit at once (the job goes back to the queue when
// its lock expires, and another worker trains it).
import { resolve } from 'node:path';
import { DEFAULT_LOCK_DURATION_MS, type DatasetWorkerEvent, startDatasetWorker } from '../queue/worker.js';
import { checkQueueUrl } from '../queue/redis.js';
import { CliUsageError, defineCli, type CliValues } from './options.js';
import { formatDuration } from './progress.js';
import { describeRuntime } from './runtime.js';
import { taskModuleUrl } from './task-module.js';
import { formatBytes } from './data.js';

export const cli = defineCli({
  name: 'gpt worker',
  summary:
    'Trains dataset-generation jobs from the queue of `gpt data --queue` on this machine and writes their runs into the dataset folder, ' +
    'which every worker and the coordinator see (e.g. a shared file system). Runs until stopped: SIGTERM or Ctrl-C finishes the current job, then exits.',
  options: {
    queue: { type: 'string', required: true, placeholder: 'URL', description: 'Redis URL of the queue, as given to gpt data --queue (redis://HOST:6379/0)' },
    out: { type: 'string', required: true, placeholder: 'DIR', description: 'the dataset folder, as this machine sees it' },
    concurrency: { type: 'integer', default: 1, min: 1, placeholder: 'K', description: 'jobs at once, each in its own worker thread (the cores are shared among them)' },
    queueName: { type: 'string', default: 'gpt-data', placeholder: 'NAME', description: 'name of the queue in Redis' },
    taskModule: { type: 'string', placeholder: 'FILE', description: 'the module that registers a custom task, on this machine (default: the path the coordinator gave)' },
    lockSeconds: { type: 'number', default: DEFAULT_LOCK_DURATION_MS / 1000, min: 0.2, placeholder: 'S', description: "a job stays locked this long without renewal: a killed worker's job is taken over after about that" },
    noSync: { type: 'boolean', description: 'skip fsync per run (faster; a killed process is still safe, a power loss is not)' },
    json: { type: 'boolean', description: 'print the events as JSON lines' },
  },
});

function describe(event: DatasetWorkerEvent): string | null {
  switch (event.type) {
    case 'ready':
      return `worker ${event.worker} on queue "${event.queueName}" at ${event.queue}: writing into ${event.out}, ${event.concurrency} job(s) at once${event.removedStaging > 0 ? ` (removed ${event.removedStaging} staging folder(s) of dead workers)` : ''}`;
    case 'job-started':
      return `job ${event.job}: runs ${event.runs[0]}-${event.runs[event.runs.length - 1]}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}`;
    case 'run-written':
      return `  run ${event.name} written (${formatBytes(event.bytes)})${event.nonFinite ? ' — diverged (NaN or Infinity), kept; the bad-run filter skips it' : ''}`;
    case 'run-skipped':
      return event.reason === 'exists' ? `  run ${event.run}: another worker wrote it first` : null;
    case 'job-done':
      return `job ${event.job} done in ${formatDuration(event.seconds)}: ${event.written} written, ${event.skipped} already there`;
    case 'job-failed':
      return `job ${event.job} failed (attempt ${event.attempt} of ${event.attempts}${event.final ? ', no retry left' : ', retried later'}): ${event.error}`;
    case 'connection':
      return event.state === 'lost' ? `lost the connection to Redis (${event.error ?? 'closed'}); reconnecting` : 'reconnected to Redis';
    case 'warning':
      return `warning: ${event.message}`;
    case 'stopping':
      return event.force ? 'stopping now' : 'stopping after the current job (send the signal again to stop at once)';
    case 'stopped':
      return `stopped: ${event.jobs} jobs, ${event.written} runs written`;
    default:
      return null;
  }
}

export async function main(values: CliValues<typeof cli.options>): Promise<void> {
  try {
    checkQueueUrl(values.queue, '--queue');
  } catch (error) {
    throw new CliUsageError((error as Error).message, '--queue');
  }
  const print = (line: string): void => void process.stdout.write(`${line}\n`);
  if (!values.json) print(describeRuntime());
  // The same warning many times a second while Redis is away says nothing new.
  const lastWarning = new Map<string, number>();
  const onProgress = (event: DatasetWorkerEvent): void => {
    if (values.json) {
      if (event.type !== 'run-progress') print(JSON.stringify(event));
      return;
    }
    if (event.type === 'warning') {
      const now = Date.now();
      if (now - (lastWarning.get(event.message) ?? -Infinity) < 10_000) return;
      lastWarning.set(event.message, now);
    }
    const line = describe(event);
    if (line !== null) print(line);
  };
  const worker = await startDatasetWorker({
    queue: values.queue,
    queueName: values.queueName,
    out: resolve(values.out),
    concurrency: values.concurrency,
    ...(values.taskModule !== undefined ? { taskModule: taskModuleUrl(values.taskModule) } : {}),
    lockDurationMs: values.lockSeconds * 1000,
    noSync: values.noSync,
    onProgress,
  });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    process.exitCode = signal === 'SIGINT' ? 130 : 0;
    void worker.close({ force: signals > 1 }).catch(() => undefined);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await worker.finished;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
