// Every live tensor handle, in creation order: what memory() counts, what
// liveTensorsSince(mark) lists when hunting a leak, and what the opt-in leak warning
// watches from one training step (markStep) to the next. The Tensor constructor
// registers a handle and dispose() unregisters it: two Set operations.

import type { DType } from './dtype.js';
import { shapeToString, type Shape } from './shape.js';
import { backendMemory, storageCounters } from './storage.js';

/** What the registry reads of a tensor handle. */
export interface LiveTensor {
  readonly id: number;
  /** The op that produced it ("matmul", "fill", ...) or the creation function ("tensor", "arange", ...). */
  readonly origin: string;
  readonly shape: Shape;
  readonly dtype: DType;
  readonly device: string;
  /** True for the handles the autograd tape keeps for backward. */
  readonly savedForBackward: boolean;
}

const live = new Set<LiveTensor>();
let nextId = 0;

/** Ids grow with creation order, which is what makes a mark a point in time. */
export function nextTensorId(): number {
  return nextId++;
}

export function registerLive(t: LiveTensor): void {
  live.add(t);
}

export function unregisterLive(t: LiveTensor): void {
  live.delete(t);
}

/** Whether `value` is a tensor handle that has not been disposed. */
export function isLiveTensor(value: unknown): boolean {
  return live.has(value as LiveTensor);
}

// ---- memory() -------------------------------------------------------------------

export interface MemoryInfo {
  /** Live tensor handles (including tensors the tape keeps for backward). */
  tensors: number;
  /** Live device buffers (several handles may share one). */
  buffers: number;
  /** Bytes held by live buffers, over all devices. */
  bytes: number;
  /** The most `bytes` live at any moment since resetPeakMemory() (or since the start). */
  peakBytes: number;
  /** Per device: bytes the backend reports and buffers waiting in its pool. */
  devices: Record<string, { bytes: number; pooledBuffers: number }>;
}

export function memory(): MemoryInfo {
  const { buffers, bytes, peakBytes } = storageCounters();
  return { tensors: live.size, buffers, bytes, peakBytes, devices: backendMemory() };
}

// ---- marks: what was created since ------------------------------------------------

/** A point in time; tensors created after it are listed by liveTensorsSince(mark). */
export interface MemoryMark {
  readonly firstTensorId: number;
}

/** One live tensor as liveTensorsSince reports it. */
export interface LiveTensorInfo {
  readonly id: number;
  /** The op that produced it ("matmul", "fill" for zeros/ones/full, ...) or "tensor", "arange", ... */
  readonly op: string;
  readonly shape: Shape;
  readonly dtype: DType;
  readonly device: string;
  /** True for handles the autograd tape keeps for backward (a graph that was never backpropagated or disposed). */
  readonly savedForBackward: boolean;
}

export function memoryMark(): MemoryMark {
  return { firstTensorId: nextId };
}

/** The tensors created after `mark` that are still alive, oldest first. */
export function liveTensorsSince(mark: MemoryMark): LiveTensorInfo[] {
  const found: LiveTensorInfo[] = [];
  for (const t of live) {
    if (t.id < mark.firstTensorId) continue;
    found.push({ id: t.id, op: t.origin, shape: t.shape, dtype: t.dtype, device: t.device, savedForBackward: t.savedForBackward });
  }
  return found;
}

// ---- the leak warning ---------------------------------------------------------------

interface StepSample {
  readonly tensors: number;
  readonly mark: MemoryMark;
}

let watch: { steps: number; samples: StepSample[]; warned: boolean } | null = null;

/**
 * Opt-in leak warning: once markStep() has been called `steps` + 1 times and the number
 * of live tensors grew at each of the last `steps` calls, console.warn once with the
 * growth and the most common ops and shapes among the tensors created since. `false`
 * turns it off; calling it again re-arms it.
 */
export function setLeakWarning(options: { steps?: number } | false): void {
  if (options === false) {
    watch = null;
    return;
  }
  const steps = options.steps ?? 5;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`setLeakWarning: steps must be a positive integer, got ${steps}`);
  watch = { steps, samples: [], warned: false };
}

/**
 * Marks the end of one training step for the leak warning (@gpt/nn's Optimizer.step()
 * calls it). Costs nothing while the warning is off.
 */
export function markStep(): void {
  if (!watch) return;
  const { steps, samples } = watch;
  samples.push({ tensors: live.size, mark: memoryMark() });
  if (samples.length > steps + 1) samples.shift();
  if (watch.warned || samples.length < steps + 1) return;
  for (let i = 1; i < samples.length; i++) {
    if (samples[i]!.tensors <= samples[i - 1]!.tensors) return;
  }
  watch.warned = true;
  console.warn(leakMessage(samples));
}

function leakMessage(samples: readonly StepSample[]): string {
  const first = samples[0]!;
  const last = samples.at(-1)!;
  const steps = samples.length - 1;
  const growth = last.tensors - first.tensors;
  const groups = new Map<string, number>();
  for (const t of liveTensorsSince(first.mark)) {
    const key = `${t.op} ${shapeToString(t.shape)} ${t.dtype}${t.savedForBackward ? ' (saved for backward)' : ''}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  const top = [...groups].sort((a, b) => b[1] - a[1]).slice(0, 5);
  const list = top.map(([key, count]) => `${count} x ${key}`).join(', ');
  return (
    `@gpt/tensor: live tensors grew at each of the last ${steps} steps (${first.tensors} -> ${last.tensors}, ` +
    `+${(growth / steps).toFixed(1)} per step). Most common among those created since and still alive: ${list}. ` +
    'List them with liveTensorsSince(memoryMark()), and dispose them or create them inside tidy().'
  );
}
