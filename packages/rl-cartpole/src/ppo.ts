// PPO on the vectorized CartPole with the G.pt paper's Cartpole recipe as defaults
// (data_gen/train_rl.py + configs/rl/train/Cartpole.yaml): 512 envs x 16 steps per iteration,
// 8 epochs x 2 sequential minibatches, Adam 3e-4 with cosine decay, gamma 0.99, GAE lambda 0.95,
// clip 0.2, no entropy bonus, value coefficient 2, grad-norm clip 2, normalized advantages,
// 500 iterations. A checkpoint callback receives the flat policy vector and the mean return of
// the last 200 finished training episodes, which is how G.pt's data generation saves checkpoints.

import { Adam, clipGradNorm, flattenParameters } from '@gpt/nn';
import { Generator, add, mul, sub, tensor, tidy, type Tensor } from '@gpt/tensor';
import { CARTPOLE } from './cartpole.js';
import { evaluatePolicy } from './evaluate.js';
import { ACTION_SIZE, CartPoleCritic, GaussianMlpPolicy, OBSERVATION_SIZE } from './policy.js';
import { computeGae, normalizeAdvantages, ppoLosses } from './ppo-math.js';
import { act, allocateActOutput, readLogStd } from './rollout.js';
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
}

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
});

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
  valueLoss: number;
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
  if (!(Number.isFinite(config.logStdScale) && config.logStdScale > 0)) throw new Error(`trainPpo: logStdScale must be a positive number, got ${config.logStdScale}`);
  const nonNegative = ['learningRate', 'gamma', 'gaeLambda', 'clip', 'entropyCoef', 'valueCoef', 'maxGradNorm'] as const;
  for (const key of nonNegative) {
    if (!(Number.isFinite(config[key]) && config[key] >= 0)) throw new Error(`trainPpo: ${key} must be a non-negative number, got ${config[key]}`);
  }
  if (config.lrSchedule !== 'cosine' && config.lrSchedule !== 'constant') throw new Error(`trainPpo: lrSchedule must be "cosine" or "constant", got ${JSON.stringify(config.lrSchedule)}`);
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
  };
}

/** One minibatch as tensors; made once per iteration and reused by every epoch. */
interface Minibatch {
  observations: Tensor; // [B, 4]
  actions: Tensor; // [B, A]
  oldLogProbs: Tensor; // [B]
  advantages: Tensor; // [B]
  returns: Tensor; // [B]
}

function makeMinibatches(rollout: RolloutBuffers, advantages: Float32Array, returns: Float32Array, count: number): Minibatch[] {
  const size = rollout.logProbs.length / count;
  return Array.from({ length: count }, (_, m) => {
    const from = m * size;
    const to = from + size;
    return {
      observations: tensor(rollout.observations.slice(from * OBSERVATION_SIZE, to * OBSERVATION_SIZE), { shape: [size, OBSERVATION_SIZE] }),
      actions: tensor(rollout.actions.slice(from * ACTION_SIZE, to * ACTION_SIZE), { shape: [size, ACTION_SIZE] }),
      oldLogProbs: tensor(rollout.logProbs.slice(from, to)),
      advantages: tensor(advantages.slice(from, to)),
      returns: tensor(returns.slice(from, to)),
    };
  });
}

/** The loss PPO minimizes on one minibatch: surrogate + valueCoef * valueLoss - entropyCoef * entropy. */
function minibatchLoss(policy: GaussianMlpPolicy, critic: CartPoleCritic, batch: Minibatch, config: PpoConfig) {
  return tidy(() => {
    const logProb = policy.logProb(batch.observations, batch.actions); // [B]
    const values = critic.forward(batch.observations); // [B]
    const { surrogate, valueLoss } = ppoLosses({ logProb, oldLogProb: batch.oldLogProbs, advantages: batch.advantages, values, returns: batch.returns }, config.clip);
    let loss = add(surrogate, mul(valueLoss, config.valueCoef)); // []
    if (config.entropyCoef !== 0) {
      // A diagonal Gaussian's entropy does not depend on the state: sum(log std) + A (1 + log 2 pi) / 2.
      const entropy = add(policy.actionLogStd().sum(), (ACTION_SIZE * (1 + Math.log(2 * Math.PI))) / 2); // []
      loss = sub(loss, mul(entropy, config.entropyCoef));
    }
    return { loss, surrogate, valueLoss };
  });
}

/** Trains the paper's Gaussian MLP policy with PPO on continuous-action CartPole. */
export async function trainPpo(options: PpoOptions = {}): Promise<PpoResult> {
  const { checkpointIterations = [], onCheckpoint, onIteration, signal, ...overrides } = options;
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
  const critic = new CartPoleCritic({ generator: root });
  const parameters = [...policy.parameters(), ...critic.parameters()];
  const optimizer = new Adam(parameters, { lr: config.learningRate });
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
        rollout.rewards.set(step.rewards, at);
        const { episodeDone, episodeReturn } = step.info;
        rollout.dones.set(episodeDone, at);
        for (let i = 0; i < numEnvs; i++) if (episodeDone[i]) window.push(episodeReturn[i]!);
      }
      act(policy, critic, observations, logStd, null, acted);
      lastValues.set(acted.values);
      const updateStart = performance.now();

      const { advantages, returns } = computeGae({ ...rollout, lastValues }, numSteps, numEnvs, config.gamma, config.gaeLambda);
      if (config.normalizeAdvantages) normalizeAdvantages(advantages);
      const minibatches = makeMinibatches(rollout, advantages, returns, config.minibatches);
      let surrogateSum = 0;
      let valueSum = 0;
      let learningRate = config.learningRate;
      try {
        for (let epoch = 0; epoch < config.epochs; epoch++) {
          if (config.lrSchedule === 'cosine') {
            learningRate = config.learningRate * 0.5 * (1 + Math.cos((Math.PI * (iteration + epoch / config.epochs)) / iterations));
            for (const group of optimizer.paramGroups) group.lr = learningRate;
          }
          for (const batch of minibatches) {
            optimizer.zeroGrad();
            const { loss, surrogate, valueLoss } = minibatchLoss(policy, critic, batch, config);
            loss.backward();
            clipGradNorm(parameters, config.maxGradNorm).dispose();
            optimizer.step();
            surrogateSum += surrogate.item();
            valueSum += valueLoss.item();
            for (const t of [loss, surrogate, valueLoss]) t.dispose();
          }
        }
      } finally {
        for (const batch of minibatches) for (const t of Object.values(batch)) t.dispose();
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
    optimizer.zeroGrad();
    // The moments are not part of the result; free them rather than leave them to the caller.
    optimizer.dispose();
    // An abort or a throwing callback leaves nothing behind either.
    if (!finished) for (const p of parameters) p.dispose();
  }
  return { policy, critic, config, history };
}
