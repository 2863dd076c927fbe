// G.pt against gradient descent (gpt-paper.md §5.4: the paper's claim is that one G.pt
// update replaces hundreds of Adam/SGD steps; its code has no such comparison, so this is
// ours). From the same starting networks, Adam and SGD take 1..N steps on the task's
// training objective at each learning rate of a small sweep; the task measures the metric
// after each recorded step; "worth" is the fewest steps whose mean metric is at least as
// good as G.pt's mean after one update.
import { Adam, crossEntropy, flattenParameters, loadFlat, SGD, type Module } from '@gpt/nn';
import { Generator, tensor, tidy, type Tensor } from '@gpt/tensor';
import type { GradientObjective, MetricGoal, Task } from '../tasks/task.js';

export type GradientOptimizerName = 'adam' | 'sgd';
/** What a curve's steps are: gradient steps of an optimizer, or PPO iterations (eval/ppo-baseline.ts, the Cartpole task). */
export type BaselineOptimizerName = GradientOptimizerName | 'ppo';

/** The default sweeps: half-decades around each optimizer's usual range. */
export const DEFAULT_LEARNING_RATES: Readonly<Record<GradientOptimizerName, readonly number[]>> = {
  adam: [1e-3, 3e-3, 1e-2, 3e-2, 1e-1],
  sgd: [1e-2, 3e-2, 1e-1, 3e-1, 1],
};

export type GradientBaselineProgressEvent = { readonly type: 'gradient-curve'; readonly done: number; readonly total: number; readonly optimizer: GradientOptimizerName; readonly lr: number };

export interface GradientBaselineOptions {
  /** Gradient steps N. */
  readonly steps: number;
  readonly optimizers?: readonly GradientOptimizerName[];
  /** Learning rates swept per optimizer. Default DEFAULT_LEARNING_RATES. */
  readonly learningRates?: Partial<Record<GradientOptimizerName, readonly number[]>>;
  /** Step counts at which the metric is measured (each in 1..steps). Default: every step up to 100, then ~100 log-spaced ones. */
  readonly record?: readonly number[];
  /** Seed of the minibatch draws (the same for every optimizer and learning rate). Default 0. */
  readonly seed?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (event: GradientBaselineProgressEvent) => void;
}

/** One optimizer at one learning rate. */
export interface GradientCurve {
  readonly optimizer: BaselineOptimizerName;
  readonly lr: number;
  /** The recorded step counts (PPO: iterations), increasing. */
  readonly steps: number[];
  /** Mean over networks of the metric after each recorded step. */
  readonly meanMetric: number[];
  /** metrics[n][k]: network n after steps[k] steps. */
  readonly metrics: number[][];
}

export interface GradientBaselineReport {
  readonly task: string;
  readonly metric: string;
  readonly goal: MetricGoal;
  /** Mean metric of the starting networks (step 0). */
  readonly startMetric: number;
  readonly curves: GradientCurve[];
  /** Per optimizer, the learning rate of the sweep with the best mean metric after all N steps. */
  readonly bestLearningRate: Partial<Record<BaselineOptimizerName, number>>;
}

/** Runs the sweep from `params` (raw task vectors, e.g. unseen random initializations). */
export async function gradientBaseline(task: Task, params: readonly Float32Array[], options: GradientBaselineOptions): Promise<GradientBaselineReport> {
  const objective = task.gradientObjective;
  if (!objective) throw new Error(`gradientBaseline: task "${task.name}" has no gradientObjective (its training loss), so there is no gradient baseline for it`);
  const N = options.steps;
  if (!Number.isInteger(N) || N < 1) throw new Error(`gradientBaseline: steps must be a positive integer, got ${N}`);
  if (params.length === 0) throw new Error('gradientBaseline: params is empty');
  params.forEach((p, i) => {
    if (!(p instanceof Float32Array) || p.length !== task.parameterCount) throw new Error(`gradientBaseline: params[${i}] must be a Float32Array of ${task.parameterCount} values`);
  });
  const record = checkRecord(options.record ?? defaultRecord(N), N);
  const optimizers = options.optimizers ?? ['adam', 'sgd'];
  const sweeps = optimizers.map((name) => {
    const rates = options.learningRates?.[name] ?? DEFAULT_LEARNING_RATES[name];
    if (!rates || rates.length === 0 || rates.some((lr) => !(lr > 0))) throw new Error(`gradientBaseline: learning rates of ${name} must be positive numbers, got ${JSON.stringify(rates)}`);
    return { name, rates };
  });
  const start = await task.evaluate(params, { signal: options.signal });
  const startMetric = mean(start.map((m) => m[task.metric.name]!));

  const total = sweeps.reduce((n, s) => n + s.rates.length, 0);
  const curves: GradientCurve[] = [];
  for (const { name, rates } of sweeps) {
    for (const lr of rates) {
      options.signal?.throwIfAborted();
      const trajectories = [];
      for (const p of params) trajectories.push(await gradientTrajectory(task, objective, p, { optimizer: name, lr, record, seed: options.seed ?? 0, signal: options.signal }));
      // One evaluate call per curve: rows network-major, then step.
      const measured = await task.evaluate(trajectories.flat(), { signal: options.signal });
      const metrics = params.map((_, n) => record.map((_, k) => measured[n * record.length + k]![task.metric.name]!));
      curves.push({ optimizer: name, lr, steps: [...record], meanMetric: record.map((_, k) => mean(metrics.map((m) => m[k]!))), metrics });
      options.onProgress?.({ type: 'gradient-curve', done: curves.length, total, optimizer: name, lr });
    }
  }
  const bestLearningRate: Partial<Record<GradientOptimizerName, number>> = {};
  for (const { name } of sweeps) {
    const own = curves.filter((c) => c.optimizer === name);
    const last = (c: GradientCurve) => c.meanMetric[c.meanMetric.length - 1]!;
    bestLearningRate[name] = own.reduce((best, c) => (better(task.metric.goal, last(c), last(best)) ? c : best)).lr;
  }
  return { task: task.name, metric: task.metric.name, goal: task.metric.goal, startMetric, curves, bestLearningRate };
}

