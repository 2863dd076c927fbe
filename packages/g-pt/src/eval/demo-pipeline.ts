// The whole G.pt pipeline at demo scale (what `gpt demo` runs): generate a checkpoint
// dataset of a task, train a G.pt on it, then on unseen random initializations measure the
// metric before, after one G.pt update and after N Adam/SGD steps, the prompt alignment,
// and write the results as JSON and plots. Every number in the report is measured by the
// task on the vectors in question.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { flattenParameters } from '@gpt/nn';
import { Generator } from '@gpt/tensor';
import type { GptConfig } from '@gpt/transformer';
import { generateDataset, type DatasetProgressEvent } from '../data/generate.js';
import { alignmentScatter } from '../plot/alignment-scatter.js';
import { baselineChart } from '../plot/baseline-chart.js';
import { writePlot } from '../plot/write-plot.js';
import { optimize, type OptimizeProgressEvent, type SamplerName } from '../sample/optimize.js';
import { createTask } from '../tasks/registry.js';
import { runStreams } from '../tasks/run-schedule.js';
import type { PromptConstants, Task } from '../tasks/task.js';
import type { TrainEvent } from '../train/events.js';
import { disposeBatch } from '../train/diffusion-loss.js';
import { GptTrainer } from '../train/trainer.js';
import { setPointer, writeCheckpoint } from '../train/train-state.js';
import type { TrainedGpt } from '../trained-gpt.js';
import { promptAlignment, type AlignmentReport } from './alignment.js';
import { gradientBaseline, summarizeWorth, supervisedObjective, type GradientBaselineProgressEvent, type GradientBaselineReport, type WorthSummary } from './gradient-baseline.js';

/** Run indices of the unseen initializations: far past any dataset's runs, so never trained on. */
export const UNSEEN_RUN_BASE = 900_000;

export interface DemoSettings {
  readonly task: string;
  readonly taskOptions: Readonly<Record<string, unknown>>;
  /** Runs of the checkpoint dataset and checkpoints saved per run. */
  readonly runs: number;
  readonly checkpointsPerRun: number;
  /** Worker threads for the dataset (0: this thread). */
  readonly workers: number;
  /** The G.pt backbone. */
  readonly model: Partial<GptConfig>;
  readonly batchSize: number;
  readonly lr: number;
  /** Training stops after this many steps or this many seconds, whichever comes first. */
  readonly trainSteps: number;
  readonly trainSeconds: number;
  /** Unseen initializations optimized; the first alignmentNetworks of them also get the prompt sweep. */
  readonly networks: number;
  readonly alignmentNetworks: number;
  readonly sampler: SamplerName;
  readonly sampleSteps: number;
  /** The prompt of the one-step update (default: the task's best prompt). */
  readonly prompt?: number;
  /** Adam/SGD steps of the gradient baseline, and its learning-rate sweeps. */
  readonly gradientSteps: number;
  readonly adamLearningRates: readonly number[];
  readonly sgdLearningRates: readonly number[];
  readonly seed: number;
  /** Output folder: dataset/, report.json and the plots. */
  readonly out: string;
}

/** The demo's defaults per task: what fits 10 minutes on a 2-core CPU. */
export const DEMO_PRESETS: Readonly<Record<string, Omit<DemoSettings, 'out' | 'seed'>>> = {
  moons_loss: {
    task: 'moons_loss',
    taskOptions: {},
    runs: 500,
    checkpointsPerRun: 50,
    workers: 0,
    model: { nEmbd: 64, nLayer: 2, nHead: 2, splitPolicy: 'layer_by_layer' },
    batchSize: 256,
    lr: 2e-3,
    trainSteps: 4000,
    trainSeconds: 450,
    networks: 32,
    alignmentNetworks: 16,
    sampler: 'ddim',
    sampleSteps: 50,
    gradientSteps: 100,
    adamLearningRates: [1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1],
    sgdLearningRates: [1e-2, 3e-2, 1e-1, 3e-1, 1, 3],
  },
  mnist_error: {
    task: 'mnist_error',
    // The bundled 8,000 training digits for 2 epochs (125 SGD steps, runs end near 10% test
    // error): 300 runs take about a minute.
    taskOptions: { recipe: { epochs: 2 } },
    runs: 300,
    checkpointsPerRun: 50,
    workers: 0,
    model: { nEmbd: 128, nLayer: 2, nHead: 4, splitPolicy: 'chunk_within_layer', chunkSize: 1000 },
    batchSize: 64,
    lr: 1e-3,
    trainSteps: 2000,
    trainSeconds: 300,
    networks: 16,
    alignmentNetworks: 8,
    sampler: 'ddim',
    sampleSteps: 50,
    gradientSteps: 50,
    adamLearningRates: [1e-3, 1e-2],
    sgdLearningRates: [1e-1],
  },
};

