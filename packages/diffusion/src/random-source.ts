// Where the randomness of a call comes from: a fresh generator for `seed`, the caller's
// generator, or @gpt/tensor's default generator (seeded by manualSeed) when neither is given.

import { defaultGenerator, Generator } from '@gpt/tensor';

export interface SeedOptions {
  /** Draw from a fresh generator with this seed (same seed, same result). */
  seed?: number;
  /** Draw from (and advance) this generator. */
  generator?: Generator;
}

export function generatorFrom(where: string, options: SeedOptions): Generator {
  if (options.seed !== undefined && options.generator) throw new Error(`${where}: give either seed or generator, not both`);
  if (options.seed !== undefined) {
    if (!Number.isFinite(options.seed)) throw new Error(`${where}: seed must be a finite number, got ${options.seed}`);
    return new Generator(options.seed);
  }
  return options.generator ?? defaultGenerator;
}
