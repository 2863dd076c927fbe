// Per-timestep coefficients applied to a batch: gathers one value per batch element and
// shapes it [B, 1, ..., 1] so it broadcasts against x [B, ...].

import { indexSelect, reshape, tensor, type Tensor } from '@gpt/tensor';

/** Writes a shape the way error messages in this package do. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Throws unless t is an int32 vector with one timestep per batch element of x. */
export function assertTimesteps(where: string, x: Tensor, t: Tensor): void {
  if (t.dtype !== 'int32') throw new Error(`${where}: timesteps t must be int32, got ${t.dtype}`);
  if (x.rank < 1) throw new Error(`${where}: x must have a batch axis, got shape ${formatShape(x.shape)}`);
  if (t.rank !== 1 || t.shape[0] !== x.shape[0]) {
    throw new Error(`${where}: timesteps t ${formatShape(t.shape)} must be [B] with B = ${x.shape[0]} (x is ${formatShape(x.shape)})`);
  }
}

/**
 * values[t[b]] for every batch element b, as a float32 tensor [B, 1, ..., 1] of the given
 * rank on t's device (guided-diffusion's _extract_into_tensor, without the final expand:
 * broadcasting does that). `values` is the float32 copy of a float64 coefficient table.
 */
export function extractIntoTensor(values: Float32Array, t: Tensor, rank: number): Tensor {
  const table = tensor(values, { device: t.device }); // [T]
  let picked: Tensor;
  try {
    picked = indexSelect(table, 0, t); // [B]
  } catch (error) {
    throw new Error(`timesteps t: ${(error as Error).message} (the table has ${values.length} timesteps)`);
  } finally {
    table.dispose();
  }
  const shaped = reshape(picked, [t.shape[0]!, ...new Array<number>(Math.max(rank - 1, 0)).fill(1)]); // [B, 1, ...]
  picked.dispose();
  return shaped;
}
