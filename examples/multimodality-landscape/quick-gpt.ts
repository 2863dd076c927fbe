// The G.pt model the evaluation examples (multimodality-landscape, prompt-sweep, latent-walk)
// work on: the training folder of a `gpt train` run (--gpt DIR), or, without one, a small
// G.pt trained on the spot: a few dozen runs of the task's network are trained and saved
// as a checkpoint dataset, then a narrow G.pt learns from them for a few hundred steps.
// Both steps resume: a second example (or a second start) with the same --out reuses the
// dataset and the trained model instead of redoing them.
//
// A G.pt this small, trained this briefly, is far below the paper's models (and below the
// 9.5M reference of gpt-paper.md §8): the examples show the evaluations, not a good G.pt.
import { join } from 'node:path';
import { createTask, generateDataset, loadTrainedGpt, trainGpt, type Task, type TrainedGpt } from '@gpt/g-pt';

export interface QuickGptOptions {
  /** A `gpt train` output folder; when given, nothing is trained. */
  readonly gpt?: string;
  /** Task registry name (used when training here). */
  readonly task: string;
  /** The task's data folder (its dataDir option; CIFAR-10 needs one, MNIST defaults to the bundled digits). */
  readonly taskData?: string;
  /** Training runs of the task network in the dataset. */
  readonly runs: number;
  /** Checkpoints saved per run. */
  readonly checkpoints: number;
  /** G.pt training steps. */
  readonly steps: number;
  /** Folder for the dataset and the G.pt training folder. */
  readonly out: string;
  readonly seed?: number;
  readonly signal?: AbortSignal;
  readonly log: (line: string) => void;
}

export interface QuickGpt {
  readonly trained: TrainedGpt;
  readonly task: Task;
  /** The checkpoint dataset the model learned from, when known (null for --gpt). */
  readonly dataset: string | null;
}

/** The backbone of the on-the-spot G.pt: 2 blocks of width 64 (about 1.7M parameters for MNIST's D = 7,960). */
export const QUICK_MODEL = { nEmbd: 64, nLayer: 2, nHead: 2, splitPolicy: 'chunk_within_layer', chunkSize: 1000 } as const;

export async function quickGpt(options: QuickGptOptions): Promise<QuickGpt> {
  if (options.gpt) {
    options.log(`loading the G.pt of the training folder ${options.gpt}`);
    const trained = await loadTrainedGpt(options.gpt);
    return { trained, task: await createTask(trained.task, taskOptions(options)), dataset: null };
  }
  const dataset = join(options.out, `dataset-${options.task}`);
  options.log(`dataset: ${options.runs} runs of ${options.task} with ${options.checkpoints} checkpoints each in ${dataset} (runs already there are kept)`);
  let lastLine = 0;
  await generateDataset({
    task: options.task,
    taskOptions: taskOptions(options),
    runs: options.runs,
    out: dataset,
    checkpointsPerRun: options.checkpoints,
    numTestRuns: Math.max(1, Math.floor(options.runs / 8)),
    signal: options.signal,
    onProgress: (event) => {
      if (event.type === 'run-written' && (performance.now() - lastLine > 5000 || event.done === event.total)) {
        lastLine = performance.now();
        options.log(`  runs ${event.done}/${event.total} (${event.runsPerHour.toFixed(0)} runs/hour)`);
      }
    },
  });
  const out = join(options.out, `gpt-${options.task}`);
  options.log(`G.pt: width ${QUICK_MODEL.nEmbd}, ${QUICK_MODEL.nLayer} blocks, ${options.steps} steps of batch 32, in ${out} (resumes a run there)`);
  lastLine = 0;
  const result = await trainGpt({
    data: dataset,
    task: options.task,
    preset: 'mnist-small',
    model: QUICK_MODEL,
    batchSize: 32,
    lr: 1e-3,
    schedule: { kind: 'constant', warmupSteps: Math.min(50, Math.floor(options.steps / 10)) },
    ema: { decay: 0.99 },
    steps: options.steps,
    seed: options.seed ?? 0,
    evalEvery: 0,
    checkpointEvery: Math.max(50, options.steps),
    out,
    resume: true,
    signal: options.signal,
    onProgress: (event) => {
      if (event.type === 'step' && (performance.now() - lastLine > 5000 || event.step === event.totalSteps)) {
        lastLine = performance.now();
        options.log(`  step ${event.step}/${event.totalSteps}  loss ${event.loss.toFixed(4)}  ${event.stepsPerSecond.toFixed(1)} steps/s`);
      }
    },
  });
  const task = await createTask(result.trained.task, taskOptions(options));
  return { trained: result.trained, task, dataset };
}

function taskOptions(options: QuickGptOptions): Record<string, unknown> {
  return options.taskData === undefined ? {} : { dataDir: options.taskData };
}

/** Unseen random initializations of the task network (seeds far from the dataset's run seeds). */
export async function unseenInitializations(task: Task, count: number, seed: number): Promise<Float32Array[]> {
  const { flattenParameters } = await import('@gpt/nn');
  const { Generator } = await import('@gpt/tensor');
  return Array.from({ length: count }, (_, i) => {
    const network = task.createNetwork(new Generator(1_000_000 + seed * 1000 + i));
    const flat = flattenParameters(network);
    const values = Float32Array.from(flat.dataSync() as Float32Array);
    flat.dispose();
    network.dispose();
    return values;
  });
}

/** The command-line options every evaluation example shares (spread into its defineCli options). */
export const QUICK_GPT_OPTIONS = {
  gpt: { type: 'string', placeholder: 'DIR', description: 'a `gpt train` output folder to evaluate (default: train a small G.pt here first)' },
  task: { type: 'string', default: 'mnist_error', description: 'task of the G.pt trained here (ignored with --gpt)' },
  taskData: { type: 'string', placeholder: 'DIR', description: "the task's data folder (CIFAR-10 needs its binary batches; MNIST uses the bundled digits without one)" },
  runs: { type: 'integer', default: 24, min: 2, description: 'runs in the dataset made here' },
  checkpoints: { type: 'integer', default: 20, min: 2, description: 'checkpoints saved per run in the dataset made here' },
  steps: { type: 'integer', default: 600, min: 1, description: 'training steps of the G.pt trained here' },
  out: { type: 'string', default: '.tmp/examples', placeholder: 'DIR', description: 'folder for the dataset, the trained G.pt and the results (reused by later runs)' },
  seed: { type: 'integer', default: 0, min: 0, description: 'seed of the networks and the sampling noise' },
} as const;

/** The sampler options of the examples that sample with optimize(). */
export const SAMPLER_OPTIONS = {
  prompt: { type: 'number', description: "prompted metric (default: the task's best prompt)" },
  sampler: { type: 'string', default: 'ddim', choices: ['ddim', 'ddpm'], description: 'sampler (DDIM eta 0, or ancestral DDPM)' },
  samplerSteps: { type: 'integer', min: 1, description: 'model calls per sample (default: 50 for DDIM, all training steps for DDPM)' },
} as const;

/** An AbortSignal that Ctrl-C fires (the example stops at its next check and reports); call release() when done. */
export function interruptOnCtrlC(): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  return { signal: controller.signal, release: () => process.off('SIGINT', onSignal) };
}
