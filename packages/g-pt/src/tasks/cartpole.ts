// The Cartpole task (gpt-paper.md §1.4): @gpt/rl-cartpole's Gaussian MLP policy (log_std,
// actor 4-32-32-1 SELU; D = 1,250; the critic is trained but never saved) trained with PPO
// (PPO_DEFAULTS: the paper's recipe plus the two CartPole-v1 fixes documented there). The
// metric train_ret is the mean return of the last 200 finished training episodes at the
// saved iteration; for the initialization, the mean return of an evaluation with sampled
// actions over more than 200 episodes (the paper's run_test). A run saves checkpointsPerRun
// of its 0..iterations PPO iterations as §1.5.
//
// Draws of run r: trainPpo runs with seed = runStreams(r).initSeed; its generator draws the
// policy first (so createNetwork(new Generator(initSeed)) is exactly the run's
// initialization), then the critic, the environment and evaluation seeds and the action
// noise. The saved iterations come from scheduleSeed as for every task (run-schedule.ts);
// dataSeed seeds the evaluations of checkpoints saved before any episode finished.
import type { RunData } from '@gpt/checkpoints';
import { CARTPOLE_TASK } from '@gpt/checkpoints';
import { evaluatePolicy, GaussianMlpPolicy, PPO_DEFAULTS, trainPpo, type PpoConfig } from '@gpt/rl-cartpole';
import { Generator } from '@gpt/tensor';
import { networkTensors, permutationFor } from './network-layout.js';
import { checkCheckpointsPerRun, checkRuns, runStreams, savedIterations, yieldToEventLoop } from './run-schedule.js';
import type { Task, TaskFactory, TaskMetric, TrainRunsOptions } from './task.js';
import { optionalInteger, optionalObject, rejectUnknownOptions } from './task-options.js';

/** PPO settings a Cartpole task may override (the seed is the run's). */
export type CartpoleRecipe = Omit<PpoConfig, 'seed'>;

export interface CartpoleTaskOptions extends Record<string, unknown> {
  /** PPO overrides (iterations, numEnvs, learningRate, ...); PPO_DEFAULTS otherwise. */
  recipe?: Partial<CartpoleRecipe>;
  /** Seed of the environments and action noise of evaluate() (default 0). */
  evaluationSeed?: number;
}

const METRIC: TaskMetric = { name: 'train_ret', label: 'training return', unit: 'return', goal: 'maximize' };

export interface CartpoleTask extends Task {
  readonly ppo: Readonly<CartpoleRecipe>;
}

function resolveRecipe(overrides: Partial<CartpoleRecipe> | undefined): CartpoleRecipe {
  if (overrides && 'seed' in overrides) throw new Error('cartpole: recipe.seed cannot be set: run r is seeded by r');
  const given = Object.fromEntries(Object.entries(overrides ?? {}).filter(([, v]) => v !== undefined));
  const { seed: _seed, ...defaults } = PPO_DEFAULTS;
  for (const key of Object.keys(given)) {
    if (!(key in defaults)) throw new Error(`cartpole: unknown recipe setting "${key}"; known: ${Object.keys(defaults).join(', ')}`);
  }
  return { ...defaults, ...given } as CartpoleRecipe;
}

