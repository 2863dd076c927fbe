// What a WebGPU kernel is to the backend: a WGSL program identified by a key that
// names everything that changes its source, plus how a call dispatches it. Kernel
// functions receive a context to allocate outputs and record dispatches; the
// backend behind it owns devices, pools and command encoders.
/// <reference types="@webgpu/types" />

import type { TensorInfo } from '../../backend.js';
import type { TensorMeta } from '../../ops.js';
import { PARAM_WORDS } from './wgsl.js';

/** A tensor's data on the GPU: a (possibly larger, pooled) buffer and the bytes in use. */
export interface GpuTensorBuffer {
  /** The GPUBuffer, typed as `object` so this package's declarations need no WebGPU types (see gpuBuffer). */
  readonly buffer: object;
  /** Bytes bound to kernels: 4 per element (bool is stored as u32), at least 16. */
  readonly bytes: number;
  /** Size class the buffer came from (its real size), used to return it to the pool. */
  readonly capacity: number;
}

/** The GPUBuffer behind a tensor buffer. */
export function gpuBuffer(b: GpuTensorBuffer): GPUBuffer {
  return b.buffer as GPUBuffer;
}

export type StorageAccess = 'read' | 'read_write';

/** One compiled-once WGSL program. Binding 0 is always the parameter block. */
export interface KernelSpec {
  /** Cache key: the kernel name plus every choice that changes the source (dtypes, modes). */
  readonly key: string;
  readonly code: string;
  /** Access of the storage buffers at bindings 1..n, in order. */
  readonly storage: readonly StorageAccess[];
}

const specs = new Map<string, KernelSpec>();

/** Builds a spec once per key (kernel sources are pure functions of the key). */
export function kernelSpec(key: string, build: () => Omit<KernelSpec, 'key'>): KernelSpec {
  let spec = specs.get(key);
  if (!spec) {
    spec = { key, ...build() };
    specs.set(key, spec);
  }
  return spec;
}

/** The parameter block of one dispatch: 64 words written by offset, read in WGSL with pu/pi/pf. */
export class Params {
  readonly words = new Uint32Array(PARAM_WORDS);
  private readonly floats = new Float32Array(this.words.buffer);
  private readonly ints = new Int32Array(this.words.buffer);

  u32(at: number, value: number): this {
    this.words[at] = value >>> 0;
    return this;
  }
  i32(at: number, value: number): this {
    this.ints[at] = value;
    return this;
  }
  f32(at: number, value: number): this {
    this.floats[at] = value;
    return this;
  }
  /** Writes consecutive u32 values starting at `at`. */
  u32s(at: number, values: readonly number[]): this {
    values.forEach((v, i) => this.u32(at + i, v));
    return this;
  }
}

export type Grid = readonly [number, number, number];

/**
 * Which kernel variants a backend runs. 'software' for adapters that run on the CPU
 * (llvmpipe/lavapipe, SwiftShader): barrier-free, register-blocked kernels with one
 * invocation per short row, because workgroup barriers cost more there than the reloads
 * they save. 'gpu' for real GPUs: matmuls tiled through workgroup memory, a workgroup
 * per row for row kernels, fused attention. Either runs on any adapter (tests force
 * 'gpu' on lavapipe); only the speed differs.
 */
export type KernelProfile = 'software' | 'gpu';

/** The 'gpu' profile's matmul tile: 64 x 64 or 128 x 128 of C per workgroup, or 'auto' (by the product's size, see matmul.ts). */
export type MatmulTile = 'auto' | 64 | 128;

/** What kernels may do: allocate outputs and record dispatches. */
export interface KernelContext {
  /** A fresh output buffer for a tensor of `meta` (checked against the adapter's limits). */
  allocate(op: string, meta: TensorMeta): GpuTensorBuffer;
  /** Frees a buffer from `allocate` that no output keeps (a temporary); safe right after the dispatches that use it are recorded. */
  release(buffer: GpuTensorBuffer): void;
  /** Records one dispatch of `spec` with `params`, binding `buffers` at 1..n in order. */
  dispatch(op: string, spec: KernelSpec, params: Params, buffers: readonly GpuTensorBuffer[], grid: Grid): void;
  /** A grid with one invocation per item (WORKGROUP_SIZE per group), split over y past the per-dimension limit. */
  grid(op: string, items: number, perGroup?: number): Grid;
  /** The adapter's maxComputeWorkgroupsPerDimension. */
  readonly maxWorkgroupsPerDimension: number;
  /** The device's maxComputeWorkgroupStorageSize in bytes (at least 16 KiB by the WebGPU spec). */
  readonly maxWorkgroupStorageBytes: number;
  /** The kernel variants to choose (see KernelProfile). */
  readonly profile: KernelProfile;
  /** The tiled matmul's tile under the 'gpu' profile (see MatmulTile). */
  readonly matmulTile: MatmulTile;
  /** The error-flag buffer bound by kernels that validate data (gather, scatterAdd). */
  readonly status: GpuTensorBuffer;
}

export type GpuInfo = TensorInfo<GpuTensorBuffer>;

/** A kernel implementation: inputs on the GPU in, a new output buffer out. */
export type GpuKernel<A> = (ctx: KernelContext, inputs: readonly GpuInfo[], attrs: A, out: TensorMeta) => GpuTensorBuffer;
