// The CIFAR-10 tasks, cifar10_loss and cifar10_error (gpt-paper.md §1.3): the CNN conv 3->16
// k3 s2 p1 (no bias), ReLU, conv 16->32 k3 s1 p1 (no bias), ReLU, global average pool,
// linear 32->10 (D = 5,370), trained with the paper's SGD recipe for 50 epochs on
// normalized images that are flipped and randomly cropped (zero-pad 4) per batch. The data
// are the CIFAR-10 binary batches in a folder the user names with `dataDir`; nothing is
// downloaded. Both tasks share the "cifar10" dataset family.
import { CIFAR10_TASK } from '@gpt/checkpoints';
import { Conv2d, GlobalAvgPool2d, Linear, Module } from '@gpt/nn';
import { randomCropFlip, type ImageDataset } from '@gpt/nn/data';
import { loadCifar10 } from '@gpt/nn/data-node';
import { relu, tidy, type Generator, type Tensor } from '@gpt/tensor';
import { buildSupervisedTask, type SgdRecipe, type SupervisedMetricName, type SupervisedTask } from './supervised.js';
import { spreadImages } from './supervised-data.js';
import type { PromptConstants, TaskFactory } from './task.js';
import { optionalInteger, optionalObject, optionalString, rejectUnknownOptions } from './task-options.js';

/** data_gen/train_cifar10.py's ConvNet(ws=[16, 32]); state dict conv1.weight, conv2.weight, fc.weight, fc.bias. */
export class Cifar10Cnn extends Module {
  conv1: Conv2d;
  conv2: Conv2d;
  gap = new GlobalAvgPool2d();
  fc: Linear;

  constructor(generator: Generator) {
    super();
    this.conv1 = new Conv2d(3, 16, 3, { stride: 2, padding: 1, bias: false, generator });
    this.conv2 = new Conv2d(16, 32, 3, { stride: 1, padding: 1, bias: false, generator });
    this.fc = new Linear(32, 10, { generator });
  }

  /** [N, 3, 32, 32] -> logits [N, 10] */
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const h1 = relu(this.conv1.forward(x)); // [N, 16, 16, 16]
      const h2 = relu(this.conv2.forward(h1)); // [N, 32, 16, 16]
      const pooled = this.gap.forward(h2); // [N, 32]
      return this.fc.forward(pooled); // [N, 10]
    });
  }
}

export interface Cifar10TaskOptions extends Record<string, unknown> {
  /** Folder with the CIFAR-10 binary batches (data_batch_1.bin ... data_batch_5.bin, test_batch.bin), or holding cifar-10-batches-bin/. Required. */
  dataDir?: string;
  /** Recipe overrides; the paper's recipe with 50 epochs otherwise. */
  recipe?: Partial<SgdRecipe>;
  /** N training images spread evenly over the set (quick tests); all by default. */
  trainSubset?: number;
}

const PROMPTS: Record<SupervisedMetricName, PromptConstants> = {
  avg_test_loss: { bestPrompt: 1.2, promptStartCoefficient: 1.0, recursivePrompt: 1.4 },
  avg_test_err: { bestPrompt: 35.0, promptStartCoefficient: 1.0, recursivePrompt: 45.0 },
};

/** The paper's train augmentation: horizontal flip p = 0.5, then a random 32x32 crop of the image zero-padded by 4. */
function flipAndCrop(images: Float32Array, shape: readonly [number, number, number, number], generator: Generator): void {
  randomCropFlip(images, shape, generator, { padding: 4, flipProbability: 0.5 });
}

const dataCache = new Map<string, Promise<{ train: ImageDataset; test: ImageDataset }>>();

function loadCifar10Data(dataDir: string): Promise<{ train: ImageDataset; test: ImageDataset }> {
  let data = dataCache.get(dataDir);
  if (!data) {
    data = Promise.all([loadCifar10(dataDir, 'train'), loadCifar10(dataDir, 'test')]).then(([train, test]) => ({ train, test }));
    dataCache.set(dataDir, data);
    data.catch(() => dataCache.delete(dataDir));
  }
  return data;
}

/** Builds cifar10_loss or cifar10_error with its data loaded from `options.dataDir`. */
export async function createCifar10Task(metric: SupervisedMetricName, options: Cifar10TaskOptions = {}): Promise<SupervisedTask> {
  const name = metric === 'avg_test_loss' ? 'cifar10_loss' : 'cifar10_error';
  rejectUnknownOptions(name, options, ['dataDir', 'recipe', 'trainSubset']);
  const dataDir = optionalString(name, options, 'dataDir');
  if (dataDir === undefined) {
    throw new Error(`${name}: option dataDir is required: a folder with the CIFAR-10 binary batches (data_batch_1.bin ... data_batch_5.bin, test_batch.bin; https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz unpacked)`);
  }
  const recipe = optionalObject(name, options, 'recipe') as Partial<SgdRecipe> | undefined;
  const trainSubset = optionalInteger(name, options, 'trainSubset', 1);
  const data = await loadCifar10Data(dataDir);
  return buildSupervisedTask({
    name,
    dataset: CIFAR10_TASK.name,
    description: `CIFAR-10 CNN (5,370 parameters), SGD with flip + crop; G.pt conditioned on the ${metric === 'avg_test_loss' ? 'test loss' : 'test error (%)'}`,
    createNetwork: (generator) => new Cifar10Cnn(generator),
    classes: 10,
    train: trainSubset === undefined ? data.train : spreadImages(data.train, trainSubset),
    test: data.test,
    recipe: { epochs: 50, ...recipe },
    augment: flipAndCrop,
    metric,
    prompt: PROMPTS[metric],
    permutation: CIFAR10_TASK.permutation,
    evalBatchSize: 1000,
    metadata: { data: dataDir },
  });
}

function cifar10Factory(metric: SupervisedMetricName): TaskFactory<Cifar10TaskOptions> {
  const name = metric === 'avg_test_loss' ? 'cifar10_loss' : 'cifar10_error';
  return {
    name,
    description: `CIFAR-10 CNN (D 5,370), conditioned on ${metric}; options: dataDir (required: the CIFAR-10 binary batches), recipe, trainSubset`,
    create: (options) => createCifar10Task(metric, options),
  };
}

export const CIFAR10_LOSS_FACTORY = cifar10Factory('avg_test_loss');
export const CIFAR10_ERROR_FACTORY = cifar10Factory('avg_test_err');
