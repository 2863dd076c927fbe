// GPU memory over 1,000 training steps: after the first steps have filled the pool,
// live tensors, live GPU bytes and pooled buffers stay exactly constant, and every
// buffer freed by a tensor returns to the pool once the GPU is done with it.

import { memory } from '@gpt/tensor';
import { expect, it } from 'vitest';
import { disposeModel, mlp, sgdStep } from './training.js';
import { describeWebGPU } from './webgpu-suite.js';

describeWebGPU('webgpu memory', (gpu) => {
  it('does not grow over 1,000 training steps', async () => {
    const model = await mlp('webgpu');
    const snapshot = async () => {
      await gpu().sync(); // let every completed submission hand its buffers back
      const { tensors, buffers, bytes, devices } = memory();
      const { retiringBuffers, liveBuffers } = gpu().stats();
      return { tensors, buffers, bytes, gpu: devices.webgpu, retiringBuffers, liveBuffers };
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
    expect(end).toEqual(warm);
    expect(end.retiringBuffers).toBe(0);
    expect(end.gpu!.pooledBuffers).toBeGreaterThan(0);
    // It trained: the loss went down.
    const last = sgdStep(model, 0.1);
    expect((await last.data())[0]!).toBeLessThan(first);
    last.dispose();
    disposeModel(model);
  });
});
