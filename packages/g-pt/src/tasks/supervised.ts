// A generic supervised classification task (gpt-paper.md §1.2-1.3, §1.5): any @gpt/nn
// network, train and test data, the checkpoint-generation SGD recipe (every knob
// configurable) and the metric G.pt is conditioned on -> a Task. MNIST and CIFAR-10 are
// built with it, and so can a user's own task.
//
// One run r (trainRunsOneByOne; the draw order is run-schedule.ts's):
//   - network from initSeed's generator; saved iterations from scheduleSeed's; the data
//     generator (dataSeed) draws one training-set permutation per epoch, then each batch's
//     augmentation, batch by batch;
//   - iteration t (1-based) is one SGD step on batch t; the lr of epoch e is
//     lr * 0.5 (1 + cos(pi e / epochs)) (cosine stepped once per epoch) or lr;
//   - checkpoint k: taken right after the step of iteration saved[k] (checkpoint 0 is the
//     initialization), with the full test set's mean cross-entropy and top-1 error (%)
//     measured then, and avg_train_loss / avg_train_err of that iteration's minibatch
//     computed from the logits before the step. The initialization's train metrics are
//     those of iteration 1's minibatch at the initial parameters (the official code
//     draws one extra batch for them instead).
import type { PermutationSpec, RunData } from '@gpt/checkpoints';
import { crossEntropy, flattenParameters, loadFlat, SGD, type Layer } from '@gpt/nn';
import type { Augmentation } from '@gpt/nn/data';
import { Generator, noGrad, tensor, tidy, type Tensor } from '@gpt/tensor';
import { networkTensors, permutationFor } from './network-layout.js';
import { checkRuns, runStreams, savedIterations, checkCheckpointsPerRun, yieldToEventLoop } from './run-schedule.js';
import {
  addClassificationSums,
  batchesPerEpoch,
  batchIndices,
  batchInputs,
  checkLabels,
  classificationMetrics,
  epochOrder,
  exampleSet,
  type ClassificationSums,
  type ExampleSet,
  type SupervisedData,
} from './supervised-data.js';
import type { PromptConstants, Task, TaskMetric, TrainRunsOptions } from './task.js';

/** The checkpoint-generation recipe of the official SGD tasks (data_gen/train_mnist.py, train_cifar10.py). */
export interface SgdRecipe {
  readonly epochs: number;
  readonly lr: number;
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  /** 'cosine': lr 0.5 (1 + cos(pi e / epochs)) set at the start of epoch e; 'constant': lr. */
  readonly schedule: 'cosine' | 'constant';
}

/** The paper's SGD recipe with MNIST's 25 epochs (CIFAR-10 uses 50). */
export const PAPER_SGD_RECIPE: Readonly<SgdRecipe> = Object.freeze({
  epochs: 25,
  lr: 0.1,
  momentum: 0.9,
  nesterov: true,
  weightDecay: 5e-4,
  batchSize: 128,
  shuffle: true,
  dropLast: true,
  schedule: 'cosine',
});

/** The four metrics each checkpoint of a supervised run records (the official runs.json). */
export const SUPERVISED_METRICS = ['avg_train_loss', 'avg_train_err', 'avg_test_loss', 'avg_test_err'] as const;

/** The metric a supervised G.pt is conditioned on. */
export type SupervisedMetricName = 'avg_test_loss' | 'avg_test_err';

const METRICS: Record<SupervisedMetricName, TaskMetric> = {
  avg_test_loss: { name: 'avg_test_loss', label: 'test loss', unit: 'nats', goal: 'minimize' },
  avg_test_err: { name: 'avg_test_err', label: 'test error', unit: '%', goal: 'minimize' },
};

/** A network that maps a batch of inputs [B, ...inputShape] to logits [B, classes]. */
export type ClassifierNetwork = Layer;

