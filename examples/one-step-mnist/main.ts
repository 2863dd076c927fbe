// One-step optimization on the paper's MNIST task (gpt-paper.md §5.1, §5.4): unseen random
// initializations of the 784-10-10 MLP get ONE G.pt update prompted with the task's best
// test error (5%), and Adam and SGD take 1..N steps from the same initializations over a
// small learning-rate sweep. Prints the test error before, after the update and along the
// gradient curves, and how many gradient steps the update is worth; writes the JSON report
// and the G.pt-vs-gradient chart.
//
// Run from the repository root (--help lists the options):
//   pnpm example one-step-mnist                      # trains a small MNIST G.pt first (minutes)
//   pnpm example one-step-mnist --gpt runs/gpt       # a `gpt train` output folder (e.g. --preset mnist-small)
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { baselineChart, gradientBaseline, optimize, summarizeWorth, supervisedObjective, writePlot } from '@gpt/g-pt';
import { defineCli, describeRuntime, runCli, type CliValues } from '@gpt/g-pt/cli';
import { writeJson } from '../multimodality-landscape/write-json.js';
import { interruptOnCtrlC, QUICK_GPT_OPTIONS, quickGpt, SAMPLER_OPTIONS, unseenInitializations } from '../multimodality-landscape/quick-gpt.js';

/** The sweeps: Adam around its usual range, SGD around the recipe's 0.1 (the paper's Adam lr 0.1 only stalls here). */
const LEARNING_RATES = { adam: [1e-3, 3e-3, 1e-2, 3e-2], sgd: [3e-2, 1e-1, 3e-1] };

const { task: _task, ...quickOptions } = QUICK_GPT_OPTIONS; // the task is fixed: mnist_error
export const cli = defineCli({
  name: 'pnpm example one-step-mnist',
  summary: 'One G.pt update of unseen random MNIST MLPs (mnist_error, prompt 5% test error) against 1..N Adam and SGD steps from the same initializations.',
  options: {
    ...quickOptions,
    ...SAMPLER_OPTIONS,
    networks: { type: 'integer', default: 8, min: 1, description: 'unseen random initializations' },
    gradientSteps: { type: 'integer', default: 100, min: 1, description: 'Adam/SGD steps of the baseline' },
  },
});

export async function main(options: CliValues<typeof cli.options>): Promise<void> {
  const interrupt = interruptOnCtrlC();
  const started = performance.now();
  try {
    console.log(describeRuntime());
    const { trained, task } = await quickGpt({ ...options, task: 'mnist_error', signal: interrupt.signal, log: (line) => console.log(line) });
    const objective = supervisedObjective(task);
    if (!task.name.startsWith('mnist_') || !objective) throw new Error(`--gpt: this example needs a G.pt of mnist_error or mnist_loss, the folder's is for ${task.name}`);
    const gptParameters = trained.model.parameters().reduce((n, p) => n + p.size, 0);
    const inits = unseenInitializations(task, options.networks, options.seed);
    const prompt = options.prompt ?? task.prompt.bestPrompt;
    const metric = (value: number) => `${value.toFixed(2)}${task.metric.unit === '%' ? '%' : ` ${task.metric.unit}`}`;
    console.log(`G.pt of ${gptParameters.toLocaleString('en')} parameters (step ${trained.step}); ${inits.length} unseen ${task.name} networks, prompt ${metric(prompt)}`);

    const one = await optimize(trained, task, inits, { prompt, sampler: options.sampler, steps: options.samplerSteps, seed: options.seed, signal: interrupt.signal });
    const before = one.startMetric;
    const after = one.samples.map((s) => s.metric);
    console.log(`${task.metric.label} before: ${before.map(metric).join(' ')}  (mean ${metric(mean(before))})`);
    console.log(`after ONE G.pt update (${one.sampler}, ${one.samplingSeconds.toFixed(1)} s): ${after.map(metric).join(' ')}  (mean ${metric(mean(after))})`);

    console.log(`Adam lr ${LEARNING_RATES.adam.join(', ')} and SGD lr ${LEARNING_RATES.sgd.join(', ')}, ${options.gradientSteps} steps from the same initializations`);
    const gradient = await gradientBaseline({ ...task, gradientObjective: objective }, inits, {
      steps: options.gradientSteps,
      learningRates: LEARNING_RATES,
      seed: options.seed,
      signal: interrupt.signal,
      onProgress: (e) => console.log(`  curve ${e.done}/${e.total}: ${e.optimizer} lr ${e.lr}`),
    });
    const worth = summarizeWorth(gradient, mean(after));
    const shown = [...new Set([1, 10, options.gradientSteps])].filter((s) => s <= options.gradientSteps);
    for (const [curve, w] of gradient.curves.map((c, i) => [c, worth.perCurve[i]!] as const)) {
      const along = shown.map((s) => `${s}: ${metric(curve.meanMetric[curve.steps.indexOf(s)]!)}`).join(', ');
      console.log(`${curve.optimizer.padEnd(4)} lr ${String(curve.lr).padEnd(5)} after ${along}; one G.pt update is worth ${worthText(w.steps, options.gradientSteps)}`);
    }
    for (const [name, w] of Object.entries(worth.fewest)) console.log(`=> one G.pt update is worth ${worthText(w.steps, options.gradientSteps)} of ${name === 'adam' ? 'Adam' : 'SGD'} (the fewest over the sweep, at lr ${w.lr})`);

    const dir = join(options.out, 'one-step-mnist');
    const chart = await baselineChart({ task: task.name, metric: task.metric, baseline: gradient, meanAfter: mean(after), meanBefore: mean(before), networks: inits.length, yScale: 'log', format: metric });
    const svg = await writePlot(dir, 'gpt-vs-gradient', chart);
    const seconds = (performance.now() - started) / 1000;
    const report = { task: task.name, gpt: { source: options.gpt ?? 'trained here', parameters: gptParameters, step: trained.step }, prompt, sampler: one.sampler, samplingSeconds: one.samplingSeconds, before, after, meanBefore: mean(before), meanAfter: mean(after), gradient, worth, seconds };
    console.log(`wrote ${await writeJson(dir, 'one-step-mnist.json', report)} and ${svg} (${seconds.toFixed(0)} s in all)`);
  } finally {
    interrupt.release();
  }
}

/** stepsWorth's figure in words: 1 means one gradient step already does at least as well. */
function worthText(steps: number | null, gradientSteps: number): string {
  return steps === null ? `more than ${gradientSteps} steps` : steps === 1 ? 'at most 1 step' : `${steps} steps`;
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runCli(cli, main);
