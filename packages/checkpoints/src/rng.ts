// A small seeded generator for sampling and permutations: xoshiro128** (Blackman &
// Vigna), seeded through splitmix32 so that nearby seeds give unrelated streams.
// 32-bit integer arithmetic only, so it is fast in JS and identical on every platform.
// It does not reproduce torch's generator: the same seed gives different draws than
// the official Python code, with the same distribution.

export interface Rng {
  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number;
  /** Uniform float in [0, 1) with 53 random bits. */
  nextFloat(): number;
  /** Uniform integer in [low, high) (high - low <= 2^32), unbiased. */
  int(low: number, high: number): number;
  /** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Int32Array;
}

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** A generator seeded by a non-negative integer (only its low 53 bits count). */
export function createRng(seed: number): Rng {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative safe integer, got ${seed}`);
  // Fold both 32-bit halves of the seed in, so seeds above 2^32 differ too.
  const mix = splitmix32((seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32), 0x27d4eb2f));
  const s = new Uint32Array([mix(), mix(), mix(), mix()]);
  if ((s[0]! | s[1]! | s[2]! | s[3]!) === 0) s[0] = 1; // the all-zero state is a fixed point

  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  };

  const int = (low: number, high: number): number => {
    const span = high - low;
    if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high) || span <= 0 || span > 2 ** 32) {
      throw new RangeError(`int(${low}, ${high}): need integers with 0 < high - low <= 2^32`);
    }
    // Rejection sampling: drop the top partial block of 2^32 so every value is equally likely.
    const limit = 2 ** 32 - (2 ** 32 % span);
    let x = nextUint32();
    while (x >= limit) x = nextUint32();
    return low + (x % span);
  };

  return {
    nextUint32,
    nextFloat: () => (nextUint32() * 2 ** 21 + (nextUint32() >>> 11)) / 2 ** 53,
    int,
    permutation(n: number): Int32Array {
      const p = new Int32Array(n);
      for (let i = 0; i < n; i++) p[i] = i;
      for (let i = n - 1; i > 0; i--) {
        const j = int(0, i + 1);
        const tmp = p[i]!;
        p[i] = p[j]!;
        p[j] = tmp;
      }
      return p;
    },
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
