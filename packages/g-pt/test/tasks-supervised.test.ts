// The generic supervised task builder on a tiny synthetic problem: run layout (§1.5),
// determinism per run index, test metrics against an independent float64 computation,
// and bad input.
import { describe, expect, it } from 'vitest';
import { Linear, ReLU, Sequential } from '@gpt/nn';
import { Generator } from '@gpt/tensor';
import { buildSupervisedTask, type SupervisedTaskSpec } from '../src/tasks/supervised.js';
import { runStreams, savedIterations } from '../src/tasks/run-schedule.js';
import { spreadImages } from '../src/tasks/supervised-data.js';

/** 3-class points in 4-D around three centers. */
function blobs(count: number, seed: number): { inputs: Float32Array; labels: Int32Array } {
  const g = new Generator(seed);
  const noise = g.normal(count * 4);
  const inputs = new Float32Array(count * 4);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % 3;
    labels[i] = label;
    for (let j = 0; j < 4; j++) inputs[i * 4 + j] = (j === label ? 2 : 0) + 0.7 * noise[i * 4 + j]!;
  }
  return { inputs, labels };
}

const train = blobs(96, 1);
const test = blobs(40, 2);

function spec(overrides: Partial<SupervisedTaskSpec> = {}): SupervisedTaskSpec {
  return {
    name: 'blobs',
    dataset: 'blobs',
    description: 'three Gaussian blobs',
    createNetwork: (generator) => new Sequential(new Linear(4, 5, { generator }), new ReLU(), new Linear(5, 3, { generator })),
    classes: 3,
    train: { inputs: train.inputs, inputShape: [4], labels: train.labels, name: 'blobs train' },
    test: { inputs: test.inputs, inputShape: [4], labels: test.labels, name: 'blobs test' },
    recipe: { epochs: 3, batchSize: 16 },
    metric: 'avg_test_err',
    prompt: { bestPrompt: 0, promptStartCoefficient: 1, recursivePrompt: 0 },
    ...overrides,
  };
}

/** Mean cross-entropy and error (%) of the 4-5-3 ReLU MLP in float64, straight from the flat vector. */
function float64Metrics(flat: Float32Array, inputs: Float32Array, labels: Int32Array): { loss: number; error: number } {
  const w1 = flat.subarray(0, 20);
  const b1 = flat.subarray(20, 25);
  const w2 = flat.subarray(25, 40);
  const b2 = flat.subarray(40, 43);
  let lossSum = 0;
  let wrong = 0;
  for (let i = 0; i < labels.length; i++) {
    const h = Array.from({ length: 5 }, (_, u) => {
      let s = b1[u]!;
      for (let j = 0; j < 4; j++) s += w1[u * 4 + j]! * inputs[i * 4 + j]!;
      return Math.max(0, s);
    });
    const z = Array.from({ length: 3 }, (_, c) => h.reduce((s, hu, u) => s + w2[c * 5 + u]! * hu, b2[c]!));
    const max = Math.max(...z);
    lossSum += Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0)) + max - z[labels[i]!]!;
    if (z.indexOf(max) !== labels[i]) wrong++;
  }
  return { loss: lossSum / labels.length, error: (100 * wrong) / labels.length };
}

