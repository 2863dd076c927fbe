// The CPU backend's WASM SIMD kernels on one thread and split over the worker pool.
import { cpuKernelsStatus, cpuThreadsReady, matmul, randn, setCpuKernels, setDefaultDevice, tidy, type CpuKernelMode } from '@gpt/tensor';
import { cpuWorkloads } from '../helpers/cpu-column.js';
import type { MatmulImpl } from '../matmul.js';

function column(name: string, mode: CpuKernelMode): MatmulImpl {
  return {
    name,
    async setup() {
      const status = cpuKernelsStatus();
      if (!status.wasm) return status.wasmReason;
      if (mode === 'wasm-threads' && status.threadsReason) return status.threadsReason;
      setDefaultDevice('cpu');
      setCpuKernels(mode);
      if (mode === 'wasm-threads') await cpuThreadsReady();
      // V8 first runs WASM functions with its baseline compiler and swaps in optimized
      // code after some calls: warm up so the first size timed is not the baseline's.
      const a = randn([128, 128], { seed: 5 });
      for (let i = 0; i < 30; i++) tidy(() => void matmul(a, a));
      a.dispose();
      return null;
    },
    ...cpuWorkloads,
    async teardown() {
      setCpuKernels('auto');
    },
  };
}

export default [column('cpu-wasm-1t', 'wasm'), column('cpu-wasm-mt', 'wasm-threads')];