/**
 * The parameters of one network after each recorded step of `optimizer` at `lr` on the
 * task's training objective. The batches come from a generator seeded by `seed`, so every
 * optimizer and learning rate sees the same batches.
 */
export async function gradientTrajectory(
  task: Task,
  objective: GradientObjective,
  params: Float32Array,
  options: { optimizer: GradientOptimizerName; lr: number; record: readonly number[]; seed: number; signal?: AbortSignal },
): Promise<Float32Array[]> {
  const network = task.createNetwork(new Generator(0));
  loadFlat(network, params);
  const optimizer: Adam | SGD = options.optimizer === 'adam' ? new Adam(network.parameters(), { lr: options.lr }) : new SGD(network.parameters(), { lr: options.lr });
  const generator = new Generator(options.seed);
  const out: Float32Array[] = [];
  const last = options.record[options.record.length - 1]!;
  let next = 0;
  try {
    for (let step = 1; step <= last; step++) {
      if (step % 32 === 0) {
        options.signal?.throwIfAborted();
        await new Promise((resolve) => setImmediate(resolve)); // lets progress and Ctrl-C through
      }
      const loss = objective.loss(network, step - 1, generator);
      loss.backward();
      loss.dispose();
      optimizer.step();
      optimizer.zeroGrad();
      if (step === options.record[next]) {
        out.push(hostCopy(flattenParameters(network)));
        next++;
      }
    }
  } finally {
    optimizer.dispose();
    network.dispose();
  }
  return out;
}

/** How many gradient steps one G.pt update is worth against one curve. */
export interface StepsWorth {
  readonly optimizer: BaselineOptimizerName;
  readonly lr: number;
  /**
   * The fewest recorded steps whose mean metric is at least as good as G.pt's mean; null
   * when no recorded step gets there (G.pt is worth more than the N steps measured).
   */
  readonly steps: number | null;
  /** The curve's mean metric after its last step. */
  readonly finalMetric: number;
}

export function stepsWorth(curve: GradientCurve, gptMetric: number, goal: MetricGoal): StepsWorth {
  const k = curve.meanMetric.findIndex((m) => !better(goal, gptMetric, m));
  return { optimizer: curve.optimizer, lr: curve.lr, steps: k < 0 ? null : curve.steps[k]!, finalMetric: curve.meanMetric[curve.meanMetric.length - 1]! };
}

export interface WorthSummary {
  /** Every curve's figure. */
  readonly perCurve: StepsWorth[];
  /**
   * The strictest figure per optimizer: the fewest steps over its learning rates (its best
   * learning rate for reaching G.pt's level). null steps: no learning rate got there in N.
   */
  readonly fewest: Partial<Record<BaselineOptimizerName, StepsWorth>>;
  /** At the learning rate the sweep picks (best after N steps). */
  readonly atBestLearningRate: Partial<Record<BaselineOptimizerName, StepsWorth>>;
}

