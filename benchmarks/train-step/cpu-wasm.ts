// The CPU backend with WASM SIMD kernels: on one thread ('wasm'), and as it runs by
// default ('auto': each call picks TypeScript, WASM or WASM on all cores by size).
import { cpuKernelsStatus, cpuThreadsReady, setCpuKernels, setDefaultDevice, type CpuKernelMode } from '@gpt/tensor';
import type { TrainStepImpl } from '../train-step.js';
import { forwardStep, trainStep } from './model/gpt-train-step.js';

function column(name: string, mode: CpuKernelMode): TrainStepImpl {
  return {
    name,
    async setup() {
      const status = cpuKernelsStatus();
      if (!status.wasm) return status.wasmReason;
      setDefaultDevice('cpu');
      setCpuKernels(mode);
      if (mode === 'auto') await cpuThreadsReady();
      return null;
    },
    prepare: async (config) => trainStep(config),
    prepareForward: async (config) => forwardStep(config),
    async teardown() {
      setCpuKernels('auto');
    },
  };
}

export default [column('cpu-wasm-1t', 'wasm'), column('cpu-auto', 'auto')];
