// The Task interface: everything G.pt needs to know about one kind of network it learns
// to generate (gpt-paper.md §1, §5.1-5.3). A task owns the network (architecture and
// initialization), the layout of its flat parameter vector, the permutation freedom of
// its hidden units, the recipe that trains runs and records checkpoints, and the metric
// G.pt is conditioned on. Built-in tasks: mnist_loss, mnist_error, cifar10_loss,
// cifar10_error, cartpole (see registry.ts); users register their own the same way.
import type { Module } from '@gpt/nn';
import type { Generator, Tensor } from '@gpt/tensor';
import type { PermutationSpec, RunData, TensorSpec } from '@gpt/checkpoints';

/** Whether a smaller or a larger value of the metric is better. */
export type MetricGoal = 'minimize' | 'maximize';

/** The metric a G.pt model is conditioned on and prompted with. */
export interface TaskMetric {
  /** Name in the dataset (a manifest metric), e.g. "avg_test_err", "train_ret". */
  readonly name: string;
  /** Human label for plots and logs, e.g. "test error". */
  readonly label: string;
  /** Unit for display, e.g. "%", "nats", "return". */
  readonly unit: string;
  readonly goal: MetricGoal;
}

/** Prompting constants of the official tasks (Gpt/tasks.py; gpt-paper.md §5.2-5.3). */
export interface PromptConstants {
  /** The best prompt: the end of the prompt sweep, e.g. 5 (% error), 0 (loss), 500 (return). */
  readonly bestPrompt: number;
  /** The sweep starts at promptStartCoefficient x the network's current metric (0.9 MNIST, 1 otherwise). */
  readonly promptStartCoefficient: number;
  /** The fixed prompt of recursive prompting. */
  readonly recursivePrompt: number;
}

/** Progress of training runs (per run; the generator aggregates). */
export type RunProgressEvent = { type: 'run-progress'; run: number; done: number; total: number };

export interface TrainRunsOptions {
  /** Checkpoints saved per run, including the initialization and the final iteration (paper: 200). */
  readonly checkpointsPerRun: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (event: RunProgressEvent) => void;
}

/**
 * One task instance, with its data loaded. Every method is deterministic given its
 * inputs: run r is seeded by r alone, so the same run index gives the same run on any
 * machine, in any worker, trained alone or batched with others.
 */
export interface Task {
  /** Registry name, e.g. "mnist_error". */
  readonly name: string;
  /**
   * Dataset family, stored as the manifest's `task`: tasks that share a network and its
   * runs share it (mnist_loss and mnist_error both read "mnist" datasets).
   */
  readonly dataset: string;
  readonly description: string;
  /** The network's tensors in state-dict order: the flat layout of a checkpoint. */
  readonly tensors: readonly TensorSpec[];
  /** D, the number of parameters (sum of the tensor sizes). */
  readonly parameterCount: number;
  /** Hidden units that may be permuted without changing the function (permutation augmentation). */
  readonly permutation: PermutationSpec;
  /** The metrics each saved checkpoint records (the dataset manifest's metrics). */
  readonly datasetMetrics: readonly string[];
  /** The metric G.pt is conditioned on; one of datasetMetrics. */
  readonly metric: TaskMetric;
  readonly prompt: PromptConstants;
  /** Settings that shape the runs (recipe, data), stored in the dataset's manifest metadata. */
  readonly recipe: Readonly<Record<string, unknown>>;
  /** A fresh network with the paper's initialization, drawn from `generator`. */
  createNetwork(generator: Generator): Module;
  /**
   * Trains the runs with these indices (run r seeded by r) and returns each run's saved
   * checkpoints and metrics, in the order of `runs`. Tasks may train several runs at once
   * as one computation; the result must equal training them one by one (within float
   * tolerance).
   */
  trainRuns(runs: readonly number[], options: TrainRunsOptions): Promise<RunData[]>;
  /**
   * Measures `metric` (and every dataset metric) for each flat parameter vector [D]
   * (e.g. a G.pt sample, already un-normalized). Returns one record per vector.
   */
  evaluate(params: readonly Float32Array[], options?: { signal?: AbortSignal }): Promise<Record<string, number>[]>;
  /**
   * Optional: the task's training objective, so that evaluation can compare one G.pt update
   * with Adam/SGD steps from the same networks (eval/gradient-baseline.ts). Tasks without
   * it (e.g. Cartpole) have no gradient baseline.
   */
  readonly gradientObjective?: GradientObjective;
}

/** A task's training loss as a differentiable function of its network (see Task.gradientObjective). */
export interface GradientObjective {
  /**
   * The training loss of `network` (made by createNetwork, parameters loaded) on the batch of
   * gradient step `step` (0-based): a scalar tensor that carries gradients. Minibatch tasks
   * draw the batch from `generator`, which the caller seeds the same for every optimizer.
   */
  loss(network: Module, step: number, generator: Generator): Tensor;
}

/** How a task is built: a name plus JSON options, so that worker threads can build it too. */
export interface TaskFactory<Options extends Record<string, unknown> = Record<string, unknown>> {
  readonly name: string;
  readonly description: string;
  /** Loads data and returns a ready task; a missing data folder is a clear error naming it. */
  create(options: Options): Promise<Task>;
  /**
   * A module URL that, when imported, registers this factory (worker threads import it to
   * rebuild the task). Built-in tasks leave it unset; custom tasks without it train in
   * the main thread only.
   */
  readonly moduleUrl?: string;
}
