// Every WGSL kernel variant the backend can build compiles and validates against its
// bind-group layout. Dawn's null backend ("backend=null") runs the full WGSL
// front end and pipeline validation without a GPU or driver, so this runs wherever
// the webgpu package loads; a deliberately broken shader shows the check can fail.
/// <reference types="@webgpu/types" />

import { dawnEntryPoint } from '@gpt/tensor/webgpu-node';
import { describe, expect, it } from 'vitest';
import { allKernelSpecs } from '../../src/webgpu/kernels/all-kernels.js';
import type { KernelSpec } from '../../src/webgpu/kernels/kernel.js';

const entry = await dawnEntryPoint(['backend=null']);
const unavailable = 'reason' in entry ? entry.reason : null;

async function nullDevice(): Promise<GPUDevice> {
  if ('reason' in entry) throw new Error(entry.reason);
  const adapter = (await entry.requestAdapter()) as GPUAdapter | null;
  if (!adapter) throw new Error("Dawn's null backend offered no adapter");
  return adapter.requestDevice();
}

/** Compiles `spec` as the backend does; resolves to the error messages (none when valid). */
async function compileErrors(device: GPUDevice, spec: KernelSpec): Promise<string[]> {
  device.pushErrorScope('validation');
  const layout = device.createBindGroupLayout({
    entries: [
      { binding: 0, visibility: 4, buffer: { type: 'uniform' } },
      ...spec.storage.map((access, i) => ({
        binding: i + 1,
        visibility: 4,
        buffer: { type: access === 'read' ? ('read-only-storage' as const) : ('storage' as const) },
      })),
    ],
  });
  const module = device.createShaderModule({ code: spec.code, label: spec.key });
  device.createComputePipeline({
    layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
    compute: { module, entryPoint: 'main' },
  });
  const info = await module.getCompilationInfo();
  const scopeError = await device.popErrorScope();
  const messages = info.messages.filter((m) => m.type === 'error').map((m) => `${m.lineNum}:${m.linePos} ${m.message}`);
  if (scopeError) messages.push(scopeError.message);
  return messages;
}

describe('WGSL kernels (Dawn null backend)', () => {
  it.skipIf(unavailable !== null && process.env.GPT_REQUIRE_WEBGPU !== '1')('every kernel variant compiles', async () => {
    const device = await nullDevice();
    const specs = allKernelSpecs();
    expect(new Set(specs.map((s) => s.key)).size, 'kernel keys are unique').toBe(specs.length);
    // Every op family is represented (a kernel missing from all-kernels.ts would go unchecked).
    for (const prefix of ['elementwise:', 'cast:', 'fill', 'copy:', 'gather', 'scatterAdd:', 'reduce:', 'argmax:', 'argmin:', 'softmax:', 'logSoftmax:', 'layerNorm:', 'matmul', 'conv2d', 'conv2dBackpropInput', 'conv2dBackpropFilter', 'avgPool2d', 'avgPool2dBackprop', 'random:uniform', 'random:normal']) {
      expect(specs.some((s) => s.key.startsWith(prefix)), `a kernel starting with "${prefix}"`).toBe(true);
    }
    const failures: string[] = [];
    for (const spec of specs) {
      const errors = await compileErrors(device, spec);
      if (errors.length > 0) failures.push(`${spec.key}: ${errors.join(' | ')}`);
    }
    expect(failures).toEqual([]);
    device.destroy();
  });

  it.skipIf(unavailable !== null && process.env.GPT_REQUIRE_WEBGPU !== '1')('reports a broken shader (the check can fail)', async () => {
    const device = await nullDevice();
    const broken: KernelSpec = {
      key: 'broken',
      storage: ['read_write'],
      code: '@group(0) @binding(0) var<uniform> P: vec4<u32>;\n@group(0) @binding(1) var<storage, read_write> out: array<f32>;\n@compute @workgroup_size(64) fn main() { out[0] = undefined_name; }',
    };
    expect((await compileErrors(device, broken)).join('\n')).toMatch(/undefined_name/);
    device.destroy();
  });
});
