// Sampling with the analytically optimal denoiser: DDPM and DDIM must reproduce the data
// distribution. The data has two independent columns: a Gaussian N(1.5, 0.5²) and a
// two-point-like mixture 0.3·N(-2, 0.05²) + 0.7·N(1, 0.05²) (its E[x_0 | x_t] is closed form).
//
// For the Gaussian column every sampler step is linear in x_t, so the exact mean and variance
// of the samples follow from a short recursion derived from the formulas (gaussianColumnMoments
// below): this checks the sampler's arithmetic, including the known biases of few-step
// samplers (DDIM-50 slightly shrinks the variance; 50-step ancestral sampling with the
// posterior variance shrinks it more). Tolerances are 4 standard errors at the sample size.
// For the mixture column the weights must match within 4 standard errors.

import { describe, expect, it } from 'vitest';
import {
  GaussianDiffusion,
  getNamedBetaSchedule,
  ModelMeanType,
  ModelVarType,
  SpacedDiffusion,
  spaceTimesteps,
} from '@gpt/diffusion';
import { memory, type Tensor } from '@gpt/tensor';
import { columns, meanVar, optimalDenoiser, type Mixture1d } from './helpers/optimal-denoiser.js';

const T = 1000;
const N = 2000;
const betas = getNamedBetaSchedule('linear', T);
const gaussian: Mixture1d = { weights: [1], means: [1.5], stds: [0.5] };
const twoPoint: Mixture1d = { weights: [0.3, 0.7], means: [-2, 1], stds: [0.05, 0.05] };
const dims = [gaussian, twoPoint];

const options = (modelMeanType: ModelMeanType, modelVarType: ModelVarType = ModelVarType.FIXED_LARGE) => ({ betas, modelMeanType, modelVarType });
const full = (meanType: ModelMeanType, varType?: ModelVarType) => new GaussianDiffusion(options(meanType, varType));
const ddim50 = (meanType: ModelMeanType) => new SpacedDiffusion(spaceTimesteps(T, 'ddim50'), options(meanType));
const model = (d: GaussianDiffusion, meanType: ModelMeanType) => optimalDenoiser(full(meanType).alphasCumprod, dims, meanType);

interface Stats {
  gaussian: { mean: number; variance: number };
  weightHigh: number;
  modeMeans: [number, number];
  modeStds: [number, number];
}

function statistics(samples: Tensor): Stats {
  const [g, m] = columns(samples);
  const low = m!.filter((v) => v < -0.5);
  const high = m!.filter((v) => v >= -0.5);
  const lowStats = meanVar(low);
  const highStats = meanVar(high);
  return {
    gaussian: meanVar(g!),
    weightHigh: high.length / m!.length,
    modeMeans: [lowStats.mean, highStats.mean],
    modeStds: [Math.sqrt(lowStats.variance), Math.sqrt(highStats.variance)],
  };
}

/** Checks the statistics against the exact Gaussian-column moments of the sampler used. */
function expectMatchesData(s: Stats, expected: { mean: number; variance: number }, sharpModes = true): void {
  expect(Math.abs(s.gaussian.mean - expected.mean)).toBeLessThan(4 * Math.sqrt(expected.variance / N));
  expect(Math.abs(s.gaussian.variance / expected.variance - 1)).toBeLessThan(4 * Math.sqrt(2 / N));
  expect(Math.abs(s.weightHigh - 0.7)).toBeLessThan(4 * Math.sqrt((0.7 * 0.3) / N));
  expect(Math.abs(s.modeMeans[0] + 2)).toBeLessThan(0.02);
  expect(Math.abs(s.modeMeans[1] - 1)).toBeLessThan(0.02);
  for (const sd of s.modeStds) {
    if (sharpModes) expect(Math.abs(sd / 0.05 - 1)).toBeLessThan(0.15);
    else expect(sd).toBeLessThan(0.1);
  }
}

async function run(sample: () => Promise<Tensor>): Promise<Stats> {
  const before = memory().tensors;
  const samples = await sample();
  expect(samples.shape).toEqual([N, 2]);
  const s = statistics(samples);
  samples.dispose();
  expect(memory().tensors).toBe(before);
  return s;
}

const allSteps = Array.from({ length: T }, (_, i) => i);
const steps50 = spaceTimesteps(T, 'ddim50');

