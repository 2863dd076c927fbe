import { describe, expect, it } from 'vitest';
import {
  BETA_SCHEDULES,
  betasForAlphaBar,
  computeCoefficients,
  getNamedBetaSchedule,
  GaussianDiffusion,
  ModelMeanType,
  ModelVarType,
} from '@gpt/diffusion';
import { camelCase, coefficientFixtures, type ScheduleCase } from './helpers/fixtures.js';

/** Fields of GaussianDiffusion holding each fixture array (fixed_large_* are the FIXED_LARGE model variances). */
function fieldFor(name: string): string {
  if (name === 'fixed_large_variance') return 'modelVariance';
  if (name === 'fixed_large_log_variance') return 'modelLogVariance';
  return camelCase(name);
}

/** |a - b| <= rel * |b| + abs, element by element, with the index in the message. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number, abs = 0, label = ''): void {
  expect(actual.length, `${label} length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= rel * Math.abs(e) + abs)) {
      throw new Error(`${label}[${i}]: got ${a}, expected ${e} (rel ${rel}, abs ${abs})`);
    }
  }
}

function checkCase(diffusion: GaussianDiffusion, c: ScheduleCase, rel: number): void {
  for (const [name, expected] of Object.entries(c.values)) {
    const table = (diffusion as unknown as Record<string, Float64Array>)[fieldFor(name)];
    expect(table, name).toBeInstanceOf(Float64Array);
    expect(table!.length).toBe(c.T);
    expectClose(c.indices.map((i) => table![i]!), expected, rel, 0, name);
  }
}

describe('beta schedules and coefficients (golden values from numpy)', () => {
  for (const [key, c] of Object.entries(coefficientFixtures.schedules)) {
    it(`${key}: every coefficient table matches`, () => {
      const diffusion = new GaussianDiffusion({
        betas: getNamedBetaSchedule(c.schedule, c.T),
        modelMeanType: ModelMeanType.START_X,
        modelVarType: ModelVarType.FIXED_LARGE,
      });
      expect(diffusion.numTimesteps).toBe(c.T);
      // float64 throughout: agreement to a few ulps (cos and log may differ by an ulp from C's libm).
      checkCase(diffusion, c, 1e-13);
    });
  }

  it('linear betas equal numpy.linspace bit for bit and end exactly at 0.02 * 1000/T', () => {
    const c = coefficientFixtures.schedules['linear-1000']!;
    const betas = getNamedBetaSchedule('linear', 1000);
    expect(c.indices.map((i) => betas[i])).toEqual(c.values['betas']);
    expect(getNamedBetaSchedule('linear', 100)[99]).toBe(0.2);
  });

  it('cosine betas are capped at 0.999 and the schedule is the one named', () => {
    const betas = getNamedBetaSchedule('cosine', 1000);
    expect(betas[999]).toBe(0.999);
    expect(Math.max(...betas)).toBe(0.999);
    expect(BETA_SCHEDULES['cosine']!(1000)).toEqual(betas);
    const capped = betasForAlphaBar(10, (s) => 1 - s, 0.5);
    expect(capped[9]).toBe(0.5); // 1 - alphaBar(1)/alphaBar(0.9) = 1 would be singular
    expect(capped[0]).toBeCloseTo(0.1, 15);
  });

  it('FIXED_SMALL uses the posterior variance with its clipped log', () => {
    const c = coefficientFixtures.schedules['cosine-1000']!;
    const diffusion = new GaussianDiffusion({
      betas: getNamedBetaSchedule('cosine', 1000),
      modelMeanType: ModelMeanType.EPSILON,
      modelVarType: ModelVarType.FIXED_SMALL,
    });
    expectClose(c.indices.map((i) => diffusion.modelVariance[i]!), c.values['posterior_variance']!, 1e-13, 0, 'variance');
    expectClose(c.indices.map((i) => diffusion.modelLogVariance[i]!), c.values['posterior_log_variance_clipped']!, 1e-13, 0, 'log');
    expect(diffusion.posteriorVariance[0]).toBe(0);
    expect(diffusion.posteriorLogVarianceClipped[0]).toBe(diffusion.posteriorLogVarianceClipped[1]);
  });

  it('computeCoefficients gives the same tables as the class', () => {
    const betas = getNamedBetaSchedule('linear', 50);
    const c = computeCoefficients(betas);
    const d = new GaussianDiffusion({ betas, modelMeanType: ModelMeanType.START_X, modelVarType: ModelVarType.FIXED_SMALL });
    expect(d.posteriorMeanCoef2).toEqual(c.posteriorMeanCoef2);
    expect(d.alphasCumprodNext[49]).toBe(0);
    expect(d.alphasCumprodPrev[0]).toBe(1);
  });

  it('rejects unknown names, bad step counts and bad betas with clear errors', () => {
    expect(() => getNamedBetaSchedule('quadratic', 1000)).toThrow(/unknown beta schedule "quadratic".*linear, cosine/);
    expect(() => getNamedBetaSchedule('toString', 1000)).toThrow(/unknown beta schedule/);
    expect(() => getNamedBetaSchedule('linear', 0)).toThrow(/positive integer, got 0/);
    expect(() => getNamedBetaSchedule('cosine', 2.5)).toThrow(/positive integer, got 2.5/);
    expect(() => getNamedBetaSchedule('linear', 10)).toThrow(/10 steps would need betas up to 2 \(> 1\); use at least 20 steps/);
    expect(getNamedBetaSchedule('linear', 20)[19]).toBe(1);
    const make = (betas: number[]) => new GaussianDiffusion({ betas, modelMeanType: ModelMeanType.START_X, modelVarType: ModelVarType.FIXED_LARGE });
    expect(() => make([])).toThrow(/at least one value/);
    expect(() => make([0.1, 0, 0.2])).toThrow(/betas\[1\] = 0 is outside \(0, 1\]/);
    expect(() => make([0.1, Number.NaN])).toThrow(/betas\[1\] = NaN/);
    expect(() => make([0.1, 1.5])).toThrow(/betas\[1\] = 1.5/);
    expect(() => new GaussianDiffusion({ betas: [0.1], modelMeanType: ModelMeanType.START_X, modelVarType: 'LEARNED' as never })).toThrow(
      /unknown model variance type "LEARNED"/,
    );
    expect(() => new GaussianDiffusion({ betas: [0.1], modelMeanType: 'X' as never, modelVarType: ModelVarType.FIXED_LARGE })).toThrow(
      /unknown modelMeanType "X"/,
    );
    expect(
      () => new GaussianDiffusion({ betas: [0.1, 0.2], alphasCumprod: [0.9, 0.5], modelMeanType: ModelMeanType.START_X, modelVarType: ModelVarType.FIXED_LARGE }),
    ).toThrow(/alphasCumprod\[1\] = 0.5 is not the cumulative product/);
  });
});
