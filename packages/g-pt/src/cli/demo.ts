// `gpt demo`: the whole G.pt pipeline on the CPU in under ten minutes (runDemo): a checkpoint
// dataset, a small G.pt, then one G.pt update of unseen random initializations against
// Adam and SGD, and the prompt alignment, with plots. `--task mnist_error` runs the same on
// the MNIST MLP at a small scale.
import { resolve } from 'node:path';
import '../tasks/builtin.js';
import { DEMO_PRESETS, runDemo, type DemoEvent, type DemoReport, type DemoSettings } from '../eval/demo-pipeline.js';
import { CliUsageError, defineCli, type CliValues } from './options.js';
import { ProgressDisplay, abortOnSigint, formatDuration } from './progress.js';
import { describeRuntime } from './runtime.js';

/** The demo's targets (issue: one update worth >= 10 Adam steps, R² >= 0.8, <= 10 minutes). */
export const DEMO_TARGETS = { adamSteps: 10, r2: 0.8, minutes: 10 } as const;

export const cli = defineCli({
  name: 'gpt demo',
  summary:
    'The whole G.pt pipeline on the CPU: generates a checkpoint dataset, trains a small G.pt on it, then on unseen random initializations ' +
    'prints the metric before, after one G.pt update and after N Adam/SGD steps, and the prompt alignment; writes report.json and plots to --out. ' +
    `Default task moons_loss: 7-9 minutes on 2 cores (G.pt training stops after 450 s), under the ${DEMO_TARGETS.minutes}-minute target; --task mnist_error runs the MNIST MLP at a small scale.`,
  options: {
    task: { type: 'string', choices: Object.keys(DEMO_PRESETS), default: 'moons_loss', description: 'the task (and its demo-scale defaults)' },
    out: { type: 'string', default: 'gpt-demo', placeholder: 'DIR', description: 'output folder: dataset/ (reused when complete), report.json, plots' },
    runs: { type: 'integer', min: 2, placeholder: 'N', description: 'training runs in the dataset (default: the task preset)' },
    checkpointsPerRun: { type: 'integer', min: 2, placeholder: 'N', description: 'checkpoints saved per run' },
    workers: { type: 'integer', min: 0, placeholder: 'N', description: 'worker threads for the dataset (0: this thread)' },
    trainSteps: { type: 'integer', min: 1, placeholder: 'N', description: 'G.pt training steps (at most)' },
    trainSeconds: { type: 'number', min: 1, placeholder: 'S', description: 'time budget of G.pt training; it stops at whichever comes first' },
    batchSize: { type: 'integer', min: 1, placeholder: 'N', description: 'pairs per G.pt training step' },
    lr: { type: 'number', min: 0, placeholder: 'X', description: 'learning rate of G.pt training' },
    width: { type: 'integer', min: 8, placeholder: 'D', description: 'G.pt transformer width' },
    layers: { type: 'integer', min: 1, placeholder: 'L', description: 'G.pt transformer layers' },
    heads: { type: 'integer', min: 1, placeholder: 'H', description: 'attention heads (must divide the width)' },
    networks: { type: 'integer', min: 1, placeholder: 'N', description: 'unseen initializations optimized' },
    alignNetworks: { type: 'integer', min: 1, placeholder: 'N', description: 'of which this many get the 20-prompt alignment sweep' },
    sampler: { type: 'string', choices: ['ddim', 'ddpm'], description: 'G.pt sampler (default ddim)' },
    sampleSteps: { type: 'integer', min: 1, placeholder: 'N', description: 'model calls per sample (default 50; ddpm with 1000 is the paper sampler)' },
    prompt: { type: 'number', placeholder: 'X', description: "prompted metric of the one-step update (default: the task's best prompt)" },
    gradientSteps: { type: 'integer', min: 1, placeholder: 'N', description: 'Adam/SGD steps of the baseline' },
    seed: { type: 'integer', default: 0, min: 0, description: 'seed of G.pt training, sampling and the unseen initializations' },
    json: { type: 'boolean', description: 'print the report as JSON on stdout (progress stays on stderr)' },
  },
});

type Values = CliValues<typeof cli.options>;