export function summarizeWorth(report: GradientBaselineReport, gptMetric: number): WorthSummary {
  const perCurve = report.curves.map((c) => stepsWorth(c, gptMetric, report.goal));
  const fewest: Partial<Record<BaselineOptimizerName, StepsWorth>> = {};
  const atBestLearningRate: Partial<Record<BaselineOptimizerName, StepsWorth>> = {};
  for (const w of perCurve) {
    const current = fewest[w.optimizer];
    // Fewest steps wins; among curves that never get there, the one that ends closest.
    const fewer = w.steps !== null && (current?.steps === null || (current !== undefined && w.steps < current.steps!));
    const closer = w.steps === null && current?.steps === null && better(report.goal, w.finalMetric, current.finalMetric);
    if (!current || fewer || closer) fewest[w.optimizer] = w;
    if (report.bestLearningRate[w.optimizer] === w.lr) atBestLearningRate[w.optimizer] = w;
  }
  return { perCurve, fewest, atBestLearningRate };
}

/**
 * A GradientObjective for a supervised classification task over array data: the mean
 * cross-entropy of a minibatch of `batchSize` examples drawn without replacement per step
 * (the whole set when batchSize >= its size). For a task builder to attach as
 * `gradientObjective`.
 */
export function classificationObjective(train: { readonly inputs: Float32Array; readonly inputShape: readonly number[]; readonly labels: ArrayLike<number> }, options: { batchSize: number; loss: (logits: Tensor, labels: Tensor) => Tensor }): GradientObjective {
  const count = train.labels.length;
  const size = train.inputShape.reduce((a, b) => a * b, 1);
  const fullBatch = options.batchSize >= count;
  const labels = Int32Array.from(train.labels);
  return {
    loss(network: Module, _step: number, generator: Generator): Tensor {
      const indices = fullBatch ? null : generator.permutation(count).subarray(0, options.batchSize);
      const n = indices ? indices.length : count;
      const x = new Float32Array(n * size);
      const y = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const src = indices ? indices[i]! : i;
        x.set(train.inputs.subarray(src * size, (src + 1) * size), i * size);
        y[i] = labels[src]!;
      }
      return tidy(() => {
        const logits = (network as unknown as { forward(x: Tensor): Tensor }).forward(tensorOf(x, [n, ...train.inputShape])); // [n, classes]
        return options.loss(logits, tensorOf(y, [n])); // scalar
      });
    },
  };
}

/**
 * The objective of a supervised task built with tasks/supervised.ts (it has a trainSet and
 * an SGD recipe): cross-entropy over minibatches of the recipe's batch size. null for other
 * tasks. The whole training set is gathered once.
 */
export function supervisedObjective(task: Task): GradientObjective | null {
  const supervised = task as Task & { trainSet?: { count: number; inputShape: readonly number[]; labels: Int32Array; gather(indices: ArrayLike<number>): Float32Array }; sgd?: { batchSize: number } };
  const set = supervised.trainSet;
  if (!set || !supervised.sgd) return null;
  const inputs = set.gather(Int32Array.from({ length: set.count }, (_, i) => i));
  return classificationObjective({ inputs, inputShape: set.inputShape, labels: set.labels }, { batchSize: supervised.sgd.batchSize, loss: crossEntropy });
}

function tensorOf(values: Float32Array | Int32Array, shape: number[]): Tensor {
  return tensor(values, { shape, dtype: values instanceof Int32Array ? 'int32' : 'float32' });
}

function hostCopy(t: Tensor): Float32Array {
  const values = Float32Array.from(t.dataSync() as Float32Array);
  t.dispose();
  return values;
}

/** Every step up to `dense` (default 100), then about `logSpaced` (default 100) more, log-spaced, always ending at N. */
export function defaultRecord(N: number, dense = 100, logSpaced = 100): number[] {
  const steps = new Set<number>();
  for (let s = 1; s <= Math.min(N, dense); s++) steps.add(s);
  if (N > dense) for (let k = 0; k <= logSpaced; k++) steps.add(Math.round(dense * (N / dense) ** (k / logSpaced)));
  steps.add(N);
  return [...steps].sort((a, b) => a - b);
}

/** The recorded step counts, deduplicated and increasing; `where` names the caller in errors. */
export function checkRecord(record: readonly number[], N: number, where = 'gradientBaseline'): number[] {
  const sorted = [...new Set(record)].sort((a, b) => a - b);
  if (sorted.length === 0) throw new Error(`${where}: record is empty`);
  const bad = sorted.find((s) => !Number.isInteger(s) || s < 1 || s > N);
  if (bad !== undefined) throw new Error(`${where}: record entries must be integers in [1, ${N}], got ${bad}`);
  return sorted;
}

export function better(goal: MetricGoal, a: number, b: number): boolean {
  return goal === 'minimize' ? a < b : a > b;
}

export function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
