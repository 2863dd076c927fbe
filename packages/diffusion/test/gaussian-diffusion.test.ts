import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  GaussianDiffusion,
  getNamedBetaSchedule,
  ModelMeanType,
  ModelVarType,
  staticThreshold,
  type DiffusionModel,
} from '@gpt/diffusion';
import { Generator, memory, randn, tensor, zeros, type Tensor } from '@gpt/tensor';
import { expectClose } from './beta-schedules.test.js';
import { stepFixtures as F } from './helpers/fixtures.js';

const betas = getNamedBetaSchedule('linear', F.T);
const make = (modelMeanType: ModelMeanType, modelVarType: ModelVarType = ModelVarType.FIXED_LARGE): GaussianDiffusion =>
  new GaussianDiffusion({ betas, modelMeanType, modelVarType });

const B = F.t.length;
const D = F.x_start[0]!.length;
const rows = (values: number[][]): Tensor => tensor(Float32Array.from(values.flat()), { shape: [values.length, values[0]!.length] });
const flat = (t: Tensor): number[] => Array.from(t.dataSync());
const meanOf = (t: Tensor): number => {
  const m = t.mean();
  const value = m.item();
  m.dispose();
  return value;
};
/** A model that always predicts `values` (a fresh tensor per call, as the API asks). */
const constant = (values: number[][]): DiffusionModel => () => rows(values);

/** float32 results against float64 references: relative to the row's magnitude. */
function expectRowsClose(actual: Tensor, expected: number[][], rel = 2e-6, label = ''): void {
  expect(actual.shape).toEqual([expected.length, expected[0]!.length]);
  const values = actual.dataSync();
  expected.forEach((row, b) => {
    const scale = Math.max(1, ...row.map(Math.abs));
    expectClose(values.slice(b * row.length, (b + 1) * row.length), row, 0, rel * scale, `${label} row ${b} (t=${F.t[b]})`);
  });
}

let tensors: Tensor[] = [];
let before = 0;
const own = <T extends Tensor>(t: T): T => {
  tensors.push(t);
  return t;
};
beforeEach(() => {
  before = memory().tensors;
});
afterEach(() => {
  for (const t of tensors) t.dispose();
  tensors = [];
  // Every API returns only what the caller owns: nothing else may stay alive.
  expect(memory().tensors).toBe(before);
});

