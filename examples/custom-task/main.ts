// A custom G.pt task end to end: spirals-task.ts defines and registers "spirals" (an MLP,
// its data and its metric); this program builds it through the registry like any built-in
// task, trains a few runs (each seeded by its run index), prints what each run saved, checks
// that evaluate() measures a saved checkpoint as training did, and with --out writes the
// runs as a checkpoint dataset with generateDataset (resumable; rerun to finish it).
//
// Run from the repository root (--help lists the options):
//   pnpm example custom-task [--runs 3] [--checkpoints 20] [--epochs 30] [--out DIR]

import { pathToFileURL } from 'node:url';
import { createTask, generateDataset } from '@gpt/g-pt';
import { defineCli, describeRuntime, runCli, type CliValues } from '@gpt/g-pt/cli';
import './spirals-task.js';

export const cli = defineCli({
  name: 'pnpm example custom-task',
  summary: 'Registers a custom task (MLP on three spirals), trains runs with it and optionally writes them as a checkpoint dataset.',
  options: {
    runs: { type: 'integer', default: 3, min: 1, description: 'training runs (run r is seeded by r)' },
    checkpoints: { type: 'integer', default: 20, min: 2, description: 'checkpoints saved per run (initialization and final included)' },
    epochs: { type: 'integer', default: 30, min: 1, description: 'training epochs per run' },
    out: { type: 'string', placeholder: 'DIR', description: 'also write the runs as a checkpoint dataset into DIR' },
    workers: { type: 'integer', default: 0, min: 0, description: 'worker threads for --out (0: this thread)' },
  },
});

export async function main(options: CliValues<typeof cli.options>): Promise<void> {
  const { runs, checkpoints, epochs, out, workers } = options;
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  try {
    const task = await createTask('spirals', { recipe: { epochs } });
    console.log(`task ${task.name}: ${task.description}; D = ${task.parameterCount}; metric ${task.metric.name} (${task.metric.unit}, ${task.metric.goal})`);
    console.log(`permutation groups: ${task.permutation.groups.map((g) => `${g.name} (${g.size})`).join(', ')}`);
    console.log(describeRuntime());
    const indices = Array.from({ length: runs }, (_, r) => r);
    const start = performance.now();
    const trained = await task.trainRuns(indices, { checkpointsPerRun: checkpoints, signal: controller.signal });
    const seconds = (performance.now() - start) / 1000;
    console.log('run  saved iterations                          test err % (init -> final)  test loss (init -> final)');
    trained.forEach((run, r) => {
      const its = Array.from(run.iterations);
      const shown = its.length > 6 ? `${its.slice(0, 4).join(', ')}, ..., ${its.at(-1)}` : its.join(', ');
      const err = run.metrics.avg_test_err!;
      const loss = run.metrics.avg_test_loss!;
      const n = its.length - 1;
      console.log(`${String(r).padStart(3)}  ${shown.padEnd(40)}  ${err[0]!.toFixed(2).padStart(6)} -> ${err[n]!.toFixed(2).padStart(6)}            ${loss[0]!.toFixed(4)} -> ${loss[n]!.toFixed(4)}`);
    });
    console.log(`${runs} runs in ${seconds.toFixed(1)} s (${Math.round((runs / seconds) * 3600)} runs/hour)`);
    // evaluate() measures any vector, e.g. a G.pt sample; here the last checkpoint of run 0.
    const D = task.parameterCount;
    const last = trained[0]!.parameters.slice(trained[0]!.parameters.length - D);
    const [measured] = await task.evaluate([last]);
    console.log(`evaluate(run 0, final checkpoint): test error ${measured!.avg_test_err!.toFixed(2)} %, test loss ${measured!.avg_test_loss!.toFixed(4)}`);
    if (out !== undefined) {
      const result = await generateDataset({
        task: 'spirals',
        taskOptions: { recipe: { epochs } },
        runs,
        out,
        checkpointsPerRun: checkpoints,
        workers,
        signal: controller.signal,
        onProgress: (event) => {
          if (event.type === 'run-written') console.log(`wrote run ${event.name} (${event.done}/${event.total})`);
        },
      });
      console.log(`dataset ${result.out}: ${result.written.length} runs written, ${result.skipped.length} already there, ${(result.bytes / 1e6).toFixed(2)} MB`);
    }
  } finally {
    process.off('SIGINT', onSignal);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runCli(cli, main);
