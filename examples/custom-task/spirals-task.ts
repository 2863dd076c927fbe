// A user's own G.pt task, defined outside @gpt/g-pt: an MLP 2 -> 16 (ReLU) -> 3 classifying
// three interleaved spirals, trained with the paper's SGD recipe (shorter), conditioned on
// its test error. Importing this module registers the task as "spirals"; the factory's
// moduleUrl points back here so that dataset generation can rebuild the task in worker
// threads. Any @gpt/nn module, any data (arrays, tensors or an ImageDataset) and either
// supervised metric go through buildSupervisedTask; a non-classification task implements
// the Task interface itself (see packages/g-pt/src/tasks/task.ts).
import { buildSupervisedTask, registerTask, type SgdRecipe, type TaskFactory } from '@gpt/g-pt';
import { Linear, ReLU, Sequential } from '@gpt/nn';
import { Generator } from '@gpt/tensor';

export const HIDDEN = 16;

/** `count` points of three noisy spiral arms: inputs [count, 2] and labels [count]. */
export function spirals(count: number, seed: number): { inputs: Float32Array; labels: Int32Array } {
  const generator = new Generator(seed);
  const radius = generator.uniform(count);
  const noise = generator.normal(2 * count);
  const inputs = new Float32Array(2 * count);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const arm = i % 3;
    const r = radius[i]!;
    const angle = 4 * r + (2 * Math.PI * arm) / 3;
    inputs[2 * i] = r * Math.cos(angle) + 0.05 * noise[2 * i]!;
    inputs[2 * i + 1] = r * Math.sin(angle) + 0.05 * noise[2 * i + 1]!;
    labels[i] = arm;
  }
  return { inputs, labels };
}

export interface SpiralsOptions extends Record<string, unknown> {
  recipe?: Partial<SgdRecipe>;
}

export const SPIRALS_TASK: TaskFactory<SpiralsOptions> = {
  name: 'spirals',
  description: 'MLP 2-16-3 on three spirals (a custom task from examples/custom-task)',
  moduleUrl: import.meta.url,
  create: async (options) => {
    // Fixed data seeds: every run (and every worker) sees the same train and test sets.
    const train = spirals(1536, 1);
    const test = spirals(600, 2);
    return buildSupervisedTask({
      name: 'spirals',
      dataset: 'spirals',
      description: 'MLP 2-16-3 on three spirals',
      createNetwork: (generator) => new Sequential(new Linear(2, HIDDEN, { generator }), new ReLU(), new Linear(HIDDEN, 3, { generator })),
      classes: 3,
      train: { name: 'spirals train', inputs: train.inputs, inputShape: [2], labels: train.labels },
      test: { name: 'spirals test', inputs: test.inputs, inputShape: [2], labels: test.labels },
      recipe: { epochs: 30, ...options.recipe },
      metric: 'avg_test_err',
      // The sweep G.pt is prompted with: from the network's error down to 10 %.
      prompt: { bestPrompt: 10, promptStartCoefficient: 1, recursivePrompt: 10 },
      // The 16 hidden units may be permuted: rows of 0.weight and 0.bias, columns of 2.weight.
      permutation: {
        tensors: [
          { name: '0.weight', shape: [HIDDEN, 2] },
          { name: '0.bias', shape: [HIDDEN] },
          { name: '2.weight', shape: [3, HIDDEN] },
          { name: '2.bias', shape: [3] },
        ],
        groups: [{ name: 'hidden units', size: HIDDEN, members: [{ tensor: '0.weight', axis: 0 }, { tensor: '0.bias', axis: 0 }, { tensor: '2.weight', axis: 1 }] }],
      },
    });
  },
};

registerTask(SPIRALS_TASK);
