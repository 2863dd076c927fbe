// gpu.js (2.24.1, the design card's peer library) as matmul columns: one square
// product per call of a gpu.js kernel in a given mode. Not a backend of ours; it is
// here to put @gpt/tensor's numbers next to a widely used JS GPU library on the same
// machine. Its headless-gl mode needs a native build and a display, so it is absent.

import type { MatmulImpl } from '../matmul.js';

interface GpuJsKernel {
  (a: unknown, b: unknown): unknown;
  setOutput(output: number[]): GpuJsKernel;
  setConstants(constants: Record<string, number>): GpuJsKernel;
  setAsyncMode?(on: boolean): GpuJsKernel;
}
interface GpuJsInstance {
  createKernel(fn: (this: { thread: { x: number; y: number }; constants: { size: number } }, a: number[][], b: number[][]) => number): GpuJsKernel;
  destroy(): void;
}
interface GpuJsModule {
  GPU: (new (settings: { mode: string }) => GpuJsInstance) & { isWebAssemblySupported: boolean };
  input(values: Float32Array, size: number[]): unknown;
}

async function loadGpuJs(): Promise<GpuJsModule | string> {
  try {
    const mod = (await import('gpu.js')) as unknown as GpuJsModule & { default?: GpuJsModule };
    return mod.default ?? mod;
  } catch (error) {
    return `gpu.js could not be loaded: ${(error as Error).message}`;
  }
}

function randomMatrix(n: number, seed: number): Float32Array {
  const out = new Float32Array(n * n);
  let s = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

export interface GpuJsColumnOptions {
  /** Column name, e.g. "gpujs-cpu". */
  name: string;
  /** gpu.js mode: "cpu", "webasm" or "webgpu". */
  mode: string;
  /** Run kernels under gpu.js's async contract (webasm then splits work over worker threads). */
  asyncMode?: boolean;
  /** Returns null when the mode can run here, else why not (called after gpu.js loaded). */
  prepare?: (gpujs: GpuJsModule) => Promise<string | null>;
}

export function gpuJsColumn(options: GpuJsColumnOptions): MatmulImpl {
  let gpujs: GpuJsModule | null = null;
  let instance: GpuJsInstance | null = null;
  return {
    name: options.name,
    async setup() {
      const loaded = await loadGpuJs();
      if (typeof loaded === 'string') return loaded;
      gpujs = loaded;
      const reason = (await options.prepare?.(loaded)) ?? null;
      if (reason) return reason;
      instance = new loaded.GPU({ mode: options.mode });
      return null;
    },
    async prepareMatmul(m, n, k) {
      if (m !== n || n !== k) throw new Error('gpu.js columns time square products only');
      let kernel = instance!
        .createKernel(function (a, b) {
          let sum = 0;
          for (let i = 0; i < this.constants.size; i++) sum += a[this.thread.y]![i]! * b[i]![this.thread.x]!;
          return sum;
        })
        .setOutput([n, n])
        .setConstants({ size: n });
      if (options.asyncMode) kernel = kernel.setAsyncMode!(true);
      const a = gpujs!.input(randomMatrix(n, 1), [n, n]);
      const b = gpujs!.input(randomMatrix(n, 2), [n, n]);
      // Results come back as arrays of rows (a readback, on the GPU modes).
      return async () => {
        await kernel(a, b);
      };
    },
    async teardown() {
      instance?.destroy();
    },
  };
}
