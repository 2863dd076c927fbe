// The G.pt model the evaluation examples (multimodality-landscape, prompt-sweep, latent-walk)
// work on: the training folder of a `gpt train` run (--gpt DIR), or, without one, a small
// G.pt trained on the spot: runs of the task's network are trained and saved as a checkpoint
// dataset, then a narrow G.pt learns from them. For a task the `gpt demo` has settings for
// (moons_loss, mnist_error: DEMO_PRESETS) those are the defaults (runs, checkpoints, backbone,
// batch, learning rate), with fewer training steps (QUICK_STEPS); other tasks get a small
// fallback. Both steps resume: another
// example (or a second start) with the same --out and settings reuses the dataset and the
// trained model instead of redoing them.
//
// Such a G.pt is far below the paper's models (and below the 9.5M reference of
// gpt-paper.md §8): the examples show the evaluations, not a good G.pt.
import { join } from 'node:path';
import { DEMO_PRESETS, createTask, generateDataset, loadTrainedGpt, trainGpt, type DatasetProgressEvent, type Task, type TrainedGpt, type TrainEvent } from '@gpt/g-pt';

export { unseenInitializations } from '@gpt/g-pt';

export interface QuickGptOptions {
  /** A `gpt train` output folder; when given, nothing is trained. */
  readonly gpt?: string;
  /** Task registry name (used when training here). */
  readonly task: string;
  /** The task's data folder (its dataDir option; CIFAR-10 needs one, MNIST defaults to the bundled digits). */
  readonly taskData?: string;
  /** Training runs of the task network in the dataset (default: the demo's, else 24). */
  readonly runs?: number;
  /** Checkpoints saved per run (default: the demo's, else 20). */
  readonly checkpoints?: number;
  /** G.pt training steps (default: QUICK_STEPS for the task, else 600). */
  readonly steps?: number;
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

/**
 * Default training steps: fewer than the demo trains (its budget is 10 minutes for the whole
 * pipeline; these examples keep the first run to a few), enough for moons_loss to align
 * (R² 0.71 after 2,500 steps, measured). Other tasks: 600.
 */
export const QUICK_STEPS: Readonly<Record<string, number>> = { moons_loss: 2500 };

/** The fallback backbone for tasks without demo settings: 2 blocks of width 64 (about 1.7M parameters for MNIST's D = 7,960). */
export const QUICK_MODEL = { nEmbd: 64, nLayer: 2, nHead: 2, splitPolicy: 'chunk_within_layer', chunkSize: 1000 } as const;

export async function quickGpt(options: QuickGptOptions): Promise<QuickGpt> {
  if (options.gpt) {
    options.log(`loading the G.pt of the training folder ${options.gpt}`);
    const trained = await loadTrainedGpt(options.gpt);
    return { trained, task: await createTask(trained.task, taskOptions(options)), dataset: null };
  }
  const demo = DEMO_PRESETS[options.task];
  const runs = options.runs ?? demo?.runs ?? 24;
  const checkpoints = options.checkpoints ?? demo?.checkpointsPerRun ?? 20;
  const steps = options.steps ?? QUICK_STEPS[options.task] ?? 600;
  const model = demo?.model ?? QUICK_MODEL;
  const batchSize = demo?.batchSize ?? 32;
  const settings = `${options.task}-${runs}x${checkpoints}`;
  const dataset = join(options.out, `dataset-${settings}`);
  options.log(`dataset: ${runs} runs of ${options.task} with ${checkpoints} checkpoints each in ${dataset} (runs already there are kept)`);
  await generateDataset({
    task: options.task,
    taskOptions: taskOptions(options),
    runs,
    out: dataset,
    checkpointsPerRun: checkpoints,
    numTestRuns: Math.max(1, Math.floor(runs / 8)),
    signal: options.signal,
    onProgress: logRunsWritten(options.log),
  });
  const out = join(options.out, `gpt-${settings}`);
  options.log(`G.pt: width ${model.nEmbd}, ${model.nLayer} blocks, ${steps} steps of batch ${batchSize}, in ${out} (resumes a run there)`);
  const result = await trainGpt({
    data: dataset,
    task: options.task,
    preset: 'mnist-small',
    model,
    batchSize,
    lr: demo?.lr ?? 1e-3,
    schedule: { kind: 'constant', warmupSteps: Math.min(50, Math.floor(steps / 10)) },
    ema: { decay: 0.99 },
    steps,
    seed: options.seed ?? 0,
    evalEvery: 0,
    checkpointEvery: Math.max(50, steps),
    out,
    resume: true,
    signal: options.signal,
    onProgress: logTrainingSteps(options.log),
  });
  // A folder trained further earlier (more --steps) keeps its model: say which step it is at.
  if (result.trained.step !== steps) options.log(`  the folder's G.pt is at step ${result.trained.step}`);
  const task = await createTask(result.trained.task, taskOptions(options));
  return { trained: result.trained, task, dataset };
}

/** The task's options: the demo's for the task (e.g. MNIST's training subset), plus the data folder. */
function taskOptions(options: QuickGptOptions): Record<string, unknown> {
  return { ...(DEMO_PRESETS[options.task]?.taskOptions ?? {}), ...(options.taskData === undefined ? {} : { dataDir: options.taskData }) };
}

/** The command-line options every evaluation example shares (spread into its defineCli options). */
export const QUICK_GPT_OPTIONS = {
  gpt: { type: 'string', placeholder: 'DIR', description: 'a `gpt train` output folder to evaluate (default: train a small G.pt here first)' },
  task: { type: 'string', default: 'moons_loss', description: 'task of the G.pt trained here (ignored with --gpt); moons_loss trains in under a minute' },
  taskData: { type: 'string', placeholder: 'DIR', description: "the task's data folder (CIFAR-10 needs its binary batches; MNIST uses the bundled digits without one)" },
  runs: { type: 'integer', min: 2, description: "runs in the dataset made here (default: the gpt demo's for the task, else 24)" },
  checkpoints: { type: 'integer', min: 2, description: "checkpoints saved per run in the dataset made here (default: the demo's, else 20)" },
  steps: { type: 'integer', min: 1, description: 'training steps of the G.pt trained here (default: 2500 for moons_loss, else 600)' },
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

/** generateDataset's onProgress for the examples: a line every 5 s and at the end. */
export function logRunsWritten(log: (line: string) => void): (event: DatasetProgressEvent) => void {
  let last = 0;
  return (event) => {
    if (event.type === 'run-written' && (performance.now() - last > 5000 || event.done === event.total)) {
      last = performance.now();
      log(`  runs ${event.done}/${event.total} (${event.runsPerHour.toFixed(0)} runs/hour)`);
    }
  };
}

/** trainGpt's onProgress for the examples: a line every 5 s and at the last step. */
export function logTrainingSteps(log: (line: string) => void): (event: TrainEvent) => void {
  let last = 0;
  return (event) => {
    if (event.type === 'step' && (performance.now() - last > 5000 || event.step === event.totalSteps)) {
      last = performance.now();
      log(`  step ${event.step}/${event.totalSteps}  loss ${event.loss.toFixed(4)}  ${event.stepsPerSecond.toFixed(1)} steps/s`);
    }
  };
}
