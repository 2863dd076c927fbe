// Pools GPU buffers by size class. Sizes round up to a class (multiples of 256 bytes
// up to 4 KiB, then 8 classes per power of two, so at most 12.5% is wasted) and a
// released buffer waits in its class's free list for the next request of that class;
// the oldest free buffer is handed out first.
// The pool never decides when a buffer is safe to reuse: callers release a buffer
// only once the GPU queue has finished every command that uses it.
/// <reference types="@webgpu/types" />

export interface PooledBuffer {
  readonly buffer: GPUBuffer;
  /** The buffer's real size (its size class). */
  readonly capacity: number;
}

/** The size class `bytes` rounds up to. */
export function sizeClass(bytes: number): number {
  const b = Math.max(bytes, 256);
  if (b <= 4096) return Math.ceil(b / 256) * 256;
  const step = 2 ** (Math.floor(Math.log2(b)) - 3);
  return Math.ceil(b / step) * step;
}

const ids = new WeakMap<GPUBuffer, number>();
let nextId = 0;

/** A number for each buffer, given at its first request (the pool asks right after creating one). */
export function bufferId(buffer: GPUBuffer): number {
  let id = ids.get(buffer);
  if (id === undefined) {
    id = nextId++;
    ids.set(buffer, id);
  }
  return id;
}

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private pooledCount = 0;
  private pooledBytes = 0;
  private allocatedCount = 0;
  private allocatedBytes = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: number,
    private readonly label: string,
    /** Bytes kept for reuse at most (asked at each release); buffers released beyond it are destroyed. */
    private readonly maxPooledBytes: number | (() => number),
    /** Told of each buffer just before the pool destroys it (cached bind groups that bind it must go). */
    private readonly onDestroy: (buffer: GPUBuffer) => void = () => {},
  ) {}

  acquire(bytes: number): PooledBuffer {
    const capacity = sizeClass(bytes);
    const list = this.free.get(capacity);
    const reused = list?.pop();
    if (reused) {
      this.pooledCount--;
      this.pooledBytes -= capacity;
      return { buffer: reused, capacity };
    }
    const buffer = this.device.createBuffer({ size: capacity, usage: this.usage, label: `${this.label} ${capacity}` });
    bufferId(buffer); // numbered at creation: the pool's order is creation order
    this.allocatedCount++;
    this.allocatedBytes += capacity;
    return { buffer, capacity };
  }

  /** Takes back a buffer the GPU no longer uses. */
  release(entry: PooledBuffer): void {
    const limit = typeof this.maxPooledBytes === 'number' ? this.maxPooledBytes : this.maxPooledBytes();
    if (this.pooledBytes + entry.capacity > limit) {
      this.destroy(entry);
      return;
    }
    let list = this.free.get(entry.capacity);
    if (!list) {
      list = [];
      this.free.set(entry.capacity, list);
    }
    // Sorted by creation, oldest last: acquire() hands out the oldest free buffer, so a loop
    // that makes the same requests every step gets the same buffers every step (and the
    // bind groups cached for them), whatever order the last step freed them in.
    const id = bufferId(entry.buffer);
    let at = list.length;
    while (at > 0 && bufferId(list[at - 1]!) < id) at--;
    list.splice(at, 0, entry.buffer);
    this.pooledCount++;
    this.pooledBytes += entry.capacity;
  }

  private destroy(entry: PooledBuffer): void {
    this.onDestroy(entry.buffer);
    entry.buffer.destroy();
    this.allocatedCount--;
    this.allocatedBytes -= entry.capacity;
  }

  /** Destroys every pooled buffer (the GPU memory goes back to the driver). */
  trim(): void {
    for (const [capacity, list] of this.free) {
      for (const buffer of list) this.destroy({ buffer, capacity });
    }
    this.free.clear();
    this.pooledCount = 0;
    this.pooledBytes = 0;
  }

  stats(): { pooledBuffers: number; pooledBytes: number; allocatedBuffers: number; allocatedBytes: number } {
    return {
      pooledBuffers: this.pooledCount,
      pooledBytes: this.pooledBytes,
      allocatedBuffers: this.allocatedCount,
      allocatedBytes: this.allocatedBytes,
    };
  }
}
