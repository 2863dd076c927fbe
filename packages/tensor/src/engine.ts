// The engine: owns device buffers (reference-counted storages), the tidy scopes,
// the backend registry and the autograd tape. Every op goes through runOp, which
// validates against the op table, dispatches one kernel and records a tape node.

import type { Backend, TensorInfo } from './backend.js';
import { bytesPerElement, type TypedArray } from './dtype.js';
import { OPS, type OpAttrs, type OpName, type TensorMeta } from './ops.js';
import { sizeOf } from './shape.js';
import { Tensor } from './tensor.js';
import { CpuBackend } from './cpu/cpu-backend.js';

// ---- backends ---------------------------------------------------------------

const backends = new Map<string, Backend>();
let defaultDevice = 'cpu';

export function registerBackend(backend: Backend): void {
  backends.set(backend.name, backend);
}

export function getBackend(device: string = defaultDevice): Backend {
  const backend = backends.get(device);
  if (!backend) {
    throw new Error(`unknown device "${device}": registered devices are ${[...backends.keys()].join(', ')}`);
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

export const cpuBackend = new CpuBackend();
registerBackend(cpuBackend);

// ---- storage ------------------------------------------------------------------

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

const counters = { tensors: 0, buffers: 0, bytes: 0 };

export interface MemoryInfo {
  /** Live tensor handles (including tensors the tape keeps for backward). */
  tensors: number;
  /** Live device buffers (several handles may share one). */
  buffers: number;
  /** Bytes held by live buffers, over all devices. */
  bytes: number;
  /** Per device: bytes the backend reports and buffers waiting in its pool. */
  devices: Record<string, { bytes: number; pooledBuffers: number }>;
}

export function memory(): MemoryInfo {
  const devices: MemoryInfo['devices'] = {};
  for (const [name, b] of backends) devices[name] = { ...b.memory() };
  return { tensors: counters.tensors, buffers: counters.buffers, bytes: counters.bytes, devices };
}

/** Called by the Tensor constructor and dispose(). */
export function countTensor(delta: number): void {
  counters.tensors += delta;
}

export function uploadStorage(values: TypedArray, meta: TensorMeta, device?: string): Storage {
  const backend = getBackend(device);
  const buffer = backend.upload(values, meta.dtype);
  return new Storage(backend, buffer, sizeOf(meta.shape) * bytesPerElement(meta.dtype));
}

// ---- tidy scopes --------------------------------------------------------------

const scopes: Set<Tensor>[] = [];

/** Registers a new tensor with the innermost tidy scope, if any. */
export function track(t: Tensor): void {
  scopes.at(-1)?.add(t);
}

/** Removes `t` from every tidy scope so it survives them; returns it. */
export function keep<T extends Tensor>(t: T): T {
  for (const scope of scopes) scope.delete(t);
  return t;
}

function collectTensors(value: unknown, into: Set<Tensor>, depth = 0): void {
  if (depth > 4 || value === null || typeof value !== 'object') return;
  if (value instanceof Tensor) {
    into.add(value);
    return;
  }
  const items = Array.isArray(value) ? value : value instanceof Map ? [...value.values()] : Object.values(value);
  for (const item of items) collectTensors(item, into, depth + 1);
}

/**
 * Runs `fn` and disposes every tensor it created, except those it returns
 * (directly, or inside arrays, maps and plain objects) and those passed to keep().
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    // Nothing was returned, so nothing created in the scope can be reached any more.
    for (const t of scope) t.dispose();
    throw error;
  } finally {
    scopes.pop();
  }
  if (result instanceof Promise) {
    for (const t of scope) t.dispose();
    throw new Error('tidy: the function returned a Promise; tidy only works with synchronous code (dispose tensors explicitly in async code)');
  }
  const returned = new Set<Tensor>();
  collectTensors(result, returned);
  for (const t of scope) {
    if (returned.has(t)) scopes.at(-1)?.add(t);
    else t.dispose();
  }
  return result;
}

// ---- gradient mode ------------------------------------------------------------

let gradEnabled = true;

/** Runs `fn` without recording anything for autograd (like torch.no_grad()). */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

// ---- the tape -----------------------------------------------------------------

/**
 * One recorded op. It keeps its own handles on the inputs and output it needs for
 * backward ("saved"), so users may dispose intermediate tensors (e.g. with tidy)
 * before calling backward. Nodes are reference-counted by their output handle and
 * by the nodes that consume that output; the saved tensors are released when the
 * count reaches zero or when backward has used them.
 */
export class Node {
  refs = 1;
  freed = false;
  readonly saved: { inputs: Tensor[]; output: Tensor };
  constructor(
    readonly op: OpName,
    readonly inputs: readonly Tensor[],
    readonly attrs: unknown,
    output: Tensor,
  ) {
    this.saved = { inputs: inputs.map((t) => t.shareStorage()), output: output.shareStorage() };
    for (const t of inputs) t.node?.retain();
  }
  retain(): void {
    this.refs++;
  }
  release(): void {
    if (--this.refs > 0) return;
    const wasFreed = this.freed;
    this.free();
    if (!wasFreed) for (const t of this.inputs) t.node?.release();
  }
  /** Releases the saved tensors (after backward, or when nothing can reach this node). */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    for (const t of this.saved.inputs) t.dispose();
    this.saved.output.dispose();
  }
}

// ---- dispatch -------------------------------------------------------------------

function commonBackend(op: string, inputs: readonly Tensor[]): Backend {
  const backend = inputs[0]!.storage.backend;
  for (const t of inputs) {
    if (t.storage.backend !== backend) {
      throw new Error(
        `${op}: inputs live on different devices (${inputs.map((u) => u.device).join(', ')}); move them with .to(device) first`,
      );
    }
  }
  return backend;
}

/** Hook set by gradients.ts: tells whether an op can be differentiated at all. */
let isDifferentiable: (op: OpName) => boolean = () => false;
export function setDifferentiability(fn: (op: OpName) => boolean): void {
  isDifferentiable = fn;
}

/** Runs one primitive op: validate, dispatch the kernel, record for autograd. */
export function runOp<K extends OpName>(op: K, inputs: readonly Tensor[], attrs: OpAttrs[K], device?: string): Tensor {
  for (const t of inputs) t.assertAlive(op);
  const metas = inputs.map((t) => ({ shape: t.shape, dtype: t.dtype }));
  const out = (OPS[op] as { infer(i: readonly TensorMeta[], a: OpAttrs[K]): TensorMeta }).infer(metas, attrs);
  const backend = inputs.length > 0 ? commonBackend(op, inputs) : getBackend(device);
  let storage: Storage;
  if (op === 'reshape') {
    storage = inputs[0]!.storage.retain();
  } else {
    const infos: TensorInfo[] = inputs.map((t) => ({ buffer: t.storage.buffer, shape: t.shape, dtype: t.dtype }));
    const buffer = backend.run(op as Exclude<K, 'reshape'>, infos, attrs as OpAttrs[Exclude<K, 'reshape'>], out);
    storage = new Storage(backend, buffer, sizeOf(out.shape) * bytesPerElement(out.dtype));
  }
  const result = new Tensor(storage, out.shape, out.dtype);
  // Only float results carry gradients; integer and bool outputs (argmax, comparisons) end the graph.
  if (gradEnabled && out.dtype === 'float32' && inputs.some((t) => t.requiresGrad)) {
    if (!isDifferentiable(op)) {
      result.dispose();
      throw new Error(`${op}: has no gradient rule, so it cannot be used on tensors that require grad (wrap it in noGrad or detach the input)`);
    }
    result.requiresGrad = true;
    result.node = new Node(op, inputs, attrs, result);
  }
  return result;
}
