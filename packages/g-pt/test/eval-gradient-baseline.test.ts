// The gradient baseline: on the quadratic task, SGD's curve is known in closed form
// (the distance to the optimum shrinks by 1 - 2 lr / 9 per step), Adam's is checked against
// an independent float64 Adam, and "worth" against hand-made curves.
import { describe, expect, it } from 'vitest';
import { Generator, mean as meanOf, mul, sub, concat, reshape, tensor, tidy } from '@gpt/tensor';
import type { Module } from '@gpt/nn';
import {
  classificationObjective,
  defaultRecord,
  gradientBaseline,
  stepsWorth,
  summarizeWorth,
  type GradientBaselineReport,
  type GradientCurve,
} from '../src/eval/gradient-baseline.js';
import type { Task } from '../src/tasks/task.js';
import { QUADRATIC_TARGET, quadraticLoss, quadraticTask } from './sample-quadratic-task.js';
import { crossEntropy, Linear } from '@gpt/nn';

/** The quadratic task with its objective: mean((params - target)²) over the Linear's weight and bias. */
function taskWithObjective(): Task {
  return {
    ...quadraticTask(),
    gradientObjective: {
      loss(network: Module) {
        return tidy(() => {
          const [weight, bias] = network.parameters();
          const flat = concat([reshape(weight!, [6]), bias!], 0); // [9]
          const d = sub(flat, tensor(QUADRATIC_TARGET)); // [9]
          return meanOf(mul(d, d));
        });
      },
    },
  };
}

function inits(n: number, seed: number): Float32Array[] {
  const g = new Generator(seed);
  return Array.from({ length: n }, () => Float32Array.from(g.normal(9), (v) => v * 0.5));
}

/** Independent float64 Adam (PyTorch's formula) on the quadratic loss. */
function adamLosses(p0: Float32Array, lr: number, steps: number): number[] {
  const p = Float64Array.from(p0);
  const m = new Float64Array(9);
  const v = new Float64Array(9);
  const out: number[] = [];
  for (let t = 1; t <= steps; t++) {
    for (let i = 0; i < 9; i++) {
      const g = (2 / 9) * (p[i]! - QUADRATIC_TARGET[i]!);
      m[i] = 0.9 * m[i]! + 0.1 * g;
      v[i] = 0.999 * v[i]! + 0.001 * g * g;
      p[i]! -= (lr / (1 - 0.9 ** t)) * (m[i]! / (Math.sqrt(v[i]! / (1 - 0.999 ** t)) + 1e-8));
    }
    out.push(quadraticLoss(Float32Array.from(p)));
  }
  return out;
}

