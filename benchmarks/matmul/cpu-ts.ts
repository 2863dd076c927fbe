// The plain-TypeScript CPU kernels of @gpt/tensor.
import { setCpuKernels, setDefaultDevice } from '@gpt/tensor';
import { cpuWorkloads } from '../helpers/cpu-column.js';
import type { MatmulImpl } from '../matmul.js';

const impl: MatmulImpl = {
  name: 'cpu-ts',
  async setup() {
    setDefaultDevice('cpu');
    // The default ('auto') would route large products to the WASM kernels.
    setCpuKernels('ts');
    return null;
  },
  ...cpuWorkloads,
  async teardown() {
    setCpuKernels('auto');
  },
};
export default impl;
