// PPO on the vectorized CartPole with the G.pt paper's Cartpole recipe as defaults
// (data_gen/train_rl.py + configs/rl/train/Cartpole.yaml): 512 envs x 16 steps per iteration,
// 8 epochs x 2 sequential minibatches, Adam 3e-4 with cosine decay, gamma 0.99, GAE lambda 0.95,
// clip 0.2, no entropy bonus, value coefficient 2, grad-norm clip 2, normalized advantages,
// 500 iterations (PPO_PAPER). PPO_DEFAULTS adds two changes for Gymnasium's CartPole-v1: episodes
// cut by the time limit are bootstrapped with V(final observation) (a correctness fix; the paper's
// code treats truncation as termination) and rewards are scaled by 0.01 for GAE and the critic.
// A checkpoint callback receives the flat policy vector and the mean return of the last 200
// finished training episodes, which is how G.pt's data generation saves checkpoints.

import { flattenParameters, loadFlat, parameterSizes } from '@gpt/nn';
import { Generator, tensor } from '@gpt/tensor';
import { CARTPOLE } from './cartpole.js';
import { evaluatePolicy } from './evaluate.js';
import { ACTION_SIZE, CartPoleCritic, GaussianMlpPolicy, OBSERVATION_SIZE } from './policy.js';
import { computeGae, normalizeAdvantages } from './ppo-math.js';
import { FlatAdam, ppoMinibatchStep, type HostMinibatch } from './ppo-update.js';
import { act, allocateActOutput, allocateTruncationScratch, readLogStd, truncationValues } from './rollout.js';
import { CartPoleVectorEnv } from './vector-cartpole.js';

export interface PpoConfig {
  /** Environments stepped together. */
  numEnvs: number;
  /** Steps per environment per iteration. */
  numSteps: number;
  /** Learning iterations (rollout + update). */
  iterations: number;
  /** Passes over each rollout. */
  epochs: number;
  /** Sequential (unshuffled) minibatches per epoch, as the paper's SequentialSampler. */
  minibatches: number;
  learningRate: number;
  /** 'cosine': lr0 * (1 + cos(pi * (iteration + epoch / epochs) / iterations)) / 2, set per epoch; 'constant'. */
  lrSchedule: 'cosine' | 'constant';
  gamma: number;
  gaeLambda: number;
  clip: number;
  entropyCoef: number;
  valueCoef: number;
  maxGradNorm: number;
  normalizeAdvantages: boolean;
  /** Seeds the networks, environments and action noise. */
  seed: number;
  /** Truncation limit of the environments. */
  maxEpisodeSteps: number;
  /** How many finished training episodes the checkpoint metric averages. */
  returnWindow: number;
  /** The policy's action std is exp(logStdScale * log_std); 2 as in the paper's code (see GaussianMlpPolicyOptions). */
  logStdScale: number;
  /**
   * Bootstrap an episode cut by the time limit with gamma V(final observation) (Gymnasium's
   * terminated/truncated distinction). true by default; false treats truncation as termination,
   * as the paper's code and CleanRL do.
   */
  bootstrapTruncated: boolean;
  /** Rewards are multiplied by this before GAE (the critic learns scaled returns); the policy and the reported returns are unaffected. */
  rewardScale: number;
}

/**
 * The defaults: the paper's Cartpole recipe, plus two changes for Gymnasium's CartPole-v1 (README,
 * "Measured"): time-limit truncations are bootstrapped (a correctness fix) and rewards are scaled
 * by 0.01 for GAE and the critic (the paper's recipe alone reached 190-416 of 500 on these dynamics).
 */
export const PPO_DEFAULTS: Readonly<PpoConfig> = Object.freeze({
  numEnvs: 512,
  numSteps: 16,
  iterations: 500,
  epochs: 8,
  minibatches: 2,
  learningRate: 3e-4,
  lrSchedule: 'cosine',
  gamma: 0.99,
  gaeLambda: 0.95,
  clip: 0.2,
  entropyCoef: 0,
  valueCoef: 2.0,
  maxGradNorm: 2.0,
  normalizeAdvantages: true,
  seed: 0,
  maxEpisodeSteps: CARTPOLE.maxEpisodeSteps,
  returnWindow: 200,
  logStdScale: 2,
  bootstrapTruncated: true,
  rewardScale: 0.01,
});

/** The paper's recipe exactly (configs/rl/train/Cartpole.yaml, train_rl.py): rewards unscaled, truncation treated as termination. */
export const PPO_PAPER: Readonly<PpoConfig> = Object.freeze({ ...PPO_DEFAULTS, bootstrapTruncated: false, rewardScale: 1 });

