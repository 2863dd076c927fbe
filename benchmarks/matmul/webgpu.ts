// The WebGPU backend of @gpt/tensor (WGSL kernels) through Dawn. Each timed run
// records the product and waits for the GPU to finish it (no readback of C). On this
// project's machines the adapter is Mesa's llvmpipe, a software GPU on the CPU cores:
// its numbers measure correctness plumbing and dispatch overhead, not GPU speed.
import { conv2d, matmul, randn, tidy } from '@gpt/tensor';
import { initWebGPU, probeWebGPU, type WebGPUBackend } from '@gpt/tensor/webgpu-node';
import type { MatmulImpl } from '../matmul.js';

let gpu: WebGPUBackend | null = null;

const impl: MatmulImpl = {
  name: 'webgpu',
  async setup() {
    const probe = await probeWebGPU();
    if (!probe.available) return probe.reason;
    gpu ??= await initWebGPU({ name: 'webgpu' });
    console.error(`webgpu column: ${gpu.describe()}`);
    return null;
  },
  async prepareMatmul(m, n, k) {
    const a = randn([m, k], { seed: 1, device: 'webgpu' });
    const b = randn([k, n], { seed: 2, device: 'webgpu' });
    await gpu!.sync();
    return async () => {
      tidy(() => void matmul(a, b));
      await gpu!.sync();
    };
  },
  async prepareConv2d({ n, c, h, w, o }) {
    const x = randn([n, c, h, w], { seed: 3, device: 'webgpu' });
    const f = randn([o, c, 3, 3], { seed: 4, device: 'webgpu' });
    await gpu!.sync();
    return async () => {
      tidy(() => void conv2d(x, f, null, { stride: 2, padding: 1 }));
      await gpu!.sync();
    };
  },
};
export default impl;
