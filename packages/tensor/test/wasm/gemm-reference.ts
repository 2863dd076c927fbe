// Float64 reference for the BatchedGemm contract (src/cpu/matmul.ts), written
// from the definition, plus the error bound a float32 GEMM must meet: each output
// is a k-term dot product, so |error| <= (k + 2) * 2^-24 * sum_p |a_ip * b_pj|.

import type { GemmBatch } from '../../src/kernels-common/gemm-batch.js';

export interface Expected {
  /** Exact values (float64) of every element of C the call writes or keeps. */
  readonly values: Float64Array;
  /** Allowed |actual - expected| per element. */
  readonly bounds: Float64Array;
}

export function referenceGemm(g: GemmBatch, initialC: Float32Array): Expected {
  const { m, n, k } = g;
  const values = Float64Array.from(initialC);
  const magnitude = new Float64Array(initialC.length).map((_, i) => Math.abs(initialC[i]!));
  const written = new Set<number>();
  for (let t = 0; t < g.cOffsets.length; t++) {
    const aOff = g.aOffsets[t]!;
    const bOff = g.bOffsets[t]!;
    const cOff = g.cOffsets[t]!;
    if (!g.accumulate && !written.has(cOff)) {
      // The first item writing a block overwrites it.
      values.fill(0, cOff, cOff + m * n);
      magnitude.fill(0, cOff, cOff + m * n);
      // ... starting from the bias in every row when there is one.
      if (g.bias) {
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            values[cOff + i * n + j] = g.bias[j]!;
            magnitude[cOff + i * n + j] = Math.abs(g.bias[j]!);
          }
        }
      }
      written.add(cOff);
    }
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        let abs = 0;
        for (let p = 0; p < k; p++) {
          const a = g.transA ? g.a[aOff + p * m + i]! : g.a[aOff + i * k + p]!;
          const b = g.transB ? g.b[bOff + j * k + p]! : g.b[bOff + p * n + j]!;
          sum += a * b;
          abs += Math.abs(a * b);
        }
        values[cOff + i * n + j]! += sum;
        magnitude[cOff + i * n + j]! += abs;
      }
    }
  }
  const items = g.cOffsets.length;
  const bounds = magnitude.map((v) => (k * items + 2) * 2 ** -24 * v + 1e-30);
  return { values, bounds };
}

/** Index and size of the worst violation of the bound, or null when every element is within it. */
export function firstViolation(actual: Float32Array, expected: Expected): string | null {
  for (let i = 0; i < actual.length; i++) {
    const error = Math.abs(actual[i]! - expected.values[i]!);
    if (!(error <= expected.bounds[i]!)) {
      return `element ${i}: got ${actual[i]}, expected ${expected.values[i]} (error ${error.toExponential(2)} > bound ${expected.bounds[i]!.toExponential(2)})`;
    }
  }
  return null;
}

/** Deterministic values in [-1, 1) (a small LCG: tests need no RNG of the library under test). */
export function filledRandom(length: number, seed: number): Float32Array {
  const out = new Float32Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}
