// `gpt eval`: the evaluations of a trained G.pt on unseen networks — prompt alignment
// (§5.2), recursive prompting (§5.3) and one update against Adam/SGD learning-rate sweeps
// from the same networks (for the Cartpole task, PPO iterations: eval/ppo-baseline.ts) —
// printed, written as eval.json and plotted into --out.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import '../tasks/builtin.js';
import { promptAlignment, type AlignmentReport } from '../eval/alignment.js';
import { gradientBaseline, summarizeWorth, supervisedObjective, type GradientBaselineReport, type StepsWorth, type WorthSummary } from '../eval/gradient-baseline.js';
import { isCartpoleTask, ppoBaseline } from '../eval/ppo-baseline.js';
import { recursivePrompting, type RecursiveReport } from '../eval/recursive.js';
import { compareSamplers, parseSamplerSpec, type SamplerComparison, type SamplerSpec } from '../eval/samplers.js';
import { alignmentScatter } from '../plot/alignment-scatter.js';
import { baselineChart } from '../plot/baseline-chart.js';
import { lineChart } from '../plot/line-chart.js';
import { writePlot } from '../plot/write-plot.js';
import { optimize } from '../sample/optimize.js';
import { CliUsageError, defineCli, type CliValues } from './options.js';
import { ProgressDisplay, abortOnSigint } from './progress.js';
import { describeRuntime } from './runtime.js';
import { MODEL_OPTIONS, loadModelTaskParams, samplingProgress } from './optimize.js';

const EVALUATIONS = ['alignment', 'recursive', 'gradient', 'samplers'] as const;
type Evaluation = (typeof EVALUATIONS)[number];
/** What runs without --only (the sampler comparison's DDPM-1000 is slow, so it is asked for by name). */
const DEFAULT_EVALUATIONS: readonly Evaluation[] = ['alignment', 'recursive', 'gradient'];

export const cli = defineCli({
  name: 'gpt eval',
  summary:
    'Evaluates a trained G.pt on unseen networks: prompt alignment (20 prompts per network, R² per network, mean), recursive prompting, ' +
    'one G.pt update against Adam and SGD after 1..N steps (learning rates from a sweep; for Cartpole, PPO after 1..N iterations), and on request samplers side by side (alignment, metric, wall time). ' +
    'Writes eval.json and plots to --out.',
  options: {
    ...MODEL_OPTIONS,
    only: { type: 'string', placeholder: 'LIST', description: `comma-separated subset of ${EVALUATIONS.join(', ')} (default: ${DEFAULT_EVALUATIONS.join(', ')}; gradient needs a task with a training objective, or Cartpole's PPO)` },
    samplers: { type: 'string', default: 'ddpm-1000,ddim-50,ddpm-100', placeholder: 'LIST', description: 'samplers compared by --only samplers (ddpm-STEPS, ddim-STEPS, ddim-STEPS-eta-X); speed-ups are against the first' },
    prompts: { type: 'integer', min: 2, default: 20, placeholder: 'N', description: 'prompts per network in the alignment sweep' },
    updates: { type: 'integer', min: 1, default: 2, placeholder: 'N', description: 'G.pt updates in a row for recursive prompting' },
    gradientSteps: { type: 'integer', min: 1, default: 100, placeholder: 'N', description: 'Adam/SGD steps of the baseline' },
    adamLrs: { type: 'string', default: '0.001,0.003,0.01,0.03,0.1', placeholder: 'LIST', description: 'Adam learning rates swept' },
    sgdLrs: { type: 'string', default: '0.01,0.03,0.1,0.3,1', placeholder: 'LIST', description: 'SGD learning rates swept' },
    ppoIterations: { type: 'integer', min: 1, default: 50, placeholder: 'N', description: "PPO iterations of the Cartpole task's baseline (instead of Adam/SGD)" },
    ppoLrs: { type: 'string', default: '0.0003,0.001,0.003', placeholder: 'LIST', description: 'constant PPO learning rates swept (Cartpole)' },
  },
});

type Values = CliValues<typeof cli.options>;

function parseList<T extends string>(text: string | undefined, allowed: readonly T[], flag: string, defaults: readonly T[] = allowed): T[] {
  if (text === undefined) return [...defaults];
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = items.find((s) => !allowed.includes(s as T));
  if (bad !== undefined || items.length === 0) throw new CliUsageError(`${flag} takes a comma-separated subset of ${allowed.join(', ')}, got "${text}"`, flag);
  return items as T[];
}

