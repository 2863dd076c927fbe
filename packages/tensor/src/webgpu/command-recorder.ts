// Records GPU work: many dispatches per command encoder (in one compute pass until a
// copy needs the encoder), one submit per flush. Each dispatch's parameter block goes
// into a slot of a uniform "arena" buffer, uploaded with a single writeBuffer just
// before the submit, and bound with a dynamic offset so bind groups can be reused.
//
// Recycling rule: a buffer freed while commands that use it are still being recorded
// is handed out again only after those commands are submitted (`afterSubmit`). Every
// later use is itself a queue operation (a dispatch, copy or writeBuffer issued after
// that submit), and the queue runs its operations in order, so the new use runs only
// once the queue is done with the old one. What must never happen, a writeBuffer
// (which takes effect at once on the queue) overtaking recorded-but-unsubmitted
// commands that read the buffer, cannot.
/// <reference types="@webgpu/types" />

import { BindGroupCache, type BufferBinding } from './bind-group-cache.js';
import type { CachedPipeline } from './pipeline-cache.js';
import type { Grid } from './kernels/kernel.js';
import { PARAM_WORDS } from './kernels/wgsl.js';
import { BUFFER_USAGE } from './gpu-constants.js';

/**
 * Dispatches per submit at most (also the arena's slot count): enough for a G.pt training
 * step of a 12-layer model in one submit (a submit costs tens of microseconds on the CPU
 * side, and the GPU may idle between submits); the arena is 512 KiB.
 */
export const ARENA_SLOTS = 2048;
const SLOT_BYTES = PARAM_WORDS * 4;


export class CommandRecorder {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private readonly arena: GPUBuffer;
  private readonly arenaWords = new Uint32Array(ARENA_SLOTS * PARAM_WORDS);
  /** Bind groups reused across dispatches; the backend evicts buffers it destroys. */
  readonly bindGroups: BindGroupCache;
  private slot = 0;
  /** Callbacks waiting for the commands recorded so far to be submitted. */
  private pendingSubmit: (() => void)[] = [];
  submits = 0;
  dispatches = 0;

  constructor(private readonly device: GPUDevice) {
    this.arena = device.createBuffer({
      label: 'gpt kernel parameters',
      size: ARENA_SLOTS * SLOT_BYTES,
      usage: BUFFER_USAGE.UNIFORM | BUFFER_USAGE.COPY_DST,
    });
    this.bindGroups = new BindGroupCache(device, this.arena, SLOT_BYTES);
  }

  /** Whether commands are recorded but not submitted. */
  get hasPendingWork(): boolean {
    return this.encoder !== null;
  }

  dispatch(entry: CachedPipeline, key: string, params: Uint32Array, buffers: readonly BufferBinding[], grid: Grid, label: string): void {
    if (this.slot === ARENA_SLOTS) this.flush();
    const slot = this.slot++;
    this.arenaWords.set(params, slot * PARAM_WORDS);
    const bindGroup = this.bindGroups.get(entry, key, buffers, label);
    const pass = (this.pass ??= this.getEncoder().beginComputePass({ label: 'gpt kernels' }));
    pass.setPipeline(entry.pipeline);
    pass.setBindGroup(0, bindGroup, [slot * SLOT_BYTES]);
    pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
    this.dispatches++;
  }

  copy(source: GPUBuffer, target: GPUBuffer, size: number): void {
    this.endPass();
    this.getEncoder().copyBufferToBuffer(source, 0, target, 0, size);
  }

  clear(buffer: GPUBuffer, size: number): void {
    this.endPass();
    this.getEncoder().clearBuffer(buffer, 0, size);
  }

  /** Runs `callback` once everything recorded so far is submitted (at once when nothing is pending). */
  afterSubmit(callback: () => void): void {
    if (this.encoder) this.pendingSubmit.push(callback);
    else callback();
  }

  /** Submits the recorded commands (if any). */
  flush(): void {
    if (!this.encoder) return;
    this.endPass();
    const encoder = this.encoder;
    this.encoder = null;
    // The arena's slots for this submit, written on the queue before the commands that read them.
    this.device.queue.writeBuffer(this.arena, 0, this.arenaWords.buffer, 0, this.slot * SLOT_BYTES);
    this.slot = 0;
    this.device.queue.submit([encoder.finish()]);
    this.submits++;
    const callbacks = this.pendingSubmit;
    this.pendingSubmit = [];
    for (const callback of callbacks) callback();
  }

  /** Submits and resolves when the GPU has finished all submitted work. */
  async finish(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
  }

  private getEncoder(): GPUCommandEncoder {
    return (this.encoder ??= this.device.createCommandEncoder({ label: 'gpt' }));
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }
}
