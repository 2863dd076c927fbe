// Prompt alignment (§5.2): R² against hand computations, the sweep's endpoints and order,
// a perfect predictor scoring 1, and a fresh (identity) G.pt scoring what the formula gives
// for "every prompt answered with the starting metric".
import { describe, expect, it } from 'vitest';
import { Gpt } from '@gpt/transformer';
import { Generator } from '@gpt/tensor';
import { median, promptAlignment, promptSweep, rSquared } from '../src/eval/alignment.js';
import { recursivePrompting } from '../src/eval/recursive.js';
import { compareSamplers, parseSamplerSpec } from '../src/eval/samplers.js';
import type { TrainedGpt } from '../src/trained-gpt.js';
import { fakeGpt } from './eval-fakes.js';
import { quadraticLoss, quadraticTask } from './sample-quadratic-task.js';

function inits(n: number, seed: number): Float32Array[] {
  const g = new Generator(seed);
  return Array.from({ length: n }, () => Float32Array.from(g.normal(9), (v) => v * 0.5));
}

describe('rSquared', () => {
  it('matches hand computations', () => {
    // residual 0.01 + 0.01 + 0.04 = 0.06; total (1-2)² + 0 + (3-2)² = 2
    expect(rSquared([1, 2, 3], [1.1, 1.9, 3.2])).toBeCloseTo(1 - 0.06 / (2 + 1e-8), 12);
    expect(rSquared([1, 2, 3], [1, 2, 3])).toBe(1);
    // answering the mean scores 0; the 1e-8 keeps equal prompts finite
    expect(rSquared([1, 2, 3], [2, 2, 2])).toBeCloseTo(0, 8);
    expect(rSquared([2, 2], [2, 3])).toBeCloseTo(1 - 1 / 1e-8, 0);
    expect(() => rSquared([1], [])).toThrow(/equally long/);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
});

describe('promptSweep', () => {
  it('runs from the best prompt to coefficient x current, flipped when maximizing', () => {
    const task = { ...quadraticTask(), prompt: { bestPrompt: 5, promptStartCoefficient: 0.9, recursivePrompt: 5 } };
    const sweep = promptSweep(task, 90);
    expect(sweep).toHaveLength(20);
    expect(sweep[0]).toBe(5);
    expect(sweep[19]).toBeCloseTo(81, 12);
    expect(sweep[1]! - sweep[0]!).toBeCloseTo(76 / 19, 12);
    const maximize = { ...quadraticTask('m', { goal: 'maximize' }), prompt: { bestPrompt: 500, promptStartCoefficient: 1, recursivePrompt: 500 } };
    const up = promptSweep(maximize, 20, { prompts: 3 });
    expect(up).toEqual([20, 260, 500]);
    expect(() => promptSweep(task, 1, { prompts: 1 })).toThrow(/prompts must be an integer >= 2/);
  });
});

describe('promptAlignment', () => {
  const task = quadraticTask();
  const params = inits(4, 5);

  it('scores 1 for a perfect predictor and reports desired vs observed', async () => {
    const { trained } = fakeGpt(task.name, (target, prev) => Math.sqrt(Math.max(target, 0) / prev));
    const report = await promptAlignment(trained, task, params, { sampler: 'ddim', steps: 5, bestPrompt: 0.01 });
    expect(report.networks).toHaveLength(4);
    for (const n of report.networks) {
      expect(n.startMetric).toBe(quadraticLoss(params[n.network]!));
      expect(n.prompts[0]).toBe(0.01);
      expect(n.prompts[19]).toBeCloseTo(n.startMetric, 12);
      n.achieved.forEach((a, i) => expect(a).toBeCloseTo(n.prompts[i]!, 4));
      expect(n.r2).toBeGreaterThan(1 - 1e-5);
    }
    expect(report.promptAlignment).toBeGreaterThan(1 - 1e-5);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report); // JSON-able
  });

  it('a fresh G.pt (the identity) scores the R² of answering every prompt with the start metric', async () => {
    const model = new Gpt([6, 3], { nEmbd: 16, nLayer: 1, nHead: 2, numFrequencies: 8, diffusionSteps: 50 }, { seed: 1 });
    const trained: TrainedGpt = { task: task.name, config: model.config, model, diffusionSteps: 50, noiseSchedule: 'linear', normalizationCoefficient: 3, step: 0 };
    const report = await promptAlignment(trained, task, params, { sampler: 'ddim', steps: 10 });
    report.networks.forEach((n) => {
      const start = quadraticLoss(params[n.network]!);
      // By hand: prompts 0 .. start in 20 even steps, every answer = start.
      const prompts = Array.from({ length: 20 }, (_, i) => (start * i) / 19);
      const mean = start / 2;
      const expected = 1 - prompts.reduce((a, p) => a + (p - start) ** 2, 0) / (prompts.reduce((a, p) => a + (p - mean) ** 2, 0) + 1e-8);
      expect(n.r2).toBeCloseTo(expected, 4);
    });
    expect(report.promptAlignment).toBeCloseTo(report.networks.reduce((a, n) => a + n.r2, 0) / 4, 12);
    expect(report.promptAlignment).toBeLessThan(-1); // a fresh model is badly aligned
  });
});

describe('recursivePrompting', () => {
  it('conditions each update on the metric the previous one really reached', async () => {
    const task = quadraticTask();
    const params = inits(3, 9);
    // Ignores the prompt and halves the distance to the optimum: the loss drops 4x per update.
    const { trained, calls } = fakeGpt(task.name, () => 0.5);
    const report = await recursivePrompting(trained, task, params, { updates: 3, sampler: 'ddim', steps: 2, prompt: 0.02 });
    report.metrics.forEach((m, n) => {
      const start = quadraticLoss(params[n]!);
      expect(m[0]).toBe(start);
      [1, 2, 3].forEach((u) => expect(m[u]).toBeCloseTo(start / 4 ** u, 6));
    });
    // update 2's first model call sees update 1's measured metrics as lossPrev, and the prompt as target
    const second = calls[2]!;
    second.lossPrev.forEach((v, n) => expect(v).toBeCloseTo(report.metrics[n]![1]!, 6));
    expect(second.lossTarget).toEqual([0.02, 0.02, 0.02].map(Math.fround));
    expect(report.meanMetric[3]).toBeCloseTo(report.metrics.reduce((a, m) => a + m[3]!, 0) / 3, 12);
    report.finalParams.forEach((p, n) => expect(quadraticLoss(p)).toBeCloseTo(report.metrics[n]![3]!, 8));
  });
});

describe('compareSamplers', () => {
  it('runs every sampler on the same networks and names them; a perfect predictor is aligned under each', async () => {
    const task = quadraticTask();
    const params = inits(3, 2);
    const { trained } = fakeGpt(task.name, (target, prev) => Math.sqrt(Math.max(target, 0) / prev));
    const specs = ['ddpm-100', 'ddim-10', 'ddpm-20', 'ddim-5-eta-1'].map(parseSamplerSpec);
    expect(specs[3]).toEqual({ sampler: 'ddim', steps: 5, eta: 1 });
    const comparison = await compareSamplers(trained, task, params, specs, { alignmentNetworks: 2 });
    expect(comparison.results.map((r) => r.sampler)).toEqual(['ddpm-100', 'ddim-10', 'ddpm-20', 'ddim-5 (eta 1)']);
    expect(comparison.results[0]!.speedup).toBe(1);
    for (const r of comparison.results) {
      // x_0 predictions that ignore x_t: DDIM returns them exactly, DDPM's last step too (no noise at t = 0).
      expect(r.promptAlignment).toBeGreaterThan(1 - 1e-5);
      expect(r.oneStepMetric).toBeCloseTo(0, 6); // best prompt 0: the optimum itself
      expect(r.speedup).toBeGreaterThan(0);
    }
    expect(() => parseSamplerSpec('ddpm-100-eta-1')).toThrow(/not of the form/);
    expect(() => parseSamplerSpec('euler-10')).toThrow(/ddpm-STEPS/);
    await expect(compareSamplers(trained, task, params, [])).rejects.toThrow(/at least one sampler/);
  });
});
