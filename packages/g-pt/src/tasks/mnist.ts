// The MNIST tasks, mnist_loss and mnist_error (gpt-paper.md §1.2): the MLP 784 -> 10 (ReLU)
// -> 10 (D = 7,960) trained with the paper's SGD recipe for 25 epochs; both share the
// "mnist" dataset family and differ only in the metric G.pt is conditioned on. Data: the
// 10,000 digits bundled by the optional `mnist` package with @gpt/nn's fixed per-class
// split (8,004 train / 1,996 test, as examples/mnist-mlp) by default, or the standard IDX
// files of full MNIST (60,000 / 10,000) from `dataDir`. Several runs train at once as one
// computation (batched-mlp.ts), `runsPerBatch` at a time.
import { MNIST_TASK } from '@gpt/checkpoints';
import { Linear, Module } from '@gpt/nn';
import type { ImageDataset } from '@gpt/nn/data';
import { loadBundledMnist, loadMnist } from '@gpt/nn/data-node';
import { relu, reshape, tidy, type Generator, type Tensor } from '@gpt/tensor';
import { trainMlpRunsBatched } from './batched-mlp.js';
import { checkRuns } from './run-schedule.js';
import { buildSupervisedTask, type SgdRecipe, type SupervisedMetricName, type SupervisedTask } from './supervised.js';
import { spreadImages } from './supervised-data.js';
import type { PromptConstants, TaskFactory } from './task.js';
import { optionalInteger, optionalObject, optionalString, rejectUnknownOptions } from './task-options.js';

export const MNIST_HIDDEN = 10;

/** data_gen/train_mnist.py's MLP(w_h=10); state dict fc1.weight, fc1.bias, fc2.weight, fc2.bias. */
export class MnistMlp extends Module {
  fc1: Linear;
  fc2: Linear;

  constructor(generator: Generator) {
    super();
    this.fc1 = new Linear(28 * 28, MNIST_HIDDEN, { generator });
    this.fc2 = new Linear(MNIST_HIDDEN, 10, { generator });
  }

  /** [N, 1, 28, 28] (or [N, 784]) -> logits [N, 10] */
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const flat = reshape(x, [x.shape[0]!, 28 * 28]); // [N, 784]
      const hidden = relu(this.fc1.forward(flat)); // [N, 10]
      return this.fc2.forward(hidden); // [N, 10]
    });
  }
}

export interface MnistTaskOptions extends Record<string, unknown> {
  /** A folder with the standard MNIST IDX files (raw or .gz); the bundled 10,000 digits when omitted. */
  dataDir?: string;
  /** Recipe overrides (epochs, lr, batchSize, ...); the paper's recipe with 25 epochs otherwise. */
  recipe?: Partial<SgdRecipe>;
  /** Runs trained at once by trainRuns (default 16); 1 trains them one by one. */
  runsPerBatch?: number;
  /** N training images spread evenly over the set (for quick tests and examples); all by default. */
  trainSubset?: number;
}

const PROMPTS: Record<SupervisedMetricName, PromptConstants> = {
  avg_test_loss: { bestPrompt: 0.0, promptStartCoefficient: 0.9, recursivePrompt: 0.0 },
  avg_test_err: { bestPrompt: 5.0, promptStartCoefficient: 0.9, recursivePrompt: 5.0 },
};

export const DEFAULT_RUNS_PER_BATCH = 16;

// Loading and parsing the data once per process serves both MNIST tasks and every batch of runs.
const dataCache = new Map<string, Promise<{ train: ImageDataset; test: ImageDataset }>>();

function loadMnistData(dataDir: string | undefined): Promise<{ train: ImageDataset; test: ImageDataset }> {
  const key = dataDir ?? '';
  let data = dataCache.get(key);
  if (!data) {
    data = dataDir === undefined ? loadBundledMnist() : Promise.all([loadMnist(dataDir, 'train'), loadMnist(dataDir, 'test')]).then(([train, test]) => ({ train, test }));
    dataCache.set(key, data);
    data.catch(() => dataCache.delete(key));
  }
  return data;
}

/** Builds mnist_loss or mnist_error with its data loaded. */
export async function createMnistTask(metric: SupervisedMetricName, options: MnistTaskOptions = {}): Promise<SupervisedTask> {
  const name = metric === 'avg_test_loss' ? 'mnist_loss' : 'mnist_error';
  rejectUnknownOptions(name, options, ['dataDir', 'recipe', 'runsPerBatch', 'trainSubset']);
  const dataDir = optionalString(name, options, 'dataDir');
  const recipe = optionalObject(name, options, 'recipe') as Partial<SgdRecipe> | undefined;
  const runsPerBatch = optionalInteger(name, options, 'runsPerBatch', 1) ?? DEFAULT_RUNS_PER_BATCH;
  const trainSubset = optionalInteger(name, options, 'trainSubset', 1);
  const data = await loadMnistData(dataDir);
  const task = buildSupervisedTask({
    name,
    dataset: MNIST_TASK.name,
    description: `MNIST MLP 784-10-10 (7,960 parameters), SGD; G.pt conditioned on the ${metric === 'avg_test_loss' ? 'test loss' : 'test error (%)'}`,
    createNetwork: (generator) => new MnistMlp(generator),
    classes: 10,
    train: trainSubset === undefined ? data.train : spreadImages(data.train, trainSubset),
    test: data.test,
    recipe: { epochs: 25, ...recipe },
    metric,
    prompt: PROMPTS[metric],
    permutation: MNIST_TASK.permutation,
    metadata: { data: dataDir ?? 'bundled mnist package digits (per-class split, every 5th digit to test)' },
  });
  return {
    ...task,
    trainRuns: async (runs, trainOptions) => {
      checkRuns(`${name}.trainRuns`, runs);
      if (runsPerBatch === 1 || runs.length === 1) return task.trainRunsOneByOne(runs, trainOptions);
      const results = [];
      for (let i = 0; i < runs.length; i += runsPerBatch) {
        results.push(...(await trainMlpRunsBatched(task, runs.slice(i, i + runsPerBatch), trainOptions)));
      }
      return results;
    },
  };
}

function mnistFactory(metric: SupervisedMetricName): TaskFactory<MnistTaskOptions> {
  const name = metric === 'avg_test_loss' ? 'mnist_loss' : 'mnist_error';
  return {
    name,
    description: `MNIST MLP 784-10-10 (D 7,960), conditioned on ${metric}; options: dataDir (IDX files; default the bundled digits), recipe, runsPerBatch, trainSubset`,
    create: (options) => createMnistTask(metric, options),
  };
}

export const MNIST_LOSS_FACTORY = mnistFactory('avg_test_loss');
export const MNIST_ERROR_FACTORY = mnistFactory('avg_test_err');
