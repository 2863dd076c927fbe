// Dataset generation with a cheap deterministic custom task (fixtures/tiny-task.ts):
// workers equal the main thread, kill -9 at random moments always leaves only complete
// runs and resuming ends identical to an uninterrupted generation, the folder lock, abort,
// errors from workers, damaged runs, and bad input that must leave everything as it was.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createManifest, runNameOf } from '@gpt/checkpoints';
import { CheckpointDataset, DatasetWriter } from '@gpt/checkpoints/node';
import { type DatasetProgressEvent, type GenerateDatasetOptions, generateDataset } from '../src/data/generate.js';
import { DatasetLockedError, LOCK_FILE } from '../src/data/dataset-lock.js';
import { DatasetConflictError } from '../src/data/dataset-manifest.js';
import './fixtures/tiny-task.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const root = mkdtempSync(join(tmpdir(), 'gpt-data-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;
const freshDir = (): string => join(root, `d${dirCount++}`);

// The child script (fixtures/generate-tiny.ts) uses these same settings.
const RUNS = 40;
const SAMPLES = 12000; // ~30-60 ms of training per run
const settings = (out: string, extra: Partial<GenerateDatasetOptions> = {}): GenerateDatasetOptions => ({
  task: 'tiny_mlp',
  taskOptions: { samples: SAMPLES },
  runs: RUNS,
  out,
  workers: 0,
  runsPerBatch: 2,
  checkpointsPerRun: 12,
  numTestRuns: 2,
  noSync: true,
  ...extra,
});

