// Training runs per hour of a @gpt/g-pt task with its checkpoint-generation recipe, in ONE
// process (dataset generation adds worker threads on top): one by one, and for the MNIST
// tasks batched K runs at a time (stacked weights, batched matmuls).
//
//   pnpm bench task-runs [--task mnist_error] [--runs 4] [--k 8,16,32] [--epochs E] [--checkpoints 200] [--kernels auto|wasm] [--json]
//
// Each row trains max(--runs, K) fresh runs (run indices 0, 1, ...) and reports wall-clock
// seconds and runs/hour, and the process's CPU seconds per run (user + system, all its
// threads): on a machine shared with other jobs the wall clock measures the load, the CPU
// time the work. cpu_runs_per_hour_2c = 2 cores x 3,600 s / CPU seconds per run, what two
// workers of one kernel thread each would reach if nothing else ran. Cartpole has no batched
// trainer: only the one-by-one row.
import { defineCli, type CliValues } from '@gpt/g-pt/cli';
import { createTask } from '@gpt/g-pt';
import { cpuKernelsStatus, setCpuKernels, type CpuKernelMode } from '@gpt/tensor';
import { JSON_OPTION, type Row, report } from './util.js';

export const cli = defineCli({
  name: 'pnpm bench task-runs',
  summary: 'Runs/hour of a G.pt task (paper recipe), one by one and batched, in one process.',
  options: {
    task: { type: 'string', default: 'mnist_error', description: 'task name (mnist_error, mnist_loss, cartpole, ...)' },
    runs: { type: 'integer', default: 4, min: 1, description: 'runs timed per row (batched rows train at least K)' },
    k: { type: 'string', default: '8,16,32', description: 'comma-separated runs per batch for the batched rows ("" for none)' },
    epochs: { type: 'integer', min: 1, description: 'override the recipe epochs (supervised tasks)' },
    checkpoints: { type: 'integer', default: 200, min: 2, description: 'checkpoints saved per run' },
    kernels: { type: 'string', choices: ['auto', 'wasm', 'wasm-threads', 'ts'], default: 'auto', description: 'CPU kernels of @gpt/tensor' },
    json: JSON_OPTION,
  },
});

export async function main(options: CliValues<typeof cli.options>): Promise<void> {
  setCpuKernels(options.kernels as CpuKernelMode);
  const status = cpuKernelsStatus();
  const supervised = options.task.startsWith('mnist') || options.task.startsWith('cifar10');
  const batchSizes = supervised ? options.k.split(',').filter((s) => s.trim() !== '').map((s) => Number.parseInt(s, 10)) : [];
  const recipe = options.epochs === undefined ? {} : { recipe: { epochs: options.epochs } };
  const rows: Row[] = [];
  for (const k of [1, ...batchSizes]) {
    const task = await createTask(options.task, { ...recipe, ...(options.task.startsWith('mnist') ? { runsPerBatch: k } : {}) });
    const count = Math.max(options.runs, k);
    const runs = Array.from({ length: count }, (_, i) => i);
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    await task.trainRuns(runs, { checkpointsPerRun: options.checkpoints });
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    rows.push({
      task: options.task,
      mode: k === 1 ? 'one-by-one' : `batched K=${k}`,
      runs: count,
      seconds: Number(seconds.toFixed(2)),
      s_per_run: Number((seconds / count).toFixed(3)),
      runs_per_hour: Math.round((count / seconds) * 3600),
      cpu_s_per_run: Number((cpuSeconds / count).toFixed(3)),
      cpu_runs_per_hour_2c: Math.round((2 * 3600 * count) / cpuSeconds),
      kernels: `${status.mode}${status.wasm ? '' : ' (no wasm)'} ${status.mode === 'wasm' || status.mode === 'ts' ? 1 : status.threads}t`,
    });
    if (!options.json) console.error(`${rows.at(-1)!.mode}: ${seconds.toFixed(1)} s for ${count} runs`);
  }
  report(rows, options.json ?? false);
}
