// Dataset-generation throughput for the README (a measurement, not a test): MNIST runs/hour
// through generateDataset with the paper recipe on the bundled digits (batched trainRuns
// with 1 and 2 worker threads, and one by one), Cartpole runs/hour, bytes per run, and
// read-back speed through @gpt/checkpoints' PairSampler (pairs/s at batch 64).
//
//   nice -n 5 node --conditions=@gpt/source --import tsx packages/g-pt/test/scripts/measure-generation.ts \
//     [--runs 32] [--batch 16] [--workers 1,2] [--one-by-one-runs 4] [--cartpole-runs 2] [--pair-batches 300] [--json]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MNIST_TASK, PairSampler } from '@gpt/checkpoints';
import { CheckpointDataset } from '@gpt/checkpoints/node';
import { defineCli, describeRuntime, runCli, type CliValues } from '../../src/cli.js';
import { generateDataset } from '../../src/data/generate.js';
import { taskNames } from '../../src/tasks/registry.js';

const cli = defineCli({
  name: 'measure-generation',
  summary: 'Runs/hour of generateDataset (MNIST paper recipe, Cartpole), bytes per run, PairSampler pairs/s.',
  options: {
    runs: { type: 'integer', default: 32, min: 1, description: 'MNIST runs per batched measurement' },
    batch: { type: 'integer', default: 16, min: 1, description: 'runs per batch (runsPerBatch and the task\'s own runsPerBatch)' },
    workers: { type: 'string', default: '1,2', description: 'worker counts to measure, comma-separated' },
    oneByOneRuns: { type: 'integer', default: 4, min: 0, description: 'MNIST runs trained one by one (2 workers); 0 skips' },
    cartpoleRuns: { type: 'integer', default: 2, min: 0, description: 'Cartpole runs (2 workers); 0 skips' },
    pairBatches: { type: 'integer', default: 300, min: 1, description: 'PairSampler batches of 64 timed' },
    json: { type: 'boolean', description: 'one JSON object per measurement' },
  },
});

interface Row {
  readonly what: string;
  readonly [key: string]: string | number;
}

async function main(options: CliValues<typeof cli.options>): Promise<void> {
  const rows: Row[] = [];
  const print = (row: Row): void => {
    rows.push(row);
    console.log(options.json ? JSON.stringify(row) : Object.entries(row).map(([k, v]) => `${k}=${v}`).join('  '));
  };
  console.error(describeRuntime());
  const root = mkdtempSync(join(tmpdir(), 'gpt-measure-'));
  try {
    let mnistDir: string | undefined;
    let bytesPerRun = 0;
    for (const [i, workers] of options.workers.split(',').map(Number).entries()) {
      const out = join(root, `mnist-${i}-w${workers}`);
      const start = performance.now();
      const result = await generateDataset({ task: 'mnist_error', taskOptions: { runsPerBatch: options.batch }, runs: options.runs, out, workers, runsPerBatch: options.batch });
      const wall = (performance.now() - start) / 1000;
      bytesPerRun = result.bytes / result.written.length;
      mnistDir ??= out;
      print({
        what: `mnist_error batched K=${options.batch}, ${workers} worker${workers === 1 ? '' : 's'}`,
        runs: result.written.length,
        seconds: Number(result.seconds.toFixed(1)),
        wall_seconds_with_startup: Number(wall.toFixed(1)),
        runs_per_hour: Math.round(result.runsPerHour),
      });
    }
    if (options.oneByOneRuns > 0) {
      const result = await generateDataset({ task: 'mnist_error', taskOptions: { runsPerBatch: 1 }, runs: options.oneByOneRuns, out: join(root, 'mnist-one-by-one'), workers: 2, runsPerBatch: 1 });
      print({ what: 'mnist_error one by one, 2 workers', runs: result.written.length, seconds: Number(result.seconds.toFixed(1)), runs_per_hour: Math.round(result.runsPerHour) });
    }
    print({ what: 'mnist bytes per run (200 checkpoints)', bytes: Math.round(bytesPerRun), gb_per_1000_runs: Number(((bytesPerRun * 1000) / 1e9).toFixed(2)) });

    if (mnistDir) {
      const dataset = await CheckpointDataset.open(mnistDir);
      const sampler = await PairSampler.create(dataset, { runs: dataset.runs, metric: 'avg_test_err', seed: 0, permutation: MNIST_TASK.permutation });
      await sampler.sample(64); // warm-up: opens the files
      const start = performance.now();
      for (let i = 0; i < options.pairBatches; i++) await sampler.sample(64);
      const seconds = (performance.now() - start) / 1000;
      print({ what: 'PairSampler batch 64 (page-cached, with permutation augmentation)', batches: options.pairBatches, seconds: Number(seconds.toFixed(2)), pairs_per_second: Math.round((options.pairBatches * 64) / seconds) });
      const plain = await PairSampler.create(dataset, { runs: dataset.runs, metric: 'avg_test_err', seed: 1 });
      const start2 = performance.now();
      for (let i = 0; i < options.pairBatches; i++) await plain.sample(64);
      const seconds2 = (performance.now() - start2) / 1000;
      print({ what: 'PairSampler batch 64 (page-cached, no augmentation)', batches: options.pairBatches, seconds: Number(seconds2.toFixed(2)), pairs_per_second: Math.round((options.pairBatches * 64) / seconds2) });
      await dataset.close();
    }

    if (options.cartpoleRuns > 0 && taskNames().includes('cartpole')) {
      const result = await generateDataset({ task: 'cartpole', runs: options.cartpoleRuns, out: join(root, 'cartpole'), workers: 2, runsPerBatch: 1 });
      print({ what: 'cartpole, 2 workers', runs: result.written.length, seconds: Number(result.seconds.toFixed(1)), runs_per_hour: Math.round(result.runsPerHour), bytes_per_run: Math.round(result.bytes / result.written.length) });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await runCli(cli, main);
