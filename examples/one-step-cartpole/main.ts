// One-step optimization on the Cartpole task (gpt-paper.md §5.1, §5.4) against its honest
// baseline: unseen random initializations of the policy get ONE G.pt update prompted with the
// task's best return (500), and PPO runs 1..N iterations from the same initializations at a
// few constant learning rates (the task's other PPO settings; each iteration is epochs x
// minibatches Adam steps on the clipped surrogate). Prints the return before, after the update
// and along the PPO curves, and how many PPO iterations the update is worth; writes the JSON
// report and the G.pt-vs-PPO chart.
//
// Run from the repository root (--help lists the options):
//   pnpm example one-step-cartpole                          # trains a small Cartpole G.pt on a reduced PPO recipe first (minutes)
//   pnpm example one-step-cartpole --gpt runs/gpt           # a `gpt train` folder of the cartpole task (PPO baseline with PPO_DEFAULTS)
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { baselineChart, DEFAULT_PPO_LEARNING_RATES, optimize, ppoBaseline, summarizeWorth, unseenInitializations, writePlot, type CartpoleRecipe } from '@gpt/g-pt';
import { CliUsageError, defineCli, describeRuntime, runCli, type CliValues } from '@gpt/g-pt/cli';
import { writeJson } from '../multimodality-landscape/write-json.js';
import { interruptOnCtrlC } from '../multimodality-landscape/quick-gpt.js';
import { QUICK_RECIPE, quickCartpoleGpt } from './quick-cartpole-gpt.js';

export const cli = defineCli({
  name: 'pnpm example one-step-cartpole',
  summary: 'One G.pt update of unseen random Cartpole policies (prompt: return 500) against 1..N PPO iterations at constant learning rates from the same initializations.',
  options: {
    gpt: { type: 'string', placeholder: 'DIR', description: 'a `gpt train` output folder of the cartpole task (default: train a small G.pt here first)' },
    recipe: { type: 'string', placeholder: 'JSON', description: `PPO settings of the task (the baseline's, and the dataset's made here), over PPO_DEFAULTS (default: ${JSON.stringify(QUICK_RECIPE)} when training here, {} with --gpt)` },
    runs: { type: 'integer', default: 48, min: 2, description: 'PPO runs in the dataset made here' },
    checkpoints: { type: 'integer', default: 20, min: 2, description: 'checkpoints saved per run in the dataset made here' },
    steps: { type: 'integer', default: 1500, min: 1, description: 'training steps of the G.pt trained here' },
    networks: { type: 'integer', default: 8, min: 1, description: 'unseen random initializations' },
    samplerSteps: { type: 'integer', default: 50, min: 1, description: 'DDIM steps of the G.pt update' },
    ppoIterations: { type: 'integer', default: 50, min: 1, description: 'PPO iterations of the baseline' },
    ppoLrs: { type: 'string', default: DEFAULT_PPO_LEARNING_RATES.join(','), placeholder: 'LIST', description: 'constant PPO learning rates swept' },
    out: { type: 'string', default: '.tmp/examples', placeholder: 'DIR', description: 'folder for the dataset, the trained G.pt and the results (reused by later runs)' },
    seed: { type: 'integer', default: 0, min: 0, description: 'seed of the networks, the sampling noise and the PPO runs' },
  },
});

