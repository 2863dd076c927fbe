// Golden parity with PyTorch: scripts/fixtures/transformer_fixtures.py builds the tiny G.pt
// (2 layers, width 32, 2 heads, Cartpole tokens) independently in PyTorch, gives every
// weight and input values from an integer hash (repeated here exactly), and stores the
// output and the gradients of sum(output * R) with respect to every parameter and to x and
// xPrev. Within 1e-4 of each tensor's scale: float32 on both sides, different summation orders.

import { readFileSync } from 'node:fs';
import { loadStateDictBytes } from '@gpt/nn';
import { mul, sum, tensor, tidy, type Tensor } from '@gpt/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { Gpt } from '../src/index.js';
import { hashed } from './hashed.js';
import { CARTPOLE_SIZES } from './networks.js';

const N = 3;
const D = 1250;
const SAMPLE_STRIDE = 7;
const FULL_LIMIT = 1024;

/** The fixture's weights for parameter number `index` (state-dict order) named `key`. */
function weightValues(index: number, key: string, shape: readonly number[]): Float32Array {
  const u = hashed(index, shape.reduce((a, b) => a * b, 1));
  if (key.includes('ln') && key.endsWith('weight')) return u.map((v) => 1 + 0.4 * v);
  if (key.endsWith('bias') || key.endsWith('pos_emb')) return u.map((v) => 0.4 * v);
  const scale = (2 * Math.sqrt(3)) / Math.sqrt(shape[1]!);
  return u.map((v) => v * scale);
}

/** Every |actual - expected| <= 1e-4 (|expected| + rms(expected)): relative, with the tensor's own scale as the floor. */
function expectMatches(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): number {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let squares = 0;
  for (let i = 0; i < expected.length; i++) squares += expected[i]! ** 2;
  const rms = Math.sqrt(squares / expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const ratio = Math.abs(actual[i]! - expected[i]!) / (Math.abs(expected[i]!) + rms);
    if (!(ratio <= worst)) {
      worst = ratio;
      if (!(ratio <= 1e-4)) expect.fail(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (relative error ${ratio.toExponential(2)} > 1e-4)`);
    }
  }
  return worst;
}

describe('Gpt matches PyTorch (scripts/fixtures/transformer_fixtures.py)', () => {
  const fixture = loadStateDictBytes(readFileSync(new URL('./fixtures/gpt-tiny.safetensors', import.meta.url)));
  const golden = (key: string) => fixture[key]!.dataSync() as Float32Array;
  afterAll(() => Object.values(fixture).forEach((t) => t.dispose()));

  it("has PyTorch's frequencies to within a few units in the last place", () => {
    // Ours are the nearest float32 to 2^(14k/127); PyTorch's float32 linspace and pow round differently.
    const model = new Gpt(CARTPOLE_SIZES, 'tiny', { seed: 0 });
    const ours = model.scalar_embedder.frequencies.dataSync();
    golden('frequencies').forEach((f, k) => expect(Math.abs(ours[k]! / f - 1), `frequency ${k}`).toBeLessThan(1e-6));
    model.dispose();
  });

  it('output and the gradients of every parameter and of x and xPrev', () => {
    const model = new Gpt(CARTPOLE_SIZES, 'tiny', { seed: 0 });
    const named = model.namedParameters();
    const values: Record<string, Float32Array> = {};
    named.forEach(([key, p], index) => (values[key] = weightValues(index, key, p.shape)));
    values['scalar_embedder.frequencies'] = golden('frequencies');
    model.loadStateDict(values);

    const x = tensor(hashed(1000, N * D).map((v) => 2 * v), { shape: [N, D] });
    const xPrev = tensor(hashed(1001, N * D).map((v) => 2 * v), { shape: [N, D] });
    x.requiresGrad = true;
    xPrev.requiresGrad = true;
    const upstream = tensor(hashed(2000, N * D), { shape: [N, D] });
    const output = tidy(() => {
      const out = model.forward(x, [7, 420, 999], [0.25, -1.5, 3.0], [1.75, 0.5, 2.0], xPrev); // [N, D]
      sum(mul(out, upstream)).backward();
      return out;
    });

    const worst: Record<string, number> = {};
    worst.output = expectMatches(output.dataSync(), golden('output'), 'output');
    worst['grad.x'] = expectMatches(x.grad!.dataSync(), golden('grad.x'), 'grad.x');
    worst['grad.xPrev'] = expectMatches(xPrev.grad!.dataSync(), golden('grad.xPrev'), 'grad.xPrev');
    let checked = 0;
    named.forEach(([key, p], index) => {
      const g = p.grad!.dataSync() as Float32Array;
      if (key.endsWith('attn.key.bias')) {
        // Zero in exact arithmetic (softmax ignores a shift shared by all keys): both sides hold rounding noise only.
        for (const v of [...g, ...golden(`grad.${key}`)]) expect(Math.abs(v), key).toBeLessThan(1e-5);
      } else if (g.length <= FULL_LIMIT) {
        worst[key] = expectMatches(g, golden(`grad.${key}`), `grad.${key}`);
      } else {
        worst[key] = expectMatches(g.filter((_, i) => i % SAMPLE_STRIDE === 0), golden(`sample.${key}`), `sample.${key}`);
        // The projection reaches every element: sum(g * r) within 1e-4 of sum(|g * r|).
        const r = hashed(3000 + index, g.length);
        let projection = 0;
        for (let i = 0; i < g.length; i++) projection += g[i]! * r[i]!;
        const [expected, scale] = golden(`projection.${key}`);
        expect(Math.abs(projection - expected!), `projection.${key}`).toBeLessThanOrEqual(1e-4 * scale!);
      }
      checked++;
    });
    expect(checked).toBe(62);
    expect(Object.keys(fixture).filter((k) => k.startsWith('grad.') || k.startsWith('sample.'))).toHaveLength(64);
    console.log(`golden parity: worst relative error ${Math.max(...Object.values(worst)).toExponential(2)} over ${Object.keys(worst).length} tensors`);
    for (const t of [x, xPrev, upstream, output] as Tensor[]) t.dispose();
    model.dispose();
  });
});