function parseRates(text: string, flag: string): number[] {
  const rates = text.split(',').map((s) => Number(s.trim()));
  if (rates.length === 0 || rates.some((r) => !(r > 0 && Number.isFinite(r)))) throw new CliUsageError(`${flag} takes comma-separated positive numbers, got "${text}"`, flag);
  return rates;
}

export interface EvalReport {
  readonly task: string;
  readonly metric: string;
  readonly networks: number;
  readonly alignment?: AlignmentReport;
  readonly recursive?: Omit<RecursiveReport, 'finalParams'>;
  readonly oneStep?: { readonly prompt: number; readonly sampler: string; readonly meanBefore: number; readonly meanAfter: number };
  readonly gradient?: GradientBaselineReport;
  readonly worth?: WorthSummary;
  /** Cartpole: the Adam steps in one PPO iteration of the baseline (epochs x minibatches). */
  readonly adamStepsPerPpoIteration?: number;
  readonly samplers?: SamplerComparison;
  readonly files: string[];
}

export async function main(values: Values): Promise<void> {
  const only = parseList<Evaluation>(values.only, EVALUATIONS, '--only', DEFAULT_EVALUATIONS);
  let samplerSpecs: SamplerSpec[];
  try {
    samplerSpecs = values.samplers.split(',').map(parseSamplerSpec);
  } catch (error) {
    throw new CliUsageError(`--samplers: ${(error as Error).message}`, '--samplers');
  }
  const adamLrs = parseRates(values.adamLrs, '--adam-lrs');
  const sgdLrs = parseRates(values.sgdLrs, '--sgd-lrs');
  const ppoLrs = parseRates(values.ppoLrs, '--ppo-lrs');
  const say = (line: string) => (values.json ? process.stderr : process.stdout).write(`${line}\n`);
  say(describeRuntime());
  const { trained, task, params, source } = await loadModelTaskParams(values);
  const out = resolve(values.out ?? 'gpt-eval');
  say(`G.pt for ${task.name} (${trained.step} training steps) on ${params.length} networks from ${source}`);
  const interrupt = abortOnSigint();
  const progress = samplingProgress();
  const sampler = { sampler: values.sampler as 'ddim' | 'ddpm', steps: values.steps, eta: values.eta, seed: values.seed, signal: interrupt.signal, onProgress: progress.onProgress };
  const files: string[] = [];
  const unit = task.metric.unit ? ` (${task.metric.unit})` : '';
  const f = (v: number) => v.toFixed(4);
  let report: EvalReport = { task: task.name, metric: task.metric.name, networks: params.length, files };
  try {
    await mkdir(out, { recursive: true });
    if (only.includes('alignment')) {
      say(`[alignment] ${params.length} networks x ${values.prompts} prompts`);
      const alignment = await promptAlignment(trained, task, params, { ...sampler, prompts: values.prompts });
      progress.finish();
      say(`prompt alignment R² ${f(alignment.promptAlignment)} (median ${f(alignment.medianR2)}, ${alignment.sampler})`);
      report = { ...report, alignment };
      const points = alignment.networks.flatMap((n) => n.prompts.map((p, i) => ({ desired: p, observed: n.achieved[i]!, group: `net ${n.network}` })));
      files.push(await writePlot(out, 'desired-vs-observed', await alignmentScatter({ title: `${task.name}: R² ${alignment.promptAlignment.toFixed(3)}`, desiredTitle: `prompted ${task.metric.label}${unit}`, observedTitle: `achieved ${task.metric.label}${unit}`, points })));
    }
    if (only.includes('recursive')) {
      say(`[recursive] ${values.updates} updates with prompt ${task.prompt.recursivePrompt}`);
      const { finalParams: _final, ...recursive } = await recursivePrompting(trained, task, params, {
        ...sampler,
        updates: values.updates,
        onProgress: (e) => {
          if (e.type === 'update') progress.finish();
          else progress.onProgress(e);
        },
      });
      progress.finish();
      say(`mean ${task.metric.name} after 0..${values.updates} updates: ${recursive.meanMetric.map(f).join(' -> ')}`);
      report = { ...report, recursive };
      const series = recursive.metrics.map((m, n) => ({ name: `net ${n}`, points: m.map((y, x) => ({ x, y })) }));
      files.push(await writePlot(out, 'recursive', await lineChart({ title: `${task.name}: recursive prompting (prompt ${recursive.prompt})`, xTitle: 'G.pt updates', yTitle: `${task.metric.label}${unit}`, series, legendTitle: 'network' })));
    }
    if (only.includes('gradient')) {
      const objectiveTask = task.gradientObjective ? task : { ...task, gradientObjective: supervisedObjective(task) ?? undefined };
      // Cartpole has no training loss to take gradient steps on: its baseline is PPO.
      const ppoTask = !objectiveTask.gradientObjective && isCartpoleTask(task) ? task : null;
      if (!objectiveTask.gradientObjective && !ppoTask) {
        say(`[gradient] skipped: task ${task.name} has no training objective`);
      } else {
        const one = await optimize(trained, task, params, { ...sampler, prompt: task.prompt.bestPrompt });
        progress.finish();
        const meanAfter = one.samples.reduce((a, s) => a + s.metric, 0) / one.samples.length;
        const meanBefore = one.startMetric.reduce((a, b) => a + b, 0) / one.startMetric.length;
        const adamStepsPerIteration = ppoTask ? ppoTask.ppo.epochs * ppoTask.ppo.minibatches : undefined;
        const N = ppoTask ? values.ppoIterations : values.gradientSteps;
        const against = ppoTask ? `PPO lr ${ppoLrs.join(',')}, ${N} iterations of ${adamStepsPerIteration} Adam steps` : `Adam lr ${adamLrs.join(',')} and SGD lr ${sgdLrs.join(',')}, ${N} steps`;
        say(`[gradient] one G.pt update: ${task.metric.name} ${f(meanBefore)} -> ${f(meanAfter)}; ${against}`);
        let display: ProgressDisplay | null = null;
        const show = (e: { done: number; total: number }, text: string) => {
          display ??= new ProgressDisplay({ label: ppoTask ? 'PPO' : 'Adam/SGD', total: e.total });
          display.update({ done: e.done, text });
        };
        const gradient = ppoTask
          ? await ppoBaseline(ppoTask, params, { iterations: N, learningRates: ppoLrs, seed: values.seed, signal: interrupt.signal, onProgress: (e) => show(e, `lr ${e.lr} network ${e.network}`) })
          : await gradientBaseline(objectiveTask, params, { steps: N, learningRates: { adam: adamLrs, sgd: sgdLrs }, seed: values.seed, signal: interrupt.signal, onProgress: (e) => show(e, `${e.optimizer} lr ${e.lr}`) });
        (display as ProgressDisplay | null)?.finish();
        const worth = summarizeWorth(gradient, meanAfter);
        for (const w of worth.perCurve) say(worthLine(w, N, f, adamStepsPerIteration));
        report = { ...report, oneStep: { prompt: task.prompt.bestPrompt, sampler: one.sampler, meanBefore, meanAfter }, gradient, worth, ...(ppoTask ? { adamStepsPerPpoIteration: adamStepsPerIteration } : {}) };
        files.push(await writePlot(out, 'gpt-vs-gradient', await baselineChart({ task: task.name, metric: task.metric, baseline: gradient, meanAfter })));
      }
    }
    if (only.includes('samplers')) {
      say(`[samplers] ${samplerSpecs.length} samplers on the same ${params.length} networks (one update + alignment sweep)`);
      const samplers = await compareSamplers(trained, task, params, samplerSpecs, { seed: values.seed, signal: interrupt.signal, onProgress: progress.onProgress });
      progress.finish();
      for (const r of samplers.results) say(`${r.sampler.padEnd(10)} one update ${f(r.oneStepMetric)}, R² ${f(r.promptAlignment)} (median ${f(r.medianR2)}), ${r.samplingSeconds.toFixed(1)} s of sampling (${r.speedup.toFixed(1)}x)`);
      report = { ...report, samplers };
    }
    const file = join(out, 'eval.json');
    files.push(file);
    await writeFile(file, `${JSON.stringify(report, null, 1)}\n`);
    if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else say(`wrote ${files.join(', ')}`);
  } finally {
    progress.finish();
    interrupt.dispose();
    trained.model.dispose();
  }
}

/** One curve's line of the printout: its final metric and what one G.pt update is worth against it. */
function worthLine(w: StepsWorth, N: number, f: (v: number) => string, adamStepsPerIteration?: number): string {
  if (w.optimizer !== 'ppo') return `${w.optimizer} lr ${w.lr}: after ${N} steps ${f(w.finalMetric)}; one G.pt update is worth ${w.steps ?? `more than ${N}`} steps`;
  const adamSteps = w.steps === null ? `more than ${N * adamStepsPerIteration!}` : `${w.steps * adamStepsPerIteration!}`;
  return `ppo lr ${w.lr}: after ${N} iterations ${f(w.finalMetric)}; one G.pt update is worth ${w.steps ?? `more than ${N}`} PPO iterations (${adamSteps} Adam steps)`;
}