export async function main(options: CliValues<typeof cli.options>): Promise<void> {
  const recipe = parseRecipe(options.recipe, options.gpt !== undefined);
  const learningRates = options.ppoLrs.split(',').map((s) => Number(s.trim()));
  if (learningRates.some((lr) => !(lr > 0 && Number.isFinite(lr)))) throw new CliUsageError(`--ppo-lrs takes comma-separated positive numbers, got "${options.ppoLrs}"`, '--ppo-lrs');
  const interrupt = interruptOnCtrlC();
  const started = performance.now();
  const log = (line: string) => console.log(line);
  try {
    log(describeRuntime());
    const { trained, task } = await quickCartpoleGpt({ ...options, recipe, signal: interrupt.signal, log });
    const trainedSeconds = (performance.now() - started) / 1000;
    const gptParameters = trained.model.parameters().reduce((n, p) => n + p.size, 0);
    const adamSteps = task.ppo.epochs * task.ppo.minibatches;
    const inits = unseenInitializations(task, options.networks, options.seed);
    const prompt = task.prompt.bestPrompt;
    const r = (value: number) => value.toFixed(1);
    log(`G.pt of ${gptParameters.toLocaleString('en')} parameters (step ${trained.step}); ${inits.length} unseen policies; prompt return ${prompt}`);

    const one = await optimize(trained, task, inits, { prompt, sampler: 'ddim', steps: options.samplerSteps, seed: options.seed, signal: interrupt.signal });
    const before = one.startMetric;
    const after = one.samples.map((s) => s.metric);
    log(`return before: ${before.map(r).join(' ')}  (mean ${r(mean(before))})`);
    log(`after ONE G.pt update (${one.sampler}, ${one.samplingSeconds.toFixed(1)} s): ${after.map(r).join(' ')}  (mean ${r(mean(after))})`);

    const N = options.ppoIterations;
    log(`PPO lr ${learningRates.join(', ')} (constant), ${N} iterations of ${task.ppo.numEnvs} envs x ${task.ppo.numSteps} steps and ${task.ppo.epochs} x ${task.ppo.minibatches} = ${adamSteps} Adam steps, from the same policies`);
    const ppoStarted = performance.now();
    const ppo = await ppoBaseline(task, inits, {
      iterations: N,
      learningRates,
      seed: options.seed,
      signal: interrupt.signal,
      onProgress: (e) => e.network === inits.length - 1 && log(`  lr ${e.lr} done (${e.done}/${e.total} runs)`),
    });
    const ppoSeconds = (performance.now() - ppoStarted) / 1000;
    const worth = summarizeWorth(ppo, mean(after));
    const shown = [...new Set([1, 2, 5, 10, 20, N])].filter((i) => ppo.curves[0]!.steps.includes(i));
    log(`mean return after PPO iterations (start ${r(ppo.startMetric)}):`);
    log(`  ${'lr'.padEnd(7)}${shown.map((i) => String(i).padStart(8)).join('')}   one G.pt update is worth`);
    for (const [curve, w] of ppo.curves.map((c, i) => [c, worth.perCurve[i]!] as const)) {
      const along = shown.map((i) => r(curve.meanMetric[curve.steps.indexOf(i)]!).padStart(8)).join('');
      const k = w.steps === null ? `more than ${N} iterations (> ${N * adamSteps} Adam steps)` : `${w.steps} iterations (${w.steps * adamSteps} Adam steps)`;
      log(`  ${String(curve.lr).padEnd(7)}${along}   ${k}`);
    }
    const fewest = worth.fewest.ppo!;
    log(`=> one G.pt update is worth ${fewest.steps ?? `more than ${N}`} PPO iterations at its best learning rate for it (${fewest.lr})`);

    const dir = join(options.out, 'one-step-cartpole');
    const chart = await baselineChart({ task: task.name, metric: task.metric, baseline: ppo, meanAfter: mean(after), meanBefore: mean(before), networks: inits.length, format: r });
    const svg = await writePlot(dir, 'gpt-vs-ppo', chart);
    const seconds = (performance.now() - started) / 1000;
    const report = {
      task: task.name,
      recipe: task.ppo,
      gpt: { source: options.gpt ?? 'trained here', parameters: gptParameters, step: trained.step },
      prompt,
      sampler: one.sampler,
      samplingSeconds: one.samplingSeconds,
      before,
      after,
      meanBefore: mean(before),
      meanAfter: mean(after),
      adamStepsPerPpoIteration: adamSteps,
      ppo,
      worth,
      seconds: { gpt: trainedSeconds, ppo: ppoSeconds, total: seconds },
    };
    log(`wrote ${await writeJson(dir, 'one-step-cartpole.json', report)} and ${svg} (${seconds.toFixed(0)} s in all)`);
    trained.model.dispose();
  } finally {
    interrupt.release();
  }
}

/** --recipe: a JSON object of PPO settings; without it, the reduced recipe (QUICK_RECIPE) here, PPO_DEFAULTS for a given G.pt. */
function parseRecipe(text: string | undefined, givenGpt: boolean): Partial<CartpoleRecipe> {
  if (text === undefined) return givenGpt ? {} : QUICK_RECIPE;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliUsageError(`--recipe is not valid JSON (${(error as Error).message})`, '--recipe');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new CliUsageError('--recipe must be a JSON object of PPO settings', '--recipe');
  return value as Partial<CartpoleRecipe>;
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runCli(cli, main);
