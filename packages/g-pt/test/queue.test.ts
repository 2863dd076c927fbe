// The dataset queue's API and CLI on a real redis-server, in this process: idempotent
// enqueue, runs already in the folder never written again (a damaged one replaced),
// retries with backoff and then a failed job with its error, the status, and bad input
// (an unreachable Redis, a URL that is not Redis, a queue or worker of another folder).
// Also: plain `gpt data` and the package root never load bullmq or ioredis.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../src/data/generate.js';
import { cli as dataCli, main as dataMain } from '../src/cli/data.js';
import { cli as workerCli, main as workerMain } from '../src/cli/worker.js';
import { runCli, type CliIo } from '../src/cli/options.js';
import { type QueueGenerationEvent, generateDatasetOnQueue } from '../src/queue/coordinator.js';
import { enqueueDataset } from '../src/queue/enqueue.js';
import { RedisUnreachableError } from '../src/queue/redis.js';
import { QueueConflictError } from '../src/queue/spec.js';
import { datasetQueueStatus } from '../src/queue/status.js';
import { type DatasetWorkerEvent, startDatasetWorker } from '../src/queue/worker.js';
import { REDIS_AVAILABLE, REDIS_MISSING_MESSAGE, REDIS_REQUIRED, RedisServer, freePort } from './queue-redis.js';
import './fixtures/tiny-task.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const TASK_MODULE = pathToFileURL(join(FIXTURES, 'tiny-task.ts')).href;
const BASE = { task: 'tiny_mlp', taskModule: TASK_MODULE, checkpointsPerRun: 12, runsPerBatch: 2, numTestRuns: 1, retryDelayMs: 100, noSync: true } as const;

function captureIo(): CliIo & { err: string; code: number | undefined } {
  const io = {
    err: '',
    code: undefined as number | undefined,
    stdout: () => undefined,
    stderr: (t: string) => void (io.err += t),
    setExitCode: (c: number) => void (io.code = c),
  };
  return io;
}

