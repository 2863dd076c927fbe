// Finding a WebGPU adapter and device, and registering the backend. Browser-safe:
// the GPU entry point is `navigator.gpu` unless the caller passes one (the Node
// entry, webgpu-node.ts, passes Dawn's). Probing never throws: it reports why no
// adapter could be used, in words a user can act on.
/// <reference types="@webgpu/types" />

// Through the main entry, so the library's modules initialize in their usual order.
import { registerBackend, setDefaultDevice } from '../index.js';
import { WebGPUBackend, type WebGPUBackendOptions } from './webgpu-backend.js';

/** The part of the WebGPU API's `GPU` object used here (`navigator.gpu` or Dawn's). */
export interface GpuEntryPoint {
  requestAdapter(options?: { powerPreference?: 'low-power' | 'high-performance' }): Promise<unknown>;
}

export interface WebGPUInitOptions extends WebGPUBackendOptions {
  /** The GPU entry point; defaults to `navigator.gpu`. */
  gpu?: GpuEntryPoint;
  powerPreference?: 'low-power' | 'high-performance';
  /** Also make this backend the default device for new tensors (default false). */
  setDefault?: boolean;
}

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** Whether the browser/driver reports a fallback (software) adapter. */
  isFallbackAdapter: boolean;
}

export type WebGPUProbe = { available: true; adapter: AdapterSummary } | { available: false; reason: string };

function navigatorGpu(): GpuEntryPoint | undefined {
  const nav = (globalThis as { navigator?: { gpu?: GpuEntryPoint } }).navigator;
  return nav?.gpu;
}

function summarize(adapter: GPUAdapter): AdapterSummary {
  const info = adapter.info as GPUAdapterInfo | undefined;
  const fallback = (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    isFallbackAdapter: fallback,
  };
}

/** A one-line name for an adapter, e.g. "mesa / llvmpipe (LLVM ...)". */
export function adapterLabel(a: AdapterSummary): string {
  const parts = [a.vendor, a.architecture, a.device || a.description].filter((p) => p !== '');
  return parts.length > 0 ? parts.join(' / ') : 'unnamed adapter';
}

/**
 * Whether the adapter runs on the CPU (llvmpipe/lavapipe, SwiftShader, a fallback adapter):
 * initWebGPU then picks the 'software' kernels, because workgroup barriers and scattered
 * loads are expensive on a CPU (the fused attention kernel measured 2-6x slower there than
 * the composite, and tiled matmuls slower than the barrier-free ones).
 */
export function isSoftwareAdapter(a: AdapterSummary): boolean {
  return a.isFallbackAdapter || /llvmpipe|lavapipe|swiftshader/i.test(adapterLabel(a));
}

type AdapterResult = { adapter: GPUAdapter } | { reason: string };

async function findAdapter(options: WebGPUInitOptions): Promise<AdapterResult> {
  const gpu = options.gpu ?? navigatorGpu();
  if (!gpu) {
    return {
      reason:
        'WebGPU is not available here: there is no navigator.gpu (in Node, use @gpt/tensor/webgpu-node, which needs the optional "webgpu" package)',
    };
  }
  let adapter: GPUAdapter | null;
  try {
    const request = options.powerPreference ? { powerPreference: options.powerPreference } : undefined;
    adapter = (await gpu.requestAdapter(request)) as GPUAdapter | null;
  } catch (error) {
    return { reason: `requestAdapter() failed: ${(error as Error).message ?? String(error)}` };
  }
  if (!adapter) {
    return {
      reason:
        'no WebGPU adapter was found: the GPU driver offers none (no GPU, a blocklisted driver, or on Linux no Vulkan driver: ' +
        'install one, e.g. Mesa\'s lavapipe "mesa-vulkan-drivers" >= 23 for a software GPU)',
    };
  }
  return { adapter };
}

/** Reports whether a WebGPU adapter is usable, and if not, why. Never throws. */
export async function probeWebGPU(options: WebGPUInitOptions = {}): Promise<WebGPUProbe> {
  try {
    const found = await findAdapter(options);
    if ('reason' in found) return { available: false, reason: found.reason };
    return { available: true, adapter: summarize(found.adapter) };
  } catch (error) {
    return { available: false, reason: `probing WebGPU failed: ${(error as Error).message ?? String(error)}` };
  }
}

/**
 * Creates a WebGPU device on the best adapter, registers it as a backend (name
 * "webgpu" unless given) and returns it. Throws an error saying why when no adapter
 * or device is available. The device gets the adapter's own storage-buffer limits, so
 * the largest tensors the hardware allows fit.
 */
export async function initWebGPU(options: WebGPUInitOptions = {}): Promise<WebGPUBackend> {
  const found = await findAdapter(options);
  if ('reason' in found) throw new Error(`initWebGPU: ${found.reason}`);
  const { adapter } = found;
  const limits = adapter.limits;
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      label: 'gpt',
      requiredLimits: {
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
        maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
        maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
        // Fused attention keeps an item's scores (and their gradient) in workgroup memory.
        maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      },
    });
  } catch (error) {
    throw new Error(`initWebGPU: requestDevice() failed on ${adapterLabel(summarize(adapter))}: ${(error as Error).message ?? String(error)}`);
  }
  const summary = summarize(adapter);
  const backend = new WebGPUBackend(device, {
    ...options,
    adapterDescription: options.adapterDescription ?? adapterLabel(summary),
    kernels: options.kernels ?? (isSoftwareAdapter(summary) ? 'software' : 'gpu'),
  });
  registerBackend(backend);
  if (options.setDefault) setDefaultDevice(backend.name);
  return backend;
}
