// The demo task moons_loss: its fast host trainer gives the runs of the tensor trainer
// (SupervisedTask.trainRunsOneByOne), evaluate is the float64 test loss of the linear
// read-out, the gradient objective is the full-batch training cross-entropy, bad options
// are named.
import { describe, expect, it } from 'vitest';
import { Generator } from '@gpt/tensor';
import '../src/tasks/builtin.js';
import { createMoonsTask, moonsData, twoMoons } from '../src/tasks/moons.js';
import { createTask } from '../src/tasks/registry.js';

/** Mean cross-entropy (float64) of W [2, F], b [2] on features x [n, F]. */
function loss64(p: Float32Array, x: Float32Array, labels: Int32Array, F: number): number {
  let total = 0;
  for (let n = 0; n < labels.length; n++) {
    const z = [0, 1].map((c) => {
      let v = p[2 * F + c]!;
      for (let f = 0; f < F; f++) v += p[c * F + f]! * x[n * F + f]!;
      return v;
    });
    const m = Math.max(z[0]!, z[1]!);
    total += m + Math.log(Math.exp(z[0]! - m) + Math.exp(z[1]! - m)) - z[labels[n]!]!;
  }
  return total / labels.length;
}

describe('moons_loss', () => {
  it('is registered with its layout and the host trainer equals the tensor trainer', async () => {
    const task = await createTask('moons_loss', { recipe: { epochs: 5 } });
    expect(task.parameterCount).toBe(66);
    expect(task.tensors.map((t) => `${t.name} [${t.shape.join(', ')}]`)).toEqual(['fc.weight [2, 32]', 'fc.bias [2]']);
    const supervised = task as Awaited<ReturnType<typeof createMoonsTask>>;
    const fast = await task.trainRuns([3, 7], { checkpointsPerRun: 6 });
    const reference = await supervised.trainRunsOneByOne([3, 7], { checkpointsPerRun: 6 });
    fast.forEach((run, r) => {
      expect(Array.from(run.iterations)).toEqual(Array.from(reference[r]!.iterations));
      run.parameters.forEach((v, i) => expect(v).toBeCloseTo(reference[r]!.parameters[i]!, 5));
      for (const name of task.datasetMetrics) {
        Array.from(run.metrics[name]!).forEach((v, i) => expect(v).toBeCloseTo(reference[r]!.metrics[name]![i]!, 5));
      }
    });
    // The runs learn: the final test loss is far below the initialization's.
    for (const run of fast) expect(run.metrics.avg_test_loss![5]!).toBeLessThan(run.metrics.avg_test_loss![0]! / 2);
  });

  it('evaluates the float64 test loss and has the full-batch training loss as its objective', async () => {
    const task = await createTask('moons_loss');
    const data = moonsData({ features: 32, points: 256, noise: 0.15, dataSeed: 0 });
    const g = new Generator(3);
    const p = Float32Array.from(g.normal(66), (v) => v * 0.3);
    const [m] = await task.evaluate([p]);
    expect(m!.avg_test_loss).toBeCloseTo(loss64(p, data.test.inputs, data.test.labels, 32), 5);
    const network = task.createNetwork(new Generator(0));
    const { loadFlat } = await import('@gpt/nn');
    loadFlat(network, p);
    const l = task.gradientObjective!.loss(network, 0, new Generator(0));
    expect(l.item()).toBeCloseTo(loss64(p, data.train.inputs, data.train.labels, 32), 5);
    l.dispose();
    network.dispose();
  });

  it('draws seeded two moons and names bad options', async () => {
    const a = twoMoons(new Generator(1), 4, 0);
    expect(Array.from(a.labels)).toEqual([0, 1, 0, 1]);
    // noise 0: upper points on the unit circle, lower ones on the circle around (1, 0.5)
    expect(Math.hypot(a.points[0]!, a.points[1]!)).toBeCloseTo(1, 12);
    expect(Math.hypot(a.points[2]! - 1, a.points[3]! - 0.5)).toBeCloseTo(1, 12);
    await expect(createMoonsTask({ featurez: 3 } as never)).rejects.toThrow(/unknown option "featurez"/);
    await expect(createMoonsTask({ noise: -1 })).rejects.toThrow(/noise must be a non-negative number/);
    await expect(createMoonsTask({ initScale: 0 })).rejects.toThrow(/initScale must be a positive number/);
  });
});
