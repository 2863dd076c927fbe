// The line a command prints before its work, saying where it runs: the default device and
// which CPU kernels are in use. Without it a run on the slow TypeScript kernels (WASM not
// built, or not loadable here) looks like a slow machine.

import { cpuKernelsStatus, getDefaultDevice } from '@gpt/tensor';

/** e.g. "device cpu; CPU kernels auto: WASM SIMD yes, 2 threads" (with the reason whenever something is off). */
export function describeRuntime(): string {
  const status = cpuKernelsStatus();
  const wasm = status.wasm ? 'WASM SIMD yes' : `WASM SIMD no (${status.wasmReason})`;
  const threads =
    status.threadsReason === null || !status.wasm
      ? `${status.threads} thread${status.threads === 1 ? '' : 's'}`
      : `1 thread (${status.threadsReason})`;
  return `device ${getDefaultDevice()}; CPU kernels ${status.mode}: ${wasm}, ${threads}`;
}