export type DemoEvent =
  | { readonly type: 'phase'; readonly phase: 'task' | 'data' | 'train' | 'one-step' | 'alignment' | 'gradient' | 'plots'; readonly text: string }
  | { readonly type: 'data'; readonly event: DatasetProgressEvent }
  | { readonly type: 'train'; readonly event: TrainEvent }
  | { readonly type: 'sample'; readonly event: OptimizeProgressEvent }
  | { readonly type: 'gradient'; readonly event: GradientBaselineProgressEvent };

export interface DemoReport {
  readonly task: { readonly name: string; readonly description: string; readonly parameterCount: number; readonly metric: string; readonly unit: string; readonly prompt: PromptConstants };
  readonly settings: Omit<DemoSettings, 'out'>;
  readonly dataset: { readonly dir: string; readonly runs: number; readonly written: number; readonly seconds: number; readonly meanFinalMetric: number };
  readonly training: { readonly dir: string; readonly steps: number; readonly seconds: number; readonly stoppedBy: 'steps' | 'time'; readonly modelParameters: number; readonly finalLoss: number | null; readonly normalizationCoefficient: number };
  readonly oneStep: {
    readonly prompt: number;
    readonly sampler: string;
    readonly before: number[];
    readonly after: number[];
    readonly meanBefore: number;
    readonly meanAfter: number;
    readonly samplingSeconds: number;
  };
  readonly alignment: AlignmentReport;
  /** The same sweep up to 1 x the start metric, when the task's coefficient is smaller (else null). */
  readonly alignmentFullRange: AlignmentReport | null;
  readonly gradient: GradientBaselineReport | null;
  readonly worth: WorthSummary | null;
  readonly seconds: { readonly data: number; readonly train: number; readonly evaluation: number; readonly total: number };
  readonly files: string[];
}

/** The unseen initializations: the network of run UNSEEN_RUN_BASE + i, drawn as a run would draw it. */
export function unseenInitializations(task: Task, count: number, seed = 0): Float32Array[] {
  return Array.from({ length: count }, (_, i) => {
    const network = task.createNetwork(new Generator(runStreams(UNSEEN_RUN_BASE + seed * 10_000 + i).initSeed));
    const flat = flattenParameters(network);
    const values = Float32Array.from(flat.dataSync() as Float32Array);
    flat.dispose();
    network.dispose();
    return values;
  });
}

