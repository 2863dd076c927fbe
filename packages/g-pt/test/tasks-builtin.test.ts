// The five built-in tasks: each network's layout (parameter count, state-dict = flat order,
// the same tensors as @gpt/checkpoints' OFFICIAL_TASKS), permutation augmentation keeping
// each network's outputs, evaluate against independent float64 computations, short
// training runs (CIFAR-10 on a tiny dataset in the binary format written here, Cartpole
// with a few small PPO iterations), the prompt constants, and bad input.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CARTPOLE_TASK, CIFAR10_TASK, MNIST_TASK, ParameterPermuter, applyGather } from '@gpt/checkpoints';
import { flattenParameters, loadFlat, type Layer } from '@gpt/nn';
import { loadBundledMnist } from '@gpt/nn/data-node';
import { Generator, noGrad, randn, type Tensor } from '@gpt/tensor';
import { createTask, taskNames } from '../src/tasks/registry.js';
import { runStreams } from '../src/tasks/run-schedule.js';
import type { SupervisedTask } from '../src/tasks/supervised.js';
import type { Task } from '../src/tasks/task.js';
import '../src/tasks/builtin.js';

function flatOf(network: Layer): Float32Array {
  const flat = flattenParameters(network);
  const values = Float32Array.from(flat.dataSync() as Float32Array);
  flat.dispose();
  return values;
}

function outputs(network: Layer, x: Tensor): Float32Array {
  return noGrad(() => {
    const y = network.forward(x);
    const values = Float32Array.from(y.dataSync() as Float32Array);
    y.dispose();
    return values;
  });
}

/** Permuting the hidden units with the task's spec changes the vector but not the function. */
function expectPermutationInvariant(task: Task, x: Tensor, forward: (network: Layer, x: Tensor) => Float32Array = outputs): void {
  const network = task.createNetwork(new Generator(3)) as Layer;
  const flat = flatOf(network);
  const before = forward(network, x);
  const permuter = new ParameterPermuter(task.permutation);
  const permuted = applyGather(flat, permuter.randomIndex(new Generator(11)));
  expect(permuted).not.toEqual(flat);
  loadFlat(network, permuted);
  const after = forward(network, x);
  for (let i = 0; i < before.length; i++) expect(after[i]).toBeCloseTo(before[i]!, 5);
  network.dispose();
}

