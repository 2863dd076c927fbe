// G.pt against PPO on the Cartpole task: the RL counterpart of gradient-baseline.ts. The
// Cartpole policy has no differentiable training loss to take Adam steps on; it is trained
// by PPO (rollouts, then epochs x minibatches Adam steps on the clipped surrogate). So from
// the same starting policies, PPO runs 1..N iterations at each learning rate of a small sweep
// (constant, the task's other PPO settings), the task measures the policy after each
// recorded iteration, and the report has gradientBaseline's shape with optimizer 'ppo', so
// stepsWorth/summarizeWorth turn it into "one G.pt update is worth K PPO iterations".
import { trainPpo } from '@gpt/rl-cartpole';
import type { CartpoleTask } from '../tasks/cartpole.js';
import type { Task } from '../tasks/task.js';
import { better, checkRecord, defaultRecord, mean, type GradientBaselineReport, type GradientCurve } from './gradient-baseline.js';

/** Half-decades from the recipe's 3e-4 up. */
export const DEFAULT_PPO_LEARNING_RATES: readonly number[] = [3e-4, 1e-3, 3e-3];

/** One PPO run finished (a network at a learning rate); done counts runs over the whole sweep. */
export type PpoBaselineProgressEvent = { readonly type: 'ppo-run'; readonly done: number; readonly total: number; readonly lr: number; readonly network: number };

export interface PpoBaselineOptions {
  /** PPO iterations N. */
  readonly iterations: number;
  /** Constant learning rates swept. Default DEFAULT_PPO_LEARNING_RATES. */
  readonly learningRates?: readonly number[];
  /** Iterations after which the policy is measured (each in 1..iterations). Default defaultPpoRecord(iterations). */
  readonly record?: readonly number[];
  /** Network n's runs are seeded by seed + n at every learning rate (critic, environments, action noise). Default 0. */
  readonly seed?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (event: PpoBaselineProgressEvent) => void;
}

/** Whether a task is the Cartpole task (it carries the PPO settings its runs were trained with). */
export function isCartpoleTask(task: Task): task is CartpoleTask {
  const ppo = (task as Partial<CartpoleTask>).ppo;
  return task.name === 'cartpole' && typeof ppo === 'object' && ppo !== null;
}

/**
 * Every iteration up to 10, then 15 log-spaced ones up to N (each recorded policy costs an
 * evaluation of more than 200 episodes, so fewer than gradientBaseline records).
 */
export function defaultPpoRecord(N: number): number[] {
  return defaultRecord(N, 10, 15);
}

/** Runs the sweep from `params` (policy vectors, e.g. unseen random initializations). */
export async function ppoBaseline(task: CartpoleTask, params: readonly Float32Array[], options: PpoBaselineOptions): Promise<GradientBaselineReport> {
  if (!isCartpoleTask(task)) throw new Error(`ppoBaseline: task "${(task as Task).name}" is not the Cartpole task (it has no PPO settings)`);
  const N = options.iterations;
  if (!Number.isInteger(N) || N < 1) throw new Error(`ppoBaseline: iterations must be a positive integer, got ${N}`);
  if (params.length === 0) throw new Error('ppoBaseline: params is empty');
  params.forEach((p, i) => {
    if (!(p instanceof Float32Array) || p.length !== task.parameterCount) throw new Error(`ppoBaseline: params[${i}] must be a Float32Array of ${task.parameterCount} values`);
  });
  const rates = options.learningRates ?? DEFAULT_PPO_LEARNING_RATES;
  if (rates.length === 0 || rates.some((lr) => !(lr > 0 && Number.isFinite(lr)))) throw new Error(`ppoBaseline: learningRates must be positive numbers, got ${JSON.stringify(rates)}`);
  const record = checkRecord(options.record ?? defaultPpoRecord(N), N, 'ppoBaseline');
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`ppoBaseline: seed must be a non-negative integer, got ${seed}`);

  const metricOf = (m: Record<string, number>) => m[task.metric.name]!;
  const start = await task.evaluate(params, { signal: options.signal });
  const startMetric = mean(start.map(metricOf));
  const total = rates.length * params.length;
  const curves: GradientCurve[] = [];
  for (const lr of rates) {
    const trajectories: Float32Array[] = [];
    for (let n = 0; n < params.length; n++) {
      trajectories.push(...(await ppoTrajectory(task, params[n]!, { lr, record, seed: seed + n, signal: options.signal })));
      options.onProgress?.({ type: 'ppo-run', done: curves.length * params.length + n + 1, total, lr, network: n });
    }
    // One evaluate call per curve: rows network-major, then iteration.
    const measured = await task.evaluate(trajectories, { signal: options.signal });
    const metrics = params.map((_, n) => record.map((_, k) => metricOf(measured[n * record.length + k]!)));
    curves.push({ optimizer: 'ppo', lr, steps: [...record], meanMetric: record.map((_, k) => mean(metrics.map((m) => m[k]!))), metrics });
  }
  const last = (c: GradientCurve) => c.meanMetric[c.meanMetric.length - 1]!;
  const best = curves.reduce((b, c) => (better(task.metric.goal, last(c), last(b)) ? c : b));
  return { task: task.name, metric: task.metric.name, goal: task.metric.goal, startMetric, curves, bestLearningRate: { ppo: best.lr } };
}

/**
 * The policy after each recorded iteration (increasing) of PPO from `params` with the task's
 * settings at a constant `lr`; the run is seeded by `seed` (its critic, environments and action noise).
 */
export async function ppoTrajectory(
  task: CartpoleTask,
  params: Float32Array,
  options: { lr: number; record: readonly number[]; seed: number; signal?: AbortSignal },
): Promise<Float32Array[]> {
  const saved = new Map<number, Float32Array>();
  const result = await trainPpo({
    ...task.ppo,
    // At a constant learning rate nothing depends on the run's length: stop at the last recorded iteration.
    iterations: options.record[options.record.length - 1]!,
    lrSchedule: 'constant',
    learningRate: options.lr,
    seed: options.seed,
    initialPolicy: params,
    checkpointIterations: options.record,
    signal: options.signal,
    onCheckpoint: ({ iteration, flatPolicy }) => void saved.set(iteration, flatPolicy),
    // Lets progress and Ctrl-C through between iterations.
    onIteration: () => new Promise<void>((resolve) => setImmediate(resolve)),
  });
  result.policy.dispose();
  result.critic.dispose();
  return options.record.map((iteration) => saved.get(iteration)!);
}
