// Where SharedArrayBuffer is missing (browsers without cross-origin isolation) the
// kernels load in their private-memory variant: WASM on one thread works, threads
// are reported unavailable with the reason, and forcing them throws it.

import { describe, expect, it, vi } from 'vitest';

vi.stubGlobal('SharedArrayBuffer', undefined);
const T = await import('@gpt/tensor');

describe('without SharedArrayBuffer', () => {
  it('runs the WASM kernels on one thread and says why not on more', () => {
    const status = T.cpuKernelsStatus();
    expect(status.wasm).toBe(true);
    expect(status.threads).toBe(1);
    expect(status.threadsReason).toMatch(/SharedArrayBuffer is unavailable/);
    expect(() => T.setCpuKernels('wasm-threads')).toThrow(/SharedArrayBuffer is unavailable/);
  });

  it('computes the same products and elementwise results as the TypeScript kernels', () => {
    const a = T.randn([70, 130], { seed: 1 });
    const b = T.randn([130, 50], { seed: 2 });
    T.setCpuKernels('ts');
    const expected = [T.matmul(a, b).dataSync(), T.gelu(a).dataSync(), T.permute(a, [1, 0]).dataSync()];
    T.setCpuKernels('wasm');
    const actual = [T.matmul(a, b).dataSync(), T.gelu(a).dataSync(), T.permute(a, [1, 0]).dataSync()];
    T.setCpuKernels('auto');
    actual.forEach((values, i) => {
      const e = expected[i]!;
      for (let j = 0; j < e.length; j++) expect(Math.abs(values[j]! - e[j]!)).toBeLessThanOrEqual(2e-5 * Math.max(1, Math.abs(e[j]!)));
    });
    expect(T.cpuKernelsStatus().wasmMemoryBytes).toBeGreaterThan(0);
  });
});