export interface SupervisedTaskSpec {
  readonly name: string;
  /** Dataset family (the manifest's task): tasks sharing network and runs share it. */
  readonly dataset: string;
  readonly description: string;
  /** A fresh network with the paper's initialization drawn from `generator`. */
  createNetwork(generator: Generator): ClassifierNetwork;
  readonly classes: number;
  readonly train: SupervisedData;
  readonly test: SupervisedData;
  readonly recipe?: Partial<SgdRecipe>;
  /** Train-time augmentation of each batch (e.g. CIFAR's flip + crop), drawing from the run's data generator. */
  readonly augment?: Augmentation;
  readonly metric: SupervisedMetricName;
  readonly prompt: PromptConstants;
  /** Permutable hidden units; its tensors must equal the network's state dict. None: no augmentation. */
  readonly permutation?: PermutationSpec;
  /** Test examples per forward pass when measuring test metrics (default 2,000). */
  readonly evalBatchSize?: number;
  /** Extra settings stored in the manifest beside the recipe (e.g. where the data came from). */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

export interface SupervisedTask extends Task {
  readonly sgd: Readonly<SgdRecipe>;
  readonly classes: number;
  readonly iterationsPerEpoch: number;
  /** T: SGD steps of a run (epochs x iterationsPerEpoch). */
  readonly totalIterations: number;
  readonly trainSet: ExampleSet;
  readonly testSet: ExampleSet;
  readonly augment?: Augmentation;
  readonly evalBatchSize: number;
  createNetwork(generator: Generator): ClassifierNetwork;
  /** Trains the runs one after the other with @gpt/nn's autograd and SGD: the reference every faster trainer must equal. */
  trainRunsOneByOne(runs: readonly number[], options: TrainRunsOptions): Promise<RunData[]>;
}

/** The lr of epoch `epoch` (0-based) under `recipe`. */
export function epochLearningRate(recipe: SgdRecipe, epoch: number): number {
  return recipe.schedule === 'cosine' ? 0.5 * recipe.lr * (1 + Math.cos((Math.PI * epoch) / recipe.epochs)) : recipe.lr;
}

/** Merges recipe overrides onto the defaults and checks every knob. */
export function resolveSgdRecipe(overrides: Partial<SgdRecipe> | undefined, defaults: SgdRecipe = PAPER_SGD_RECIPE): SgdRecipe {
  const given = Object.fromEntries(Object.entries(overrides ?? {}).filter(([, v]) => v !== undefined));
  const recipe: SgdRecipe = { ...defaults, ...given };
  const positiveIntegers = ['epochs', 'batchSize'] as const;
  for (const key of positiveIntegers) {
    if (!Number.isSafeInteger(recipe[key]) || recipe[key] <= 0) throw new Error(`recipe.${key} must be a positive integer, got ${String(recipe[key])}`);
  }
  for (const key of ['lr', 'momentum', 'weightDecay'] as const) {
    if (!(typeof recipe[key] === 'number' && Number.isFinite(recipe[key]) && recipe[key] >= 0)) throw new Error(`recipe.${key} must be a non-negative number, got ${String(recipe[key])}`);
  }
  for (const key of ['nesterov', 'shuffle', 'dropLast'] as const) {
    if (typeof recipe[key] !== 'boolean') throw new Error(`recipe.${key} must be a boolean, got ${String(recipe[key])}`);
  }
  if (recipe.schedule !== 'cosine' && recipe.schedule !== 'constant') throw new Error(`recipe.schedule must be "cosine" or "constant", got ${JSON.stringify(recipe.schedule)}`);
  if (recipe.nesterov && recipe.momentum <= 0) throw new Error('recipe: Nesterov momentum needs momentum > 0');
  return recipe;
}

/** Builds a Task from a supervised classification spec (data already loaded). */
export function buildSupervisedTask(spec: SupervisedTaskSpec): SupervisedTask {
  const where = `task "${spec.name}"`;
  if (!Number.isSafeInteger(spec.classes) || spec.classes < 2) throw new Error(`${where}: classes must be an integer >= 2, got ${spec.classes}`);
  if (!(spec.metric in METRICS)) throw new Error(`${where}: metric must be "avg_test_loss" or "avg_test_err", got ${JSON.stringify(spec.metric)}`);
  const sgd = resolveSgdRecipe(spec.recipe);
  const trainSet = exampleSet(spec.train, `${where}: train data`);
  const testSet = exampleSet(spec.test, `${where}: test data`);
  checkLabels(trainSet, spec.classes);
  checkLabels(testSet, spec.classes);
  if (trainSet.inputShape.join() !== testSet.inputShape.join()) {
    throw new Error(`${where}: train inputs [${trainSet.inputShape.join(', ')}] and test inputs [${testSet.inputShape.join(', ')}] differ in shape`);
  }
  const iterationsPerEpoch = batchesPerEpoch(trainSet.count, sgd);
  if (iterationsPerEpoch === 0) throw new Error(`${where}: ${trainSet.count} training examples make no batch of ${sgd.batchSize} with dropLast`);
  const evalBatchSize = spec.evalBatchSize ?? 2000;
  if (!Number.isSafeInteger(evalBatchSize) || evalBatchSize <= 0) throw new Error(`${where}: evalBatchSize must be a positive integer, got ${evalBatchSize}`);
  const tensors = networkTensors(spec.createNetwork, where);
  const permutation = permutationFor(tensors, spec.permutation, where);
  const parameterCount = tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
  const totalIterations = sgd.epochs * iterationsPerEpoch;

  const task: SupervisedTask = {
    name: spec.name,
    dataset: spec.dataset,
    description: spec.description,
    tensors,
    parameterCount,
    permutation,
    datasetMetrics: SUPERVISED_METRICS,
    metric: METRICS[spec.metric],
    prompt: spec.prompt,
    recipe: { ...sgd, iterationsPerEpoch, totalIterations, train: trainSet.name, trainCount: trainSet.count, test: testSet.name, testCount: testSet.count, augment: spec.augment ? (spec.augment.name || 'yes') : 'none', ...spec.metadata },
    sgd,
    classes: spec.classes,
    iterationsPerEpoch,
    totalIterations,
    trainSet,
    testSet,
    augment: spec.augment,
    evalBatchSize,
    createNetwork: (generator) => spec.createNetwork(generator),
    trainRunsOneByOne: async (runs, options) => {
      checkRuns(`${spec.name}.trainRuns`, runs);
      checkCheckpointsPerRun(options.checkpointsPerRun, totalIterations);
      const results: RunData[] = [];
      for (const run of runs) results.push(await trainRunOneByOne(task, run, options));
      return results;
    },
    trainRuns: (runs, options) => task.trainRunsOneByOne(runs, options),
    evaluate: async (params, options = {}) => {
      if (!Array.isArray(params)) throw new Error(`${spec.name}.evaluate: params must be an array of Float32Array vectors`);
      params.forEach((p, i) => checkVector(p, parameterCount, `${spec.name}.evaluate: params[${i}]`));
      const network = spec.createNetwork(new Generator(0));
      try {
        const records: Record<string, number>[] = [];
        for (const vector of params) {
          options.signal?.throwIfAborted();
          loadFlat(network, vector);
          const { loss, error } = testMetrics(network, testSet, spec.classes, evalBatchSize);
          records.push({ avg_test_loss: loss, avg_test_err: error });
          await yieldToEventLoop();
        }
        return records;
      } finally {
        network.dispose();
      }
    },
  };
  return task;
}

function checkVector(vector: unknown, parameterCount: number, where: string): void {
  if (!(vector instanceof Float32Array)) throw new Error(`${where} must be a Float32Array, got ${Object.prototype.toString.call(vector)}`);
  if (vector.length !== parameterCount) throw new Error(`${where} has ${vector.length} values; the network has ${parameterCount} parameters`);
}

/** Mean cross-entropy and top-1 error (%) of `network` over the whole of `set`, `batchSize` examples per forward pass. */
export function testMetrics(network: ClassifierNetwork, set: ExampleSet, classes: number, batchSize: number): { loss: number; error: number } {
  const sums: ClassificationSums = { lossSum: 0, wrong: 0 };
  noGrad(() => {
    for (let from = 0; from < set.count; from += batchSize) {
      const to = Math.min(set.count, from + batchSize);
      const indices = Int32Array.from({ length: to - from }, (_, i) => from + i);
      const logits = tidy(() => {
        const x = tensor(set.gather(indices), { shape: [indices.length, ...set.inputShape] }); // [B, ...inputShape]
        return network.forward(x); // [B, classes]
      });
      addClassificationSums(logits.dataSync() as Float32Array, set.labels.subarray(from, to), classes, sums);
      logits.dispose();
    }
  });
  return classificationMetrics(sums, set.count);
}

/** Collects a run's saved checkpoints and their metrics. */
export class RunRecorder {
  readonly parameters: Float32Array;
  readonly metrics: Record<(typeof SUPERVISED_METRICS)[number], Float64Array>;

