// The three networks of the official G.pt checkpoint datasets (gpt-paper.md §1, §2, §3.8):
// tensor names and shapes in state-dict order, which hidden units may be permuted, the
// metrics runs.json records, and the constants of the released configs. The LMDB files
// only store per-tensor sizes ("_arch"), so shapes have to come from here.
import { type TensorSpec, parameterCountOf } from './manifest.js';
import type { PermutationSpec } from './permutation.js';

export interface OfficialTask {
  readonly name: 'mnist' | 'cifar10' | 'cartpole';
  readonly tensors: readonly TensorSpec[];
  readonly permutation: PermutationSpec;
  /** Metric names stored per checkpoint in runs.json. */
  readonly metrics: readonly string[];
  /** Key format: SGD tasks "ep{EEE}_it{IIIII}.pt", Cartpole "it{IIIII}.pt". */
  readonly keyStyle: 'epoch-iteration' | 'iteration';
  /** Optimizer steps per epoch, to turn (epoch, iteration-in-epoch) into an absolute iteration. */
  readonly iterationsPerEpoch?: number;
  /** `num_test_runs` of the released configs. */
  readonly numTestRuns: number;
  /** `openai_coeff` of the released configs. */
  readonly openaiCoefficient: number;
}

const MNIST_TENSORS: TensorSpec[] = [
  { name: 'fc1.weight', shape: [10, 784] },
  { name: 'fc1.bias', shape: [10] },
  { name: 'fc2.weight', shape: [10, 10] },
  { name: 'fc2.bias', shape: [10] },
];

const CIFAR10_TENSORS: TensorSpec[] = [
  { name: 'conv1.weight', shape: [16, 3, 3, 3] },
  { name: 'conv2.weight', shape: [32, 16, 3, 3] },
  { name: 'fc.weight', shape: [10, 32] },
  { name: 'fc.bias', shape: [10] },
];

const CARTPOLE_TENSORS: TensorSpec[] = [
  { name: 'log_std', shape: [1] },
  { name: 'actor.0.weight', shape: [32, 4] },
  { name: 'actor.0.bias', shape: [32] },
  { name: 'actor.2.weight', shape: [32, 32] },
  { name: 'actor.2.bias', shape: [32] },
  { name: 'actor.4.weight', shape: [1, 32] },
  { name: 'actor.4.bias', shape: [1] },
];

const SGD_METRICS = ['avg_train_loss', 'avg_train_err', 'avg_test_loss', 'avg_test_err'];

/** MNIST MLP 784→10→10 (D = 7,960): the 10 hidden units are permutable. */
export const MNIST_TASK: OfficialTask = {
  name: 'mnist',
  tensors: MNIST_TENSORS,
  permutation: {
    tensors: MNIST_TENSORS,
    groups: [
      {
        name: 'fc1 units',
        size: 10,
        members: [
          { tensor: 'fc1.weight', axis: 0 },
          { tensor: 'fc1.bias', axis: 0 },
          { tensor: 'fc2.weight', axis: 1 },
        ],
      },
    ],
  },
  metrics: SGD_METRICS,
  keyStyle: 'epoch-iteration',
  iterationsPerEpoch: 468, // 60,000 images / batch 128, drop_last
  numTestRuns: 500,
  openaiCoefficient: 4.185,
};

/** CIFAR-10 CNN (D = 5,370): conv1's 16 and conv2's 32 output channels are permutable. */
export const CIFAR10_TASK: OfficialTask = {
  name: 'cifar10',
  tensors: CIFAR10_TENSORS,
  permutation: {
    tensors: CIFAR10_TENSORS,
    groups: [
      {
        name: 'conv1 channels',
        size: 16,
        members: [
          { tensor: 'conv1.weight', axis: 0 },
          { tensor: 'conv2.weight', axis: 1 },
        ],
      },
      {
        name: 'conv2 channels',
        size: 32,
        members: [
          { tensor: 'conv2.weight', axis: 0 },
          { tensor: 'fc.weight', axis: 1 },
        ],
      },
    ],
  },
  metrics: SGD_METRICS,
  keyStyle: 'epoch-iteration',
  iterationsPerEpoch: 390, // 50,000 images / batch 128, drop_last
  numTestRuns: 2050,
  openaiCoefficient: 1.646,
};

/** Cartpole Gaussian MLP policy (D = 1,250): both hidden layers' 32 units are permutable. */
export const CARTPOLE_TASK: OfficialTask = {
  name: 'cartpole',
  tensors: CARTPOLE_TENSORS,
  permutation: {
    tensors: CARTPOLE_TENSORS,
    groups: [
      {
        name: 'actor.0 units',
        size: 32,
        members: [
          { tensor: 'actor.0.weight', axis: 0 },
          { tensor: 'actor.0.bias', axis: 0 },
          { tensor: 'actor.2.weight', axis: 1 },
        ],
      },
      {
        name: 'actor.2 units',
        size: 32,
        members: [
          { tensor: 'actor.2.weight', axis: 0 },
          { tensor: 'actor.2.bias', axis: 0 },
          { tensor: 'actor.4.weight', axis: 1 },
        ],
      },
    ],
  },
  metrics: ['train_ret'],
  keyStyle: 'iteration',
  numTestRuns: 2050,
  openaiCoefficient: 2.06,
};

export const OFFICIAL_TASKS: Readonly<Record<OfficialTask['name'], OfficialTask>> = {
  mnist: MNIST_TASK,
  cifar10: CIFAR10_TASK,
  cartpole: CARTPOLE_TASK,
};

/** D of a task. */
export function taskParameterCount(task: Pick<OfficialTask, 'tensors'>): number {
  return parameterCountOf(task.tensors);
}