describe('golden single steps (float64 torch references)', () => {
  const inputs = () => ({
    xStart: own(rows(F.x_start)),
    xT: own(rows(F.q_sample)),
    t: own(tensor(Int32Array.from(F.t))),
    noise: own(rows(F.noise)),
    stepNoise: own(rows(F.step_noise)),
  });

  it('qSample, qMeanVariance and qPosteriorMeanVariance', () => {
    const d = make(ModelMeanType.START_X);
    const { xStart, xT, t, noise } = inputs();
    expectRowsClose(own(d.qSample(xStart, t, { noise })), F.q_sample, 2e-6, 'qSample');
    const q = d.qMeanVariance(xStart, t);
    own(q.mean), own(q.variance), own(q.logVariance);
    expectRowsClose(q.mean, F.q_mean, 2e-6, 'q mean');
    expectRowsClose(q.variance, F.q_variance, 2e-6, 'q variance');
    expectClose(flat(q.logVariance), F.q_variance.map((r) => Math.log(r[0]!)), 2e-6, 0, 'q log variance');
    const post = d.qPosteriorMeanVariance(xStart, xT, t);
    own(post.mean), own(post.variance), own(post.logVarianceClipped);
    expectRowsClose(post.mean, F.posterior_mean, 2e-6, 'posterior mean');
    expectClose(flat(post.variance), F.t.map((i) => d.posteriorVariance[i]!), 1e-6, 0, 'posterior variance');
  });

  it('START_X: pMeanVariance, DDPM steps for both fixed variances, DDIM steps, clipping', async () => {
    const { xT, t, stepNoise } = inputs();
    const model = constant(F.model_output);
    const large = make(ModelMeanType.START_X, ModelVarType.FIXED_LARGE);
    const out = await large.pMeanVariance(model, xT, t);
    Object.values(out).forEach(own);
    expectRowsClose(out.mean, F.start_x.mean, 2e-6, 'mean');
    expectRowsClose(out.predXstart, F.model_output, 1e-7, 'predXstart');
    expectClose(flat(out.variance), F.t.map((i) => (i === 0 ? large.posteriorVariance[1]! : betas[i]!)), 1e-6, 0, 'variance');
    const ddpm = await large.pSample(model, xT, t, { noise: stepNoise });
    own(ddpm.sample), own(ddpm.predXstart);
    expectRowsClose(ddpm.sample, F.start_x.ddpm_fixed_large, 2e-6, 'FIXED_LARGE sample');
    const small = await make(ModelMeanType.START_X, ModelVarType.FIXED_SMALL).pSample(model, xT, t, { noise: stepNoise });
    own(small.sample), own(small.predXstart);
    expectRowsClose(small.sample, F.start_x.ddpm_fixed_small, 2e-6, 'FIXED_SMALL sample');
    for (const [eta, expected] of [[0, F.start_x.ddim_eta0], [0.5, F.start_x.ddim_eta05]] as const) {
      const ddim = await large.ddimSample(model, xT, t, { eta, noise: stepNoise });
      own(ddim.sample), own(ddim.predXstart);
      // eps = (x_t / sqrt(alphaBar) - x_0) / sqrt(1/alphaBar - 1) cancels at t = 0 in float32
      expectRowsClose(ddim.sample, expected, 2e-4, `DDIM eta=${eta}`);
    }
    const clipped = await large.pMeanVariance(model, xT, t, { clipDenoised: true });
    Object.values(clipped).forEach(own);
    expectRowsClose(clipped.mean, F.start_x.clipped_mean, 2e-6, 'clipped mean');
    expect(Math.max(...flat(clipped.predXstart).map(Math.abs))).toBeLessThanOrEqual(1);
    expect(Math.max(...F.model_output.flat().map(Math.abs))).toBeGreaterThan(1); // the clamp did something
    const thresholded = await large.pMeanVariance(model, xT, t, { denoisedFn: staticThreshold(-1, 1) });
    Object.values(thresholded).forEach(own);
    expect(flat(thresholded.mean)).toEqual(flat(clipped.mean));
  });

  it('EPSILON and PREVIOUS_X: the x_0 prediction and the mean', async () => {
    const { xT, t } = inputs();
    const eps = await make(ModelMeanType.EPSILON).pMeanVariance(constant(F.model_output), xT, t);
    Object.values(eps).forEach(own);
    // x_0 = x_t / sqrt(alphaBar) - eps sqrt(1/alphaBar - 1): coefficients up to 158 at t = 999
    expectRowsClose(eps.predXstart, F.epsilon.pred_xstart, 2e-6 * 160, 'eps predXstart');
    expectRowsClose(eps.mean, F.epsilon.mean, 2e-6 * 160, 'eps mean');
    const prev = await make(ModelMeanType.PREVIOUS_X).pMeanVariance(constant(F.model_output), xT, t);
    Object.values(prev).forEach(own);
    expect(flat(prev.mean)).toEqual(flat(own(rows(F.model_output))));
    // (x_{t-1} - coef2 x_t) / coef1 with coef1 down to 1e-4: relative to the largest term
    const expected = F.previous_x.pred_xstart;
    const got = flat(prev.predXstart);
    expected.flat().forEach((e, i) => {
      const b = Math.floor(i / D);
      const scale = (Math.abs(F.model_output[b]![i % D]!) + Math.abs(F.q_sample[b]![i % D]!)) / prev_coef1(F.t[b]!);
      expect(Math.abs(got[i]! - e)).toBeLessThanOrEqual(1e-6 * Math.max(1, scale));
    });
  });
});

const prev_coef1 = (t: number): number => make(ModelMeanType.PREVIOUS_X).posteriorMeanCoef1[t]!;

