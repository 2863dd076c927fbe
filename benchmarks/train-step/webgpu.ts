// The WebGPU backend of @gpt/tensor through Dawn: the same model and step as the CPU
// columns, built on the "webgpu" device. On this project's machines the adapter is
// Mesa's llvmpipe (a software GPU on the CPU cores), so the number shows what the
// backend costs there, not what a GPU would do.
import { getDefaultDevice, setDefaultDevice } from '@gpt/tensor';
import { initWebGPU, probeWebGPU, type WebGPUBackend } from '@gpt/tensor/webgpu-node';
import type { TrainStepImpl } from '../train-step.js';
import { forwardStep, trainStep } from './model/gpt-train-step.js';

let gpu: WebGPUBackend | null = null;
let previousDevice = 'cpu';

const impl: TrainStepImpl = {
  name: 'webgpu',
  async setup() {
    const probe = await probeWebGPU();
    if (!probe.available) return probe.reason;
    gpu ??= await initWebGPU();
    console.error(`webgpu column: ${gpu.describe()}`);
    previousDevice = getDefaultDevice();
    setDefaultDevice('webgpu');
    return null;
  },
  prepare: async (config) => trainStep(config),
  prepareForward: async (config) => forwardStep(config),
  async teardown() {
    setDefaultDevice(previousDevice);
  },
};
export default impl;
