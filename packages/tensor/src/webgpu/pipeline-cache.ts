// Compute pipelines cached by kernel key: the key names everything that changes the
// WGSL source (kernel, dtypes, read modes), never a shape, so a model compiles each
// pipeline once however its shapes vary. Compilation errors are caught in an error
// scope and reported through `onError` with the kernel's key.
/// <reference types="@webgpu/types" />

import type { KernelSpec } from './kernels/kernel.js';
import { SHADER_STAGE_COMPUTE } from './gpu-constants.js';

export interface CachedPipeline {
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
}

export class PipelineCache {
  private readonly pipelines = new Map<string, CachedPipeline>();
  /** Milliseconds spent in createShaderModule + createComputePipeline, summed. */
  compileMs = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly onError: (message: string) => void,
  ) {}

  get size(): number {
    return this.pipelines.size;
  }

  get(spec: KernelSpec): CachedPipeline {
    const cached = this.pipelines.get(spec.key);
    if (cached) return cached;
    const started = performance.now();
    const device = this.device;
    device.pushErrorScope('validation');
    const layout = device.createBindGroupLayout({
      label: spec.key,
      entries: [
        // Dynamic: the dispatch's arena slot is an offset given at setBindGroup, so one bind group serves every slot.
        { binding: 0, visibility: SHADER_STAGE_COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } },
        ...spec.storage.map((access, i) => ({
          binding: i + 1,
          visibility: SHADER_STAGE_COMPUTE,
          buffer: { type: access === 'read' ? ('read-only-storage' as const) : ('storage' as const) },
        })),
      ],
    });
    const module = device.createShaderModule({ label: spec.key, code: spec.code });
    const pipeline = device.createComputePipeline({
      label: spec.key,
      layout: device.createPipelineLayout({ label: spec.key, bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    });
    device.popErrorScope().then(
      (error) => {
        if (error) this.onError(`kernel "${spec.key}" failed to compile: ${error.message}`);
      },
      // Rejects only when the device is gone, which the backend reports by itself.
      () => {},
    );
    this.compileMs += performance.now() - started;
    const entry = { pipeline, layout };
    this.pipelines.set(spec.key, entry);
    return entry;
  }
}
