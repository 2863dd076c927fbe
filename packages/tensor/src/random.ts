// Seeded random number generation. A Generator is a Philox key plus a block
// counter that advances with every draw, so a sequence of draws is reproducible
// from the seed alone, on every device. `seed` options create a fresh generator.

import { runOp } from './engine.js';
import { blocksFor, seedToKey } from './philox.js';
import { assertValidShape, sizeOf } from './shape.js';
import type { Tensor } from './tensor.js';

export class Generator {
  private key: [number, number];
  private counter = 0;

  constructor(seed = 0) {
    this.key = seedToKey(seed);
  }

  /** Restarts the stream from `seed`. */
  manualSeed(seed: number): this {
    this.key = seedToKey(seed);
    this.counter = 0;
    return this;
  }

  /** Serializable state, so a training run can be checkpointed and resumed. */
  getState(): { key: [number, number]; counter: number } {
    return { key: [...this.key], counter: this.counter };
  }

  setState(state: { key: readonly [number, number]; counter: number }): void {
    this.key = [state.key[0], state.key[1]];
    this.counter = state.counter;
  }

  /** @internal reserves Philox blocks for a draw of `size` elements */
  take(size: number): { key: [number, number]; offset: number } {
    const offset = this.counter;
    this.counter += blocksFor(size);
    return { key: [...this.key], offset };
  }

  /** A fresh 32-bit-ish integer seed drawn from this stream (for seeding child generators). */
  nextSeed(): number {
    const { key, offset } = this.take(4);
    // Mix key and counter with an integer hash; deterministic and device-free.
    let h = (key[0] ^ Math.imul(offset + 1, 0x9e3779b1)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    return ((h ^ (h >>> 16)) >>> 0) + (key[1] % 1024) * 2 ** 32;
  }
}

/** The generator used when a call names neither `seed` nor `generator`. */
export const defaultGenerator = new Generator(0);

/** Reseeds the default generator (like torch.manual_seed). */
export function manualSeed(seed: number): void {
  defaultGenerator.manualSeed(seed);
}

export interface RandomOptions {
  /** Draw from a fresh generator with this seed (same seed, same numbers). */
  seed?: number;
  /** Draw from (and advance) this generator. */
  generator?: Generator;
  device?: string;
}

function generatorFor(options: RandomOptions): Generator {
  if (options.seed !== undefined && options.generator) throw new Error('random: give either seed or generator, not both');
  if (options.seed !== undefined) return new Generator(options.seed);
  return options.generator ?? defaultGenerator;
}

/** Uniform samples in [low, high). */
export function rand(shape: readonly number[], options: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  assertValidShape('rand', shape);
  const { key, offset } = generatorFor(options).take(sizeOf(shape));
  const u = runOp('randomUniform', [], { shape, key, offset }, options.device);
  const low = options.low ?? 0;
  const high = options.high ?? 1;
  if (low === 0 && high === 1) return u;
  const scaled = u.mul(high - low);
  const shifted = scaled.add(low);
  u.dispose();
  scaled.dispose();
  return shifted;
}

/** Normal samples with the given mean and std (Box–Muller on Philox bits). */
export function randn(shape: readonly number[], options: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  assertValidShape('randn', shape);
  const { key, offset } = generatorFor(options).take(sizeOf(shape));
  const z = runOp('randomNormal', [], { shape, key, offset }, options.device);
  const mean = options.mean ?? 0;
  const std = options.std ?? 1;
  if (mean === 0 && std === 1) return z;
  const scaled = z.mul(std);
  const shifted = scaled.add(mean);
  z.dispose();
  scaled.dispose();
  return shifted;
}

/** Integers uniform in [low, high), int32. */
export function randint(low: number, high: number, shape: readonly number[], options: RandomOptions = {}): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new Error(`randint: need integers low < high, got [${low}, ${high})`);
  }
  if (high - low > 2 ** 24) throw new Error(`randint: range ${high - low} exceeds 2^24, the float32 resolution used`);
  const u = rand(shape, options);
  const scaled = u.mul(high - low);
  // u < 1 and the range is <= 2^24, so truncation lands in [0, high - low).
  const ints = scaled.astype('int32');
  const result = low === 0 ? ints : ints.add(low);
  u.dispose();
  scaled.dispose();
  if (result !== ints) ints.dispose();
  return result;
}
