// The matmul/conv2d workloads of a CPU column: the same seeded inputs and calls for
// every CPU kernel mode, so columns differ only in the mode they select.
import { conv2d, matmul, randn, tidy } from '@gpt/tensor';
import type { MatmulImpl } from '../matmul.js';

export const cpuWorkloads: Pick<MatmulImpl, 'prepareMatmul' | 'prepareConv2d'> = {
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
};
