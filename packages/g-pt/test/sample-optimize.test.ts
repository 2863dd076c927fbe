// optimize(): one G.pt update. A fresh Gpt returns xPrev exactly (zero-initialized decoders
// plus the global residual), so its x_0 prediction is the starting point at every step; then
// DDPM's last step (posterior mean with coef1 = 1, coef2 = 0 at t = 0, no noise) and DDIM's
// last step (sqrt(alphaBarPrev) = 1, no eps term) both return that prediction: the update is
// the identity whatever the sampler, steps or noise. Then the batching: rows batched together
// equal rows sampled one by one, and the model is conditioned on the right rows.
import { describe, expect, it } from 'vitest';
import type { Tensor } from '@gpt/tensor';
import { Generator } from '@gpt/tensor';
import { optimize, resolvePrompts, sampleRows, samplerDiffusion } from '../src/sample/optimize.js';
import type { TrainedGpt } from '../src/trained-gpt.js';
import { quadraticLoss, quadraticTask } from './sample-quadratic-task.js';
import { tinyTrainedGpt } from './fixtures/eval-models.js';

function inits(n: number, seed: number): Float32Array[] {
  const g = new Generator(seed);
  return Array.from({ length: n }, () => Float32Array.from(g.normal(9), (v) => v * 0.5));
}

describe('optimize with a fresh G.pt (the identity update)', () => {
  const task = quadraticTask();
  const trained = tinyTrainedGpt(task);
  const params = inits(3, 1);

  it.each([
    ['ddpm', undefined],
    ['ddpm', 10],
    ['ddim', 20],
    ['ddim', 7],
  ] as const)('%s with %s steps returns the starting vectors and their metrics', async (sampler, steps) => {
    const result = await optimize(trained, task, params, { sampler, steps, prompt: [0, [0.1, 0.2], 0.3], samples: 2, seed: 3 });
    expect(result.samples).toHaveLength(2 + 4 + 2);
    expect(result.startMetric).toEqual(params.map(quadraticLoss));
    expect(result.sampler).toBe(`${sampler}-${steps ?? 100}`);
    for (const s of result.samples) {
      const start = params[s.network]!;
      for (let i = 0; i < 9; i++) expect(s.params[i]).toBeCloseTo(start[i]!, 5);
      expect(s.metric).toBeCloseTo(quadraticLoss(start), 5);
      expect(s.metric).toBe(quadraticLoss(s.params)); // measured on the returned vector
    }
    expect(result.samples.map((s) => [s.network, s.prompt, s.sample])).toEqual([
      [0, 0, 0], [0, 0, 1], [1, 0.1, 0], [1, 0.1, 1], [1, 0.2, 0], [1, 0.2, 1], [2, 0.3, 0], [2, 0.3, 1],
    ]);
  });

  it('DDIM with eta > 0 is the identity too', async () => {
    const result = await optimize(trained, task, params, { sampler: 'ddim', steps: 10, eta: 1, seed: 5 });
    result.samples.forEach((s) => s.params.forEach((v, i) => expect(v).toBeCloseTo(params[s.network]![i]!, 5)));
  });
});

