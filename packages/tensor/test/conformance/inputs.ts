// Seeded test inputs, from a generator of our own (mulberry32) so that forward
// checks do not depend on the library's RNG. Each generator returns float64
// values; float32 inputs are rounded to float32 before both the library and the
// reference see them, so both compute on exactly the same numbers.

import type { DType, TypedArray } from '@gpt/tensor';
import type { NdArray } from '../reference/nd-array.js';

export type Rng = () => number;

/** mulberry32: a small, well-mixed 32-bit generator; uniform in [0, 1). */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A stable seed from a string (FNV-1a), so each case draws the same inputs whatever else changes. */
export function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Produces `size` values for one input. */
export type Gen = (rng: Rng, size: number) => number[];

export const uniform =
  (lo = -2, hi = 2): Gen =>
  (rng, size) =>
    Array.from({ length: size }, () => lo + (hi - lo) * rng());

/** |x| in [lo, hi] with a random sign: keeps kinks (abs, relu, selu, sign) out of reach of finite differences. */
export const awayFromZero =
  (lo = 0.1, hi = 2): Gen =>
  (rng, size) =>
    Array.from({ length: size }, () => (rng() < 0.5 ? -1 : 1) * (lo + (hi - lo) * rng()));

/** Pairwise distinct values in [lo, hi], at least (hi - lo) / (2 size) apart: no ties for max/min/argmax. */
export const distinct =
  (lo = -2, hi = 2): Gen =>
  (rng, size) => {
    const slots = Array.from({ length: size }, (_, i) => i);
    for (let i = size - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [slots[i], slots[j]] = [slots[j]!, slots[i]!];
    }
    return slots.map((s) => lo + ((hi - lo) * (s + 0.25 + 0.5 * rng())) / size);
  };

/** Values drawn from a small set, so comparisons see plenty of ties. */
export const choice =
  (values: readonly number[]): Gen =>
  (rng, size) =>
    Array.from({ length: size }, () => values[Math.floor(rng() * values.length)]!);

/** Integers in [lo, hi). */
export const ints = (lo: number, hi: number): Gen => choice(Array.from({ length: hi - lo }, (_, i) => lo + i));

export const bools: Gen = choice([0, 1]);

/** Multiples of 1/4 in [-2, 2] shifted by `offset`: two inputs with different offsets never tie. */
export const quarterGrid = (offset: number): Gen => choice(Array.from({ length: 17 }, (_, i) => -2 + i / 4 + offset));

export interface InputSpec {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly gen: Gen;
  /** Whether the gradient check differentiates with respect to this input (float32 only). */
  readonly grad: boolean;
}

export const f32 = (shape: readonly number[], gen: Gen = uniform(), grad = true): InputSpec => ({ shape, dtype: 'float32', gen, grad });
export const i32 = (shape: readonly number[], gen: Gen): InputSpec => ({ shape, dtype: 'int32', gen, grad: false });
export const bool = (shape: readonly number[], gen: Gen = bools): InputSpec => ({ shape, dtype: 'bool', gen, grad: false });

function typedOf(dtype: DType, values: readonly number[]): TypedArray {
  if (dtype === 'float32') return Float32Array.from(values);
  if (dtype === 'int32') return Int32Array.from(values);
  return Uint8Array.from(values, (v) => (v !== 0 ? 1 : 0));
}

/** Draws the values of every input: typed arrays for the library, float64 copies for the reference. */
export function drawInputs(specs: readonly InputSpec[], seed: number): { typed: TypedArray[]; arrays: NdArray[] } {
  const rng = mulberry32(seed);
  const typed = specs.map((s) => typedOf(s.dtype, s.gen(rng, s.shape.reduce((a, b) => a * b, 1))));
  const arrays = typed.map((t, i) => ({ shape: [...specs[i]!.shape], dtype: specs[i]!.dtype, data: Float64Array.from(t) }));
  return { typed, arrays };
}

/** Random float32 weights in [-1, 1] for the gradient check's loss sum(out * weights). */
export function drawWeights(shape: readonly number[], rng: Rng): Float32Array {
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * rng() - 1);
}

/** Exactly these values, in order (for special values such as 0, infinities and large magnitudes). */
export const fixed =
  (values: readonly number[]): Gen =>
  (_rng, size) =>
    Array.from({ length: size }, (_, i) => values[i % values.length]!);
