// Seeded random number generation. A Generator is a Philox key plus a block
// counter that advances with every draw, so a sequence of draws is reproducible
// from the seed alone, on every device. `seed` options create a fresh generator.
// Tensor draws (rand, randn, randint) and host draws (generator.uniform, normal,
// randint, int, permutation) take blocks from the same counter, so they interleave
// without ever reusing bits, and getState() checkpoints both.

import { runOp } from './engine.js';
import { blocksFor, fillNormal, fillUniform, philox4x32, seedToKey } from './philox.js';
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

  /** A seed for a child generator: a uniform 53-bit integer (every safe seed is possible) from one block. */
  nextSeed(): number {
    const next = this.words();
    const low = next();
    return low + (next() & 0x1fffff) * 2 ** 32;
  }

  // ---- host draws: plain arrays, no tensor, no device ---------------------------

  /**
   * `n` uniforms in [0, 1) with 24 random bits each: the numbers `rand([n])` would put
   * in a tensor from the same state (exactly; they are float32 values).
   */
  uniform(n: number): Float64Array {
    const out = new Float64Array(count('uniform', n));
    const { key, offset } = this.take(n);
    fillUniform(key, offset, out);
    return out;
  }

  /**
   * `n` standard normals (Box–Muller in float64): the numbers `randn([n])` would put
   * in a tensor from the same state, before its rounding to float32.
   */
  normal(n: number): Float64Array {
    const out = new Float64Array(count('normal', n));
    const { key, offset } = this.take(n);
    fillNormal(key, offset, out);
    return out;
  }

  /** `n` integers uniform on [low, high), exactly (no modulo bias); int32 bounds. */
  randint(low: number, high: number, n: number): Int32Array {
    const span = int32Span('randint', low, high);
    const out = new Int32Array(count('randint', n));
    const next = this.words();
    for (let i = 0; i < out.length; i++) out[i] = low + below(next, span);
    return out;
  }

  /** One integer uniform on [low, high); int32 bounds. */
  int(low: number, high: number): number {
    const span = int32Span('int', low, high);
    return low + below(this.words(), span);
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates with exact integer draws). */
  permutation(n: number): Int32Array {
    const order = Int32Array.from({ length: count('permutation', n) }, (_, i) => i);
    const next = this.words();
    for (let i = n - 1; i > 0; i--) {
      const j = below(next, i + 1);
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    return order;
  }

  /**
   * Fresh 32-bit words for one draw of unknown length (integer draws reject some
   * words), one block at a time. Words left over in its last block are dropped,
   * so a later draw never sees them.
   */
  private words(): () => number {
    const block = new Uint32Array(4);
    let used = block.length;
    return () => {
      if (used === block.length) {
        const { key, offset } = this.take(block.length);
        philox4x32(offset >>> 0, Math.floor(offset / 2 ** 32) >>> 0, 0, 0, key[0], key[1], block);
        used = 0;
      }
      return block[used++]!;
    };
  }
}

function count(where: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`Generator.${where}: n must be a non-negative integer, got ${n}`);
  return n;
}

/** high - low, after checking low < high are integers within int32 (so the span is at most 2^32). */
function int32Span(where: string, low: number, high: number): number {
  if (!Number.isInteger(low) || !Number.isInteger(high) || !(low < high) || low < -(2 ** 31) || high > 2 ** 31) {
    throw new Error(`Generator.${where}: need integers -2^31 <= low < high <= 2^31, got [${low}, ${high})`);
  }
  return high - low;
}

/**
 * An integer uniform on [0, span) from 32-bit words (span <= 2^32). Words at or above
 * the largest multiple of span below 2^32 are rejected, so every residue is equally
 * likely; a rejection is rarer than span / 2^32.
 */
function below(next: () => number, span: number): number {
  const limit = 2 ** 32 - (2 ** 32 % span);
  let word = next();
  while (word >= limit) word = next();
  return word % span;
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

/**
 * The generator a call with these options draws from: a fresh one for `seed`, the
 * caller's `generator`, else the default generator. For functions that take
 * RandomOptions and draw on the host (generatorFor(options).normal(n)).
 */
export function generatorFor(options: { seed?: number; generator?: Generator }, where = 'random'): Generator {
  if (options.seed !== undefined && options.generator) throw new Error(`${where}: give either seed or generator, not both`);
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
