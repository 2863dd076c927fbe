// Bind groups made once per (kernel, bound buffers) and reused. Creating one costs
// 12-22 µs in Dawn's Node binding against ~2.5 µs for the rest of a dispatch (measured
// on this project's 2-core machines), and a training step binds the same pooled buffers
// every step: recording a G.pt Cartpole step (592 dispatches) took 30 ms with a new
// group per dispatch and 19 ms with this cache.
// The parameter block is bound with a dynamic offset (its arena slot changes per
// dispatch), so it is not part of the key. A destroyed buffer evicts every group that
// binds it (using one would fail validation at submit).
/// <reference types="@webgpu/types" />

import { bufferId } from './buffer-pool.js';
import type { CachedPipeline } from './pipeline-cache.js';

export interface BufferBinding {
  readonly buffer: GPUBuffer;
  /** Bytes bound, from offset 0. */
  readonly size: number;
}

/** Entries kept at most; past it the cache starts over (a model's working set is far smaller). */
const MAX_ENTRIES = 16384;

export class BindGroupCache {
  private readonly groups = new Map<string, { readonly group: GPUBindGroup; readonly buffers: readonly GPUBuffer[] }>();
  /** The keys that bind each buffer, for eviction when it is destroyed. */
  private readonly keysOf = new Map<GPUBuffer, Set<string>>();

  constructor(
    private readonly device: GPUDevice,
    /** The parameter arena, bound at binding 0 with a dynamic offset. */
    private readonly arena: GPUBuffer,
    private readonly slotBytes: number,
  ) {}

  get size(): number {
    return this.groups.size;
  }

  get(entry: CachedPipeline, key: string, buffers: readonly BufferBinding[], label: string): GPUBindGroup {
    let id = key;
    for (const b of buffers) id += `|${bufferId(b.buffer)}:${b.size}`;
    const cached = this.groups.get(id);
    if (cached) return cached.group;
    if (this.groups.size >= MAX_ENTRIES) this.clear();
    const group = this.device.createBindGroup({
      label,
      layout: entry.layout,
      entries: [
        { binding: 0, resource: { buffer: this.arena, offset: 0, size: this.slotBytes } },
        ...buffers.map((b, i) => ({ binding: i + 1, resource: { buffer: b.buffer, offset: 0, size: b.size } })),
      ],
    });
    const bound = buffers.map((b) => b.buffer);
    this.groups.set(id, { group, buffers: bound });
    for (const buffer of bound) {
      const keys = this.keysOf.get(buffer);
      if (keys) keys.add(id);
      else this.keysOf.set(buffer, new Set([id]));
    }
    return group;
  }

  /** Forgets the groups binding `buffer` (call before destroying it). */
  evict(buffer: GPUBuffer): void {
    const keys = this.keysOf.get(buffer);
    if (!keys) return;
    this.keysOf.delete(buffer);
    for (const key of keys) {
      // The group's other buffers stop listing it too, so long-lived buffers' lists stay short.
      for (const other of this.groups.get(key)?.buffers ?? []) this.keysOf.get(other)?.delete(key);
      this.groups.delete(key);
    }
  }

  clear(): void {
    this.groups.clear();
    this.keysOf.clear();
  }
}
