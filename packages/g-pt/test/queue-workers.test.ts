// Dataset generation over a real Redis with real worker processes (`gpt worker`, `gpt data
// --queue` from the sources): three workers, one SIGKILLed in the middle of a job, and a
// Redis restarted (without persistence: the queue is lost) during generation. Either way
// the folder ends with exactly the N runs, each byte-identical to the run the
// single-machine generator writes, none written twice.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointDataset } from '@gpt/checkpoints/node';
import { generateDataset } from '../src/data/generate.js';
import { datasetQueueStatus } from '../src/queue/status.js';
import { REDIS_AVAILABLE, REDIS_MISSING_MESSAGE, REDIS_REQUIRED, RedisServer } from './queue-redis.js';
import './fixtures/tiny-task.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
// Runs of ~100 ms each (the loss over 60,000 samples at every saved checkpoint), so that a
// job of two runs is still training when its worker is killed.
const TASK_OPTIONS = { samples: 60000 };
const TINY = ['--task', 'tiny_mlp', '--task-module', join(FIXTURES, 'tiny-task.ts'), '--checkpoints-per-run', '12', '--batch', '2', '--test-runs', '2', '--task-options', JSON.stringify(TASK_OPTIONS)];
const RUNS = 20;

interface GptProcess {
  readonly child: ChildProcess;
  readonly events: Record<string, unknown>[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** `gpt ...args` from the sources; `onEvent` sees each JSON line as it comes. */
function gpt(args: string[], onEvent?: (event: Record<string, unknown>, process: ChildProcess) => void): GptProcess {
  const child = spawn(process.execPath, ['--conditions=@gpt/source', '--import', 'tsx', join(FIXTURES, 'gpt.ts'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const events: Record<string, unknown>[] = [];
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    pending += chunk.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      const event = JSON.parse(line) as Record<string, unknown>;
      events.push(event);
      onEvent?.(event, child);
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, events, exited };
}

function worker(url: string, out: string, onEvent?: (event: Record<string, unknown>, process: ChildProcess) => void): GptProcess {
  return gpt(['worker', '--queue', url, '--out', out, '--lock-seconds', '2', '--no-sync', '--json'], onEvent);
}

async function stopWorkers(workers: readonly GptProcess[]): Promise<void> {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
  for (const w of workers) await w.exited;
}

/** Exactly runs 0..RUNS-1 in `out`, nothing else visible, each file identical to the reference's. */
async function expectSameRuns(out: string, reference: string): Promise<void> {
  const visible = readdirSync(join(out, 'runs')).filter((n) => !n.startsWith('.'));
  const expected = readdirSync(join(reference, 'runs')).filter((n) => !n.startsWith('.'));
  expect(expected).toHaveLength(RUNS);
  expect(visible.sort()).toEqual(expected.sort());
  for (const name of expected) expect(readFileSync(join(out, 'runs', name)).equals(readFileSync(join(reference, 'runs', name))), name).toBe(true);
  const dataset = await CheckpointDataset.open(out);
  try {
    expect(dataset.runs).toHaveLength(RUNS);
    const report = await dataset.validate();
    expect(report.ok).toHaveLength(RUNS);
    expect(report.bad).toEqual([]);
    expect(report.problems).toEqual([]);
  } finally {
    await dataset.close();
  }
}

/** Run indices written by these workers (each must appear once over all of them). */
function writtenRuns(workers: readonly GptProcess[]): number[] {
  return workers.flatMap((w) => w.events.filter((e) => e.type === 'run-written').map((e) => e.run as number));
}

describe.skipIf(!REDIS_AVAILABLE && !REDIS_REQUIRED)('gpt worker on a real Redis', () => {
  let redis: RedisServer;
  let root: string;
  let reference: string;

  beforeAll(async () => {
    if (!REDIS_AVAILABLE) throw new Error(REDIS_MISSING_MESSAGE);
    root = mkdtempSync(join(tmpdir(), 'gpt-queue-workers-'));
    reference = join(root, 'reference');
    [redis] = await Promise.all([
      RedisServer.start(),
      generateDataset({ task: 'tiny_mlp', taskOptions: TASK_OPTIONS, runs: RUNS, out: reference, workers: 0, runsPerBatch: 2, checkpointsPerRun: 12, numTestRuns: 2, noSync: true }),
    ]);
  }, 120_000);

  afterAll(async () => {
    await redis?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('three workers, one killed with SIGKILL mid-job: every run exactly once, identical to one machine', async () => {
    const url = redis.url(0);
    const out = join(root, 'killed');
    const enqueue = await gpt(['data', ...TINY, '--runs', String(RUNS), '--out', out, '--queue', url, '--detach', '--retry-seconds', '0.2', '--json']).exited;
    expect(enqueue.code, enqueue.stderr).toBe(0);

    // The victim starts first (so it surely takes jobs), the survivors once it is ready; it is
    // killed at the first job it starts after both survivors are ready, while it trains that
    // job's two runs (~0.4 s) in its warm worker thread.
    let killedJob: string | undefined;
    const survivors: GptProcess[] = [];
    let survivorsReady = 0;
    const victim = worker(url, out, (event, child) => {
      if (event.type === 'ready') {
        for (let i = 0; i < 2; i++) survivors.push(worker(url, out, (e) => void (e.type === 'ready' && survivorsReady++)));
      } else if (event.type === 'job-started' && survivorsReady === 2 && killedJob === undefined) {
        killedJob = event.job as string;
        child.kill('SIGKILL');
      }
    });

    // Follow the queue until every job is done (the killed one after its lock expires).
    const deadline = Date.now() + 25_000;
    let status = await datasetQueueStatus({ queue: url });
    while (status.jobs.completed < RUNS / 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      status = await datasetQueueStatus({ queue: url });
    }
    expect(status.workers).toBe(2); // the survivors, as BullMQ lists the queue's connected workers
    await stopWorkers(survivors);
    if (killedJob === undefined) victim.child.kill('SIGKILL'); // never reached the moment: fail below, do not hang
    const victimExit = await victim.exited;
    expect(killedJob, 'the victim started no job after the survivors were ready').toBeDefined();
    expect(victimExit.signal).toBe('SIGKILL');
    expect(status.jobs).toMatchObject({ completed: RUNS / 2, active: 0, waiting: 0, failed: 0 });
    expect(status.runs).toMatchObject({ total: RUNS, done: RUNS });
    for (const w of survivors) expect((await w.exited).code, (await w.exited).stderr).toBe(0);

    // The killed worker's job went back to the queue through BullMQ's stalled-job check and another worker did it.
    expect(killedJob).toBeDefined();
    expect(victim.events.some((e) => e.type === 'job-done' && e.job === killedJob)).toBe(false);
    const finishers = survivors.filter((w) => w.events.some((e) => e.type === 'job-done' && e.job === killedJob));
    expect(finishers).toHaveLength(1);
    const written = writtenRuns([victim, ...survivors]);
    expect(written.sort((a, b) => a - b)).toEqual(Array.from({ length: RUNS }, (_, i) => i));
    await expectSameRuns(out, reference);
    // The survivors removed the dead worker's staging folder when they stopped.
    expect(readdirSync(join(out, 'runs', '.gpt-queue', 'staging'))).toEqual([]);
  }, 120_000);

  it('Redis restarted during generation (its queue lost): the workers reconnect, the coordinator enqueues again, the dataset completes', async () => {
    const url = redis.url(1);
    const out = join(root, 'restarted');
    let restarted: Promise<void> | undefined;
    const coordinator = gpt(['data', ...TINY, '--runs', String(RUNS), '--out', out, '--queue', url, '--retry-seconds', '0.2', '--json'], (event) => {
      const snapshot = event.snapshot as { runs: { done: number } } | undefined;
      if (event.type === 'progress' && snapshot && snapshot.runs.done >= 4 && restarted === undefined) restarted = redis.restart();
    });
    const workers = [worker(url, out), worker(url, out)];
    const result = await coordinator.exited;
    expect(restarted).toBeDefined();
    await restarted;
    await stopWorkers(workers);
    expect(result.code, result.stderr).toBe(0);
    expect(coordinator.events.some((e) => e.type === 'queue-lost')).toBe(true);
    expect(coordinator.events.filter((e) => e.type === 'enqueued').map((e) => e.again)).toEqual([false, true]);
    for (const w of workers) {
      expect((await w.exited).code, (await w.exited).stderr).toBe(0);
      expect(w.events.filter((e) => e.type === 'connection').map((e) => e.state)).toEqual(['lost', 'restored']);
    }
    // A run is written once even when the lost queue hands its block out again.
    const written = writtenRuns(workers);
    expect(written.sort((a, b) => a - b)).toEqual(Array.from({ length: RUNS }, (_, i) => i));
    await expectSameRuns(out, reference);
  }, 120_000);
});
