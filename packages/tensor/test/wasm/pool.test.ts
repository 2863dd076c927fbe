// The worker pool through the public API: changing the thread count replaces the
// pool while the old workers may still be waking (they must not join jobs sized for
// the new pool), results stay those of one thread, and the status reports workers.

import { afterAll, describe, expect, it } from 'vitest';
import * as T from '@gpt/tensor';

describe('thread pool', () => {
  afterAll(() => T.setCpuKernels('auto', { threads: undefined }));

  it('gives one-thread results while the pool is replaced between calls', async () => {
    const a = T.randn([200, 300], { seed: 1 });
    const b = T.randn([300, 150], { seed: 2 });
    T.setCpuKernels('wasm');
    const expected = Float32Array.from(T.matmul(a, b).dataSync());
    for (const threads of [3, 2, 4, 2, 3]) {
      T.setCpuKernels('wasm-threads', { threads });
      for (let i = 0; i < 5; i++) {
        const c = T.matmul(a, b);
        expect(Buffer.from(Float32Array.from(c.dataSync()).buffer).equals(Buffer.from(expected.buffer))).toBe(true);
        c.dispose();
      }
    }
    expect(await T.cpuThreadsReady()).toBe(2);
    expect(T.cpuKernelsStatus().threads).toBe(3);
    expect(T.cpuKernelsStatus().workersReady).toBe(2);
    a.dispose();
    b.dispose();
  });

  it('reports one thread when threads are set to 1', () => {
    T.setCpuKernels('auto', { threads: 1 });
    expect(T.cpuKernelsStatus().threads).toBe(1);
    expect(T.cpuKernelsStatus().threadsReason).toBe('threads were set to 1');
    expect(() => T.setCpuKernels('wasm-threads')).toThrow(/threads were set to 1/);
    expect(T.getCpuKernels()).toBe('auto');
    expect(() => T.setCpuKernels('wasm-threads', { threads: 1 })).toThrow(/threads were set to 1/);
    T.setCpuKernels('wasm-threads', { threads: 2 });
    expect(T.getCpuKernels()).toBe('wasm-threads');
  });
});
