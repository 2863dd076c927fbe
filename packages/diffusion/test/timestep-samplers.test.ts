import { describe, expect, it } from 'vitest';
import { createNamedScheduleSampler, LossSecondMomentResampler, UniformSampler } from '@gpt/diffusion';
import { Generator, memory, tensor } from '@gpt/tensor';

const diffusion = { numTimesteps: 10 };

describe('UniformSampler', () => {
  it('draws every timestep about equally often with weight 1, reproducibly from a seed', () => {
    const before = memory().tensors;
    const sampler = new UniformSampler(diffusion);
    const { timesteps, weights } = sampler.sample(20000, { seed: 1 });
    expect(timesteps.dtype).toBe('int32');
    expect(timesteps.shape).toEqual([20000]);
    expect(weights.dtype).toBe('float32');
    expect(new Set(weights.dataSync())).toEqual(new Set([1]));
    const counts = new Array<number>(10).fill(0);
    for (const t of timesteps.dataSync()) counts[t]!++;
    // Binomial(20000, 0.1): sd 42; 5 sd
    for (const c of counts) expect(Math.abs(c - 2000)).toBeLessThan(212);
    const again = sampler.sample(20000, { seed: 1 });
    expect(Array.from(again.timesteps.dataSync())).toEqual(Array.from(timesteps.dataSync()));
    const generator = new Generator(1);
    const first = sampler.sample(5, { generator });
    const second = sampler.sample(5, { generator });
    expect(Array.from(first.timesteps.dataSync())).toEqual(Array.from(timesteps.dataSync().slice(0, 5)));
    expect(Array.from(second.timesteps.dataSync())).not.toEqual(Array.from(first.timesteps.dataSync()));
    for (const s of [{ timesteps, weights }, again, first, second]) {
      s.timesteps.dispose();
      s.weights.dispose();
    }
    expect(memory().tensors).toBe(before);
  });

  it('rejects bad sizes', () => {
    expect(() => new UniformSampler({ numTimesteps: 0 })).toThrow(/numTimesteps must be a positive integer, got 0/);
    expect(() => new UniformSampler(diffusion).sample(0)).toThrow(/batchSize must be a positive integer, got 0/);
    expect(() => createNamedScheduleSampler('beta', diffusion)).toThrow(/unknown schedule sampler "beta"/);
    expect(createNamedScheduleSampler('uniform', diffusion)).toBeInstanceOf(UniformSampler);
    expect(createNamedScheduleSampler('loss-second-moment', diffusion)).toBeInstanceOf(LossSecondMomentResampler);
  });
});

describe('LossSecondMomentResampler', () => {
  it('is uniform until warmed up, then samples proportionally to sqrt(E[loss²]) with unbiasing weights', () => {
    const sampler = new LossSecondMomentResampler(diffusion, { historyPerTerm: 2, uniformProb: 0.1 });
    expect(Array.from(sampler.weights())).toEqual(new Array(10).fill(1));
    // Losses: timestep t has losses (t+1) and (t+1) except t = 0 which has 3 and 4.
    const ts = Array.from({ length: 10 }, (_, t) => [t, t]).flat();
    const losses = ts.map((t) => t + 1);
    losses[0] = 3;
    losses[1] = 4;
    sampler.updateWithAllLosses(ts.slice(0, 18), losses.slice(0, 18));
    expect(sampler.warmedUp()).toBe(false);
    sampler.updateWithAllLosses(ts.slice(18), losses.slice(18));
    expect(sampler.warmedUp()).toBe(true);
    const rms = [Math.sqrt((9 + 16) / 2), ...Array.from({ length: 9 }, (_, i) => i + 2)];
    const total = rms.reduce((a, b) => a + b, 0);
    const expected = rms.map((r) => (r / total) * 0.9 + 0.01);
    const weights = sampler.weights();
    expected.forEach((e, t) => expect(weights[t]).toBeCloseTo(e, 14));
    // Empirical frequencies follow p, and weight * T * p = 1.
    const { timesteps, weights: importance } = sampler.sample(20000, { seed: 5 });
    const counts = new Array<number>(10).fill(0);
    const ts2 = timesteps.dataSync();
    const w2 = importance.dataSync();
    let worst = 0;
    ts2.forEach((t, i) => {
      counts[t]!++;
      worst = Math.max(worst, Math.abs(w2[i]! * 10 * expected[t]! - 1));
    });
    expect(worst).toBeLessThan(1e-6);
    counts.forEach((c, t) => {
      const p = expected[t]!;
      expect(Math.abs(c / 20000 - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / 20000));
    });
    timesteps.dispose();
    importance.dispose();
  });

  it('keeps only the last historyPerTerm losses, reads tensors, and round-trips its state', async () => {
    const sampler = new LossSecondMomentResampler({ numTimesteps: 2 }, { historyPerTerm: 2, uniformProb: 0 });
    sampler.updateWithAllLosses([0, 0, 0, 1, 1], [100, 1, 1, 2, 2]); // the 100 is shifted out
    expect(Array.from(sampler.weights())).toEqual([1 / 3, 2 / 3]);
    await sampler.updateWithLocalLosses(tensor(Int32Array.from([1, 1])), tensor([4, 4]));
    expect(Array.from(sampler.weights())).toEqual([1 / 5, 4 / 5]);
    const copy = new LossSecondMomentResampler({ numTimesteps: 2 }, { historyPerTerm: 2, uniformProb: 0 });
    copy.setState(JSON.parse(JSON.stringify(sampler.getState())));
    expect(Array.from(copy.weights())).toEqual(Array.from(sampler.weights()));
    expect(() => new LossSecondMomentResampler({ numTimesteps: 3 }).setState(sampler.getState())).toThrow(/state is for 2 timesteps × 2 losses/);
  });

  it('rejects bad losses and options without recording any of the batch', () => {
    const sampler = new LossSecondMomentResampler({ numTimesteps: 3 }, { historyPerTerm: 1, uniformProb: 0 });
    expect(() => sampler.updateWithAllLosses([0, 1], [1])).toThrow(/2 timesteps but 1 losses/);
    expect(() => sampler.updateWithAllLosses([0, 3], [1, 1])).toThrow(/timestep 3 at position 1 is not an integer in \[0, 3\)/);
    expect(() => sampler.updateWithAllLosses([0, 1, 2], [1, Number.NaN, 1])).toThrow(/loss NaN at position 1 \(timestep 1\)/);
    expect(sampler.warmedUp()).toBe(false);
    expect(sampler.getState().lossCounts).toEqual([0, 0, 0]);
    expect(() => new LossSecondMomentResampler(diffusion, { historyPerTerm: 0 })).toThrow(/historyPerTerm must be a positive integer/);
    expect(() => new LossSecondMomentResampler(diffusion, { uniformProb: 2 })).toThrow(/uniformProb must be in \[0, 1\]/);
  });
});
