// Without the built .wasm (a checkout where `pnpm build` has not run) the CPU backend
// must keep working on its TypeScript kernels, say why in cpuKernelsStatus(), refuse
// to force a WASM mode with that reason, and the 'cpu-wasm' test device must report
// itself unavailable with the same reason.

import { describe, expect, it, vi } from 'vitest';

vi.mock('../../src/wasm/kernel-bytes.js', () => ({
  kernelBytes: () => {
    throw new Error('/work/x/build/kernels-shared.wasm is missing: run `pnpm build` in packages/tensor');
  },
}));

const T = await import('@gpt/tensor');
const { cpuWasm } = await import('../devices.js');

describe('without the WASM kernels', () => {
  it('reports why in the status', () => {
    const status = T.cpuKernelsStatus();
    expect(status.wasm).toBe(false);
    expect(status.wasmReason).toMatch(/WASM kernels unavailable, using TypeScript kernels: .*kernels-shared\.wasm is missing/);
    expect(status.threads).toBe(1);
    expect(status.threadsReason).toBe(status.wasmReason);
    expect(status.wasmMemoryBytes).toBe(0);
  });

  it('still computes with the TypeScript kernels in auto mode', () => {
    const a = T.tensor([1, 2, 3, 4, 5, 6], { shape: [2, 3] });
    const b = T.tensor([1, 0, 0, 1, 1, 1], { shape: [3, 2] });
    expect([...T.matmul(a, b).dataSync()]).toEqual([4, 5, 10, 11]);
    const big = T.ones([200, 300]);
    expect(T.sum(T.matmul(big, T.ones([300, 10]))).item()).toBe(200 * 10 * 300);
    expect([...T.gelu(T.tensor([0])).dataSync()]).toEqual([0]);
  });

  it('refuses to force a WASM mode, naming the reason', () => {
    expect(() => T.setCpuKernels('wasm')).toThrow(/setCpuKernels\('wasm'\): WASM kernels unavailable.*missing/);
    expect(() => T.setCpuKernels('wasm-threads')).toThrow(/missing/);
    expect(T.getCpuKernels()).toBe('auto');
    expect(() => T.setCpuKernels('fast' as never)).toThrow(/unknown mode "fast"/);
    expect(() => T.setCpuKernels('auto', { threads: 0 })).toThrow(/threads must be a positive integer, got 0/);
  });

  it("makes the 'cpu-wasm' test device unavailable with that reason", async () => {
    expect(await cpuWasm.unavailableReason()).toBe(T.cpuKernelsStatus().wasmReason);
  });
});
