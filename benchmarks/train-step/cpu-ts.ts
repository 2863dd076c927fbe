// The CPU backend with its plain-TypeScript kernels only.
import { setCpuKernels, setDefaultDevice } from '@gpt/tensor';
import type { TrainStepImpl } from '../train-step.js';
import { forwardStep, trainStep } from './model/gpt-train-step.js';

const impl: TrainStepImpl = {
  name: 'cpu-ts',
  async setup() {
    setDefaultDevice('cpu');
    setCpuKernels('ts');
    return null;
  },
  prepare: async (config) => trainStep(config),
  prepareForward: async (config) => forwardStep(config),
  async teardown() {
    setCpuKernels('auto');
  },
};
export default impl;
