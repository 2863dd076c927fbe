// latentWalk(): DDIM (eta 0) along slerps of the initial noise, everything else fixed.
// slerp is checked against its defining properties; each keyframe's frame against a direct
// DDIM sample from that noise; frames vary smoothly; the CIFAR-style filter frames render
// the first conv layer's 16 RGB filters.
import { describe, expect, it } from 'vitest';
import { Generator } from '@gpt/tensor';
import { firstLayerFilters, latentWalk, latentWalkFilterFrames, latentWalkPlot, slerp } from '../src/eval/latent-walk.js';
import { sampleRows } from '../src/sample/optimize.js';
import type { Task } from '../src/tasks/task.js';
import { tinyTrainedGpt } from './fixtures/eval-models.js';
import { quadraticTask } from './sample-quadratic-task.js';

/** A task shaped like the CIFAR-10 CNN's first layer: conv1 [16, 3, 3, 3] then a small head. */
function convTask(): Task {
  const base = quadraticTask('test_conv');
  const tensors = [
    { name: 'conv1.weight', shape: [16, 3, 3, 3] },
    { name: 'fc.weight', shape: [2, 16] },
  ];
  const D = 432 + 32;
  const meanSquare = (p: Float32Array) => p.reduce((s, x) => s + x * x, 0) / D;
  return {
    ...base,
    tensors,
    parameterCount: D,
    permutation: { tensors, groups: [] },
    async evaluate(params) {
      return params.map((p) => ({ loss: meanSquare(p) }));
    },
  };
}

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! ** 2;
  return Math.sqrt(s);
}

describe('slerp', () => {
  it('starts and ends at the two vectors, keeps the norm of equal-norm vectors and the angle proportional', () => {
    const g = new Generator(1);
    const a = g.normal(50);
    const raw = g.normal(50);
    const b = raw.map((x) => (x * norm(a)) / norm(raw));
    expect(Array.from(slerp(a, b, 0))).toEqual(Array.from(a).map((x) => expect.closeTo(x, 12)));
    slerp(a, b, 1).forEach((x, i) => expect(x).toBeCloseTo(b[i]!, 12));
    const angle = (u: ArrayLike<number>, v: ArrayLike<number>) => Math.acos(Array.from(u).reduce((s, x, i) => s + x * v[i]!, 0) / (norm(u) * norm(v)));
    const total = angle(a, b);
    for (const w of [0.25, 0.5, 0.8]) {
      const m = slerp(a, b, w);
      expect(norm(m)).toBeCloseTo(norm(a), 10);
      expect(angle(a, m)).toBeCloseTo(w * total, 10);
      expect(angle(m, b)).toBeCloseTo((1 - w) * total, 10);
    }
  });

  it('interpolates linearly between parallel vectors', () => {
    const m = slerp([1, 2], [2, 4], 0.5);
    expect(m[0]).toBeCloseTo(1.5, 12);
    expect(m[1]).toBeCloseTo(3, 12);
  });
});

describe('latentWalk', () => {
  const task = convTask();
  const trained = tinyTrainedGpt(task, { perturb: 0.05 });
  const start = Float32Array.from(new Generator(3).normal(464), (x) => 0.3 * x);

  it('samples each keyframe as DDIM from that noise and moves smoothly between them', async () => {
    const { report, samples } = await latentWalk(trained, task, start, { keyframes: 3, framesPerSegment: 4, steps: 5, seed: 9 });
    expect(samples).toHaveLength(12);
    expect(report.frames.map((f) => f.segment)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    expect(report.frames.map((f) => f.weight)).toEqual([0, 0.25, 0.5, 0.75, 0, 0.25, 0.5, 0.75, 0, 0.25, 0.5, 0.75]);
    expect(report.sampler).toBe('ddim-5');
    expect(report.filterTensor).toBe('conv1.weight');
    // Keyframe k's frame is the DDIM sample of noise k, drawn from Generator(seed) in order.
    const g = new Generator(9);
    const keys = [g.normal(464), g.normal(464), g.normal(464)].map((k) => Float32Array.from(k));
    const xPrev = Float32Array.from(start, (x) => x * trained.normalizationCoefficient);
    const direct = await sampleRows(trained, [xPrev, xPrev], [0, 0], [report.startMetric, report.startMetric], { sampler: 'ddim', eta: 0, steps: 5, noise: [keys[1]!, keys[2]!] });
    direct.samples.forEach((x, k) => {
      const frame = samples[4 * (k + 1)]!;
      x.forEach((v, i) => expect(frame[i]).toBeCloseTo(v / trained.normalizationCoefficient, 5));
    });
    // Metrics are the task's on the returned vectors; steps between frames are smaller than between keyframes.
    report.frames.forEach((f, i) => expect(f.metric).toBeCloseTo(samples[i]!.reduce((s, x) => s + x * x, 0) / 464, 6));
    const keyGap = norm(samples[0]!.map((x, i) => x - samples[4]![i]!));
    expect(Math.max(...report.frames.map((f) => f.stepDistance))).toBeLessThan(keyGap);
    expect(keyGap).toBeGreaterThan(0);

    const plot = await latentWalkPlot(report);
    expect(plot).toContain('generated network');
    const frames = await latentWalkFilterFrames(task, { report, samples });
    expect(frames).toHaveLength(12);
    expect(frames![0]).toContain('filter 15');
    expect(frames![0]!.match(/<path/g)!.length).toBeGreaterThanOrEqual(16 * 9);
  });

  it('renders filters channel by channel, each scaled to [0, 1]', () => {
    const params = new Float32Array(464);
    // Filter 2: red channel = pixel index, green = 0, blue = -pixel index.
    for (let p = 0; p < 9; p++) {
      params[2 * 27 + p] = p;
      params[2 * 27 + 18 + p] = -p;
    }
    const images = firstLayerFilters(task, params)!;
    expect(images).toHaveLength(16);
    const f = images[2]!;
    expect([f.height, f.width, f.channels]).toEqual([3, 3, 3]);
    // min -8, max 8: red p -> (p + 8) / 16, green 0 -> 0.5, blue -p -> (8 - p) / 16.
    for (let p = 0; p < 9; p++) {
      expect(f.pixels[3 * p]).toBeCloseTo((p + 8) / 16, 6);
      expect(f.pixels[3 * p + 1]).toBeCloseTo(0.5, 6);
      expect(f.pixels[3 * p + 2]).toBeCloseTo((8 - p) / 16, 6);
    }
    expect(Array.from(images[0]!.pixels).every((v) => v === 0.5)).toBe(true); // a constant filter
    expect(firstLayerFilters(quadraticTask(), new Float32Array(9))).toBeNull();
  });

  it('refuses a model of another task and too few keyframes', async () => {
    await expect(latentWalk(trained, quadraticTask(), new Float32Array(9))).rejects.toThrow(/trained for task "test_conv"/);
    await expect(latentWalk(trained, task, start, { keyframes: 1 })).rejects.toThrow(/keyframes must be an integer >= 2/);
  });
});