export interface PolicyCheckpoint {
  /** Number of completed updates: 0 is the initialization. */
  iteration: number;
  /** The policy's state dict flattened in order (log_std, actor.0.weight, ...). [1250] */
  flatPolicy: Float32Array;
  /**
   * Mean return of the last `returnWindow` finished training episodes (fewer early on); at
   * iteration 0, of an evaluation with sampled actions over more than 200 episodes (the paper's run_test).
   */
  meanReturn: number;
}

export interface IterationStats {
  /** Completed updates (1-based). */
  iteration: number;
  iterations: number;
  /** Mean return of the last `returnWindow` finished training episodes; NaN before any finished. */
  meanReturn: number;
  finishedEpisodes: number;
  learningRate: number;
  surrogateLoss: number;
  /** Mean value loss, in units of the scaled rewards (rewardScale^2 times that of raw returns). */
  valueLoss: number;
  /** Mean global gradient 2-norm (actor + critic) before clipping, over the iteration's minibatch steps. */
  gradNorm: number;
  /** The action noise std, exp(logStdScale * log_std). */
  actionStd: number;
  rolloutSeconds: number;
  updateSeconds: number;
}

export interface PpoOptions extends Partial<PpoConfig> {
  /** Iterations (0..iterations) at which onCheckpoint runs; 0 is before the first update. */
  checkpointIterations?: Iterable<number>;
  onCheckpoint?: (checkpoint: PolicyCheckpoint) => void | Promise<void>;
  onIteration?: (stats: IterationStats) => void | Promise<void>;
  /** Checked between iterations; aborting rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Start from this policy (its flat parameters [1250] in flattenParameters order) instead of
   * the seed's initialization. The seed still draws the policy first, so the critic, the
   * environment seeds and the action noise are those of the same seed without it.
   */
  initialPolicy?: Float32Array;
}

export interface PpoResult {
  policy: GaussianMlpPolicy;
  critic: CartPoleCritic;
  config: PpoConfig;
  /** Per-iteration statistics. */
  history: IterationStats[];
}

function checkConfig(config: PpoConfig): void {
  const positiveIntegers = ['numEnvs', 'numSteps', 'iterations', 'epochs', 'minibatches', 'maxEpisodeSteps', 'returnWindow'] as const;
  for (const key of positiveIntegers) {
    if (!Number.isInteger(config[key]) || config[key] <= 0) throw new Error(`trainPpo: ${key} must be a positive integer, got ${config[key]}`);
  }
  const batch = config.numEnvs * config.numSteps;
  if (batch % config.minibatches !== 0) throw new Error(`trainPpo: numEnvs x numSteps (${batch}) must split into ${config.minibatches} equal minibatches`);
  if (!(Number.isFinite(config.rewardScale) && config.rewardScale > 0)) throw new Error(`trainPpo: rewardScale must be a positive number, got ${config.rewardScale}`);
  if (!(Number.isFinite(config.logStdScale) && config.logStdScale > 0)) throw new Error(`trainPpo: logStdScale must be a positive number, got ${config.logStdScale}`);
  const nonNegative = ['learningRate', 'gamma', 'gaeLambda', 'clip', 'entropyCoef', 'valueCoef', 'maxGradNorm'] as const;
  for (const key of nonNegative) {
    if (!(Number.isFinite(config[key]) && config[key] >= 0)) throw new Error(`trainPpo: ${key} must be a non-negative number, got ${config[key]}`);
  }
  if (config.lrSchedule !== 'cosine' && config.lrSchedule !== 'constant') throw new Error(`trainPpo: lrSchedule must be "cosine" or "constant", got ${JSON.stringify(config.lrSchedule)}`);
  if (typeof config.bootstrapTruncated !== 'boolean') throw new Error(`trainPpo: bootstrapTruncated must be a boolean, got ${config.bootstrapTruncated}`);
  if (!Number.isSafeInteger(config.seed)) throw new Error(`trainPpo: seed must be an integer, got ${config.seed}`);
}

/** The last `capacity` finished-episode returns (the paper's deque(maxlen=200)). */
class ReturnWindow {
  private readonly values: Float64Array;
  private count = 0;
  private next = 0;
  total = 0;

  constructor(capacity: number) {
    this.values = new Float64Array(capacity);
  }

  push(value: number): void {
    this.values[this.next] = value;
    this.next = (this.next + 1) % this.values.length;
    this.count = Math.min(this.count + 1, this.values.length);
    this.total++;
  }

  mean(): number {
    if (this.count === 0) return NaN;
    let sum = 0;
    for (let i = 0; i < this.count; i++) sum += this.values[i]!;
    return sum / this.count;
  }
}