describe('sampling with the optimal denoiser reproduces the data', () => {
  it('DDPM, 1000 steps, x_0 prediction, FIXED_LARGE (G.pt\'s sampler)', async () => {
    const d = full(ModelMeanType.START_X);
    const s = await run(() => d.pSampleLoop(model(d, ModelMeanType.START_X), [N, 2], { seed: 1 }));
    const exact = gaussianColumnMoments(allSteps, { kind: 'ddpm', varType: ModelVarType.FIXED_LARGE });
    expect(Math.abs(exact.variance / 0.25 - 1)).toBeLessThan(0.01); // 1000 steps: essentially unbiased
    expectMatchesData(s, exact);
  });

  it('DDPM, 1000 steps, epsilon prediction, FIXED_SMALL', async () => {
    const d = full(ModelMeanType.EPSILON, ModelVarType.FIXED_SMALL);
    const s = await run(() => d.pSampleLoop(model(d, ModelMeanType.EPSILON), [N, 2], { seed: 2 }));
    expectMatchesData(s, gaussianColumnMoments(allSteps, { kind: 'ddpm', varType: ModelVarType.FIXED_SMALL }));
  });

  it('DDIM (eta = 0), all 1000 steps', async () => {
    const d = full(ModelMeanType.START_X);
    const s = await run(() => d.ddimSampleLoop(model(d, ModelMeanType.START_X), [N, 2], { seed: 3 }));
    expectMatchesData(s, gaussianColumnMoments(allSteps, { kind: 'ddim', eta: 0 }));
  });

  it('DDIM (eta = 0), 50 respaced steps, x_0 and epsilon prediction', async () => {
    const exact = gaussianColumnMoments(steps50, { kind: 'ddim', eta: 0 });
    expect(exact.variance).toBeLessThan(0.25); // the deterministic few-step map shrinks the variance a little
    expect(exact.variance).toBeGreaterThan(0.2);
    for (const meanType of [ModelMeanType.START_X, ModelMeanType.EPSILON]) {
      const d = ddim50(meanType);
      // Few deterministic steps also narrow the 0.05-wide modes: only their location is checked.
      expectMatchesData(await run(() => d.ddimSampleLoop(model(d, meanType), [N, 2], { seed: 4 })), exact, false);
    }
  });

  it('DDIM with eta = 1 and DDPM (FIXED_LARGE), 50 respaced steps', async () => {
    const d = ddim50(ModelMeanType.START_X);
    const m = model(d, ModelMeanType.START_X);
    const eta1 = await run(() => d.ddimSampleLoop(m, [N, 2], { seed: 5, eta: 1 }));
    expectMatchesData(eta1, gaussianColumnMoments(steps50, { kind: 'ddim', eta: 1 }), false);
    const ddpm = await run(() => d.pSampleLoop(m, [N, 2], { seed: 6 }));
    expectMatchesData(ddpm, gaussianColumnMoments(steps50, { kind: 'ddpm', varType: ModelVarType.FIXED_LARGE }), false);
  });
});

describe('respacing over all timesteps', () => {
  it('samples bit for bit like the full process (DDPM and DDIM)', async () => {
    const cases = [
      ['pSampleLoop', ModelMeanType.START_X],
      ['ddimSampleLoop', ModelMeanType.EPSILON],
    ] as const;
    for (const [sampler, meanType] of cases) {
      const plain = full(meanType);
      const spaced = new SpacedDiffusion(spaceTimesteps(T, [T]), options(meanType));
      const m = model(plain, meanType);
      const a = await plain[sampler](m, [16, 2], { seed: 9, eta: 0.5 });
      const b = await spaced[sampler](m, [16, 2], { seed: 9, eta: 0.5 });
      expect(Array.from(b.dataSync()), `${meanType} ${sampler}`).toEqual(Array.from(a.dataSync()));
      a.dispose();
      b.dispose();
    }
  });
});

type Sampler = { kind: 'ddpm'; varType: ModelVarType } | { kind: 'ddim'; eta: number };

/**
 * The exact mean and variance of the Gaussian column N(m, s²) after sampling over the kept
 * timesteps with the optimal denoiser, from x_T ~ N(0, 1). Writing x_t = sqrt(a) m + u, the
 * denoiser gives x0^ = m + g u with g = sqrt(a) s² / (a s² + 1 - a) and eps^ = (1 - sqrt(a) g) u / sqrt(1 - a);
 * every step maps u to A u + sigma z, so E[u] and Var[u] follow A and sigma step by step.
 * (a, a') are alphaBar at the current and the next kept timestep (a' = 1 after the last.)
 */
function gaussianColumnMoments(kept: number[], sampler: Sampler, m = 1.5, s = 0.5): { mean: number; variance: number } {
  const ab = full(ModelMeanType.START_X).alphasCumprod;
  const s2 = s * s;
  let meanU = -Math.sqrt(ab[kept.at(-1)!]!) * m;
  let varU = 1;
  for (let k = kept.length - 1; k >= 0; k--) {
    const a = ab[kept[k]!]!;
    const aPrev = k > 0 ? ab[kept[k - 1]!]! : 1;
    const g = (Math.sqrt(a) * s2) / (a * s2 + 1 - a);
    let A: number;
    let noiseVar: number;
    if (sampler.kind === 'ddpm') {
      // Posterior q(x_{t-1} | x_t, x_0) of the (respaced) process with beta = 1 - a / a'.
      const beta = 1 - a / aPrev;
      const coef1 = (beta * Math.sqrt(aPrev)) / (1 - a);
      const coef2 = ((1 - aPrev) * Math.sqrt(1 - beta)) / (1 - a);
      A = coef1 * g + coef2;
      noiseVar = sampler.varType === ModelVarType.FIXED_LARGE ? beta : (beta * (1 - aPrev)) / (1 - a);
    } else {
      const sigma = sampler.eta * Math.sqrt((1 - aPrev) / (1 - a)) * Math.sqrt(1 - a / aPrev);
      const epsHat = (1 - Math.sqrt(a) * g) / Math.sqrt(1 - a);
      A = Math.sqrt(aPrev) * g + Math.sqrt(Math.max(0, 1 - aPrev - sigma * sigma)) * epsHat;
      noiseVar = sigma * sigma;
    }
    meanU = A * meanU;
    varU = A * A * varU + (k > 0 ? noiseVar : 0); // no noise on the last step
  }
  return { mean: m + meanU, variance: varU };
}
