// scaledDotProductAttention on every device (CPU TypeScript kernels, WASM kernels, WebGPU
// where an adapter exists): forward values against a float64 reference, gradients of
// sum(out * R) against central differences of that reference, with and without a mask.

import { cpuKernelsStatus, cpuThreadsReady, memory, mul, setCpuKernels, setDefaultDevice, sum, tensor, tidy, type Tensor } from '@gpt/tensor';
import { afterEach, describe, expect, it, type TestContext } from 'vitest';
import { scaledDotProductAttention } from '../src/index.js';
import { needWebGPU } from '../../tensor/test/need-webgpu.js';
import { hashed } from './hashed.js';

const [B, TQ, TK, E, EV] = [2, 3, 5, 4, 6];

/** softmax(q kᵀ / sqrt(E) [masked]) v in float64 over [B, T, E] arrays. */
function reference(q: Float64Array, k: Float64Array, v: Float64Array, mask: Uint8Array | null): Float64Array {
  const out = new Float64Array(B * TQ * EV);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < TQ; i++) {
      const scores = Array.from({ length: TK }, (_, j) => {
        if (mask && !mask[i * TK + j]) return -Infinity;
        let s = 0;
        for (let e = 0; e < E; e++) s += q[(b * TQ + i) * E + e]! * k[(b * TK + j) * E + e]!;
        return s / Math.sqrt(E);
      });
      const top = Math.max(...scores);
      const w = scores.map((s) => Math.exp(s - top));
      const total = w.reduce((a, c) => a + c, 0);
      for (let j = 0; j < TK; j++) for (let e = 0; e < EV; e++) out[(b * TQ + i) * EV + e]! += (w[j]! / total) * v[(b * TK + j) * EV + e]!;
    }
  }
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i]! - expected[i]!) <= atol + rtol * Math.abs(expected[i]!))) expect.fail(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]}`);
  }
}

const devices = [
  { name: 'cpu', setup: async () => setCpuKernels('ts') },
  {
    name: 'cpu-wasm',
    setup: async () => {
      expect(cpuKernelsStatus().wasmReason).toBeNull();
      setCpuKernels(cpuKernelsStatus().threadsReason === null ? 'wasm-threads' : 'wasm');
      await cpuThreadsReady();
    },
  },
  {
    name: 'webgpu',
    setup: async (context: TestContext) => {
      await needWebGPU(context);
      setDefaultDevice('webgpu');
    },
  },
];

describe.each(devices)('scaledDotProductAttention on $name', ({ setup }) => {
  afterEach(() => {
    setDefaultDevice('cpu');
    setCpuKernels('auto');
  });

  for (const masked of [false, true]) {
    it(`forward and gradients${masked ? ' with a mask' : ''}`, async (context) => {
      await setup(context);
      const [qv, kv, vv, r] = [hashed(1, B * TQ * E), hashed(2, B * TK * E), hashed(3, B * TK * EV), hashed(4, B * TQ * EV)].map((a) => Float64Array.from(a, (x) => 4 * x));
      // Each query sees a different subset of keys, never none.
      const maskValues = masked ? Uint8Array.from({ length: TQ * TK }, (_, n) => Number(n % TK <= Math.floor(n / TK) + 1)) : null;
      const before = memory().tensors;
      const [q, k, v] = [
        [qv, [B, 1, TQ, E]],
        [kv, [B, 1, TK, E]],
        [vv, [B, 1, TK, EV]],
      ].map(([values, shape]) => {
        const t = tensor(Float32Array.from(values as Float64Array), { shape: shape as number[] });
        t.requiresGrad = true;
        return t;
      }) as [Tensor, Tensor, Tensor];
      const upstream = tensor(Float32Array.from(r!), { shape: [B, 1, TQ, EV] });
      const mask = maskValues ? tensor(maskValues, { dtype: 'bool', shape: [TQ, TK] }) : null;
      const out = tidy(() => {
        const y = scaledDotProductAttention(q, k, v, { mask }); // [B, 1, TQ, EV]
        sum(mul(y, upstream)).backward();
        return y;
      });
      expectClose(await out.data(), reference(qv!, kv!, vv!, maskValues), 1e-5, 1e-5, 'output');
      // Central differences of sum(reference * R) in float64.
      const loss = (qq: Float64Array, kk: Float64Array, vvv: Float64Array) => reference(qq, kk, vvv, maskValues).reduce((a, y, i) => a + y * r![i]!, 0);
      const inputs = [qv!, kv!, vv!];
      for (const [slot, t] of [q, k, v].entries()) {
        const fd = inputs[slot]!.map((_, i) => {
          const shifted = (delta: number) => inputs.map((a, s) => (s === slot ? a.map((x, j) => (j === i ? x + delta : x)) : a));
          const [plus, minus] = [shifted(1e-6), shifted(-1e-6)];
          return (loss(plus[0]!, plus[1]!, plus[2]!) - loss(minus[0]!, minus[1]!, minus[2]!)) / 2e-6;
        });
        const largest = Math.max(...fd.map(Math.abs));
        expectClose(await t.grad!.data(), fd, 1e-4, 2e-5 * largest, `grad ${'qkv'[slot]}`);
      }
      for (const t of [q, k, v, upstream, out, ...(mask ? [mask] : [])]) t.dispose();
      expect(memory().tensors).toBe(before);
    });
  }

  it('names the shapes of mismatched inputs', async (context) => {
    await setup(context);
    const [q, k] = [tensor(new Float32Array(8), { shape: [2, 4] }), tensor(new Float32Array(6), { shape: [2, 3] })];
    expect(() => scaledDotProductAttention(q, k, k)).toThrow('scaledDotProductAttention: expected q [..., Tq, E], k [..., Tk, E], v [..., Tk, Ev] of one rank, got q [2, 4], k [2, 3], v [2, 3]');
    q.dispose();
    k.dispose();
  });
});