/** The rollout of one iteration, time-major ([T, N, ...]); allocated once per run. */
interface RolloutBuffers {
  observations: Float32Array; // [T, N, 4]
  actions: Float32Array; // [T, N, A]
  logProbs: Float32Array; // [T, N]
  values: Float32Array; // [T, N]
  rewards: Float32Array; // [T, N]
  dones: Uint8Array; // [T, N]
  /** V(final observation) where the episode was truncated (not terminated) in that step, else 0. */
  bootstrapValues: Float32Array; // [T, N]
}

function allocateRollout(numSteps: number, numEnvs: number): RolloutBuffers {
  const size = numSteps * numEnvs;
  return {
    observations: new Float32Array(size * OBSERVATION_SIZE),
    actions: new Float32Array(size * ACTION_SIZE),
    logProbs: new Float32Array(size),
    values: new Float32Array(size),
    rewards: new Float32Array(size),
    dones: new Uint8Array(size),
    bootstrapValues: new Float32Array(size),
  };
}

/** The rollout cut into sequential minibatches; only the observations become tensors (made once per iteration, reused by every epoch). */
function makeMinibatches(rollout: RolloutBuffers, advantages: Float32Array, returns: Float32Array, count: number): HostMinibatch[] {
  const size = rollout.logProbs.length / count;
  return Array.from({ length: count }, (_, m) => {
    const from = m * size;
    const to = from + size;
    return {
      observations: tensor(rollout.observations.subarray(from * OBSERVATION_SIZE, to * OBSERVATION_SIZE), { shape: [size, OBSERVATION_SIZE] }),
      actions: rollout.actions.subarray(from * ACTION_SIZE, to * ACTION_SIZE),
      oldLogProbs: rollout.logProbs.subarray(from, to),
      advantages: advantages.subarray(from, to),
      returns: returns.subarray(from, to),
    };
  });
}

/** Overwrites the freshly drawn policy's values (in place: the parameter handles stay). */
function loadInitialPolicy(policy: GaussianMlpPolicy, initialPolicy: Float32Array): void {
  const expected = parameterSizes(policy).reduce((a, b) => a + b, 0);
  if (!(initialPolicy instanceof Float32Array) || initialPolicy.length !== expected) {
    policy.dispose();
    const got = initialPolicy instanceof Float32Array ? `${initialPolicy.length} values` : Object.prototype.toString.call(initialPolicy);
    throw new Error(`trainPpo: initialPolicy must be a Float32Array of ${expected} values (the policy's flat parameters), got ${got}`);
  }
  loadFlat(policy, initialPolicy);
}

