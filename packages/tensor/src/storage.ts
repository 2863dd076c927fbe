// Device memory: the registry of backends, the reference-counted buffers (storages)
// that tensor handles view, and the byte counters memory() reports. This layer knows
// nothing of tensors; it constructs no backend (the package entry registers the CPU).

import type { Backend } from './backend.js';
import { bytesPerElement, type TypedArray } from './dtype.js';
import type { TensorMeta } from './ops.js';
import { sizeOf } from './shape.js';

// ---- backends ---------------------------------------------------------------

const backends = new Map<string, Backend>();
let defaultDevice = 'cpu';

export function registerBackend(backend: Backend): void {
  backends.set(backend.name, backend);
}

export function getBackend(device: string = defaultDevice): Backend {
  const backend = backends.get(device);
  if (!backend) {
    throw new Error(`unknown device "${device}": registered devices are ${[...backends.keys()].join(', ') || 'none'}`);
  }
  return backend;
}

/** Devices new tensors land on when none is named ("cpu" until changed). */
export function setDefaultDevice(device: string): void {
  getBackend(device);
  defaultDevice = device;
}

export function getDefaultDevice(): string {
  return defaultDevice;
}

export function removeBackend(name: string): void {
  if (name === 'cpu') throw new Error('removeBackend: the cpu backend cannot be removed');
  backends.delete(name);
  if (defaultDevice === name) defaultDevice = 'cpu';
}

/** Per device: bytes the backend reports and buffers waiting in its pool. */
export function backendMemory(): Record<string, { bytes: number; pooledBuffers: number }> {
  const devices: Record<string, { bytes: number; pooledBuffers: number }> = {};
  for (const [name, b] of backends) devices[name] = { ...b.memory() };
  return devices;
}

// ---- storage ------------------------------------------------------------------

const counters = { buffers: 0, bytes: 0, peakBytes: 0 };

/** A device buffer shared by every tensor handle viewing it (reshape, detach, saved tensors). */
export class Storage {
  refs = 1;
  constructor(
    readonly backend: Backend,
    readonly buffer: unknown,
    readonly bytes: number,
  ) {
    counters.buffers++;
    counters.bytes += bytes;
    if (counters.bytes > counters.peakBytes) counters.peakBytes = counters.bytes;
  }
  retain(): this {
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs > 0) return;
    counters.buffers--;
    counters.bytes -= this.bytes;
    this.backend.free(this.buffer);
  }
}

/** Live buffers, their bytes, and the most bytes live at once since resetPeakMemory(). */
export function storageCounters(): { buffers: number; bytes: number; peakBytes: number } {
  return { ...counters };
}

/** Starts a new peak measurement at the bytes live now (e.g. before one training step). */
export function resetPeakMemory(): void {
  counters.peakBytes = counters.bytes;
}

export function uploadStorage(values: TypedArray, meta: TensorMeta, device?: string): Storage {
  const backend = getBackend(device);
  const buffer = backend.upload(values, meta.dtype);
  return new Storage(backend, buffer, sizeOf(meta.shape) * bytesPerElement(meta.dtype));
}
