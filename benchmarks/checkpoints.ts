// Checkpoint-dataset I/O: write and read throughput of a dataset of MNIST-sized runs
// (D = 7,960 float32, 200 checkpoints per run, one safetensors file per run, written
// atomically with fsync), random single-checkpoint reads, and training-pair sampling
// (openai normalization + MNIST permutation augmentation, as G.pt trains).
//
//   pnpm bench checkpoints [--runs 1000] [--checkpoints 200] [--batch 256] [--json]   (--help lists the options)
//
// Data goes to a folder under os.tmpdir() that is deleted at the end. The size
// (1,000 runs) is 6.4 GB; the benchmark checks free space first and says how much it
// needs. Reads right after writing are served largely from the page cache when the
// machine has the memory for it; the "cold" rows drop the cache first where permitted.
import { statfs, writeFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MNIST_TASK, PairSampler, createManifest, openaiNormalizer, runNameOf } from '@gpt/checkpoints';
import { CheckpointDataset, DatasetWriter } from '@gpt/checkpoints/node';
import { defineCli, type CliValues } from '@gpt/g-pt/cli';
import { Generator } from '@gpt/tensor';
import { JSON_OPTION, type Row, medianSeconds, report } from './util.js';

export const cli = defineCli({
  name: 'pnpm bench checkpoints',
  summary: 'Checkpoint-dataset I/O: write, streaming and random reads, pair sampling, on MNIST-sized runs (D = 7,960).',
  options: {
    runs: { type: 'integer', default: 1000, min: 1, description: 'runs written (each --checkpoints x 7,960 float32)' },
    checkpoints: { type: 'integer', default: 200, min: 1, description: 'checkpoints per run' },
    batch: { type: 'integer', default: 256, min: 1, description: 'pairs per sampled batch' },
    json: JSON_OPTION,
  },
});

/** Drops the Linux page cache (root only); returns whether it worked. */
async function dropPageCache(): Promise<boolean> {
  try {
    await writeFile('/proc/sys/vm/drop_caches', '3\n');
    return true;
  } catch {
    return false;
  }
}

export async function main(options: CliValues<typeof cli.options>): Promise<void> {
  const { runs: numRuns, checkpoints: numCheckpoints, batch } = options;
  const D = 7960;
  const runBytes = numCheckpoints * D * 4;
  const totalBytes = numRuns * runBytes;
  const MB = 1e6;

  const base = tmpdir();
  const fs = await statfs(base);
  const free = fs.bavail * fs.bsize;
  if (totalBytes * 1.1 > free) {
    throw new Error(`needs ${(totalBytes / 1e9).toFixed(1)} GB in ${base}, ${(free / 1e9).toFixed(1)} GB free: pass a smaller --runs`);
  }
  const dir = await mkdtemp(join(base, 'gpt-bench-checkpoints-'));
  const rows: Row[] = [];
  try {
    const manifest = createManifest({
      task: 'mnist',
      tensors: MNIST_TASK.tensors,
      metrics: ['avg_test_loss', 'avg_test_err'],
      numTestRuns: Math.min(MNIST_TASK.numTestRuns, Math.floor(numRuns / 2)),
    });
    // One run's worth of parameters, varied per run: the benchmark measures I/O, not RNG.
    const generator = new Generator(0);
    const parameters = Float32Array.from(generator.uniform(numCheckpoints * D), (u) => (u - 0.5) * 0.2);
    const iterations = Array.from({ length: numCheckpoints }, (_, k) => k * 50);
    const loss = Array.from({ length: numCheckpoints }, (_, k) => 2.3 / (1 + k));
    const err = Array.from({ length: numCheckpoints }, (_, k) => 90 / (1 + k));

    const writer = await DatasetWriter.create(dir, manifest);
    const writeStart = performance.now();
    for (let r = 0; r < numRuns; r++) {
      parameters[0] = r; // distinct content per run
      await writer.writeRun(runNameOf(r), { parameters, iterations, metrics: { avg_test_loss: loss, avg_test_err: err } });
    }
    await writer.close();
    const writeSeconds = (performance.now() - writeStart) / 1000;
    const throughput = (what: string, seconds: number, checkpoints: number): Row => ({
      operation: what,
      seconds: Number(seconds.toFixed(3)),
      'checkpoints/s': Math.round(checkpoints / seconds),
      'MB/s': Math.round((checkpoints * D * 4) / MB / seconds),
    });
    rows.push({ ...throughput('write runs (atomic, fsync)', writeSeconds, numRuns * numCheckpoints), runs: numRuns });

    // Cold rows drop the page cache first (needs root); warm rows read what the cold pass cached.
    const canDrop = await dropPageCache();
    const dataset = await CheckpointDataset.open(dir);
    let checksum = 0;
    for (const state of canDrop ? ['cold', 'warm'] : ['page cache']) {
      const start = performance.now();
      for await (const { data } of dataset.iterateRuns()) checksum += data.parameters[1]!;
      const seconds = (performance.now() - start) / 1000;
      rows.push({ ...throughput(`read runs streaming (${state})`, seconds, numRuns * numCheckpoints), runs: numRuns });
    }

    const randomReads = 20_000;
    const picks = Array.from({ length: randomReads }, () => ({ run: runNameOf(generator.int(0, numRuns)), index: generator.int(0, numCheckpoints) }));
    const scratch = new Float32Array(D);
    for (const state of canDrop ? ['cold', 'warm'] : ['page cache']) {
      if (state === 'cold') await dropPageCache();
      const start = performance.now();
      for (const p of picks) await dataset.readCheckpoint(p.run, p.index, scratch);
      const seconds = (performance.now() - start) / 1000;
      rows.push({ ...throughput(`read random checkpoints (${state})`, seconds, randomReads), runs: numRuns });
    }

    for (const augment of [false, true]) {
      for (const state of canDrop ? ['cold', 'warm'] : ['page cache']) {
        const sampler = await PairSampler.create(dataset, {
          runs: dataset.split.train,
          metric: 'avg_test_loss',
          seed: 1,
          normalizer: openaiNormalizer(MNIST_TASK.openaiCoefficient),
          ...(augment ? { permutation: MNIST_TASK.permutation } : {}),
        });
        let seconds: number;
        if (state === 'cold') {
          const times: number[] = [];
          for (let rep = 0; rep < 5; rep++) {
            await dropPageCache();
            const start = performance.now();
            await sampler.sample(batch);
            times.push((performance.now() - start) / 1000);
          }
          seconds = times.sort((a, b) => a - b)[2]!;
        } else {
          seconds = await medianSeconds(() => sampler.sample(batch), 5, 1);
        }
        rows.push({
          operation: `sample pairs, batch ${batch}${augment ? ', permuted' : ''} (${state})`,
          seconds: Number(seconds.toFixed(4)),
          'pairs/s': Math.round(batch / seconds),
          'MB/s': Math.round((2 * batch * D * 4) / MB / seconds),
          runs: dataset.split.train.length,
        });
      }
    }
    await dataset.close();
    if (!Number.isFinite(checksum)) throw new Error('read back non-finite data');
    rows.push({ operation: 'dataset size', 'MB/s': null, seconds: null, runs: numRuns, GB: Number((totalBytes / 1e9).toFixed(2)) });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  report(rows, options.json);
}