describe('gradientBaseline', () => {
  const task = taskWithObjective();
  const params = inits(3, 4);

  it('follows SGD in closed form and an independent Adam, from the same starting networks', async () => {
    const report = await gradientBaseline(task, params, { steps: 12, record: [1, 2, 5, 12], learningRates: { sgd: [0.5, 2], adam: [0.01, 0.1] } });
    expect(report.startMetric).toBeCloseTo(params.reduce((a, p) => a + quadraticLoss(p), 0) / 3, 10);
    expect(report.curves.map((c) => [c.optimizer, c.lr])).toEqual([['adam', 0.01], ['adam', 0.1], ['sgd', 0.5], ['sgd', 2]]);
    for (const c of report.curves.filter((c) => c.optimizer === 'sgd')) {
      c.steps.forEach((k, j) => {
        params.forEach((p, n) => expect(c.metrics[n]![j]).toBeCloseTo(quadraticLoss(p) * (1 - (2 * c.lr) / 9) ** (2 * k), 5));
      });
    }
    for (const c of report.curves.filter((c) => c.optimizer === 'adam')) {
      params.forEach((p, n) => {
        const reference = adamLosses(p, c.lr, 12);
        c.steps.forEach((k, j) => expect(c.metrics[n]![j]).toBeCloseTo(reference[k - 1]!, 5));
      });
    }
    // the larger learning rates converge faster on this convex bowl
    expect(report.bestLearningRate).toEqual({ adam: 0.1, sgd: 2 });
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('refuses a task without an objective and bad options', async () => {
    await expect(gradientBaseline(quadraticTask(), params, { steps: 3 })).rejects.toThrow(/has no gradientObjective/);
    await expect(gradientBaseline(task, params, { steps: 0 })).rejects.toThrow(/steps must be a positive integer/);
    await expect(gradientBaseline(task, params, { steps: 3, record: [4] })).rejects.toThrow(/record entries must be integers in \[1, 3\], got 4/);
    await expect(gradientBaseline(task, [new Float32Array(2)], { steps: 3 })).rejects.toThrow(/params\[0\] must be a Float32Array of 9/);
  });

  it('records every step up to 100, then log-spaced ones ending at N', () => {
    expect(defaultRecord(5)).toEqual([1, 2, 3, 4, 5]);
    const r = defaultRecord(1000);
    expect(r.slice(0, 100)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(r[r.length - 1]).toBe(1000);
    expect(r.length).toBeLessThanOrEqual(201);
  });
});

describe('stepsWorth', () => {
  const curve = (optimizer: 'adam' | 'sgd', lr: number, meanMetric: number[]): GradientCurve => ({ optimizer, lr, steps: meanMetric.map((_, i) => i + 1), meanMetric, metrics: [] });

  it('is the first step at least as good as G.pt, or null beyond the measured steps', () => {
    const c = curve('adam', 0.01, [0.9, 0.7, 0.5, 0.3]);
    expect(stepsWorth(c, 0.6, 'minimize').steps).toBe(3);
    expect(stepsWorth(c, 0.5, 'minimize').steps).toBe(3); // ties count for the gradient method
    expect(stepsWorth(c, 0.95, 'minimize').steps).toBe(1);
    expect(stepsWorth(c, 0.1, 'minimize').steps).toBeNull();
    expect(stepsWorth(curve('sgd', 1, [10, 100, 300]), 150, 'maximize').steps).toBe(3);
  });

  it('summarizes the fewest steps over learning rates and the steps at the sweep-picked rate', () => {
    const report: GradientBaselineReport = {
      task: 't',
      metric: 'loss',
      goal: 'minimize',
      startMetric: 1,
      curves: [curve('adam', 0.1, [0.5, 0.4, 0.35, 0.34]), curve('adam', 0.01, [0.9, 0.6, 0.3, 0.1]), curve('sgd', 1, [0.9, 0.9, 0.9, 0.9])],
      bestLearningRate: { adam: 0.01, sgd: 1 },
    };
    const w = summarizeWorth(report, 0.38);
    expect(w.fewest.adam).toMatchObject({ lr: 0.1, steps: 3 });
    expect(w.atBestLearningRate.adam).toMatchObject({ lr: 0.01, steps: 3 });
    expect(w.fewest.sgd).toMatchObject({ lr: 1, steps: null });
    expect(summarizeWorth(report, 0.45).fewest.adam).toMatchObject({ lr: 0.1, steps: 2 });
  });
});

describe('classificationObjective', () => {
  it('is the mean cross-entropy of the network on a full batch or a seeded minibatch', () => {
    const g = new Generator(1);
    const inputs = Float32Array.from(g.normal(20));
    const labels = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0];
    const network = new Linear(2, 3, { seed: 3 });
    const full = classificationObjective({ inputs, inputShape: [2], labels }, { batchSize: 100, loss: crossEntropy });
    const expected = tidy(() => crossEntropy(network.forward(tensor(inputs, { shape: [10, 2] })), tensor(Int32Array.from(labels), { dtype: 'int32' })).item());
    const l = full.loss(network, 0, new Generator(0));
    expect(l.item()).toBeCloseTo(expected, 6);
    l.dispose();
    // a minibatch: the examples of the generator's permutation prefix
    const mini = classificationObjective({ inputs, inputShape: [2], labels }, { batchSize: 4, loss: crossEntropy });
    const indices = new Generator(5).permutation(10).subarray(0, 4);
    const x = Float32Array.from([...indices].flatMap((i) => [inputs[2 * i]!, inputs[2 * i + 1]!]));
    const y = Int32Array.from([...indices].map((i) => labels[i]!));
    const expectedMini = tidy(() => crossEntropy(network.forward(tensor(x, { shape: [4, 2] })), tensor(y, { dtype: 'int32' })).item());
    const lm = mini.loss(network, 0, new Generator(5));
    expect(lm.item()).toBeCloseTo(expectedMini, 6);
    lm.dispose();
  });
});
