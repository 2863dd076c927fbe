// GPU memory over 1,000 training steps: after the first steps have filled the pool,
// live tensors, live GPU bytes and pooled buffers stay exactly constant, and every
// buffer freed by a tensor returns to the pool once the GPU is done with it. And the
// pool's limit: the peak of live bytes by default, or a fixed number of bytes, and the
// bind groups cached for those buffers.

import { add, memory, ones, removeBackend, zeros } from '@gpt/tensor';
import { initWebGPU } from '@gpt/tensor/webgpu-node';
import { expect, it } from 'vitest';
import { disposeModel, mlp, sgdStep } from './training.js';
import { describeWebGPU } from './webgpu-suite.js';

describeWebGPU('webgpu memory', (gpu) => {
  it('does not grow over 1,000 training steps', async () => {
    const model = await mlp('webgpu');
    const snapshot = async () => {
      await gpu().sync(); // let every completed submission hand its buffers back
      const { tensors, buffers, bytes, devices } = memory();
      const { retiringBuffers, liveBuffers, bindGroups } = gpu().stats();
      return { tensors, buffers, bytes, gpu: devices.webgpu, retiringBuffers, liveBuffers, bindGroups };
    };
    let first = Infinity;
    let warm: Awaited<ReturnType<typeof snapshot>> | null = null;
    for (let step = 1; step <= 1000; step++) {
      const loss = sgdStep(model, 0.1);
      const value = (await loss.data())[0]!;
      loss.dispose();
      if (step === 1) first = value;
      if (step === 10) warm = await snapshot();
    }
    const end = await snapshot();
    // Bind groups too: the pool hands out the oldest free buffer of a size, so every step gets the
    // same buffers and reuses the groups cached for them (handed out last-freed-first, the
    // pairings drifted: 79 groups after 10 steps, 84 after 1,000).
    expect(end).toEqual(warm);
    expect(end.bindGroups).toBeGreaterThan(0);
    expect(end.retiringBuffers).toBe(0);
    expect(end.gpu!.pooledBuffers).toBeGreaterThan(0);
    // It trained: the loss went down.
    const last = sgdStep(model, 0.1);
    expect((await last.data())[0]!).toBeLessThan(first);
    last.dispose();
    disposeModel(model);
  });
});

describeWebGPU('webgpu buffer pool limits', () => {
  const MIB = 2 ** 20;
  /** Four 1 MiB tensors made, then all freed; a 2 MiB one made and freed: what the pool kept. */
  async function pooledAfterChurn(options: Parameters<typeof initWebGPU>[0]): Promise<{ afterFour: number; afterLarger: number }> {
    const backend = await initWebGPU(options);
    try {
      const small = [0, 1, 2, 3].map(() => zeros([MIB / 4], { device: backend.name }));
      for (const t of small) t.dispose();
      await backend.sync();
      const afterFour = backend.stats().pooledBytes;
      const larger = zeros([(2 * MIB) / 4], { device: backend.name });
      larger.dispose();
      await backend.sync();
      return { afterFour, afterLarger: backend.stats().pooledBytes };
    } finally {
      removeBackend(backend.name);
      backend.destroy();
    }
  }

  it("'peak' (the default) keeps freed buffers while live + pooled bytes stay within the peak of live bytes", async () => {
    const { afterFour, afterLarger } = await pooledAfterChurn({ name: 'pool-peak' });
    expect(afterFour).toBe(4 * MIB); // the peak was 4 MiB live: all four are kept
    // The 2 MiB buffer came from the driver (no buffer of its size class was pooled); keeping it
    // would make 6 MiB pooled with a peak of 4 MiB live, so it is destroyed.
    expect(afterLarger).toBe(4 * MIB);
  });

  it('a number caps the pool at that many bytes', async () => {
    const { afterFour, afterLarger } = await pooledAfterChurn({ name: 'pool-capped', maxPooledBytes: 1.5 * MIB });
    expect(afterFour).toBe(MIB);
    expect(afterLarger).toBe(MIB);
  });

  it('forgets the cached bind groups of buffers it destroys', async () => {
    const backend = await initWebGPU({ name: 'pool-none', maxPooledBytes: 0 });
    try {
      const x = ones([1000], { device: backend.name });
      for (let i = 0; i < 100; i++) {
        // Each result's buffer is new (nothing is pooled) and destroyed once freed.
        const y = add(x, i);
        expect((await y.data())[0]).toBe(1 + i);
        y.dispose();
      }
      await backend.sync();
      // Without eviction every iteration would leave two groups behind (the scalar's and the add's).
      expect(backend.stats().bindGroups).toBeLessThan(10);
      x.dispose();
    } finally {
      removeBackend(backend.name);
      backend.destroy();
    }
  });

  it('refuses a bad maxPooledBytes', async () => {
    await expect(initWebGPU({ name: 'pool-bad', maxPooledBytes: -1 })).rejects.toThrow(/maxPooledBytes must be 'peak' or a number of bytes >= 0, got -1/);
  });
});