/** The settings of a run: the task preset with the flags given on top. */
export function demoSettings(values: Values): DemoSettings {
  const preset = DEMO_PRESETS[values.task];
  if (!preset) throw new CliUsageError(`--task "${values.task}" has no demo preset`, '--task');
  const model = { ...preset.model };
  if (values.width !== undefined) model.nEmbd = values.width;
  if (values.layers !== undefined) model.nLayer = values.layers;
  if (values.heads !== undefined) model.nHead = values.heads;
  if (model.nEmbd! % model.nHead! !== 0) throw new CliUsageError(`--heads ${model.nHead} does not divide the width ${model.nEmbd}`, '--heads');
  const networks = values.networks ?? preset.networks;
  return {
    ...preset,
    model,
    runs: values.runs ?? preset.runs,
    checkpointsPerRun: values.checkpointsPerRun ?? preset.checkpointsPerRun,
    workers: values.workers ?? preset.workers,
    trainSteps: values.trainSteps ?? preset.trainSteps,
    trainSeconds: values.trainSeconds ?? preset.trainSeconds,
    batchSize: values.batchSize ?? preset.batchSize,
    lr: values.lr ?? preset.lr,
    networks,
    alignmentNetworks: Math.min(networks, values.alignNetworks ?? preset.alignmentNetworks),
    sampler: (values.sampler as DemoSettings['sampler'] | undefined) ?? preset.sampler,
    sampleSteps: values.sampleSteps ?? (values.sampler === 'ddpm' ? 1000 : preset.sampleSteps),
    prompt: values.prompt ?? preset.prompt,
    gradientSteps: values.gradientSteps ?? preset.gradientSteps,
    seed: values.seed,
    out: resolve(values.out),
  };
}

/** The lines `gpt demo` prints at the end: every number comes from the report. */
export function formatDemoSummary(report: DemoReport): string[] {
  const f = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(3));
  const unit = report.task.unit ? ` ${report.task.unit}` : '';
  const metric = report.task.metric;
  const lines = [
    '',
    `== G.pt demo: ${report.task.name} — ${report.task.description}`,
    `data:      ${report.dataset.runs} runs (${report.dataset.written} trained now) in ${formatDuration(report.dataset.seconds)}; runs end at ${metric} ${f(report.dataset.meanFinalMetric)}${unit} on average`,
    `G.pt:      ${report.training.modelParameters.toLocaleString('en-US')} parameters, ${report.training.steps} steps in ${formatDuration(report.training.seconds)} (stopped by ${report.training.stoppedBy === 'time' ? 'the time budget' : 'the step count'}), final loss ${report.training.finalLoss?.toFixed(5) ?? '-'}`,
    `one step:  ${report.oneStep.before.length} unseen random initializations, prompt ${report.oneStep.prompt}, ${report.oneStep.sampler}:`,
    `           ${metric} ${f(report.oneStep.meanBefore)} before -> ${f(report.oneStep.meanAfter)} after one G.pt update (mean; ${report.oneStep.samplingSeconds.toFixed(1)} s of sampling)`,
  ];
  if (report.gradient && report.worth) {
    for (const optimizer of ['adam', 'sgd'] as const) {
      const curves = report.gradient.curves.filter((c) => c.optimizer === optimizer);
      if (curves.length === 0) continue;
      const name = optimizer === 'adam' ? 'Adam' : 'SGD';
      const bestLr = report.gradient.bestLearningRate[optimizer]!;
      const best = curves.find((c) => c.lr === bestLr)!;
      const at = (n: number) => {
        const k = best.steps.indexOf(n);
        return k < 0 ? null : `${n}: ${f(best.meanMetric[k]!)}`;
      };
      const marks = [1, 10, 100, 1000, report.gradient.curves[0]!.steps.at(-1)!].filter((n, i, a) => a.indexOf(n) === i).map(at).filter((s) => s !== null);
      lines.push(`${name.padEnd(10)} best lr ${bestLr} of the sweep: ${metric} after ${marks.join(', ')} steps`);
      const fewest = report.worth.fewest[optimizer]!;
      const atBest = report.worth.atBestLearningRate[optimizer]!;
      const steps = (s: number | null) => (s === null ? `more than ${best.steps.at(-1)}` : String(s));
      lines.push(`           one G.pt update is worth ${steps(fewest.steps)} ${name} steps (fewest over the sweep, lr ${fewest.lr}); ${steps(atBest.steps)} at lr ${atBest.lr}`);
    }
  } else {
    lines.push('gradient:  the task has no training objective, so no Adam/SGD baseline');
  }
  const a = report.alignment;
  const { bestPrompt, promptStartCoefficient } = report.task.prompt;
  lines.push(
    `alignment: R² ${a.promptAlignment.toFixed(3)} (median ${a.medianR2.toFixed(3)}) over ${a.networks.length} networks x ${a.networks[0]?.prompts.length ?? 0} prompts ` +
      `(${a.sampler}; prompts from ${bestPrompt} to ${promptStartCoefficient} x the start metric)`,
  );
  const full = report.alignmentFullRange;
  if (full) lines.push(`           R² ${full.promptAlignment.toFixed(3)} (median ${full.medianR2.toFixed(3)}) with the sweep up to 1 x the start metric`);
  const adamWorth = report.worth?.fewest.adam?.steps;
  const worthMet = adamWorth === null ? true : adamWorth !== undefined && adamWorth >= DEMO_TARGETS.adamSteps;
  const check = (ok: boolean) => (ok ? 'met' : 'NOT met');
  lines.push(
    `targets:   one update >= ${DEMO_TARGETS.adamSteps} Adam steps: ${report.worth ? check(worthMet) : 'n/a'}; R² >= ${DEMO_TARGETS.r2}: ${check(a.promptAlignment >= DEMO_TARGETS.r2)}; ` +
      `total ${formatDuration(report.seconds.total)} <= ${DEMO_TARGETS.minutes} min: ${check(report.seconds.total <= DEMO_TARGETS.minutes * 60)}`,
    `files:     ${report.files.join(', ')}; the G.pt model: ${report.training.dir}`,
  );
  return lines;
}