describe('identities', () => {
  const d = make(ModelMeanType.START_X, ModelVarType.FIXED_SMALL);
  const timesteps = [0, 1, 2, 50, 500, 999];
  const setup = () => ({
    x0: own(randn([timesteps.length, 4], { seed: 7 })),
    t: own(tensor(Int32Array.from(timesteps))),
  });

  it('qSample with zero noise is sqrt(alphaBar_t) x_0', () => {
    const { x0, t } = setup();
    const xT = own(d.qSample(x0, t, { noise: own(zeros(x0.shape)) }));
    const x0v = x0.dataSync();
    const expected = Array.from(x0v, (v, i) => v * d.sqrtAlphasCumprod[timesteps[Math.floor(i / 4)]!]!);
    expectClose(xT.dataSync(), expected, 1e-6, 1e-7, 'x_t');
  });

  it('the posterior of a noise-free x_t is the noise-free x_{t-1}, and x_0 itself at t = 0', () => {
    const { x0, t } = setup();
    const xT = own(d.qSample(x0, t, { noise: own(zeros(x0.shape)) }));
    const post = d.qPosteriorMeanVariance(x0, xT, t);
    own(post.mean), own(post.variance), own(post.logVarianceClipped);
    const x0v = x0.dataSync();
    const expected = Array.from(x0v, (v, i) => v * d.sqrtAlphasCumprodPrev[timesteps[Math.floor(i / 4)]!]!);
    expectClose(post.mean.dataSync(), expected, 2e-6, 1e-7, 'posterior mean');
    expect(Array.from(post.mean.dataSync().slice(0, 4))).toEqual(Array.from(x0v.slice(0, 4)));
    expect(post.variance.dataSync()[0]).toBe(0);
  });

  it('pMeanVariance with an exact predictor equals the posterior, for every mean type', async () => {
    const { x0, t } = setup();
    const noise = own(randn(x0.shape, { seed: 8 }));
    const xT = own(d.qSample(x0, t, { noise }));
    const post = d.qPosteriorMeanVariance(x0, xT, t);
    own(post.mean), own(post.variance), own(post.logVarianceClipped);
    const exact = await d.pMeanVariance(() => x0.mul(1), xT, t);
    Object.values(exact).forEach(own);
    expect(flat(exact.mean)).toEqual(flat(post.mean));
    expect(flat(exact.variance)).toEqual(flat(post.variance));
    expect(flat(exact.logVariance)).toEqual(flat(post.logVarianceClipped));
    expect(flat(exact.predXstart)).toEqual(flat(x0));
    const viaEps = await make(ModelMeanType.EPSILON, ModelVarType.FIXED_SMALL).pMeanVariance(() => noise.mul(1), xT, t);
    Object.values(viaEps).forEach(own);
    expectClose(viaEps.predXstart.dataSync(), x0.dataSync(), 0, 2e-4, 'x_0 from the true noise');
    expectClose(viaEps.mean.dataSync(), post.mean.dataSync(), 0, 2e-4, 'mean from the true noise');
    const viaPrev = await make(ModelMeanType.PREVIOUS_X, ModelVarType.FIXED_SMALL).pMeanVariance(() => post.mean.mul(1), xT, t);
    Object.values(viaPrev).forEach(own);
    expectClose(viaPrev.predXstart.dataSync().slice(0, 12), x0.dataSync().slice(0, 12), 0, 1e-4, 'x_0 from the true x_{t-1}');
  });
});