export async function runDemo(settings: DemoSettings, options: { signal?: AbortSignal; onEvent?: (event: DemoEvent) => void } = {}): Promise<DemoReport> {
  const { signal } = options;
  const emit = options.onEvent ?? (() => undefined);
  const started = performance.now();
  const seconds = (from: number) => (performance.now() - from) / 1000;

  emit({ type: 'phase', phase: 'task', text: `task ${settings.task}` });
  const task = await createTask(settings.task, { ...settings.taskOptions });

  // 1. The checkpoint dataset (runs already on disk from an earlier demo are kept).
  const dataStart = performance.now();
  const datasetDir = join(settings.out, 'dataset');
  emit({ type: 'phase', phase: 'data', text: `${settings.runs} training runs of ${task.name} (${task.parameterCount} parameters), ${settings.checkpointsPerRun} checkpoints each -> ${datasetDir}` });
  const dataset = await generateDataset({
    task: settings.task,
    taskOptions: { ...settings.taskOptions },
    runs: settings.runs,
    out: datasetDir,
    checkpointsPerRun: settings.checkpointsPerRun,
    workers: settings.workers,
    noSync: true,
    signal,
    onProgress: (event) => emit({ type: 'data', event }),
  });
  const dataSeconds = seconds(dataStart);

  // 2. G.pt, stopped by the step count or the time budget, whichever comes first: the demo
  // drives the trainer step by step (trainGpt's abort would discard the model).
  const trainStart = performance.now();
  emit({ type: 'phase', phase: 'train', text: `G.pt ${JSON.stringify(settings.model)}, batch ${settings.batchSize}, lr ${settings.lr}, up to ${settings.trainSteps} steps or ${settings.trainSeconds} s` });
  const trainer = await GptTrainer.create({
    data: datasetDir,
    task,
    model: settings.model,
    batchSize: settings.batchSize,
    lr: settings.lr,
    weightDecay: 0.1,
    gradClip: 0.75,
    schedule: { kind: 'constant', warmupSteps: 100 },
    epochSize: 100_800,
    ema: { decay: 0.999, earlyDecay: 0.99, earlySteps: 1000 },
    steps: settings.trainSteps,
    evalEvery: 0,
    seed: settings.seed,
    onProgress: (event) => emit({ type: 'train', event }),
  });
  const modelDir = join(settings.out, 'gpt');
  let trained: TrainedGpt;
  let stoppedBy: 'steps' | 'time' = 'steps';
  let finalLoss: number | null = null;
  const modelParameters = trainer.model.parameters().reduce((n, p) => n + p.size, 0);
  try {
    emit({ type: 'train', event: { type: 'start', step: 0, totalSteps: settings.trainSteps, batchSize: settings.batchSize, stepsPerEpoch: trainer.stepsPerEpoch, modelParameters, device: trainer.plan.device, resumed: false } });
    while (trainer.step < settings.trainSteps) {
      signal?.throwIfAborted();
      const elapsed = seconds(trainStart);
      if (elapsed >= settings.trainSeconds) {
        stoppedBy = 'time';
        break;
      }
      const batch = await trainer.drawBatch();
      try {
        const result = await trainer.trainStep(batch);
        finalLoss = result.loss;
        const rate = trainer.step / seconds(trainStart);
        emit({
          type: 'train',
          event: { type: 'step', ...result, totalSteps: settings.trainSteps, epoch: trainer.step / trainer.stepsPerEpoch, stepsPerSecond: rate, pairsPerSecond: rate * settings.batchSize, elapsedSeconds: seconds(trainStart), etaSeconds: (settings.trainSteps - trainer.step) / rate },
        });
      } finally {
        disposeBatch(batch);
      }
    }
    trained = trainer.trainedGpt();
    emit({ type: 'train', event: { type: 'done', step: trainer.step, elapsedSeconds: seconds(trainStart), aborted: false } });
    // Kept as a training folder, so `gpt optimize` / `gpt eval --model <out>/gpt` can use it.
    const relative = await writeCheckpoint(modelDir, { state: trainer.savedState(), model: trainer.model, emaModel: trained.model, optimizer: trainer.optimizer }, { noSync: true });
    await setPointer(modelDir, 'latest', relative, trainer.step, { noSync: true });
  } finally {
    await trainer.dispose(true);
  }
  const trainSteps = trainer.step;
  const trainSeconds = seconds(trainStart);

  // 3. One G.pt update of unseen initializations.
  const evalStart = performance.now();
  const inits = unseenInitializations(task, settings.networks, settings.seed);
  const prompt = settings.prompt ?? task.prompt.bestPrompt;
  emit({ type: 'phase', phase: 'one-step', text: `one G.pt update of ${inits.length} unseen initializations, prompt ${prompt} (${settings.sampler}-${settings.sampleSteps})` });
  const sampler = { sampler: settings.sampler, steps: settings.sampleSteps, seed: settings.seed, signal, onProgress: (event: OptimizeProgressEvent) => emit({ type: 'sample', event }) };
  const one = await optimize(trained, task, inits, { ...sampler, prompt });
  const after = one.samples.map((s) => s.metric);

  // 4. Prompt alignment on the first networks.
  emit({ type: 'phase', phase: 'alignment', text: `prompt alignment: ${settings.alignmentNetworks} networks x 20 prompts` });
  const alignment = await promptAlignment(trained, task, inits.slice(0, settings.alignmentNetworks), sampler);
  // Where the task's sweep stops short of the start metric, the sweep up to it too (reported beside).
  const fullRange = task.prompt.promptStartCoefficient === 1 ? null : await promptAlignment(trained, task, inits.slice(0, settings.alignmentNetworks), { ...sampler, promptStartCoefficient: 1 });

  // 5. Adam and SGD from the same initializations.
  const objectiveTask = task.gradientObjective ? task : withSupervisedObjective(task);
  let gradient: GradientBaselineReport | null = null;
  let worth: WorthSummary | null = null;
  if (objectiveTask) {
    emit({ type: 'phase', phase: 'gradient', text: `Adam and SGD, ${settings.gradientSteps} steps from the same initializations` });
    gradient = await gradientBaseline(objectiveTask, inits, {
      steps: settings.gradientSteps,
      learningRates: { adam: settings.adamLearningRates, sgd: settings.sgdLearningRates },
      seed: settings.seed,
      signal,
      onProgress: (event) => emit({ type: 'gradient', event }),
    });
    worth = summarizeWorth(gradient, mean(after));
  }
  const evaluationSeconds = seconds(evalStart);

  emit({ type: 'phase', phase: 'plots', text: `plots and report -> ${settings.out}` });
  const { out: _out, ...rest } = settings;
  const report: DemoReport = {
    task: { name: task.name, description: task.description, parameterCount: task.parameterCount, metric: task.metric.name, unit: task.metric.unit, prompt: task.prompt },
    settings: rest,
    dataset: { dir: datasetDir, runs: settings.runs, written: dataset.written.length, seconds: dataSeconds, meanFinalMetric: await meanFinalMetric(datasetDir, task) },
    training: { dir: modelDir, steps: trainSteps, seconds: trainSeconds, stoppedBy, modelParameters, finalLoss, normalizationCoefficient: trained.normalizationCoefficient },
    oneStep: { prompt, sampler: one.sampler, before: one.startMetric, after, meanBefore: mean(one.startMetric), meanAfter: mean(after), samplingSeconds: one.samplingSeconds },
    alignment,
    alignmentFullRange: fullRange,
    gradient,
    worth,
    seconds: { data: dataSeconds, train: trainSeconds, evaluation: evaluationSeconds, total: seconds(started) },
    files: [],
  };
  const files = await writeDemoOutputs(settings.out, report, task);
  trained.model.dispose();
  return { ...report, files };
}

