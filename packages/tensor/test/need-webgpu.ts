// Shared by the packages' tests (nn, diffusion, transformer import it from here): makes the
// "webgpu" device available through @gpt/tensor/webgpu-node, or skips the calling test when there
// is no adapter, except under GPT_REQUIRE_WEBGPU=1 (CI), where a missing adapter fails it instead.

import { memory } from '@gpt/tensor';
import type { TestContext } from 'vitest';

/** The device name needWebGPU(context, true) registers. */
export const GPU_KERNELS_DEVICE = 'webgpu-gpu-kernels';

/**
 * Registers the "webgpu" device (the kernels the adapter picks) or, with `gpuKernels`, the
 * GPU_KERNELS_DEVICE (the real-GPU kernel set forced on any adapter), unless already there;
 * returns its name.
 */
export async function ensureWebGPUDevice(gpuKernels = false): Promise<string> {
  const { initWebGPU } = await import('@gpt/tensor/webgpu-node');
  const name = gpuKernels ? GPU_KERNELS_DEVICE : 'webgpu';
  if (!(name in memory().devices)) await initWebGPU(gpuKernels ? { name, kernels: 'gpu' } : {});
  return name;
}

async function webgpuReason(): Promise<string | null> {
  try {
    const { probeWebGPU } = await import('@gpt/tensor/webgpu-node');
    const probe = await probeWebGPU();
    return probe.available ? null : probe.reason;
  } catch (error) {
    return `@gpt/tensor/webgpu-node failed to load: ${(error as Error).message}`;
  }
}

/**
 * Makes the "webgpu" device available (or, with `gpuKernels`, a "webgpu-gpu-kernels" device
 * running the real-GPU kernel set on whatever adapter there is), or skips/fails as above.
 */
export async function needWebGPU(context: TestContext, gpuKernels = false): Promise<void> {
  const reason = await webgpuReason();
  if (reason !== null) {
    if (process.env.GPT_REQUIRE_WEBGPU === '1') throw new Error(`GPT_REQUIRE_WEBGPU=1 but WebGPU is unavailable: ${reason}`);
    context.skip(`no WebGPU adapter: ${reason}`);
  }
  await ensureWebGPUDevice(gpuKernels);
}