export async function main(values: Values): Promise<void> {
  const settings = demoSettings(values);
  const say = (line: string) => (values.json ? process.stderr : process.stdout).write(`${line}\n`);
  say(describeRuntime());
  const interrupt = abortOnSigint();
  let display: ProgressDisplay | null = null;
  const finish = () => {
    display?.finish();
    display = null;
  };
  const onEvent = (event: DemoEvent): void => {
    switch (event.type) {
      case 'phase':
        finish();
        say(`[${event.phase}] ${event.text}`);
        break;
      case 'data':
        if (event.event.type === 'started') display = new ProgressDisplay({ label: 'runs', total: event.event.total, initialDone: event.event.existing });
        if (event.event.type === 'run-written') display?.update({ done: event.event.done });
        if (event.event.type === 'finished') finish();
        break;
      case 'train':
        if (event.event.type === 'start') display = new ProgressDisplay({ label: 'train', total: event.event.totalSteps });
        if (event.event.type === 'step') display?.update({ done: event.event.step, text: `loss ${event.event.loss.toFixed(5)}` });
        if (event.event.type === 'done') finish();
        break;
      case 'sample':
        if (event.event.type === 'sample-step') {
          if (!display) display = new ProgressDisplay({ label: 'sample', total: event.event.steps * event.event.batches });
          display.update({ done: event.event.batch * event.event.steps + event.event.step });
          if (event.event.batch === event.event.batches - 1 && event.event.step === event.event.steps) finish();
        }
        break;
      case 'gradient':
        display ??= new ProgressDisplay({ label: 'Adam/SGD', total: event.event.total });
        display.update({ done: event.event.done, text: `${event.event.optimizer} lr ${event.event.lr}` });
        if (event.event.done === event.event.total) finish();
        break;
    }
  };
  try {
    const report = await runDemo(settings, { signal: interrupt.signal, onEvent });
    finish();
    if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else for (const line of formatDemoSummary(report)) say(line);
  } catch (error) {
    finish();
    if (interrupt.signal.aborted) {
      say(`stopped (${(interrupt.signal.reason as Error).message}); the runs already in ${settings.out}/dataset are kept and reused by the next demo`);
      process.exitCode = 130;
      return;
    }
    throw error;
  } finally {
    interrupt.dispose();
  }
}