/** Builds the Cartpole task (no data to load: the environment is simulated). */
export async function createCartpoleTask(options: CartpoleTaskOptions = {}): Promise<CartpoleTask> {
  const name = 'cartpole';
  rejectUnknownOptions(name, options, ['recipe', 'evaluationSeed']);
  const ppo = resolveRecipe(optionalObject(name, options, 'recipe') as Partial<CartpoleRecipe> | undefined);
  const evaluationSeed = optionalInteger(name, options, 'evaluationSeed', 0) ?? 0;
  const createNetwork = (generator: Generator) => new GaussianMlpPolicy({ generator, logStdScale: ppo.logStdScale });
  const tensors = networkTensors(createNetwork, `task "${name}"`);
  const parameterCount = tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
  const totalIterations = ppo.iterations;
  const evaluateFlat = (vector: Float32Array, seed: number) =>
    evaluatePolicy(vector, { numEnvs: ppo.numEnvs, seed, maxEpisodeSteps: ppo.maxEpisodeSteps, logStdScale: ppo.logStdScale }).meanReturn;

  const trainRun = async (run: number, trainOptions: TrainRunsOptions): Promise<RunData> => {
    const streams = runStreams(run);
    const saved = savedIterations(new Generator(streams.scheduleSeed), totalIterations, trainOptions.checkpointsPerRun);
    const slotOf = new Map(Array.from(saved, (iteration, k) => [iteration, k]));
    const parameters = new Float32Array(saved.length * parameterCount);
    const returns = new Float64Array(saved.length);
    const fallbackSeeds = new Generator(streams.dataSeed);
    const result = await trainPpo({
      ...ppo,
      seed: streams.initSeed,
      checkpointIterations: saved,
      signal: trainOptions.signal,
      onCheckpoint: ({ iteration, flatPolicy, meanReturn }) => {
        const k = slotOf.get(iteration)!;
        parameters.set(flatPolicy, k * parameterCount);
        // Before any training episode has finished (tiny rollouts) there is no training return:
        // measure the checkpoint as the initialization is measured, with a seed of the run's own.
        returns[k] = Number.isFinite(meanReturn) ? meanReturn : evaluateFlat(flatPolicy, fallbackSeeds.int(0, 2 ** 30));
      },
      onIteration: async (stats) => {
        trainOptions.onProgress?.({ type: 'run-progress', run, done: stats.iteration, total: totalIterations });
        if (stats.iteration % 10 === 0) await yieldToEventLoop();
      },
    });
    result.policy.dispose();
    result.critic.dispose();
    return { parameters, iterations: Array.from(saved), metrics: { train_ret: returns } };
  };

  const task: CartpoleTask = {
    name,
    dataset: CARTPOLE_TASK.name,
    description: 'Cartpole Gaussian MLP policy (1,250 parameters) trained with PPO on CartPole-v1 (continuous force); G.pt conditioned on the training return',
    tensors,
    parameterCount,
    permutation: permutationFor(tensors, CARTPOLE_TASK.permutation, `task "${name}"`),
    datasetMetrics: CARTPOLE_TASK.metrics,
    metric: METRIC,
    prompt: { bestPrompt: 500, promptStartCoefficient: 1.0, recursivePrompt: 500 },
    recipe: { ...ppo, algorithm: 'ppo', evaluationSeed },
    ppo,
    createNetwork,
    trainRuns: async (runs, trainOptions) => {
      checkRuns(`${name}.trainRuns`, runs);
      checkCheckpointsPerRun(trainOptions.checkpointsPerRun, totalIterations);
      const results: RunData[] = [];
      for (const run of runs) results.push(await trainRun(run, trainOptions));
      return results;
    },
    evaluate: async (params, evaluateOptions = {}) => {
      if (!Array.isArray(params)) throw new Error(`${name}.evaluate: params must be an array of Float32Array vectors`);
      params.forEach((p, i) => {
        if (!(p instanceof Float32Array) || p.length !== parameterCount) {
          throw new Error(`${name}.evaluate: params[${i}] must be a Float32Array of ${parameterCount} values, got ${p instanceof Float32Array ? `${p.length} values` : Object.prototype.toString.call(p)}`);
        }
      });
      const records: Record<string, number>[] = [];
      for (const vector of params) {
        evaluateOptions.signal?.throwIfAborted();
        records.push({ train_ret: evaluateFlat(vector, evaluationSeed) });
        await yieldToEventLoop();
      }
      return records;
    },
  };
  return task;
}

export const CARTPOLE_FACTORY: TaskFactory<CartpoleTaskOptions> = {
  name: 'cartpole',
  description: 'Cartpole Gaussian MLP policy (D 1,250) trained with PPO, conditioned on train_ret; options: recipe (PPO settings), evaluationSeed',
  create: (options) => createCartpoleTask(options),
};