/** A supervised task without its own objective gets the cross-entropy of its training set (minibatches of its recipe). */
function withSupervisedObjective(task: Task): Task | null {
  const objective = supervisedObjective(task);
  return objective ? { ...task, gradientObjective: objective } : null;
}

async function meanFinalMetric(datasetDir: string, task: Task): Promise<number> {
  const { CheckpointDataset } = await import('@gpt/checkpoints/node');
  const dataset = await CheckpointDataset.open(datasetDir);
  try {
    const values: number[] = [];
    for (const run of dataset.runs) {
      const series = await dataset.metric(run, task.metric.name);
      values.push(series[series.length - 1]!);
    }
    return mean(values);
  } finally {
    await dataset.close();
  }
}

/** report.json, the desired-vs-observed plot and the G.pt-vs-gradient plot (also re-renders them from a saved report). */
export async function writeDemoOutputs(out: string, report: DemoReport, task: Task): Promise<string[]> {
  await mkdir(out, { recursive: true });
  const unit = task.metric.unit ? ` (${task.metric.unit})` : '';
  const files: string[] = [];
  files.push(
    await writePlot(
      out,
      'desired-vs-observed',
      await alignmentScatter({
        title: `${task.name}: prompt alignment R² ${report.alignment.promptAlignment.toFixed(3)} (${report.alignment.sampler})`,
        desiredTitle: `prompted ${task.metric.label}${unit}`,
        observedTitle: `achieved ${task.metric.label}${unit}`,
        points: report.alignment.networks.flatMap((n) => n.prompts.map((p, i) => ({ desired: p, observed: n.achieved[i]!, group: `net ${n.network}` }))),
      }),
    ),
  );
  if (report.gradient) {
    // Every Adam learning rate and SGD at its best one (all of them in report.json), on a log axis
    // so the low-loss end where G.pt lands stays readable.
    const sgdBest = report.gradient.bestLearningRate.sgd;
    const shown = report.gradient.curves.filter((c) => c.optimizer === 'adam' || c.lr === sgdBest);
    const chart = await baselineChart({
      task: task.name,
      metric: task.metric,
      baseline: report.gradient,
      curves: shown,
      meanAfter: report.oneStep.meanAfter,
      meanBefore: report.oneStep.meanBefore,
      networks: report.oneStep.before.length,
      yScale: 'log',
    });
    files.push(await writePlot(out, 'gpt-vs-gradient', chart));
  }
  const reportFile = join(out, 'report.json');
  files.push(reportFile);
  await writeFile(reportFile, `${JSON.stringify({ ...report, files }, null, 1)}\n`);
  return files;
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