/** Every file under `dir` (relative path -> bytes). */
function snapshot(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (sub: string): void => {
    for (const entry of readdirSync(join(dir, sub), { withFileTypes: true })) {
      const path = join(sub, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.set(path, readFileSync(join(dir, path)));
    }
  };
  walk('');
  return files;
}

let reference: string;
/** Run name -> bytes of the uninterrupted in-thread generation. */
let referenceRuns: Map<string, Buffer>;

function runFiles(dir: string): string[] {
  return existsSync(join(dir, 'runs')) ? readdirSync(join(dir, 'runs')).sort() : [];
}

/** The folder as a reader sees it: only complete runs, each identical to the reference. Returns how many. */
async function expectOnlyCompleteRuns(dir: string): Promise<number> {
  if (!existsSync(join(dir, 'manifest.json'))) {
    expect(runFiles(dir).filter((f) => f.endsWith('.safetensors') && !f.startsWith('.'))).toEqual([]);
    return 0;
  }
  const dataset = await CheckpointDataset.open(dir);
  try {
    for (const run of dataset.runs) {
      const data = await dataset.readRun(run); // validates the header against the manifest
      expect(data.parameters.length).toBe(12 * 21);
      expect(readFileSync(join(dir, 'runs', `${run}.safetensors`)).equals(referenceRuns.get(run)!), `run ${run}`).toBe(true);
    }
    return dataset.runs.length;
  } finally {
    await dataset.close();
  }
}

interface Child {
  readonly process: ChildProcess;
  readonly lines: string[];
  /** Resolves at the first stdout line matching `pattern`. */
  waitFor(pattern: RegExp): Promise<string>;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function spawnGenerator(out: string, workers: number): Child {
  const child = spawn(process.execPath, ['--conditions=@gpt/source', '--import', 'tsx', join(FIXTURES, 'generate-tiny.ts'), out, String(RUNS), String(workers), '2', String(SAMPLES), '12'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      lines.push(line);
      for (const w of waiters.filter((w) => w.pattern.test(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    process: child,
    lines,
    exit,
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const found = lines.find((l) => pattern.test(l));
        if (found) return resolve(found);
        waiters.push({ pattern, resolve });
        void exit.then(({ code }) => reject(new Error(`generator exited (${code}) before ${pattern}: ${lines.slice(-3).join('\n')}\n${stderr}`)));
      }),
  };
}

beforeAll(async () => {
  reference = freshDir();
  const result = await generateDataset(settings(reference));
  expect(result.written).toEqual(Array.from({ length: RUNS }, (_, i) => i));
  referenceRuns = new Map(runFiles(reference).map((f) => [f.replace('.safetensors', ''), readFileSync(join(reference, 'runs', f))]));
  expect(referenceRuns.size).toBe(RUNS);
}, 120_000); // a fresh dataset with worker threads: seconds on a quiet machine, far more on a loaded one

describe('generateDataset', () => {
  it('writes the manifest from the task and runs named by index, readable by CheckpointDataset', async () => {
    const dataset = await CheckpointDataset.open(reference);
    onTestFinished(() => dataset.close());
    expect(dataset.runs).toEqual(Array.from({ length: RUNS }, (_, i) => runNameOf(i)));
    expect(dataset.manifest.task).toBe('tiny');
    expect(dataset.manifest.metrics).toEqual(['test_loss', 'train_loss']);
    expect(dataset.manifest.parameterCount).toBe(21);
    expect(dataset.manifest.split.numTestRuns).toBe(2);
    expect(dataset.manifest.metadata).toMatchObject({ taskName: 'tiny_mlp', checkpointsPerRun: 12, runsPerBatch: 2, recipe: { samples: SAMPLES, iterations: 60 } });
    const iterations = await dataset.iterations('000003');
    expect(iterations).toHaveLength(12);
    expect(iterations[0]).toBe(0);
    expect(iterations[11]).toBe(60);
    // Runs differ by seed: different initializations and different saved iterations.
    expect(await dataset.iterations('000004')).not.toEqual(iterations);
    expect(await dataset.readCheckpoint('000004', 0)).not.toEqual(await dataset.readCheckpoint('000003', 0));
    expect(existsSync(join(reference, LOCK_FILE))).toBe(false);
  });

  it('worker threads produce the same runs, byte for byte, as the main thread', async () => {
    const out = freshDir();
    const events: DatasetProgressEvent[] = [];
    const result = await generateDataset(settings(out, { runs: 12, workers: 2, onProgress: (e) => events.push(e) }));
    expect(events[0]).toMatchObject({ type: 'started', workers: 2, missing: 12, batches: 6, existing: 0 });
    expect(result.written.slice().sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    for (const f of runFiles(out)) expect(readFileSync(join(out, 'runs', f)).equals(referenceRuns.get(f.replace('.safetensors', ''))!), f).toBe(true);
    const written = events.filter((e) => e.type === 'run-written');
    expect(written).toHaveLength(12);
    expect(written.at(-1)).toMatchObject({ done: 12, total: 12, etaSeconds: 0 });
    expect(written.every((e) => e.type === 'run-written' && e.bytes > 0 && e.seconds > 0 && e.runsPerHour > 0)).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'finished', written: 12, skipped: 0 });
  });

  it('survives kill -9 at random moments: only complete runs are ever visible, and resuming ends identical', async () => {
    const out = freshDir();
    let seed = 12345;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let kills = 0;
    const counts: number[] = [0];
    for (let attempt = 0; kills < 10 && attempt < 30; attempt++) {
      const child = spawnGenerator(out, attempt % 4 === 3 ? 2 : 0);
      // Kill after 0-2 more runs are written and a random moment on top (inside training, a
      // write or between the two runs of a batch), so that progress between kills is bounded
      // however fast the machine is.
      const afterRuns = Math.floor(random() * 3);
      await child.waitFor(afterRuns === 0 ? /"type":"started"/ : new RegExp(`"type":"run-written".*"done":${counts.at(-1)! + afterRuns},`));
      await new Promise((resolve) => setTimeout(resolve, random() * 40));
      child.process.kill('SIGKILL');
      const { signal } = await child.exit;
      if (signal === 'SIGKILL') kills += 1;
      counts.push(await expectOnlyCompleteRuns(out));
    }
    console.log(`runs on disk after each kill: ${counts.join(' ')}`);
    expect(kills).toBeGreaterThanOrEqual(10);
    expect(counts.at(-1)!).toBeLessThan(RUNS); // the kills did interrupt the generation
    // The same command again finishes exactly the missing runs.
    const events: DatasetProgressEvent[] = [];
    const result = await generateDataset(settings(out, { noSync: false, onProgress: (e) => events.push(e) }));
    expect(events[0]).toMatchObject({ type: 'started', existing: counts.at(-1), missing: RUNS - counts.at(-1)! });
    expect(result.skipped.length + result.written.length).toBe(RUNS);
    expect(await expectOnlyCompleteRuns(out)).toBe(RUNS);
    expect(runFiles(out)).toEqual([...referenceRuns.keys()].map((r) => `${r}.safetensors`)); // no temporary files left
    expect(existsSync(join(out, LOCK_FILE))).toBe(false);
  }, 60_000);

  it('refuses a second generator on the same folder, naming it, and takes over the lock once it is dead', async () => {
    const out = freshDir();
    const child = spawnGenerator(out, 0);
    await child.waitFor(/"type":"run-written"/);
    const second = generateDataset(settings(out));
    await expect(second).rejects.toThrow(DatasetLockedError);
    await expect(second).rejects.toThrow(new RegExp(`locked by another writer: process ${child.process.pid} on host .*generate-tiny\\.ts`));
    child.process.kill('SIGKILL');
    await child.exit;
    expect(existsSync(join(out, LOCK_FILE))).toBe(true); // left behind by the killed process: stale
    await generateDataset(settings(out));
    expect(await expectOnlyCompleteRuns(out)).toBe(RUNS);

    // Two generators in one process: the second is refused too.
    const other = freshDir();
    let started!: () => void;
    const isStarted = new Promise<void>((resolve) => (started = resolve));
    const first = generateDataset(settings(other, { runs: 4, onProgress: (e) => e.type === 'started' && started() }));
    await isStarted;
    await expect(generateDataset(settings(other, { runs: 4 }))).rejects.toThrow(/locked by another writer in this process/);
    await first;
    expect(await expectOnlyCompleteRuns(other)).toBe(4);
  }, 30_000);

  it('stops promptly on abort, workers included, keeping every finished run', async () => {
    const out = freshDir();
    const controller = new AbortController();
    let abortedAt = 0;
    const run = generateDataset(
      settings(out, {
        workers: 2,
        signal: controller.signal,
        onProgress: (e) => {
          if (e.type === 'run-written' && !controller.signal.aborted) {
            abortedAt = performance.now();
            controller.abort(new Error('stop here'));
          }
        },
      }),
    );
    await expect(run).rejects.toThrow('stop here');
    expect(performance.now() - abortedAt).toBeLessThan(1000);
    const kept = await expectOnlyCompleteRuns(out);
    expect(kept).toBeGreaterThanOrEqual(1);
    expect(kept).toBeLessThan(RUNS);
    expect(existsSync(join(out, LOCK_FILE))).toBe(false);
    const resumed = await generateDataset(settings(out));
    expect(resumed.skipped).toHaveLength(kept);
    expect(await expectOnlyCompleteRuns(out)).toBe(RUNS);
  });

  it('reports a training error from a worker with its message, keeping the runs already written', async () => {
    for (const workers of [2, 0]) {
      const out = freshDir();
      const failing = generateDataset(settings(out, { runs: 12, workers, taskOptions: { samples: SAMPLES, failRun: 9 } }));
      await expect(failing).rejects.toThrow('tiny_mlp: run 9 failed on purpose (option failRun)');
      expect(existsSync(join(out, LOCK_FILE))).toBe(false);
      await expectOnlyCompleteRuns(out);
      expect(runFiles(out)).not.toContain('000009.safetensors');
    }
  });

  it('generates a list of run indices (one machine\'s share), each the same run as in the whole dataset', async () => {
    const out = freshDir();
    const events: DatasetProgressEvent[] = [];
    const result = await generateDataset(settings(out, { runs: [7, 6, 30], onProgress: (e) => events.push(e) }));
    expect(events[0]).toMatchObject({ type: 'started', batches: 2 }); // [6, 7] and [30], as in the whole dataset
    expect(result.written.slice().sort((a, b) => a - b)).toEqual([6, 7, 30]);
    expect(runFiles(out)).toEqual(['000006.safetensors', '000007.safetensors', '000030.safetensors']);
    await expectOnlyCompleteRuns(out);
  });

  it('trains a damaged run file again and replaces it', async () => {
    const out = freshDir();
    await generateDataset(settings(out, { runs: 6 }));
    const file = join(out, 'runs', '000004.safetensors');
    truncateSync(file, 100);
    const events: DatasetProgressEvent[] = [];
    const result = await generateDataset(settings(out, { runs: 6, onProgress: (e) => events.push(e) }));
    expect(events.find((e) => e.type === 'run-redo')).toMatchObject({ run: 4, name: '000004' });
    expect(result.written).toEqual([4]);
    expect(readFileSync(file).equals(referenceRuns.get('000004')!)).toBe(true);
  });
});

describe('generateDataset: bad input changes nothing', () => {
  it('an unknown task and a missing data folder are clear errors, before any folder is made', async () => {
    const out = freshDir();
    await expect(generateDataset(settings(out, { task: 'no_such_task' }))).rejects.toThrow(/unknown task "no_such_task"; known tasks: .*tiny_mlp/);
    await expect(generateDataset(settings(out, { taskOptions: { dataDir: join(root, 'missing-data') } }))).rejects.toThrow(
      `tiny_mlp: the data folder "${join(root, 'missing-data')}" does not exist`,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('runs <= 0 and other bad numbers are errors naming the option', async () => {
    const out = freshDir();
    for (const runs of [0, -3, 2.5, Number.NaN]) await expect(generateDataset(settings(out, { runs }))).rejects.toThrow(/runs must be an integer >= 1 \(the number of runs\)/);
    await expect(generateDataset(settings(out, { runs: [] }))).rejects.toThrow(/non-empty list/);
    await expect(generateDataset(settings(out, { runs: [1, 1] }))).rejects.toThrow(/run 1 is listed twice/);
    await expect(generateDataset(settings(out, { runs: [1_000_000] }))).rejects.toThrow(/run index 1000000 is above 999999/);
    await expect(generateDataset(settings(out, { checkpointsPerRun: 1 }))).rejects.toThrow(/checkpointsPerRun must be an integer >= 2/);
    await expect(generateDataset(settings(out, { workers: -1 }))).rejects.toThrow(/workers must be an integer >= 0/);
    await expect(generateDataset(settings(out, { runsPerBatch: 0 }))).rejects.toThrow(/runsPerBatch must be an integer >= 1/);
    expect(existsSync(out)).toBe(false);
  });

  it("a folder holding another task's dataset, another recipe or other files is refused, untouched", async () => {
    // Another task's dataset.
    const cifar = freshDir();
    const manifest = createManifest({ task: 'cifar10', tensors: [{ name: 'w', shape: [3] }], metrics: ['avg_test_err'] });
    const writer = await DatasetWriter.create(cifar, manifest);
    await writer.writeRun('000000', { parameters: Float32Array.of(1, 2, 3), iterations: [0], metrics: { avg_test_err: [90] } });
    await writer.close(); // releases the folder's writer lock
    const before = snapshot(cifar);
    await expect(generateDataset(settings(cifar))).rejects.toThrow(DatasetConflictError);
    await expect(generateDataset(settings(cifar))).rejects.toThrow(/holds a "cifar10" dataset \(manifest\.json\), and task "tiny_mlp" generates "tiny" runs; choose another folder/);
    expect(snapshot(cifar)).toEqual(before);

    // The same task with another recipe, another checkpoint count or another split.
    const tiny = freshDir();
    await generateDataset(settings(tiny, { runs: 2 }));
    const tinyBefore = snapshot(tiny);
    await expect(generateDataset(settings(tiny, { taskOptions: { samples: 512 } }))).rejects.toThrow(/another recipe \(samples 12000 on disk, 512 asked\)/);
    await expect(generateDataset(settings(tiny, { checkpointsPerRun: 10 }))).rejects.toThrow(/runs of 12 checkpoints each, and 10 per run were asked/);
    await expect(generateDataset(settings(tiny, { numTestRuns: 5 }))).rejects.toThrow(/last 2 runs are the test split, and 5 test runs were asked/);
    expect(snapshot(tiny)).toEqual(tinyBefore);
    // Leaving the split out follows the folder's.
    await generateDataset(settings(tiny, { runs: 4, numTestRuns: undefined }));
    const reopened = await CheckpointDataset.open(tiny);
    expect(reopened.manifest.split.numTestRuns).toBe(2);
    await reopened.close();

    // A dataset folder whose generation stopped before its first run takes the new settings.
    const empty = freshDir();
    await expect(generateDataset(settings(empty, { checkpointsPerRun: 100 }))).rejects.toThrow(/checkpointsPerRun must be in 2\.\.61, got 100/);
    expect(runFiles(empty)).toEqual([]);
    await generateDataset(settings(empty, { runs: 2 }));
    expect(await expectOnlyCompleteRuns(empty)).toBe(2);

    // A folder with other files and no manifest.
    const home = freshDir();
    rmSync(home, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(home));
    writeFileSync(join(home, 'notes.txt'), 'mine');
    await expect(generateDataset(settings(home))).rejects.toThrow(/is not empty \(notes\.txt\) and holds no checkpoint dataset/);
    expect([...snapshot(home).keys()]).toEqual(['notes.txt']);
    expect(statSync(home).isDirectory()).toBe(true);
  });
});