describe('optimize conditions and batches correctly', () => {
  const task = quadraticTask();
  const trained = tinyTrainedGpt(task, { perturb: 0.05 });
  const params = inits(2, 2);

  it('feeds coefficient x params, the prompt and the measured start metric of each row', async () => {
    const seen: { xPrev: number[]; target: number[]; prev: number[] }[] = [];
    const forward = trained.model.forward.bind(trained.model);
    trained.model.forward = (x: Tensor, t, target, prev, xPrev: Tensor) => {
      const host = (v: unknown) => [...((v as Tensor).dataSync() as Float32Array)];
      seen.push({ xPrev: host(xPrev), target: host(target), prev: host(prev) });
      return forward(x, t, target, prev, xPrev);
    };
    const result = await optimize(trained, task, params, { sampler: 'ddim', steps: 4, prompt: [[0.1, 0.2], [0.3, 0.4]] }).finally(() => {
      trained.model.forward = forward;
    });
    expect(seen).toHaveLength(4);
    const start = params.map(quadraticLoss);
    expect(seen[0]!.target).toEqual([0.1, 0.2, 0.3, 0.4].map(Math.fround));
    expect(seen[0]!.prev).toEqual([start[0], start[0], start[1], start[1]].map((v) => Math.fround(v!)));
    const rows = [params[0]!, params[0]!, params[1]!, params[1]!];
    seen[0]!.xPrev.forEach((v, i) => expect(v).toBeCloseTo(rows[Math.floor(i / 9)]![i % 9]! * 2.5, 5));
    // The perturbed model moves the vectors, and the metric reported is the moved vector's.
    expect(result.samples.some((s) => Math.abs(s.params[0]! - params[s.network]![0]!) > 1e-3)).toBe(true);
    for (const s of result.samples) expect(s.metric).toBe(quadraticLoss(s.params));
  });

  it('rows batched together equal rows sampled one by one (DDIM eta 0, given noise)', async () => {
    const g = new Generator(11);
    const noise = Array.from({ length: 3 }, () => Float32Array.from(g.normal(9)));
    const xPrev = inits(3, 3);
    const targets = [0.1, 0.5, 1];
    const prevs = [2, 1.5, 1.2];
    const batched = await sampleRows(trained, xPrev, targets, prevs, { sampler: 'ddim', steps: 10, noise });
    for (let i = 0; i < 3; i++) {
      const alone = await sampleRows(trained, [xPrev[i]!], [targets[i]!], [prevs[i]!], { sampler: 'ddim', steps: 10, noise: [noise[i]!] });
      alone.samples[0]!.forEach((v, j) => expect(v).toBeCloseTo(batched.samples[i]![j]!, 4));
    }
    const chunked = await sampleRows(trained, xPrev, targets, prevs, { sampler: 'ddim', steps: 10, noise, maxBatch: 2 });
    chunked.samples.forEach((s, i) => s.forEach((v, j) => expect(v).toBeCloseTo(batched.samples[i]![j]!, 4)));
  });

  it('the same seed gives the same DDPM samples; another seed others', async () => {
    const a = await optimize(trained, task, params, { steps: 10, seed: 1 });
    const b = await optimize(trained, task, params, { steps: 10, seed: 1 });
    const c = await optimize(trained, task, params, { steps: 10, seed: 2 });
    expect(a.samples[0]!.params).toEqual(b.samples[0]!.params);
    expect(a.samples[0]!.params).not.toEqual(c.samples[0]!.params);
  });

  it('uses the startMetrics it is given instead of measuring', async () => {
    let evaluated = 0;
    const counting = { ...task, evaluate: async (p: readonly Float32Array[]) => (evaluated += p.length, task.evaluate(p)) };
    const r = await optimize(trained, counting, params, { steps: 3, startMetrics: [{ loss: 9 }, { loss: 8 }] });
    expect(r.startMetric).toEqual([9, 8]);
    expect(evaluated).toBe(2); // the two samples only
  });
});

describe('optimize input errors', () => {
  const task = quadraticTask();
  const trained = tinyTrainedGpt(task);
  const params = inits(2, 1);
  it.each([
    [{ ...tinyTrainedGpt(quadraticTask('other')) }, params, {}, /trained for task "other"/],
    [trained, [new Float32Array(8)], {}, /params\[0\] must be a Float32Array of 9 values/],
    [trained, [], {}, /params is empty/],
    [trained, params, { prompt: [1, 2, 3] }, /prompt has 3 entries, expected one per network \(2\)/],
    [trained, params, { prompt: [1, []] }, /network 1 has no prompt/],
    [trained, params, { prompt: Number.NaN }, /must be finite/],
    [trained, params, { steps: 101 }, /steps must be an integer in \[1, 100\]/],
    [trained, params, { sampler: 'ddpm', eta: 1 }, /eta is a DDIM option/],
    [trained, params, { samples: 0 }, /samples must be a positive integer/],
  ] as const)('rejects bad input %#', async (t, p, o, message) => {
    await expect(optimize(t as TrainedGpt, task, p as Float32Array[], o as never)).rejects.toThrow(message);
  });

  it('resolves prompts and names the sampler', () => {
    expect(resolvePrompts(5, 2)).toEqual([[5], [5]]);
    expect(resolvePrompts([1, [2, 3]], 2)).toEqual([[1], [2, 3]]);
    expect(samplerDiffusion(trained, { sampler: 'ddim' }).name).toBe('ddim-50');
    expect(samplerDiffusion(trained, { sampler: 'ddim', steps: 50 }).diffusion.timestepMap).toEqual(Array.from({ length: 50 }, (_, i) => 2 * i));
    expect(samplerDiffusion(trained, {}).diffusion.numTimesteps).toBe(100);
  });
});
