// Where the randomness of a call comes from: a fresh generator for `seed`, the caller's
// generator, or @gpt/tensor's default generator (seeded by manualSeed) when neither is given.

import { generatorFor, type Generator } from '@gpt/tensor';

export interface SeedOptions {
  /** Draw from a fresh generator with this seed (same seed, same result). */
  seed?: number;
  /** Draw from (and advance) this generator. */
  generator?: Generator;
}

export function generatorFrom(where: string, options: SeedOptions): Generator {
  if (options.seed !== undefined && !Number.isFinite(options.seed)) throw new Error(`${where}: seed must be a finite number, got ${options.seed}`);
  return generatorFor(options, where);
}