describe('sampling loops: progress API, seeds, abort, ownership', () => {
  const d = new GaussianDiffusion({ betas: getNamedBetaSchedule('linear', 40), modelMeanType: ModelMeanType.EPSILON, modelVarType: ModelVarType.FIXED_LARGE });
  const shrink: DiffusionModel = (x) => x.mul(0.5);

  it('the progressive loop yields every step in order; the loop returns its last sample', async () => {
    const seen: { index: number; t: number; total: number; mean: number }[] = [];
    for await (const step of d.pSampleLoopProgressive(shrink, [8, 3], { seed: 3 })) {
      seen.push({ index: step.index, t: step.t, total: step.total, mean: meanOf(step.sample) });
      expect(step.predXstart.shape).toEqual([8, 3]);
    }
    expect(seen.map((s) => s.index)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(seen.map((s) => s.t)).toEqual(Array.from({ length: 40 }, (_, i) => 39 - i));
    expect(seen.every((s) => s.total === 40)).toBe(true);
    const final = own(await d.pSampleLoop(shrink, [8, 3], { seed: 3 }));
    expect(meanOf(final)).toBe(seen.at(-1)!.mean);
  });

  it('same seed, same samples; a generator continues its stream; an async model works the same', async () => {
    const a = own(await d.pSampleLoop(shrink, [4, 2], { seed: 11 }));
    const b = own(await d.pSampleLoop(async (x) => x.mul(0.5), [4, 2], { seed: 11 }));
    const c = own(await d.pSampleLoop(shrink, [4, 2], { seed: 12 }));
    expect(flat(a)).toEqual(flat(b));
    expect(flat(a)).not.toEqual(flat(c));
    const generator = new Generator(11);
    const first = own(await d.pSampleLoop(shrink, [4, 2], { generator }));
    const second = own(await d.pSampleLoop(shrink, [4, 2], { generator }));
    expect(flat(first)).toEqual(flat(a));
    expect(flat(second)).not.toEqual(flat(a));
    const ddimA = own(await d.ddimSampleLoop(shrink, [4, 2], { seed: 5, eta: 0.7 }));
    const ddimB = own(await d.ddimSampleLoop(shrink, [4, 2], { seed: 5, eta: 0.7 }));
    expect(flat(ddimA)).toEqual(flat(ddimB));
  });

  it('given noise is the starting x_T and stays the caller\'s', async () => {
    const noise = own(randn([4, 2], { seed: 2 }));
    const deterministic = own(await d.ddimSampleLoop(shrink, [4, 2], { noise, eta: 0 }));
    const again = own(await d.ddimSampleLoop(shrink, [4, 2], { noise, eta: 0, seed: 99 }));
    expect(flat(deterministic)).toEqual(flat(again)); // eta = 0 draws nothing after x_T
    expect(noise.isDisposed).toBe(false);
    await expect(d.pSampleLoop(shrink, [4, 3], { noise })).rejects.toThrow(/noise has shape \[4, 2\], expected \[4, 3\]/);
  });

  it('stops between steps when aborted, also from a timer, and frees everything', async () => {
    const controller = new AbortController();
    let steps = 0;
    const loop = async () => {
      for await (const step of d.ddimSampleLoopProgressive(shrink, [4, 2], { seed: 1, signal: controller.signal })) {
        if (step.index === 2) controller.abort(new Error('enough'));
        steps++;
      }
    };
    await expect(loop()).rejects.toThrow('enough');
    expect(steps).toBe(3);
    await expect(d.pSampleLoop(shrink, [4, 2], { signal: AbortSignal.abort() })).rejects.toThrow(/aborted/i);
    // A slow synchronous model: the timer's abort still gets through mid-loop.
    const long = new GaussianDiffusion({ betas: getNamedBetaSchedule('linear', 2000), modelMeanType: ModelMeanType.START_X, modelVarType: ModelVarType.FIXED_LARGE });
    let calls = 0;
    const slow: DiffusionModel = (x) => {
      calls++;
      const until = Date.now() + 1;
      while (Date.now() < until);
      return x.mul(0.9);
    };
    await expect(long.pSampleLoop(slow, [2, 2], { signal: AbortSignal.timeout(50) })).rejects.toThrow(/timed out|abort/i);
    expect(calls).toBeGreaterThan(5);
    expect(calls).toBeLessThan(2000);
  });

  it('breaking out of the progressive loop frees its tensors; a kept handle survives', async () => {
    let kept: Tensor | null = null;
    for await (const step of d.pSampleLoopProgressive(shrink, [4, 2], { seed: 4 })) {
      if (step.index === 5) {
        kept = step.sample.detach();
        break;
      }
    }
    expect(own(kept!).shape).toEqual([4, 2]);
    expect(kept!.dataSync().every(Number.isFinite)).toBe(true);
  });
});

describe('bad input', () => {
  const d = make(ModelMeanType.START_X);

  it('names the problem and leaks nothing', async () => {
    const x = own(zeros([3, 2]));
    const t = own(tensor(Int32Array.from([1, 2, 3])));
    expect(() => d.qSample(x, own(tensor([1, 2, 3])))).toThrow(/timesteps t must be int32, got float32/);
    expect(() => d.qSample(x, own(tensor(Int32Array.from([1, 2]))))).toThrow(/timesteps t \[2\] must be \[B\] with B = 3/);
    expect(() => d.qSample(x, own(tensor(Int32Array.from([1, 1000, 2]))))).toThrow(/timesteps t: gather: index 1000 is out of range.*\(the table has 1000 timesteps\)/);
    expect(() => d.qSample(x, t, { noise: own(zeros([3, 3])) })).toThrow(/qSample: noise has shape \[3, 3\], expected \[3, 2\]/);
    expect(() => d.qSample(x, t, { seed: 1, generator: new Generator(1) })).toThrow(/either seed or generator/);
    await expect(d.pMeanVariance(() => zeros([3, 1]), x, t)).rejects.toThrow(/model returned shape \[3, 1\], expected x_t's shape \[3, 2\]/);
    await expect(d.pMeanVariance((xt) => xt, x, t)).rejects.toThrow(/returned its input x_t/);
    await expect(d.pSample(() => { throw new Error('model failed'); }, x, t)).rejects.toThrow('model failed');
    await expect(d.pSample(() => zeros([3, 2]), x, t, { noise: own(zeros([3, 3])) })).rejects.toThrow(/pSample: noise has shape \[3, 3\]/);
    await expect(d.ddimSample(() => zeros([3, 2]), x, t, { eta: 0.5, noise: own(zeros([2, 2])) })).rejects.toThrow(/ddimSample: noise has shape \[2, 2\]/);
    await expect(d.ddimSample(() => zeros([3, 2]), x, t, { eta: -1 })).rejects.toThrow(/eta must be a finite number >= 0, got -1/);
    expect(() => d.ddimSampleLoopProgressive(() => zeros([3, 2]), [3, 2], { eta: Number.NaN })).toThrow(/eta must be/);
    await expect(d.pSampleLoop(() => zeros([3, 2]), [])).rejects.toThrow(/shape must have a batch axis/);
    await expect(d.trainingLosses(() => zeros([3]), x, t)).rejects.toThrow(/trainingLosses: the model returned shape \[3\]/);
    expect(() => staticThreshold(1, -1)).toThrow(/need min < max/);
  });
});
