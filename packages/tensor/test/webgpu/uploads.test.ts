// The WebGPU backend's upload counter (stats().uploads / uploadBytes) and moving a
// leaf across devices in place with assign(value, { allowDeviceChange: true }).

import { add, tensor } from '@gpt/tensor';
import { expect, it } from 'vitest';
import { describeWebGPU } from './webgpu-suite.js';

describeWebGPU('webgpu uploads', (gpu) => {
  it('counts each upload() and its bytes, and nothing for kernels', async () => {
    const before = gpu().stats();
    const a = tensor([1, 2, 3], { device: 'webgpu' }); // 1 upload, 12 bytes
    const b = tensor([true, false], { device: 'webgpu' }); // bool is one u32 per element on the GPU: 8 bytes
    const c = add(a, a); // a kernel, no upload
    const d = add(a, 1); // the number becomes an uploaded 0-d tensor: 4 bytes
    const after = gpu().stats();
    expect(after.uploads - before.uploads).toBe(3);
    expect(after.uploadBytes - before.uploadBytes).toBe(24);
    expect(Array.from(await d.data())).toEqual([2, 3, 4]);
    for (const t of [a, b, c, d]) t.dispose();
  });

  it('assign moves a leaf to the value\'s device only when allowed, keeping the handle', async () => {
    const p = tensor([1, 2]);
    const onGpu = tensor([5, 6], { device: 'webgpu' });
    expect(() => p.assign(onGpu)).toThrow('assign: value lives on "webgpu" but the tensor on "cpu"');
    expect(p.device).toBe('cpu');
    p.assign(onGpu, { allowDeviceChange: true });
    onGpu.dispose();
    expect(p.device).toBe('webgpu');
    expect(Array.from(await p.data())).toEqual([5, 6]);
    p.dispose();
  });
});
