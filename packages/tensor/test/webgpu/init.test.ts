// Finding a WebGPU adapter: probing never throws and says why nothing is usable;
// initWebGPU fails with that reason. These run without any GPU or driver.

import { initWebGPU, probeWebGPU } from '@gpt/tensor/webgpu';
import { probeWebGPU as probeNode } from '@gpt/tensor/webgpu-node';
import { describe, expect, it } from 'vitest';

describe('WebGPU feature detection', () => {
  it('reports a missing navigator.gpu (Node 20 has none) instead of throwing', async () => {
    const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
    expect(nav?.gpu).toBeUndefined();
    const probe = await probeWebGPU();
    expect(probe).toEqual({ available: false, reason: expect.stringMatching(/no navigator\.gpu.*webgpu-node/) });
    await expect(initWebGPU()).rejects.toThrow(/initWebGPU: WebGPU is not available here/);
  });

  it('reports an entry point that offers no adapter', async () => {
    const gpu = { requestAdapter: async () => null };
    expect(await probeWebGPU({ gpu })).toEqual({ available: false, reason: expect.stringMatching(/no WebGPU adapter was found/) });
    await expect(initWebGPU({ gpu })).rejects.toThrow(/no WebGPU adapter was found.*Vulkan/);
  });

  it('reports a failing requestAdapter without throwing', async () => {
    const gpu = {
      requestAdapter: async () => {
        throw new Error('driver exploded');
      },
    };
    expect(await probeWebGPU({ gpu })).toEqual({ available: false, reason: 'requestAdapter() failed: driver exploded' });
  });

  it('reports bad Dawn options in Node without throwing', async () => {
    const probe = await probeNode({ dawnOptions: ['backend=no-such-backend'] });
    expect(probe).toEqual({ available: false, reason: expect.stringMatching(/requestAdapter\(\) failed: unrecognised backend 'no-such-backend'/) });
  });
});
