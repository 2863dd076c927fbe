// `gpt data`: generate a checkpoint dataset (generateDataset) with a progress bar. Ctrl-C
// stops it cleanly (workers terminated, every finished run kept) and says how to resume.
// With --queue it is the coordinator of a generation over many machines instead: it
// enqueues the runs as jobs for `gpt worker` processes and follows the queue
// (data-queue.ts; bullmq and ioredis are loaded only then).
import { resolve } from 'node:path';
import { type DatasetProgressEvent, generateDataset } from '../data/generate.js';
import { CliUsageError, defineCli, type CliValues } from './options.js';
import { ProgressDisplay, abortOnSigint, formatDuration, formatRate } from './progress.js';
import { describeRuntime } from './runtime.js';
import { taskModuleUrl, taskUsageError } from './task-module.js';

export const cli = defineCli({
  name: 'gpt data',
  summary:
    'Generates a checkpoint dataset: RUNS training runs of a task (run r seeded by r), each saving its initialization, ' +
    'random intermediate iterations and its final iteration with their metrics, one file per run in DIR/runs. ' +
    'Interrupted (Ctrl-C, kill -9, a crash)? Run the same command again: it trains exactly the missing runs. ' +
    'With --queue URL the runs are enqueued as jobs on Redis for `gpt worker` processes on any number of machines, and this command follows their progress.',
  options: {
    task: { type: 'string', placeholder: 'NAME', description: 'the task: mnist_loss, mnist_error, cifar10_loss, cifar10_error, cartpole, or a custom one (--task-module)' },
    runs: { type: 'integer', min: 1, max: 1_000_000, placeholder: 'N', description: 'number of runs (runs 0..N-1)' },
    out: { type: 'string', placeholder: 'DIR', description: 'dataset folder (created; an interrupted one is completed); with --queue, a folder every worker sees' },
    checkpointsPerRun: { type: 'integer', default: 200, min: 2, description: 'checkpoints saved per run, initialization and final iteration included' },
    workers: { type: 'integer', min: 0, description: 'worker threads (default: one per core; 0 trains in the main thread)' },
    batch: { type: 'integer', min: 1, placeholder: 'K', description: 'runs per batch, trained at once; an interruption costs at most one batch per worker (default 16; 1 for cartpole)' },
    testRuns: { type: 'integer', min: 0, placeholder: 'M', description: "runs of the test split (default: the folder's, else 5% capped at the paper's 500 MNIST / 2050 CIFAR-10 and Cartpole)" },
    dataDir: { type: 'string', placeholder: 'D', description: "the task's data folder (MNIST IDX files, CIFAR-10 binary batches; default: the bundled MNIST digits)" },
    taskOptions: { type: 'string', placeholder: 'JSON', description: 'more task options as a JSON object, e.g. \'{"recipe":{"epochs":5}}\'' },
    taskModule: { type: 'string', placeholder: 'FILE', description: 'a module that registers a custom task (imported here and in every worker)' },
    noSync: { type: 'boolean', description: 'skip fsync per run (faster; a killed process is still safe, a power loss is not)' },
    json: { type: 'boolean', description: 'print the progress events as JSON lines instead of a bar' },
    queue: { type: 'string', placeholder: 'URL', description: 'Redis URL of a job queue (redis://HOST:6379/0): enqueue the runs for gpt worker processes instead of training here' },
    queueName: { type: 'string', default: 'gpt-data', placeholder: 'NAME', description: 'name of the queue in Redis (one queue serves one dataset at a time)' },
    detach: { type: 'boolean', description: 'with --queue: return once the jobs are enqueued instead of following them' },
    status: { type: 'boolean', description: 'with --queue: print the state of the queue (jobs, runs, workers, runs/hour, ETA, failures) and return' },
    attempts: { type: 'integer', default: 3, min: 1, placeholder: 'N', description: 'with --queue: attempts of a job before it is marked failed' },
    retrySeconds: { type: 'number', default: 10, min: 0, placeholder: 'S', description: 'with --queue: delay before the first retry of a failed job (doubled each retry)' },
  },
});

export type Values = CliValues<typeof cli.options>;

/** What `gpt data` generates, with or without --queue. */
export interface DatasetSettings {
  readonly task: string;
  readonly taskOptions: Record<string, unknown>;
  readonly taskModule?: string;
  readonly runs: number;
  readonly out: string;
  readonly checkpointsPerRun: number;
  readonly runsPerBatch?: number;
  readonly numTestRuns?: number;
  readonly noSync: boolean;
}

