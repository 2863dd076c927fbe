// GELU's backward in the WASM kernels (assembly/vector-math.ts: geluGradV, one exponential
// shared by phi and by erfc's fit; assembly/elementwise.ts: OP_GELU_BACKWARD, dy * GELU'(x) in
// one instruction) against float64 over a dense grid of [-10, 10], on one thread and on the
// pool, with the TypeScript kernel (src/expr.ts: its own erf fit) as a second opinion.

import { afterAll, describe, expect, it } from 'vitest';
import * as T from '@gpt/tensor';
import { runOp } from '@gpt/tensor/internal';
import { erf } from '../reference/erf.js';
import { filledRandom } from './gemm-reference.js';

/** GELU'(x) = Phi(x) + x phi(x) in float64. */
function geluGrad64(x: number): number {
  return 0.5 * (1 + erf(x / Math.SQRT2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);
}

/** x from -10 to 10 in steps of 1/4096 (81,921 values: many 256-element blocks and a tail). */
const GRID = Float32Array.from({ length: 20 * 4096 + 1 }, (_, i) => -10 + i / 4096);

function geluBackward(dy: Float32Array, x: Float32Array): Float32Array {
  const [g, v] = [T.tensor(dy), T.tensor(x)];
  const out = runOp('geluBackward', [g, v], {});
  const values = out.dataSync() as Float32Array;
  [g, v, out].forEach((t) => t.dispose());
  return values;
}

/** Largest |actual[i] - expected(i)|. */
function maxError(actual: Float32Array, expected: (i: number) => number): { error: number; at: number } {
  let worst = { error: 0, at: -1 };
  for (let i = 0; i < actual.length; i++) {
    const error = Math.abs(actual[i]! - expected(i));
    if (!(error <= worst.error)) worst = { error, at: i };
  }
  return worst;
}

describe.each(['wasm', 'wasm-threads', 'ts'] as const)('geluBackward with CPU kernels %s', (mode) => {
  afterAll(() => T.setCpuKernels('auto'));

  it('dy = 1 gives GELU\'(x) within 3e-7 of float64 over [-10, 10]', async () => {
    T.setCpuKernels(mode);
    await T.cpuThreadsReady();
    const got = geluBackward(new Float32Array(GRID.length).fill(1), GRID);
    const { error, at } = maxError(got, (i) => geluGrad64(GRID[i]!));
    expect(error, `worst at x = ${GRID[at]}: got ${got[at]}, float64 ${geluGrad64(GRID[at]!)}`).toBeLessThanOrEqual(3e-7);
  });

  it('random dy scales it (one rounding more)', async () => {
    T.setCpuKernels(mode);
    await T.cpuThreadsReady();
    const dy = filledRandom(GRID.length, 7).map((v) => 4 * v);
    const got = geluBackward(dy, GRID);
    const expected = (i: number) => dy[i]! * geluGrad64(GRID[i]!);
    for (let i = 0; i < got.length; i++) {
      const bound = 3e-7 * Math.abs(dy[i]!) + 1.2e-7 * Math.abs(expected(i));
      if (!(Math.abs(got[i]! - expected(i)) <= bound)) expect.fail(`x = ${GRID[i]}, dy = ${dy[i]}: got ${got[i]}, float64 ${expected(i)}`);
    }
  });

  it('is exact (to 1e-38) far out and at 0, and NaN where the definition is (NaN, +-Infinity: x phi(x) = inf * 0)', async () => {
    T.setCpuKernels(mode);
    await T.cpuThreadsReady();
    const x = Float32Array.from([0, -0, 13.5, -13.5, 30, -30, 1e30, -1e30, 3e38, -3e38, NaN, Infinity, -Infinity]);
    const got = [...geluBackward(new Float32Array(x.length).fill(1), x)];
    // -13.5: x phi(x) = -1.4e-39, a subnormal the TS kernel keeps and WASM flushes to 0.
    const expected = [0.5, 0.5, 1, 0, 1, 0, 1, 0, 1, 0];
    got.slice(0, 10).forEach((v, i) => expect(Math.abs(v - expected[i]!), `x = ${x[i]}: got ${v}`).toBeLessThanOrEqual(1e-38));
    expect(got.slice(10).every(Number.isNaN)).toBe(true);
  });
});

describe('geluBackward: the WASM and TypeScript kernels agree', () => {
  afterAll(() => T.setCpuKernels('auto'));

  it('within 4e-7 over the grid (different erf fits, both within 3e-7 of float64)', () => {
    T.setCpuKernels('wasm');
    const dy = new Float32Array(GRID.length).fill(1);
    const wasm = geluBackward(dy, GRID);
    T.setCpuKernels('ts');
    const ts = geluBackward(dy, GRID);
    expect(maxError(wasm, (i) => ts[i]!).error).toBeLessThanOrEqual(4e-7);
  });
});
