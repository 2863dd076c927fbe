// Records GPU work: many dispatches per command encoder (in one compute pass until a
// copy needs the encoder), one submit per flush. Each dispatch's parameter block goes
// into a slot of a uniform "arena" buffer that is uploaded with a single writeBuffer
// just before the submit. Work to do once the GPU has finished a submission (returning
// buffers to their pools) is queued with `afterCompletion`, so nothing is recycled
// while a command that may still read or write it is queued.
/// <reference types="@webgpu/types" />

import type { CachedPipeline } from './pipeline-cache.js';
import type { Grid } from './kernels/kernel.js';
import { PARAM_WORDS } from './kernels/wgsl.js';
import { BUFFER_USAGE } from './gpu-constants.js';

/** Dispatches per submit at most (also the arena's slot count). */
export const ARENA_SLOTS = 256;
const SLOT_BYTES = PARAM_WORDS * 4;

interface Arena {
  readonly buffer: GPUBuffer;
  readonly words: Uint32Array;
}

export interface BufferBinding {
  readonly buffer: GPUBuffer;
  /** Bytes bound, from offset 0. */
  readonly size: number;
}

export class CommandRecorder {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private arena: Arena | null = null;
  private slot = 0;
  private readonly spareArenas: Arena[] = [];
  /** Callbacks waiting for the commands recorded so far (not yet submitted). */
  private pendingCompletion: (() => void)[] = [];
  /** Callbacks waiting only for already-submitted work, run at the next idle check. */
  private idleCompletion: (() => void)[] = [];
  private idleCheckScheduled = false;
  /** Submissions whose completion callbacks have not run yet. */
  private inFlight = 0;
  submits = 0;
  dispatches = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly onError: (message: string) => void,
  ) {}

  /** Whether commands are recorded but not submitted. */
  get hasPendingWork(): boolean {
    return this.encoder !== null;
  }

  get submissionsInFlight(): number {
    return this.inFlight;
  }

  dispatch(entry: CachedPipeline, params: Uint32Array, buffers: readonly BufferBinding[], grid: Grid, label: string): void {
    if (this.slot === ARENA_SLOTS) this.flush();
    const arena = (this.arena ??= this.takeArena());
    const slot = this.slot++;
    arena.words.set(params, slot * PARAM_WORDS);
    const bindGroup = this.device.createBindGroup({
      label,
      layout: entry.layout,
      entries: [
        { binding: 0, resource: { buffer: arena.buffer, offset: slot * SLOT_BYTES, size: SLOT_BYTES } },
        ...buffers.map((b, i) => ({ binding: i + 1, resource: { buffer: b.buffer, offset: 0, size: b.size } })),
      ],
    });
    const pass = (this.pass ??= this.getEncoder().beginComputePass({ label: 'gpt kernels' }));
    pass.setPipeline(entry.pipeline);
    pass.setBindGroup(0, bindGroup);
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

  /** Runs `callback` once the GPU has finished everything recorded or submitted so far. */
  afterCompletion(callback: () => void): void {
    if (this.encoder) {
      this.pendingCompletion.push(callback);
      return;
    }
    this.idleCompletion.push(callback);
    if (!this.idleCheckScheduled) {
      this.idleCheckScheduled = true;
      queueMicrotask(() => this.checkIdle());
    }
  }

  private checkIdle(): void {
    this.idleCheckScheduled = false;
    const callbacks = this.idleCompletion;
    this.idleCompletion = [];
    if (callbacks.length === 0) return;
    this.whenDone(callbacks);
  }

  /** Submits the recorded commands; resolves when the GPU has finished them. */
  flush(): Promise<void> {
    if (!this.encoder) {
      // Nothing recorded: wait for what is already queued.
      const callbacks = this.idleCompletion;
      this.idleCompletion = [];
      return this.whenDone(callbacks);
    }
    this.endPass();
    const encoder = this.encoder;
    this.encoder = null;
    const callbacks = this.pendingCompletion;
    this.pendingCompletion = [];
    const arena = this.arena;
    if (arena) {
      this.device.queue.writeBuffer(arena.buffer, 0, arena.words.buffer, 0, this.slot * SLOT_BYTES);
      callbacks.push(() => this.spareArenas.push(arena));
    }
    this.arena = null;
    this.slot = 0;
    this.device.queue.submit([encoder.finish()]);
    this.submits++;
    return this.whenDone(callbacks);
  }

  private whenDone(callbacks: (() => void)[]): Promise<void> {
    this.inFlight++;
    return this.device.queue.onSubmittedWorkDone().then(
      () => {
        this.inFlight--;
        for (const callback of callbacks) callback();
      },
      (error: unknown) => {
        this.inFlight--;
        this.onError(`waiting for the GPU queue failed: ${(error as Error).message ?? String(error)}`);
      },
    );
  }

  private getEncoder(): GPUCommandEncoder {
    return (this.encoder ??= this.device.createCommandEncoder({ label: 'gpt' }));
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  private takeArena(): Arena {
    const spare = this.spareArenas.pop();
    if (spare) return spare;
    const buffer = this.device.createBuffer({
      label: 'gpt kernel parameters',
      size: ARENA_SLOTS * SLOT_BYTES,
      usage: BUFFER_USAGE.UNIFORM | BUFFER_USAGE.COPY_DST,
    });
    return { buffer, words: new Uint32Array(ARENA_SLOTS * PARAM_WORDS) };
  }
}