/** The dataset asked for (--task, --runs and --out are required unless --status); imports --task-module. */
export async function datasetSettings(values: Values): Promise<DatasetSettings> {
  for (const key of ['task', 'runs', 'out'] as const) {
    if (values[key] === undefined) throw new CliUsageError(`--${key} is required: ${cli.options[key].description}`, `--${key}`);
  }
  const taskOptions = parseTaskOptions(values);
  const taskModule = values.taskModule === undefined ? undefined : taskModuleUrl(values.taskModule);
  if (taskModule) await import(taskModule);
  return {
    task: values.task!,
    taskOptions,
    ...(taskModule ? { taskModule } : {}),
    runs: values.runs!,
    out: resolve(values.out!),
    checkpointsPerRun: values.checkpointsPerRun,
    ...(values.batch !== undefined ? { runsPerBatch: values.batch } : {}),
    ...(values.testRuns !== undefined ? { numTestRuns: values.testRuns } : {}),
    noSync: values.noSync,
  };
}

function parseTaskOptions(values: Pick<Values, 'taskOptions' | 'dataDir'>): Record<string, unknown> {
  let options: Record<string, unknown> = {};
  if (values.taskOptions !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(values.taskOptions);
    } catch (error) {
      throw new CliUsageError(`--task-options is not valid JSON (${(error as Error).message})`, '--task-options');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new CliUsageError('--task-options must be a JSON object, e.g. {"recipe":{"epochs":5}}', '--task-options');
    options = parsed as Record<string, unknown>;
  }
  if (values.dataDir !== undefined) options = { ...options, dataDir: resolve(values.dataDir) };
  return options;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

export async function main(values: Values): Promise<void> {
  if (values.queue === undefined) {
    for (const key of ['detach', 'status'] as const) if (values[key]) throw new CliUsageError(`--${key} needs --queue URL`, `--${key}`);
  } else {
    const { queueMain } = await import('./data-queue.js');
    return queueMain(values, values.queue);
  }
  const settings = await datasetSettings(values);
  const { runs, out } = settings;
  const log = (line: string): void => {
    if (!values.json) process.stdout.write(`${line}\n`);
  };
  log(describeRuntime());

  const interrupt = abortOnSigint();

  let display: ProgressDisplay | undefined;
  let done = 0;
  let total = runs;
  const onProgress = (event: DatasetProgressEvent): void => {
    if (event.type === 'started') done = event.existing;
    if (event.type === 'run-written') done = event.done;
    if (values.json) {
      process.stdout.write(`${JSON.stringify(event)}\n`);
      return;
    }
    if (event.type === 'started') {
      total = event.total;
      const where = event.workers > 0 ? `${event.workers} worker thread${event.workers === 1 ? '' : 's'}` : 'the main thread';
      log(`task ${event.task} -> ${event.out}: ${event.total} runs, ${values.checkpointsPerRun} checkpoints each`);
      if (event.existing > 0) log(`resuming: ${event.existing} runs already complete, ${event.missing} to train`);
      if (event.missing > 0) log(`training ${event.missing} runs in ${event.batches} batches of up to ${event.runsPerBatch} on ${where}`);
      if (event.inThreadReason) log(`note: ${event.inThreadReason}`);
      display = new ProgressDisplay({ label: 'runs', total: event.total, initialDone: event.existing, rateUnit: 'h' });
      display.update({ done: event.existing, text: 'starting' });
    } else if (event.type === 'run-redo') {
      (display ? display.log.bind(display) : log)(`run ${event.name} is damaged and will be trained again: ${event.problem}`);
    } else if (event.type === 'run-progress') {
      // Until the first batch is written the bar would stand still: show how far training is.
      display?.update({ done, text: `run ${event.run} at ${Math.floor((100 * event.done) / Math.max(1, event.total))}%` });
    } else if (event.type === 'run-written') {
      if (event.nonFinite) display?.log(`run ${event.name} diverged (NaN or Infinity in its parameters); kept, the bad-run filter skips it`);
      display?.update({ done: event.done, ratePerSecond: event.runsPerHour / 3600, etaSeconds: event.etaSeconds, text: `${formatBytes(event.bytes)}/run` });
    }
  };

  try {
    const result = await generateDataset({
      ...settings,
      ...(values.workers !== undefined ? { workers: values.workers } : {}),
      signal: interrupt.signal,
      onProgress,
    });
    display?.finish();
    const rate = result.written.length > 0 ? `, ${formatRate(result.runsPerHour / 3600, 'h')}` : '';
    log(`wrote ${result.written.length} runs (${formatBytes(result.bytes)}) in ${formatDuration(result.seconds)}${rate}; ${result.written.length + result.skipped.length}/${total} runs complete in ${out}`);
    if (result.nonFinite.length > 0) log(`${result.nonFinite.length} runs diverged (kept; the bad-run filter skips them when reading)`);
  } catch (error) {
    display?.finish();
    if (interrupt.signal.aborted) {
      process.stderr.write(`gpt data: interrupted; ${done} of ${total} runs are complete in ${out}. Run the same command again to resume.\n`);
      process.exitCode = 130;
      return;
    }
    throw taskUsageError(error, values.taskModule !== undefined);
  } finally {
    interrupt.dispose();
  }
}
