// The plain-TypeScript CPU kernels of @gpt/tensor.
import { conv2d, matmul, randn, setCpuKernels, setDefaultDevice, tidy } from '@gpt/tensor';
import type { MatmulImpl } from '../matmul.js';

const impl: MatmulImpl = {
  name: 'cpu-ts',
  async setup() {
    setDefaultDevice('cpu');
    // The default ('auto') would route large products to the WASM kernels.
    setCpuKernels('ts');
    return null;
  },
  async prepareMatmul(m, n, k) {
    const a = randn([m, k], { seed: 1 });
    const b = randn([k, n], { seed: 2 });
    return () => tidy(() => void matmul(a, b));
  },
  async prepareConv2d({ n, c, h, w, o }) {
    const x = randn([n, c, h, w], { seed: 3 });
    const f = randn([o, c, 3, 3], { seed: 4 });
    return () => tidy(() => void conv2d(x, f, null, { stride: 2, padding: 1 }));
  },
  async teardown() {
    setCpuKernels('auto');
  },
};
export default impl;
