// Starts WASM kernel instances with and without a worker pool for the tests, and
// waits for the workers (they start asynchronously, in ~0.1-0.5 s).

import { ThreadPool } from '../../src/wasm/thread-pool.js';
import { WasmKernels } from '../../src/wasm/wasm-kernels.js';

export async function startPool(workers: number): Promise<{ kernels: WasmKernels; pool: ThreadPool }> {
  const kernels = WasmKernels.create('shared');
  const pool = new ThreadPool(kernels, workers);
  const deadline = Date.now() + 20_000;
  while (pool.ready < workers) {
    if (Date.now() > deadline) throw new Error(`only ${pool.ready} of ${workers} kernel workers started within 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return { kernels, pool };
}
