// @gpt/tensor/webgpu-node: the WebGPU backend in Node, through Dawn (the optional
// "webgpu" package, loaded on first use so importing this entry never fails).
//
//   const probe = await probeWebGPU();  // { available: false, reason } without a driver
//   await initWebGPU({ setDefault: true });

import {
  initWebGPU as initWithEntryPoint,
  probeWebGPU as probeWithEntryPoint,
  type GpuEntryPoint,
  type WebGPUInitOptions,
  type WebGPUProbe,
} from './webgpu/webgpu-init.js';
import type { WebGPUBackend } from './webgpu/webgpu-backend.js';

export { adapterLabel, isSoftwareAdapter, type WebGPUProbe, type AdapterSummary, type GpuEntryPoint } from './webgpu/webgpu-init.js';
export { WebGPUBackend, type WebGPUBackendOptions, type WebGPUStats, type GpuTensorBuffer, type KernelProfile } from './webgpu/webgpu-backend.js';

export interface NodeWebGPUOptions extends Omit<WebGPUInitOptions, 'gpu'> {
  /**
   * Dawn options passed to the webgpu package's create(), e.g. ["backend=vulkan"] or
   * ["backend=null"] (validates and compiles shaders without running them).
   */
  dawnOptions?: string[];
}

interface DawnModule {
  create(options: string[]): GpuEntryPoint;
}

const entryPoints = new Map<string, GpuEntryPoint>();

/** Dawn's GPU entry point for `options` (created once per option set), or why not. */
export async function dawnEntryPoint(options: readonly string[] = []): Promise<GpuEntryPoint | { reason: string }> {
  const key = options.join('\n');
  const cached = entryPoints.get(key);
  if (cached) return cached;
  let dawn: DawnModule;
  try {
    // A variable specifier keeps bundlers from pulling the native addon into builds.
    const specifier = 'webgpu';
    dawn = (await import(/* @vite-ignore */ specifier)) as DawnModule;
  } catch (error) {
    return {
      reason: `the optional "webgpu" package (Dawn for Node) could not be loaded: ${(error as Error).message ?? String(error)}. Install it with: npm install webgpu@0.6.2`,
    };
  }
  try {
    const gpu = dawn.create([...options]);
    entryPoints.set(key, gpu);
    return gpu;
  } catch (error) {
    return { reason: `Dawn's create(${JSON.stringify(options)}) failed: ${(error as Error).message ?? String(error)}` };
  }
}

/** Reports whether Dawn finds a usable adapter here, and if not, why. Never throws. */
export async function probeWebGPU(options: NodeWebGPUOptions = {}): Promise<WebGPUProbe> {
  const gpu = await dawnEntryPoint(options.dawnOptions);
  if ('reason' in gpu) return { available: false, reason: gpu.reason };
  return probeWithEntryPoint({ ...options, gpu });
}

/** Creates a Dawn device, registers it as a backend ("webgpu" unless named) and returns it. */
export async function initWebGPU(options: NodeWebGPUOptions = {}): Promise<WebGPUBackend> {
  const gpu = await dawnEntryPoint(options.dawnOptions);
  if ('reason' in gpu) throw new Error(`initWebGPU: ${gpu.reason}`);
  return initWithEntryPoint({ ...options, gpu });
}
