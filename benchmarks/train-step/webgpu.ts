// The WebGPU backend of @gpt/tensor through Dawn: the same model and step as the CPU
// columns, built on the "webgpu" device, with attention as the backend picks it and with the
// fused attention kernel forced. On this project's machines the adapter is
// Mesa's llvmpipe (a software GPU on the CPU cores), so the number shows what the
// backend costs there, not what a GPU would do.
import { getDefaultDevice, setDefaultDevice } from '@gpt/tensor';
import { initWebGPU, probeWebGPU, type WebGPUBackend } from '@gpt/tensor/webgpu-node';
import type { TrainStepImpl } from '../train-step.js';
import { forwardStep, trainStep } from './model/gpt-train-step.js';

let gpu: WebGPUBackend | null = null;
let previousDevice = 'cpu';

/**
 * `webgpu` runs attention as the backend picks it (the fused kernel on hardware GPUs, the
 * composite on software adapters such as llvmpipe); `webgpu-fused-attn` forces the fused kernel.
 */
function column(name: string, fusedAttention: boolean | 'auto'): TrainStepImpl {
  let previousFused = true;
  return {
    name,
    async setup() {
      const probe = await probeWebGPU();
      if (!probe.available) return probe.reason;
      gpu ??= await initWebGPU();
      console.error(`${name} column: ${gpu.describe()}, fused attention ${fusedAttention === 'auto' ? gpu.fusedAttention : fusedAttention}`);
      previousDevice = getDefaultDevice();
      previousFused = gpu.fusedAttention;
      if (fusedAttention !== 'auto') gpu.fusedAttention = fusedAttention;
      setDefaultDevice('webgpu');
      return null;
    },
    prepare: async (config) => trainStep(config),
    prepareForward: async (config) => forwardStep(config),
    async teardown() {
      gpu!.fusedAttention = previousFused;
      setDefaultDevice(previousDevice);
    },
  };
}

export default [column('webgpu', 'auto'), column('webgpu-fused-attn', true)];
