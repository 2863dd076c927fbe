// A diffusion that skips steps of a base process: sampling with fewer model calls (e.g.
// "ddim50"), while the model still sees the original timestep indices it was trained on.

import { indexSelect, tensor, type Tensor } from '@gpt/tensor';
import { cumulativeProduct, validateBetas } from './diffusion-coefficients.js';
import { GaussianDiffusion, type GaussianDiffusionOptions } from './gaussian-diffusion.js';
import type { DiffusionModel } from './model-types.js';

export class SpacedDiffusion extends GaussianDiffusion {
  /** The kept original timesteps, ascending: timestep t of this diffusion is timestepMap[t]. */
  readonly timestepMap: readonly number[];
  /** The number of steps of the original process. */
  readonly originalNumSteps: number;
  private readonly timestepMapTable: Int32Array;

  /**
   * @param useTimesteps the original timesteps to keep (any order; see spaceTimesteps)
   * @param options the options of the original process (its betas, mean and variance types)
   */
  constructor(useTimesteps: Iterable<number>, options: GaussianDiffusionOptions) {
    const spaced = respace(useTimesteps, options.betas);
    super({ ...options, betas: spaced.betas, alphasCumprod: spaced.alphasCumprod });
    this.timestepMap = Object.freeze(spaced.timestepMap);
    this.originalNumSteps = spaced.originalNumSteps;
    this.timestepMapTable = Int32Array.from(spaced.timestepMap);
  }

  protected override async callModel<Cond>(
    where: string,
    model: DiffusionModel<Cond>,
    x: Tensor,
    t: Tensor,
    cond: Cond | undefined,
    withGrad = false,
  ): Promise<Tensor> {
    const table = tensor(this.timestepMapTable, { device: t.device }); // [T']
    const original = indexSelect(table, 0, t); // [B] original timesteps
    table.dispose();
    try {
      return await super.callModel(where, model, x, original, cond, withGrad);
    } finally {
      original.dispose();
    }
  }

  protected override originalTimestep(t: number): number {
    return this.timestepMap[t]!;
  }
}

/**
 * The betas of the kept steps: the noise between consecutive kept steps,
 * 1 - alphaBar_i / alphaBar_prev. alphaBar of every kept step is the original value itself,
 * and a kept step right after another kept step keeps its original beta, so keeping every
 * step reproduces the original process exactly.
 */
function respace(
  useTimesteps: Iterable<number>,
  betasLike: ArrayLike<number>,
): { betas: Float64Array; alphasCumprod: Float64Array; timestepMap: number[]; originalNumSteps: number } {
  const betas = validateBetas('SpacedDiffusion', betasLike);
  const originalNumSteps = betas.length;
  const timestepMap = [...new Set(useTimesteps)].sort((a, b) => a - b);
  if (timestepMap.length === 0) throw new Error('SpacedDiffusion: useTimesteps is empty');
  for (const t of timestepMap) {
    if (!Number.isInteger(t) || t < 0 || t >= originalNumSteps) {
      throw new Error(`SpacedDiffusion: timestep ${t} is not an integer in [0, ${originalNumSteps})`);
    }
  }
  const alphasCumprod = cumulativeProduct(betas.map((b) => 1 - b));
  const newBetas = new Float64Array(timestepMap.length);
  const newAlphasCumprod = new Float64Array(timestepMap.length);
  let previous = -1;
  timestepMap.forEach((t, k) => {
    const lastAlphaCumprod = previous < 0 ? 1 : alphasCumprod[previous]!;
    newBetas[k] = t === previous + 1 ? betas[t]! : 1 - alphasCumprod[t]! / lastAlphaCumprod;
    newAlphasCumprod[k] = alphasCumprod[t]!;
    previous = t;
  });
  return { betas: newBetas, alphasCumprod: newAlphasCumprod, timestepMap, originalNumSteps };
}
