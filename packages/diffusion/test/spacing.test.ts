import { describe, expect, it } from 'vitest';
import { createDiffusion, getNamedBetaSchedule, GaussianDiffusion, ModelMeanType, ModelVarType, SpacedDiffusion, spaceTimesteps } from '@gpt/diffusion';
import { memory, tensor, zeros, type Tensor } from '@gpt/tensor';
import { expectClose } from './beta-schedules.test.js';
import { camelCase, coefficientFixtures } from './helpers/fixtures.js';

describe('spaceTimesteps', () => {
  for (const c of coefficientFixtures.spacing) {
    it(`T=${c.T}, ${JSON.stringify(c.sections)} matches Python's striding (round half to even)`, () => {
      expect(spaceTimesteps(c.T, c.sections)).toEqual(c.timesteps);
    });
  }

  it('follows the documented examples', () => {
    expect(spaceTimesteps(1000, 'ddim50')).toEqual(Array.from({ length: 50 }, (_, i) => i * 20));
    const sections = spaceTimesteps(300, [10, 15, 20]);
    expect(sections).toHaveLength(45);
    expect(sections.filter((t) => t < 100)).toHaveLength(10);
    expect(sections.filter((t) => t >= 100 && t < 200)).toHaveLength(15);
    expect(sections.at(-1)).toBe(299);
    // stride 5.5: positions 0, 5.5, 11, 16.5, ... round half to even (6, 16, 28 rather than 6, 17, 28)
    expect(spaceTimesteps(34, [7])).toEqual([0, 6, 11, 16, 22, 28, 33]);
    expect(spaceTimesteps(1000, '1000')).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(spaceTimesteps(1000, ' 10, 20')).toHaveLength(30);
  });

  it('rejects impossible or malformed specs', () => {
    expect(() => spaceTimesteps(100, 'ddim11')).toThrow(/cannot take exactly 11 steps from 100 with an integer stride/);
    expect(() => spaceTimesteps(100, 'ddimx')).toThrow(/"ddimx" is not "ddimN"/);
    expect(() => spaceTimesteps(100, [60])).not.toThrow();
    expect(() => spaceTimesteps(100, [101])).toThrow(/cannot divide section 0 of 100 steps into 101/);
    expect(() => spaceTimesteps(100, '10,a')).toThrow(/section 1 of "10,a" is not a positive integer/);
    expect(() => spaceTimesteps(100, [10, 0])).toThrow(/section 1 count must be a positive integer, got 0/);
    expect(() => spaceTimesteps(100, [])).toThrow(/at least one section/);
    expect(() => spaceTimesteps(0, 'ddim1')).toThrow(/numTimesteps must be a positive integer/);
  });
});

describe('SpacedDiffusion', () => {
  for (const [key, c] of Object.entries(coefficientFixtures.respaced)) {
    it(`${key}: coefficients of the respaced process match`, () => {
      const d = new SpacedDiffusion(spaceTimesteps(c.T, c.sections), {
        betas: getNamedBetaSchedule(c.schedule, c.T),
        modelMeanType: ModelMeanType.START_X,
        modelVarType: ModelVarType.FIXED_LARGE,
      });
      expect([...d.timestepMap]).toEqual(c.timestep_map);
      expect(d.numTimesteps).toBe(c.timestep_map.length);
      expect(d.originalNumSteps).toBe(c.T);
      for (const [name, expected] of Object.entries(c.values)) {
        const field = name === 'fixed_large_variance' ? 'modelVariance' : name === 'fixed_large_log_variance' ? 'modelLogVariance' : camelCase(name);
        const table = (d as unknown as Record<string, Float64Array>)[field]!;
        // Python takes the cumulative product of the respaced betas; here alphaBar is the
        // original value itself, so the two agree to rounding only.
        expectClose(c.indices.map((i) => table[i]!), expected, 1e-11, 0, name);
      }
    });
  }

  it('over every timestep has exactly the original coefficients', () => {
    const options = { betas: getNamedBetaSchedule('cosine', 1000), modelMeanType: ModelMeanType.EPSILON, modelVarType: ModelVarType.FIXED_LARGE };
    const full = new GaussianDiffusion(options);
    const spaced = new SpacedDiffusion(spaceTimesteps(1000, [1000]), options);
    for (const field of ['betas', 'alphasCumprod', 'posteriorMeanCoef1', 'posteriorMeanCoef2', 'posteriorVariance', 'modelLogVariance'] as const) {
      expect(spaced[field], field).toEqual(full[field]);
    }
  });

  it('shows the model original timesteps, and the progress API reports both', async () => {
    const d = createDiffusion({ steps: 100, timestepRespacing: 'ddim10', predictXstart: true });
    expect([...d.timestepMap]).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(d.modelMeanType).toBe(ModelMeanType.START_X);
    expect(d.modelVarType).toBe(ModelVarType.FIXED_LARGE);
    const seen: number[][] = [];
    const model = (x: Tensor, t: Tensor): Tensor => {
      seen.push(Array.from(t.dataSync()));
      return zeros(x.shape);
    };
    const mean = await d.pMeanVariance(model, zeros([3, 2]), tensor(new Int32Array([0, 5, 9])));
    for (const v of Object.values(mean)) v.dispose();
    expect(seen[0]).toEqual([0, 50, 90]);
    const steps: [number, number][] = [];
    const before = memory().tensors;
    for await (const step of d.pSampleLoopProgressive(model, [2, 1], { seed: 1 })) steps.push([step.t, step.timestep]);
    expect(memory().tensors).toBe(before);
    expect(steps).toEqual(Array.from({ length: 10 }, (_, i) => [9 - i, 90 - 10 * i]));
    expect(seen.at(-1)).toEqual([0, 0]);
  });

  it('createDiffusion defaults to G.pt-style settings and rejects bad input', () => {
    const d = createDiffusion();
    expect(d.numTimesteps).toBe(1000);
    expect(d.modelMeanType).toBe(ModelMeanType.EPSILON);
    expect(createDiffusion({ sigmaSmall: true }).modelVarType).toBe(ModelVarType.FIXED_SMALL);
    expect(createDiffusion({ noiseSchedule: 'cosine', timestepRespacing: [5, 5], steps: 100 }).timestepMap).toHaveLength(10);
    expect(() => createDiffusion({ noiseSchedule: 'sigmoid' })).toThrow(/unknown beta schedule "sigmoid"/);
    const options = { betas: [0.1, 0.2], modelMeanType: ModelMeanType.EPSILON, modelVarType: ModelVarType.FIXED_LARGE };
    expect(() => new SpacedDiffusion([], options)).toThrow(/useTimesteps is empty/);
    expect(() => new SpacedDiffusion([0, 2], options)).toThrow(/timestep 2 is not an integer in \[0, 2\)/);
  });
});