/** Writes a CIFAR-10 binary folder: records of 1 label byte + 3,072 pixel bytes (R, G, B planes). */
async function writeCifarFolder(dir: string, perFile: number, testCount: number, skip: string[] = []): Promise<void> {
  const g = new Generator(5);
  const files = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`).concat('test_batch.bin');
  for (const name of files) {
    if (skip.includes(name)) continue;
    const count = name === 'test_batch.bin' ? testCount : perFile;
    const bytes = new Uint8Array(count * 3073);
    const values = g.randint(0, 256, count * 3073);
    for (let r = 0; r < count; r++) {
      bytes[r * 3073] = r % 10;
      for (let p = 1; p < 3073; p++) bytes[r * 3073 + p] = values[r * 3073 + p]!;
    }
    await writeFile(join(dir, name), bytes);
  }
}

describe('built-in task registry', () => {
  it('lists the five paper tasks and names them in the unknown-task error', async () => {
    expect(taskNames()).toEqual(expect.arrayContaining(['cartpole', 'cifar10_error', 'cifar10_loss', 'mnist_error', 'mnist_loss']));
    await expect(createTask('mnist_errr')).rejects.toThrow(/unknown task "mnist_errr"; known tasks: .*cartpole, cifar10_error, cifar10_loss.*mnist_error, mnist_loss/);
  });

  it('rejects unknown and malformed options with the option named', async () => {
    await expect(createTask('mnist_error', { epochs: 3 })).rejects.toThrow(/mnist_error: unknown option "epochs"; known options: dataDir, recipe, runsPerBatch, trainSubset/);
    await expect(createTask('mnist_loss', { runsPerBatch: 0 })).rejects.toThrow(/option runsPerBatch must be an integer >= 1, got 0/);
    await expect(createTask('cartpole', { recipe: { seed: 3 } })).rejects.toThrow(/recipe.seed cannot be set/);
    await expect(createTask('cartpole', { recipe: { itrations: 3 } })).rejects.toThrow(/unknown recipe setting "itrations"/);
  });
});

describe('MNIST tasks', () => {
  let task: SupervisedTask;
  beforeAll(async () => {
    task = (await createTask('mnist_error')) as SupervisedTask;
  });

  it('has the paper network, layout, data split, recipe, metric and prompts', async () => {
    expect(task.tensors).toEqual(MNIST_TASK.tensors);
    expect(task.parameterCount).toBe(7960);
    expect(task.dataset).toBe('mnist');
    expect(task.datasetMetrics).toEqual(MNIST_TASK.metrics);
    expect(task.trainSet.count).toBe(8004);
    expect(task.testSet.count).toBe(1996);
    expect(task.iterationsPerEpoch).toBe(62);
    expect(task.totalIterations).toBe(25 * 62);
    expect(task.recipe).toMatchObject({ epochs: 25, lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4, batchSize: 128, shuffle: true, dropLast: true, schedule: 'cosine' });
    expect(task.metric).toEqual({ name: 'avg_test_err', label: 'test error', unit: '%', goal: 'minimize' });
    expect(task.prompt).toEqual({ bestPrompt: 5, promptStartCoefficient: 0.9, recursivePrompt: 5 });
    const loss = await createTask('mnist_loss');
    expect(loss.metric.name).toBe('avg_test_loss');
    expect(loss.prompt).toEqual({ bestPrompt: 0, promptStartCoefficient: 0.9, recursivePrompt: 0 });
    expect(loss.dataset).toBe('mnist');
  });

  it('flattens in state-dict order: fc1.weight, fc1.bias, fc2.weight, fc2.bias', () => {
    const network = task.createNetwork(new Generator(2));
    const flat = flatOf(network);
    const dict = network.stateDict();
    let offset = 0;
    for (const { name, shape } of MNIST_TASK.tensors) {
      const values = dict[name]!.dataSync() as Float32Array;
      expect(values.length).toBe(shape.reduce((a, b) => a * b, 1));
      expect(flat.subarray(offset, offset + values.length)).toEqual(values);
      offset += values.length;
    }
    for (const t of Object.values(dict)) t.dispose();
    network.dispose();
  });

  it('keeps its outputs under permutation augmentation', () => {
    const x = randn([16, 1, 28, 28], { seed: 4 });
    expectPermutationInvariant(task, x);
    x.dispose();
  });

  it('evaluates a vector like an independent float64 computation on the raw test pixels', async () => {
    const vector = flatOf(task.createNetwork(new Generator(runStreams(0).initSeed)));
    const [record] = await task.evaluate([vector]);
    const { pixels, labels } = (await loadBundledMnist()).test;
    let lossSum = 0;
    let wrong = 0;
    for (let i = 0; i < labels.length; i++) {
      const hidden = new Float64Array(10);
      for (let h = 0; h < 10; h++) {
        let s = vector[7840 + h]!;
        for (let p = 0; p < 784; p++) s += vector[h * 784 + p]! * ((pixels[i * 784 + p]! / 255 - 0.1307) / 0.3081);
        hidden[h] = Math.max(0, s);
      }
      const logits = Array.from({ length: 10 }, (_, c) => hidden.reduce((s, v, h) => s + vector[7850 + c * 10 + h]! * v, vector[7950 + c]!));
      const max = Math.max(...logits);
      lossSum += Math.log(logits.reduce((s, v) => s + Math.exp(v - max), 0)) + max - logits[labels[i]!]!;
      if (logits.indexOf(max) !== labels[i]) wrong++;
    }
    expect(record!.avg_test_loss).toBeCloseTo(lossSum / labels.length, 5);
    expect(record!.avg_test_err).toBeCloseTo((100 * wrong) / labels.length, 8);
  });
});

describe('CIFAR-10 tasks', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gpt-tasks-cifar-'));
    await writeCifarFolder(dir, 26, 8); // 130 training images: one batch of 128 per epoch
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('needs a data folder and names what is missing', async () => {
    await expect(createTask('cifar10_error')).rejects.toThrow(/cifar10_error: option dataDir is required: a folder with the CIFAR-10 binary batches/);
    const missing = join(dir, 'nowhere');
    await expect(createTask('cifar10_loss', { dataDir: missing })).rejects.toThrow(new RegExp(`folder ${missing} does not exist`));
    const partial = await mkdtemp(join(tmpdir(), 'gpt-tasks-cifar-partial-'));
    try {
      await writeCifarFolder(partial, 2, 2, ['data_batch_4.bin']);
      await expect(createTask('cifar10_loss', { dataDir: partial })).rejects.toThrow(/cannot read batch file .*data_batch_4\.bin/);
    } finally {
      await rm(partial, { recursive: true, force: true });
    }
  });

  it('has the paper network, layout, recipe, metric and prompts', async () => {
    const task = (await createTask('cifar10_error', { dataDir: dir })) as SupervisedTask;
    expect(task.tensors).toEqual(CIFAR10_TASK.tensors);
    expect(task.parameterCount).toBe(5370);
    expect(task.dataset).toBe('cifar10');
    expect(task.recipe).toMatchObject({ epochs: 50, lr: 0.1, batchSize: 128, augment: 'flipAndCrop' });
    expect(task.prompt).toEqual({ bestPrompt: 35, promptStartCoefficient: 1, recursivePrompt: 45 });
    const loss = await createTask('cifar10_loss', { dataDir: dir });
    expect(loss.prompt).toEqual({ bestPrompt: 1.2, promptStartCoefficient: 1, recursivePrompt: 1.4 });
    const x = randn([4, 3, 32, 32], { seed: 8 });
    expectPermutationInvariant(task, x);
    x.dispose();
  });

  it('evaluates a vector like an independent float64 convolution of the normalized test images', async () => {
    const task = (await createTask('cifar10_loss', { dataDir: dir })) as SupervisedTask;
    const vector = flatOf(task.createNetwork(new Generator(9)));
    const [record] = await task.evaluate([vector]);
    // The test images straight from the file: 1 label byte + R, G, B planes of 32 x 32 bytes per record.
    const bytes = await readFile(join(dir, 'test_batch.bin'));
    const mean = [125.3, 123.0, 113.9];
    const std = [63.0, 62.1, 66.7];
    const conv = (input: Float64Array, cin: number, size: number, weights: Float32Array, cout: number, stride: number): Float64Array => {
      const outSize = Math.floor((size + 2 - 3) / stride) + 1;
      const out = new Float64Array(cout * outSize * outSize);
      for (let o = 0; o < cout; o++)
        for (let y = 0; y < outSize; y++)
          for (let x = 0; x < outSize; x++) {
            let s = 0;
            for (let c = 0; c < cin; c++)
              for (let ky = 0; ky < 3; ky++)
                for (let kx = 0; kx < 3; kx++) {
                  const iy = y * stride + ky - 1;
                  const ix = x * stride + kx - 1;
                  if (iy < 0 || iy >= size || ix < 0 || ix >= size) continue;
                  s += weights[((o * cin + c) * 3 + ky) * 3 + kx]! * input[(c * size + iy) * size + ix]!;
                }
            out[(o * outSize + y) * outSize + x] = Math.max(0, s);
          }
      return out;
    };
    let lossSum = 0;
    let wrong = 0;
    for (let i = 0; i < 8; i++) {
      const image = Float64Array.from({ length: 3072 }, (_, p) => (bytes[i * 3073 + 1 + p]! - mean[Math.floor(p / 1024)]!) / std[Math.floor(p / 1024)]!);
      const h1 = conv(image, 3, 32, vector.subarray(0, 432), 16, 2); // [16, 16, 16]
      const h2 = conv(h1, 16, 16, vector.subarray(432, 5040), 32, 1); // [32, 16, 16]
      const pooled = Array.from({ length: 32 }, (_, c) => h2.subarray(c * 256, (c + 1) * 256).reduce((a, b) => a + b, 0) / 256);
      const logits = Array.from({ length: 10 }, (_, k) => pooled.reduce((s, v, c) => s + vector[5040 + k * 32 + c]! * v, vector[5360 + k]!));
      const max = Math.max(...logits);
      const label = bytes[i * 3073]!;
      lossSum += Math.log(logits.reduce((s, v) => s + Math.exp(v - max), 0)) + max - logits[label]!;
      if (logits.indexOf(max) !== label) wrong++;
    }
    expect(record!.avg_test_loss).toBeCloseTo(lossSum / 8, 5);
    expect(record!.avg_test_err).toBeCloseTo((100 * wrong) / 8, 8);
  });

  it('trains runs on a tiny dataset with flip + crop augmentation', async () => {
    const task = (await createTask('cifar10_error', { dataDir: dir, recipe: { epochs: 2, batchSize: 8 } })) as SupervisedTask;
    expect(task.totalIterations).toBe(32); // 130 images / 8 (drop_last), 2 epochs
    const [a, again] = [...(await task.trainRuns([4], { checkpointsPerRun: 4 })), ...(await task.trainRuns([4], { checkpointsPerRun: 4 }))];
    expect(a!.iterations[0]).toBe(0);
    expect(a!.iterations[3]).toBe(32);
    expect(a!.parameters.length).toBe(4 * 5370);
    expect(again!.parameters).toEqual(a!.parameters);
    for (const name of task.datasetMetrics) for (const v of Array.from(a!.metrics[name]!)) expect(Number.isFinite(v)).toBe(true);
  });
});

describe('Cartpole task', () => {
  it('has the policy layout, metric and prompts', async () => {
    const task = await createTask('cartpole');
    expect(task.tensors).toEqual(CARTPOLE_TASK.tensors);
    expect(task.parameterCount).toBe(1250);
    expect(task.metric).toEqual({ name: 'train_ret', label: 'training return', unit: 'return', goal: 'maximize' });
    expect(task.datasetMetrics).toEqual(['train_ret']);
    expect(task.prompt).toEqual({ bestPrompt: 500, promptStartCoefficient: 1, recursivePrompt: 500 });
    expect(task.recipe).toMatchObject({ iterations: 500, numEnvs: 512, numSteps: 16, learningRate: 3e-4 });
    const network = task.createNetwork(new Generator(1)) as Layer;
    expect(network.stateShapes().map(([name]) => name)).toEqual(CARTPOLE_TASK.tensors.map((t) => t.name));
    network.dispose();
    const x = randn([32, 4], { seed: 2 });
    expectPermutationInvariant(task, x);
    x.dispose();
  });

  it('saves the initialization, chosen PPO iterations and the last, with the training return', async () => {
    const task = await createTask('cartpole', { recipe: { iterations: 4, numEnvs: 32, numSteps: 8 } });
    const events: number[] = [];
    const [run] = await task.trainRuns([3], { checkpointsPerRun: 3, onProgress: (e) => events.push(e.done) });
    expect(events).toEqual([1, 2, 3, 4]);
    expect(run!.iterations[0]).toBe(0);
    expect(run!.iterations[2]).toBe(4);
    const init = flatOf(task.createNetwork(new Generator(runStreams(3).initSeed)) as Layer);
    expect(run!.parameters.subarray(0, 1250)).toEqual(init);
    for (const v of Array.from(run!.metrics.train_ret!)) expect(v).toBeGreaterThan(0);
    const [evaluated] = await task.evaluate([run!.parameters.slice(2 * 1250)]);
    expect(evaluated!.train_ret).toBeGreaterThan(0);
    await expect(task.trainRuns([0], { checkpointsPerRun: 6 })).rejects.toThrow(/checkpointsPerRun 6 is more than the run's 4 iterations/);
    await expect(task.evaluate([new Float32Array(3)])).rejects.toThrow(/params\[0\] must be a Float32Array of 1250 values, got 3 values/);
  });
});