/** Trains the paper's Gaussian MLP policy with PPO on continuous-action CartPole. */
export async function trainPpo(options: PpoOptions = {}): Promise<PpoResult> {
  const { checkpointIterations = [], onCheckpoint, onIteration, signal, initialPolicy, ...overrides } = options;
  // An option given as undefined keeps its default, as a CLI passing through unset flags expects.
  const given = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const config: PpoConfig = { ...PPO_DEFAULTS, ...given };
  checkConfig(config);
  const saveAt = new Set(checkpointIterations);
  for (const it of saveAt) {
    if (!Number.isInteger(it) || it < 0 || it > config.iterations) throw new Error(`trainPpo: checkpoint iteration ${it} is outside 0..${config.iterations}`);
  }
  const { numEnvs, numSteps, iterations } = config;
  const root = new Generator(config.seed);
  const policy = new GaussianMlpPolicy({ generator: root, logStdScale: config.logStdScale });
  if (initialPolicy !== undefined) loadInitialPolicy(policy, initialPolicy);
  const critic = new CartPoleCritic({ generator: root });
  const parameters = [...policy.parameters(), ...critic.parameters()];
  if (parameters[0] !== policy.log_std) throw new Error('trainPpo: expected log_std to be the first parameter');
  // One Adam over actor and critic, with the global grad-norm clip, on a flat host copy (ppo-update.ts).
  const optimizer = new FlatAdam(parameters, { lr: config.learningRate });
  const minibatchSize = (numEnvs * numSteps) / config.minibatches;
  const scratch = { gradMeans: new Float32Array(minibatchSize * ACTION_SIZE), gradValues: new Float32Array(minibatchSize) };
  const env = new CartPoleVectorEnv(numEnvs, { actionType: 'continuous', maxEpisodeSteps: config.maxEpisodeSteps });
  const envSeed = root.int(0, 2 ** 30);
  const evalSeed = root.int(0, 2 ** 30);

  const checkpoint = async (iteration: number, meanReturn: number) => {
    if (!saveAt.has(iteration) || !onCheckpoint) return;
    const flat = flattenParameters(policy);
    const flatPolicy = Float32Array.from(flat.dataSync()); // [1250]
    flat.dispose();
    await onCheckpoint({ iteration, flatPolicy, meanReturn });
  };
  const history: IterationStats[] = [];
  let finished = false;
  try {
    if (saveAt.has(0) && onCheckpoint) {
      const { meanReturn } = evaluatePolicy(policy, { numEnvs, seed: evalSeed, maxEpisodeSteps: config.maxEpisodeSteps });
      await checkpoint(0, meanReturn);
    }

    const rollout = allocateRollout(numSteps, numEnvs);
    const acted = allocateActOutput(numEnvs);
    const lastValues = new Float32Array(numEnvs);
    const truncationScratch = allocateTruncationScratch(numEnvs);
    const window = new ReturnWindow(config.returnWindow);
    let observations = env.reset({ seed: envSeed }).observations;

    for (let iteration = 0; iteration < iterations; iteration++) {
      signal?.throwIfAborted();
      const rolloutStart = performance.now();
      const logStd = readLogStd(policy);
      // One draw per iteration instead of one array per step.
      const noise = root.normal(numSteps * numEnvs * ACTION_SIZE); // [T, N, A]
      for (let t = 0; t < numSteps; t++) {
        const at = t * numEnvs;
        const stepObservations = rollout.observations.subarray(at * OBSERVATION_SIZE, (at + numEnvs) * OBSERVATION_SIZE); // [N, 4]
        stepObservations.set(observations);
        act(policy, critic, stepObservations, logStd, noise.subarray(at * ACTION_SIZE, (at + numEnvs) * ACTION_SIZE), acted);
        rollout.actions.set(acted.actions, at * ACTION_SIZE);
        rollout.logProbs.set(acted.logProbs, at);
        rollout.values.set(acted.values, at);
        const step = env.step(acted.actions);
        observations = step.observations;
        const rewards = rollout.rewards.subarray(at, at + numEnvs); // [N]
        rewards.set(step.rewards);
        if (config.rewardScale !== 1) for (let i = 0; i < numEnvs; i++) rewards[i]! *= config.rewardScale;
        const { episodeDone, episodeReturn, finalObservations } = step.info;
        rollout.dones.set(episodeDone, at);
        for (let i = 0; i < numEnvs; i++) if (episodeDone[i]) window.push(episodeReturn[i]!);
        const bootstrapValues = rollout.bootstrapValues.subarray(at, at + numEnvs); // [N]
        if (config.bootstrapTruncated) truncationValues(critic, step, bootstrapValues, truncationScratch);
        else bootstrapValues.fill(0);
      }
      act(policy, critic, observations, logStd, null, acted);
      lastValues.set(acted.values);
      const updateStart = performance.now();

      const { advantages, returns } = computeGae({ ...rollout, lastValues }, numSteps, numEnvs, config.gamma, config.gaeLambda);
      if (config.normalizeAdvantages) normalizeAdvantages(advantages);
      const minibatches = makeMinibatches(rollout, advantages, returns, config.minibatches);
      let surrogateSum = 0;
      let valueSum = 0;
      let normSum = 0;
      let learningRate = config.learningRate;
      try {
        for (let epoch = 0; epoch < config.epochs; epoch++) {
          if (config.lrSchedule === 'cosine') {
            learningRate = config.learningRate * 0.5 * (1 + Math.cos((Math.PI * (iteration + epoch / config.epochs)) / iterations));
            optimizer.lr = learningRate;
          }
          for (const batch of minibatches) {
            const { surrogate, valueLoss, gradNorm } = ppoMinibatchStep(policy, critic, optimizer, batch, config, scratch);
            surrogateSum += surrogate;
            valueSum += valueLoss;
            normSum += gradNorm;
          }
        }
      } finally {
        for (const batch of minibatches) batch.observations.dispose();
      }
      const updates = config.epochs * config.minibatches;
      const stats: IterationStats = {
        iteration: iteration + 1,
        iterations,
        meanReturn: window.mean(),
        finishedEpisodes: window.total,
        learningRate,
        surrogateLoss: surrogateSum / updates,
        valueLoss: valueSum / updates,
        gradNorm: normSum / updates,
        actionStd: Math.exp(readLogStd(policy)[0]!),
        rolloutSeconds: (updateStart - rolloutStart) / 1000,
        updateSeconds: (performance.now() - updateStart) / 1000,
      };
      history.push(stats);
      await onIteration?.(stats);
      await checkpoint(iteration + 1, stats.meanReturn);
    }
    finished = true;
  } finally {
    // The optimizer's state lives on the host; a step interrupted by an error may leave gradients.
    for (const p of parameters) {
      p.grad?.dispose();
      p.grad = null;
    }
    // An abort or a throwing callback leaves nothing behind either.
    if (!finished) for (const p of parameters) p.dispose();
  }
  return { policy, critic, config, history };
}