describe('the queue path loads bullmq and ioredis only when used', () => {
  it('the package root, gpt and a single-machine gpt data run never load them', () => {
    const out = mkdtempSync(join(tmpdir(), 'gpt-queue-noload-'));
    try {
      // A resolve hook that fails any import of bullmq or ioredis, registered after tsx's.
      const hook = `export async function resolve(specifier, context, next) {
        if (/^(bullmq|ioredis)(\\/|$)/.test(specifier)) throw new Error('LOADED ' + specifier);
        return next(specifier, context);
      }`;
      const script = (body: string): string => `
        import { register } from 'node:module';
        register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
        ${body}`;
      const run = (body: string) =>
        spawnSync(process.execPath, ['--conditions=@gpt/source', '--import', 'tsx', '--input-type=module', '-e', script(body)], { cwd: join(import.meta.dirname, '..'), encoding: 'utf8' });
      const plain = run(`
        await import('./src/index.ts');
        const { runGpt } = await import('./src/cli/gpt.ts');
        await import('${TASK_MODULE}');
        await runGpt(['data', '--task', 'tiny_mlp', '--runs', '2', '--out', ${JSON.stringify(out)}, '--checkpoints-per-run', '12', '--test-runs', '1', '--workers', '0', '--json']);
        console.log('exit', process.exitCode ?? 0);`);
      expect(plain.stderr).not.toMatch(/LOADED/);
      expect(plain.stdout).toMatch(/"type":"finished"/);
      expect(plain.stdout.trim().split('\n').at(-1)).toBe('exit 0');
      // The hook does catch the queue path (so the check above can fail).
      const queued = run(`const { runGpt } = await import('./src/cli/gpt.ts'); await runGpt(['data', '--status', '--queue', 'redis://127.0.0.1:1/0']);`);
      expect(queued.stderr).toMatch(/LOADED ioredis/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('bad input without a Redis server', () => {
  it('an unreachable Redis is a clear error within a few seconds, before the folder is touched', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'gpt-queue-unreachable-')), 'ds');
    const url = `redis://127.0.0.1:${await freePort()}/0`;
    const io = captureIo();
    const start = performance.now();
    await runCli(dataCli, dataMain, ['--task', 'tiny_mlp', '--runs', '4', '--out', out, '--queue', url], io);
    const seconds = (performance.now() - start) / 1000;
    expect(io.code).toBe(1);
    expect(io.err).toMatch(new RegExp(`cannot reach Redis at ${url.replace(/[/.]/g, '\\$&')} within 4 s \\(.*ECONNREFUSED.*\\); is redis-server running there`));
    expect(seconds).toBeLessThan(8);
    expect(existsSync(out)).toBe(false);
    await expect(startDatasetWorker({ queue: url, out, connectTimeoutMs: 500 })).rejects.toThrow(RedisUnreachableError);
  }, 20_000);

  it('a queue URL that is not Redis, and --detach/--status without --queue, are usage errors', async () => {
    const cases: [typeof dataCli | typeof workerCli, string[], RegExp][] = [
      [dataCli, ['--task', 'tiny_mlp', '--runs', '4', '--out', 'x', '--queue', 'http://host:6379'], /--queue "http:\/\/host:6379" is not a Redis URL/],
      [dataCli, ['--status', '--queue', 'redis://host:6379/zero'], /the path must be a database number/],
      [dataCli, ['--task', 'tiny_mlp', '--runs', '4', '--out', 'x', '--detach'], /--detach needs --queue URL/],
      [dataCli, ['--status'], /--status needs --queue URL/],
      [dataCli, ['--queue', 'redis://host:6379/0', '--runs', '4', '--out', 'x'], /--task is required/],
      [workerCli, ['--queue', 'redis:/', '--out', 'x'], /--queue "redis:\/" names no host/],
      [workerCli, ['--out', 'x'], /--queue is required/],
    ];
    for (const [spec, argv, message] of cases) {
      const io = captureIo();
      await runCli(spec as typeof dataCli, (spec === dataCli ? dataMain : workerMain) as typeof dataMain, argv, io);
      expect(io.err, argv.join(' ')).toMatch(message);
      expect(io.code, argv.join(' ')).toBe(2);
    }
  });
});

describe.skipIf(!REDIS_AVAILABLE && !REDIS_REQUIRED)('the dataset queue on a real Redis', () => {
  let redis: RedisServer;
  let root: string;
  let reference: string;

  beforeAll(async () => {
    if (!REDIS_AVAILABLE) throw new Error(REDIS_MISSING_MESSAGE);
    root = mkdtempSync(join(tmpdir(), 'gpt-queue-'));
    reference = join(root, 'reference');
    [redis] = await Promise.all([
      RedisServer.start(),
      generateDataset({ task: 'tiny_mlp', runs: 6, out: reference, workers: 0, runsPerBatch: 2, checkpointsPerRun: 12, numTestRuns: 1, noSync: true }),
    ]);
  }, 120_000);

  afterAll(async () => {
    await redis?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const same = (out: string, run: string): boolean => readFileSync(join(out, 'runs', `${run}.safetensors`)).equals(readFileSync(join(reference, 'runs', `${run}.safetensors`)));

  /** Runs a worker in this process until the queue has no job left to run. */
  async function work(url: string, out: string): Promise<DatasetWorkerEvent[]> {
    const events: DatasetWorkerEvent[] = [];
    const worker = await startDatasetWorker({ queue: url, out, lockDurationMs: 2000, noSync: true, onProgress: (e) => events.push(e) });
    try {
      for (;;) {
        const status = await datasetQueueStatus({ queue: url });
        if (status.jobs.active + status.jobs.waiting + status.jobs.delayed === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await worker.close();
    }
    return events;
  }

  it('enqueues idempotently, writes each run once, keeps complete runs and replaces a damaged one', async () => {
    const url = redis.url(2);
    const out = join(root, 'idempotent');
    const first = await enqueueDataset({ ...BASE, queue: url, runs: 6, out });
    expect(first).toMatchObject({ complete: 0, missing: 6, blocks: 3, added: 3, retried: 0, alreadyQueued: 0 });
    const second = await enqueueDataset({ ...BASE, queue: url, runs: 6, out });
    expect(second).toMatchObject({ blocks: 3, added: 0, alreadyQueued: 3 });
    const events = await work(url, out);
    expect(events.filter((e) => e.type === 'run-written').map((e) => (e as { run: number }).run).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    for (const run of ['000000', '000001', '000002', '000003', '000004', '000005']) expect(same(out, run), run).toBe(true);

    // Complete now: nothing to enqueue.
    expect(await enqueueDataset({ ...BASE, queue: url, runs: 6, out })).toMatchObject({ complete: 6, blocks: 0, added: 0 });
    // Run 0 lost, run 3 damaged: their blocks come back (their completed jobs are replaced),
    // and the worker writes exactly those two runs; runs 1 and 2 are kept as they are.
    unlinkSync(join(out, 'runs', '000000.safetensors'));
    truncateSync(join(out, 'runs', '000003.safetensors'), 100);
    const again = await enqueueDataset({ ...BASE, queue: url, runs: 6, out });
    expect(again).toMatchObject({ complete: 4, missing: 2, damaged: 1, blocks: 2, added: 2 });
    const redo = await work(url, out);
    expect(redo.filter((e) => e.type === 'run-written').map((e) => (e as { run: number }).run).sort()).toEqual([0, 3]);
    expect(redo.filter((e) => e.type === 'run-skipped').map((e) => (e as { run: number }).run).sort()).toEqual([1, 2]);
    for (const run of ['000000', '000003']) expect(same(out, run), run).toBe(true);

    const status = await datasetQueueStatus({ queue: url });
    expect(status.spec).toMatchObject({ task: 'tiny_mlp', out, runs: 6, runsPerBatch: 2, checkpointsPerRun: 12 });
    expect(status.runs).toMatchObject({ total: 6, done: 6, failed: 0 });
    expect(status.jobs).toMatchObject({ completed: 3, active: 0, waiting: 0, failed: 0 });
    expect(status.runsPerHour).toBeGreaterThan(0);
  }, 120_000);

  it('a job that keeps failing is retried with backoff, then failed with its error; the rest completes', async () => {
    const url = redis.url(3);
    const out = join(root, 'failing');
    const events: QueueGenerationEvent[] = [];
    const workerEvents: DatasetWorkerEvent[] = [];
    const worker = await startDatasetWorker({ queue: url, out, lockDurationMs: 2000, noSync: true, onProgress: (e) => workerEvents.push(e) });
    try {
      const result = await generateDatasetOnQueue({ ...BASE, taskOptions: { failRun: 2 }, attempts: 2, queue: url, runs: 6, out, pollMs: 100, onProgress: (e) => events.push(e) });
      expect(result.complete).toBe(4);
      expect(result.failures).toHaveLength(1);
      expect(result.failures[0]).toMatchObject({ runs: [2, 3], attempts: 2 });
      expect(result.failures[0]!.error).toMatch(/tiny_mlp: run 2 failed on purpose/);
      const failed = workerEvents.filter((e) => e.type === 'job-failed') as Extract<DatasetWorkerEvent, { type: 'job-failed' }>[];
      expect(failed.map((e) => [e.attempt, e.final])).toEqual([
        [1, false],
        [2, true],
      ]);
      expect(events.some((e) => e.type === 'progress' && e.snapshot.jobs.delayed === 1)).toBe(true); // waiting for its retry
    } finally {
      await worker.close();
    }
    expect(existsSync(join(out, 'runs', '000002.safetensors'))).toBe(false);
    // Enqueuing again retries the failed block from its first attempt (it fails again here: same cause).
    const again = await enqueueDataset({ ...BASE, taskOptions: { failRun: 2 }, attempts: 2, queue: url, runs: 6, out });
    expect(again).toMatchObject({ blocks: 1, retried: 1, added: 0 });
  }, 120_000);

  it('refuses a queue holding unfinished jobs of another folder, and a worker of another folder', async () => {
    const url = redis.url(4);
    const a = join(root, 'folder-a');
    const b = join(root, 'folder-b');
    await enqueueDataset({ ...BASE, queue: url, runs: 4, out: a });
    const refused = enqueueDataset({ ...BASE, queue: url, runs: 4, out: b });
    await expect(refused).rejects.toThrow(QueueConflictError);
    await expect(refused).rejects.toThrow(new RegExp(`queue "gpt-data" at ${url.replace(/[/.]/g, '\\$&')} holds 2 unfinished jobs of another dataset \\(folder ${a.replace(/[/.]/g, '\\$&')} .*nothing was enqueued`));
    expect(existsSync(b)).toBe(false); // refused before the folder was touched
    expect((await datasetQueueStatus({ queue: url })).spec).toMatchObject({ out: a });
    // Another task's options for folder a: refused too (the queue's jobs train another recipe).
    await expect(enqueueDataset({ ...BASE, queue: url, runs: 4, out: a, taskOptions: { lr: 0.1 } })).rejects.toThrow(/runs of another recipe|another dataset/);
    // A worker given folder b (a dataset of another queue) is refused before it takes a job.
    await enqueueDataset({ ...BASE, queue: url, queueName: 'other', runs: 4, out: b });
    await expect(startDatasetWorker({ queue: url, out: b })).rejects.toThrow(/serves the folder .*folder-a .*and --out .*folder-b is another folder/);
    // ... and so is one given a folder that holds no dataset.
    await expect(startDatasetWorker({ queue: url, out: join(root, 'nothing-here') })).rejects.toThrow(/holds no dataset prepared by gpt data --queue/);
    const status = await datasetQueueStatus({ queue: url });
    expect(status.jobs.waiting).toBe(2);
  }, 120_000);
});