  constructor(
    readonly saved: Int32Array,
    readonly parameterCount: number,
  ) {
    this.parameters = new Float32Array(saved.length * parameterCount);
    const n = saved.length;
    this.metrics = { avg_train_loss: new Float64Array(n), avg_train_err: new Float64Array(n), avg_test_loss: new Float64Array(n), avg_test_err: new Float64Array(n) };
  }

  /** Stores checkpoint k's parameters [D] and test metrics. */
  saveCheckpoint(k: number, flat: ArrayLike<number>, test: { loss: number; error: number }): void {
    this.parameters.set(flat, k * this.parameterCount);
    this.saveTestMetrics(k, test);
  }

  saveTestMetrics(k: number, test: { loss: number; error: number }): void {
    this.metrics.avg_test_loss[k] = test.loss;
    this.metrics.avg_test_err[k] = test.error;
  }

  saveTrainMetrics(k: number, train: { loss: number; error: number }): void {
    this.metrics.avg_train_loss[k] = train.loss;
    this.metrics.avg_train_err[k] = train.error;
  }

  result(): RunData {
    return { parameters: this.parameters, iterations: Array.from(this.saved), metrics: this.metrics };
  }
}

function flatParameters(network: ClassifierNetwork): Float32Array {
  const flat = flattenParameters(network); // [D]
  const values = Float32Array.from(flat.dataSync() as Float32Array);
  flat.dispose();
  return values;
}

/** One run with @gpt/nn's autograd and SGD, following the draw order in the header. */
async function trainRunOneByOne(task: SupervisedTask, run: number, options: TrainRunsOptions): Promise<RunData> {
  const { sgd, trainSet, testSet, classes, totalIterations, iterationsPerEpoch } = task;
  const streams = runStreams(run);
  const saved = savedIterations(new Generator(streams.scheduleSeed), totalIterations, options.checkpointsPerRun);
  const data = new Generator(streams.dataSeed);
  const network = task.createNetwork(new Generator(streams.initSeed));
  const optimizer = new SGD(network.parameters(), { lr: sgd.lr, momentum: sgd.momentum, nesterov: sgd.nesterov, weightDecay: sgd.weightDecay });
  const recorder = new RunRecorder(saved, task.parameterCount);
  try {
    recorder.saveCheckpoint(0, flatParameters(network), testMetrics(network, testSet, classes, task.evalBatchSize));
    let next = 1; // index of the next saved checkpoint
    let iteration = 0;
    for (let epoch = 0; epoch < sgd.epochs; epoch++) {
      const lr = epochLearningRate(sgd, epoch);
      for (const group of optimizer.paramGroups) group.lr = lr;
      const order = epochOrder(trainSet.count, sgd, data);
      for (let b = 0; b < iterationsPerEpoch; b++) {
        options.signal?.throwIfAborted();
        iteration++;
        const indices = batchIndices(order, b, sgd.batchSize);
        const inputs = batchInputs(trainSet, indices, task.augment, data); // [B, ...inputShape]
        const labels = Int32Array.from(indices, (i) => trainSet.labels[i]!); // [B]
        optimizer.zeroGrad();
        const { logits, loss } = tidy(() => {
          const x = tensor(inputs, { shape: [indices.length, ...trainSet.inputShape] }); // [B, ...inputShape]
          const y = tensor(labels, { shape: [indices.length], dtype: 'int32' }); // [B]
          const out: Tensor = network.forward(x); // [B, classes]
          return { logits: out, loss: crossEntropy(out, y) };
        });
        const sums: ClassificationSums = { lossSum: 0, wrong: 0 };
        addClassificationSums(logits.dataSync() as Float32Array, labels, classes, sums);
        const train = classificationMetrics(sums, labels.length);
        loss.backward();
        optimizer.step();
        loss.dispose();
        logits.dispose();
        if (iteration === 1) recorder.saveTrainMetrics(0, train);
        if (saved[next] === iteration) {
          recorder.saveCheckpoint(next, flatParameters(network), testMetrics(network, testSet, classes, task.evalBatchSize));
          recorder.saveTrainMetrics(next, train);
          next++;
        }
      }
      options.onProgress?.({ type: 'run-progress', run, done: iteration, total: totalIterations });
      await yieldToEventLoop();
    }
    return recorder.result();
  } finally {
    optimizer.zeroGrad();
    optimizer.dispose();
    network.dispose();
  }
}

