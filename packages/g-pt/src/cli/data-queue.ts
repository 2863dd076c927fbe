// `gpt data --queue URL`: the coordinator of a generation over many machines. It prepares
// the folder, enqueues the missing blocks of runs as BullMQ jobs, and follows the queue
// (jobs by state, runs, workers, runs/hour, ETA) until every job is done or failed; with
// --detach it returns once enqueued, with --status it prints the queue's state. Loaded by
// cli/data.ts only when --queue is given, so plain `gpt data` never loads bullmq.
import { generateDatasetOnQueue, type QueueGenerationEvent } from '../queue/coordinator.js';
import { checkQueueUrl, redactQueueUrl } from '../queue/redis.js';
import { type QueueSnapshot, datasetQueueStatus } from '../queue/status.js';
import { type Values, datasetSettings } from './data.js';
import { CliUsageError } from './options.js';
import { ProgressDisplay, abortOnSigint, formatDuration, formatRate } from './progress.js';
import { taskUsageError } from './task-module.js';

function jobsText(snapshot: QueueSnapshot): string {
  const { completed, active, waiting, delayed, failed } = snapshot.jobs;
  return `jobs ${completed} done, ${active} active, ${waiting + delayed} waiting${delayed > 0 ? ` (${delayed} to retry)` : ''}, ${failed} failed; ${snapshot.workers} worker${snapshot.workers === 1 ? '' : 's'}`;
}

/** The lines of `gpt data --status`. */
export function formatQueueStatus(snapshot: QueueSnapshot, url: string): string[] {
  const where = `queue "${snapshot.queueName}" at ${url}`;
  const { spec } = snapshot;
  if (spec === null) return [`${where}: no dataset enqueued (or Redis lost it); ${snapshot.workers} worker(s) connected`];
  const { runs } = snapshot;
  const lines = [
    `${where}: task ${spec.task} -> ${spec.out} (folder id ${spec.folderId}), runs 0..${spec.runs - 1} in blocks of ${spec.runsPerBatch}, ${spec.checkpointsPerRun} checkpoints each`,
    `runs ${runs.done}/${runs.total} done, ${runs.active} training, ${runs.waiting} waiting, ${runs.failed} in failed jobs`,
    jobsText(snapshot),
    snapshot.runsPerHour === undefined
      ? 'rate: no job completed in the last 15 minutes'
      : `rate ${formatRate(snapshot.runsPerHour / 3600, 'h')} (jobs completed in the last 15 minutes), eta ${formatDuration(snapshot.etaSeconds)}`,
  ];
  for (const failure of snapshot.failures) {
    lines.push(`failed: job ${failure.job} (runs ${failure.runs[0]}-${failure.runs[failure.runs.length - 1]}) after ${failure.attempts} attempt(s): ${failure.error}`);
  }
  return lines;
}

export async function queueMain(values: Values, url: string): Promise<void> {
  try {
    checkQueueUrl(url, '--queue');
  } catch (error) {
    throw new CliUsageError((error as Error).message, '--queue');
  }
  const print = (line: string): void => void process.stdout.write(`${line}\n`);
  const log = (line: string): void => {
    if (!values.json) print(line);
  };
  const shownUrl = redactQueueUrl(url);
  if (values.status) {
    const snapshot = await datasetQueueStatus({ queue: url, queueName: values.queueName });
    if (values.json) print(JSON.stringify(snapshot));
    else formatQueueStatus(snapshot, shownUrl).forEach(print);
    return;
  }

  const settings = await datasetSettings(values);
  const { task, runs, out } = settings;
  if (values.workers !== undefined) log('note: --workers is for generating here; with --queue each gpt worker sets its own --concurrency');
  const interrupt = abortOnSigint();
  let display: ProgressDisplay | undefined;
  const start = performance.now();

  const onProgress = (event: QueueGenerationEvent): void => {
    if (values.json) {
      print(JSON.stringify(event));
      return;
    }
    if (event.type === 'enqueued') {
      const r = event.result;
      const say = display ? display.log.bind(display) : log;
      if (event.again) {
        say(`enqueued again: ${r.added} blocks added, ${r.alreadyQueued} already queued (${r.complete}/${r.spec.runs} runs on disk)`);
        return;
      }
      log(`queue "${r.queueName}" at ${shownUrl}: task ${task} -> ${out} (folder id ${r.spec.folderId}), ${runs} runs in blocks of ${r.spec.runsPerBatch}, ${r.spec.checkpointsPerRun} checkpoints each`);
      if (r.replaced) log(`the queue's finished jobs of ${r.replaced} were cleared`);
      log(`${r.complete} runs complete on disk${r.damaged > 0 ? `, ${r.damaged} damaged (written again)` : ''}; ${r.blocks} blocks to train: ${r.added} enqueued, ${r.retried} failed ones retried, ${r.alreadyQueued} already queued`);
      if (values.detach) {
        log(`start workers on any machine that sees ${out}: gpt worker --queue ${shownUrl} --out ${out}${values.queueName !== 'gpt-data' ? ` --queue-name ${values.queueName}` : ''}`);
        log(`follow the queue: gpt data --status --queue ${shownUrl}${values.queueName !== 'gpt-data' ? ` --queue-name ${values.queueName}` : ''}`);
      }
    } else if (event.type === 'queue-lost') {
      (display ? display.log.bind(display) : log)('the queue lost its jobs (Redis restarted without persistence, or was flushed): enqueuing the missing runs again');
    } else if (event.type === 'connection') {
      (display ? display.log.bind(display) : log)(event.state === 'lost' ? `lost the connection to Redis (${event.error ?? 'closed'}); reconnecting` : 'reconnected to Redis');
    } else if (event.type === 'progress') {
      const s = event.snapshot;
      display ??= new ProgressDisplay({ label: 'runs', total: s.runs.total, initialDone: s.runs.done, rateUnit: 'h' });
      display.update({ done: s.runs.done, total: s.runs.total, ...(s.runsPerHour !== undefined ? { ratePerSecond: s.runsPerHour / 3600 } : {}), etaSeconds: s.etaSeconds, text: jobsText(s) });
    }
  };

  try {
    const result = await generateDatasetOnQueue({
      ...settings,
      queue: url,
      queueName: values.queueName,
      attempts: values.attempts,
      retryDelayMs: values.retrySeconds * 1000,
      detach: values.detach,
      signal: interrupt.signal,
      onProgress,
    });
    display?.finish();
    if (values.detach) return;
    if (!values.json) {
      log(`queue finished in ${formatDuration((performance.now() - start) / 1000)}: ${result.complete}/${runs} runs complete in ${out}`);
      for (const failure of result.failures) log(`failed: job ${failure.job} after ${failure.attempts} attempt(s): ${failure.error}`);
    }
    if (result.failures.length > 0 || result.complete! < runs) {
      process.stderr.write(`gpt data: ${runs - result.complete!} runs are missing${result.failures.length > 0 ? ` (${result.failures.length} failed jobs, errors above)` : ''}; fix the cause and run the same command again: failed blocks are retried, done ones are kept.\n`);
      process.exitCode = 1;
    }
  } catch (error) {
    display?.finish();
    if (interrupt.signal.aborted) {
      process.stderr.write(`gpt data: stopped following the queue; its jobs stay queued and the workers go on. Follow it again: gpt data --status --queue ${shownUrl}\n`);
      process.exitCode = 130;
      return;
    }
    throw taskUsageError(error, values.taskModule !== undefined);
  } finally {
    interrupt.dispose();
  }
}

