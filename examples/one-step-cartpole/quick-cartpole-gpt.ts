// The Cartpole G.pt this example evaluates: a `gpt train` folder (--gpt), or a small one trained
// here on a REDUCED PPO recipe so that data and training take minutes on a CPU: runs of PPO are
// saved as a checkpoint dataset, then a narrow G.pt learns from them. Both steps resume: a second
// start with the same --out and settings reuses the dataset and the trained model.
import { join } from 'node:path';
import { logRunsWritten, logTrainingSteps } from '../multimodality-landscape/quick-gpt.js';
import { createCartpoleTask, generateDataset, loadTrainedGpt, trainGpt, type CartpoleRecipe, type CartpoleTask, type TrainedGpt } from '@gpt/g-pt';

/**
 * PPO_DEFAULTS (the paper's recipe plus the two CartPole-v1 fixes) with a smaller rollout and
 * update and a higher learning rate: 64 envs x 32 steps, 4 epochs x 2 minibatches, lr 3e-3 (cosine),
 * 100 iterations. A run takes ~3 s here instead of ~53 s and ends at 320-480 (seeds 0-2,
 * measured), so the dataset still spans a random policy (~20) to near the 500 cap.
 */
export const QUICK_RECIPE: Readonly<Partial<CartpoleRecipe>> = { numEnvs: 64, numSteps: 32, iterations: 100, epochs: 4, minibatches: 2, learningRate: 3e-3 };

/** The backbone trained here: 2 blocks of width 64, one token per tensor (Cartpole's 7 tensors). */
export const QUICK_MODEL = { nEmbd: 64, nLayer: 2, nHead: 2, splitPolicy: 'layer_by_layer' } as const;

export interface QuickCartpoleGptOptions {
  /** A `gpt train` output folder of the cartpole task; when given, nothing is trained. */
  readonly gpt?: string;
  /** The PPO settings of the task (the baseline's, and the dataset's when trained here). */
  readonly recipe: Partial<CartpoleRecipe>;
  readonly runs: number;
  readonly checkpoints: number;
  readonly steps: number;
  readonly out: string;
  readonly seed: number;
  readonly signal: AbortSignal;
  readonly log: (line: string) => void;
}

export async function quickCartpoleGpt(options: QuickCartpoleGptOptions): Promise<{ trained: TrainedGpt; task: CartpoleTask }> {
  const task = await createCartpoleTask({ recipe: options.recipe });
  if (options.gpt) {
    options.log(`loading the G.pt of the training folder ${options.gpt}`);
    const trained = await loadTrainedGpt(options.gpt);
    if (trained.task !== 'cartpole') {
      trained.model.dispose();
      throw new Error(`--gpt: ${options.gpt} holds a G.pt of task "${trained.task}"; this example needs one of "cartpole"`);
    }
    return { trained, task };
  }
  const settings = `cartpole-${options.runs}x${options.checkpoints}-${recipeName(options.recipe)}`;
  const dataset = join(options.out, `dataset-${settings}`);
  options.log(`dataset: ${options.runs} PPO runs with ${options.checkpoints} checkpoints each in ${dataset} (runs already there are kept)`);
  await generateDataset({
    task: 'cartpole',
    taskOptions: { recipe: options.recipe },
    runs: options.runs,
    out: dataset,
    checkpointsPerRun: options.checkpoints,
    numTestRuns: Math.max(1, Math.floor(options.runs / 8)),
    workers: 0,
    signal: options.signal,
    onProgress: logRunsWritten(options.log),
  });
  const out = join(options.out, `gpt-${settings}`);
  const batchSize = 64;
  options.log(`G.pt: width ${QUICK_MODEL.nEmbd}, ${QUICK_MODEL.nLayer} blocks, ${options.steps} steps of batch ${batchSize}, in ${out} (resumes a run there)`);
  const result = await trainGpt({
    data: dataset,
    task: 'cartpole',
    preset: 'cartpole-small',
    model: QUICK_MODEL,
    batchSize,
    lr: 1e-3,
    gradClip: 1,
    schedule: { kind: 'constant', warmupSteps: Math.min(50, Math.floor(options.steps / 10)) },
    ema: { decay: 0.99 },
    steps: options.steps,
    seed: options.seed,
    evalEvery: 0,
    checkpointEvery: Math.max(50, options.steps),
    out,
    resume: true,
    signal: options.signal,
    onProgress: logTrainingSteps(options.log),
  });
  if (result.trained.step !== options.steps) options.log(`  the folder's G.pt is at step ${result.trained.step}`);
  return { trained: result.trained, task };
}

/** A folder-name tag of the recipe's overrides, so another recipe gets another dataset. */
function recipeName(recipe: Partial<CartpoleRecipe>): string {
  const entries = Object.entries(recipe);
  return entries.length === 0 ? 'defaults' : entries.map(([k, v]) => `${k}${v}`).join('-');
}