describe('buildSupervisedTask', () => {
  const task = buildSupervisedTask(spec());

  it('reads the layout from the network and the recipe from the spec', () => {
    expect(task.tensors.map((t) => t.name)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(task.parameterCount).toBe(43);
    expect(task.iterationsPerEpoch).toBe(6);
    expect(task.totalIterations).toBe(18);
    expect(task.metric).toMatchObject({ name: 'avg_test_err', unit: '%', goal: 'minimize' });
    expect(task.datasetMetrics).toEqual(['avg_train_loss', 'avg_train_err', 'avg_test_loss', 'avg_test_err']);
    expect(task.recipe).toMatchObject({ lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4, epochs: 3, batchSize: 16 });
  });

  it('saves init, a seeded choice of iterations and the final one, with metrics that match a float64 recomputation', async () => {
    const [a, b] = await task.trainRuns([0, 1], { checkpointsPerRun: 6 });
    for (const [run, data] of [[0, a!], [1, b!]] as const) {
      const expected = savedIterations(new Generator(runStreams(run).scheduleSeed), 18, 6);
      expect(Array.from(data.iterations)).toEqual(Array.from(expected));
      expect(data.iterations[0]).toBe(0);
      expect(data.iterations[5]).toBe(18);
      expect(data.parameters.length).toBe(6 * 43);
      for (let k = 0; k < 6; k++) {
        const flat = data.parameters.subarray(k * 43, (k + 1) * 43);
        const reference = float64Metrics(flat, test.inputs, test.labels);
        expect(data.metrics.avg_test_loss![k]).toBeCloseTo(reference.loss, 5);
        expect(data.metrics.avg_test_err![k]).toBeCloseTo(reference.error, 10);
        expect(Number.isFinite(data.metrics.avg_train_loss![k])).toBe(true);
        const err = data.metrics.avg_train_err![k]!;
        expect(Number.isInteger(Math.round(err * 16 / 100)) && Math.abs(err * 16 / 100 - Math.round(err * 16 / 100)) < 1e-9).toBe(true);
      }
    }
    // Runs differ by seed, and training moved the parameters.
    expect(Array.from(a!.parameters.subarray(0, 43))).not.toEqual(Array.from(b!.parameters.subarray(0, 43)));
    expect(Array.from(a!.parameters.subarray(0, 43))).not.toEqual(Array.from(a!.parameters.subarray(5 * 43)));
    expect(a!.metrics.avg_test_loss![5]!).toBeLessThan(a!.metrics.avg_test_loss![0]!);
  });

  it('is deterministic per run index, alone or among other runs', async () => {
    const [alone] = await task.trainRuns([1], { checkpointsPerRun: 4 });
    const [, among] = await task.trainRuns([3, 1], { checkpointsPerRun: 4 });
    expect(among!.parameters).toEqual(alone!.parameters);
    expect(among!.metrics).toEqual(alone!.metrics);
  });

  it('evaluate measures any vector like the training loop does', async () => {
    const [run] = await task.trainRuns([2], { checkpointsPerRun: 3 });
    const vectors = [0, 1, 2].map((k) => run!.parameters.slice(k * 43, (k + 1) * 43));
    const records = await task.evaluate(vectors);
    records.forEach((r, k) => {
      expect(r.avg_test_loss).toBeCloseTo(run!.metrics.avg_test_loss![k]!, 6);
      expect(r.avg_test_err).toBe(run!.metrics.avg_test_err![k]);
    });
  });

  it('reports progress and stops on abort', async () => {
    const events: number[] = [];
    await task.trainRuns([0], { checkpointsPerRun: 2, onProgress: (e) => events.push(e.done) });
    expect(events).toEqual([6, 12, 18]);
    const controller = new AbortController();
    controller.abort(new Error('stop here'));
    await expect(task.trainRuns([0], { checkpointsPerRun: 2, signal: controller.signal })).rejects.toThrow('stop here');
  });

  it('rejects bad input with errors that name it', async () => {
    await expect(task.trainRuns([-1], { checkpointsPerRun: 3 })).rejects.toThrow(/runs\[0\] must be a non-negative integer, got -1/);
    await expect(task.trainRuns([1.5], { checkpointsPerRun: 3 })).rejects.toThrow(/runs\[0\]/);
    await expect(task.trainRuns([0], { checkpointsPerRun: 1 })).rejects.toThrow(/checkpointsPerRun must be an integer >= 2/);
    await expect(task.trainRuns([0], { checkpointsPerRun: 20 })).rejects.toThrow(/18 iterations/);
    await expect(task.evaluate([new Float32Array(42)])).rejects.toThrow(/params\[0\] has 42 values; the network has 43 parameters/);
    expect(() => buildSupervisedTask(spec({ recipe: { lr: -1 } }))).toThrow(/recipe.lr must be a non-negative number/);
    expect(() => buildSupervisedTask(spec({ classes: 2 }))).toThrow(/label 2 of example 2 is not a class index in \[0, 2\)/);
    expect(() =>
      buildSupervisedTask(spec({ permutation: { tensors: [{ name: 'fc1.weight', shape: [5, 4] }], groups: [] } })),
    ).toThrow(/permutation spec's tensors \(fc1.weight \[5, 4\]\) differ from the network's state dict \(0.weight \[5, 4\], 0.bias/);
  });
});

describe('spreadImages', () => {
  it('takes evenly spaced images, so a class-sorted set keeps every class', () => {
    const count = 100;
    const labels = Uint8Array.from({ length: count }, (_, i) => Math.floor(i / 10)); // sorted: 10 per class
    const pixels = Uint8Array.from({ length: count * 4 }, (_, i) => i % 251);
    const dataset = { name: 'sorted', count, channels: 1, height: 2, width: 2, pixels, labels, normalization: { scale: 1, mean: [0], std: [1] } };
    const subset = spreadImages(dataset, 20);
    expect(subset.count).toBe(20);
    expect(new Set(subset.labels).size).toBe(10);
    expect([...subset.pixels.subarray(4, 8)]).toEqual([...pixels.subarray(5 * 4, 6 * 4)]); // image 1 is image 5
    expect(spreadImages(dataset, 200)).toBe(dataset);
  });
});
