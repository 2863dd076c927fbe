// The engine: runOp runs one primitive op (validate against the op table, dispatch one
// kernel, record a tape node when gradients flow), and the gradient mode that decides
// whether anything is recorded. Buffers live in storage.ts, scopes in scopes.ts.

import type { Backend, TensorInfo } from './backend.js';
import { bytesPerElement } from './dtype.js';
import { MULTI_OUTPUT, OPS, SAVED_FOR_BACKWARD, type MultiOutputOp, type OpAttrs, type OpName, type TensorMeta } from './ops.js';
import { sizeOf } from './shape.js';
import { getBackend, Storage } from './storage.js';
import { Node, Tensor } from './tensor.js';

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

/**
 * Runs an op of several outputs (MULTI_OUTPUT): validate, dispatch the kernel, wrap each
 * buffer. These ops have no gradient, so they refuse inputs that would record one.
 */
export function runOpOutputs<K extends MultiOutputOp>(op: K, inputs: readonly Tensor[], attrs: OpAttrs[K]): Tensor[] {
  for (const t of inputs) t.assertAlive(op);
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    throw new Error(`${op}: has no gradient rule, so it cannot be used on tensors that require grad (wrap it in noGrad or detach the input)`);
  }
  const metas = inputs.map((t) => ({ shape: t.shape, dtype: t.dtype }));
  const out = (OPS[op] as { infer(i: readonly TensorMeta[], a: OpAttrs[K]): TensorMeta }).infer(metas, attrs);
  const backend = commonBackend(op, inputs);
  const infos: TensorInfo[] = inputs.map((t) => ({ buffer: t.storage.buffer, shape: t.shape, dtype: t.dtype }));
  const buffers = backend.run(op, infos, attrs, out) as readonly unknown[];
  if (buffers.length !== MULTI_OUTPUT[op]) throw new Error(`${op}: the ${backend.name} kernel returned ${buffers.length} outputs, expected ${MULTI_OUTPUT[op]}`);
  const bytes = sizeOf(out.shape) * bytesPerElement(out.dtype);
  return buffers.map((buffer) => new Tensor(new Storage(backend, buffer, bytes), out.shape, out.dtype, op));
}

/** Runs one primitive op: validate, dispatch the kernel, record for autograd. */
export function runOp<K extends Exclude<OpName, MultiOutputOp>>(op: K, inputs: readonly Tensor[], attrs: OpAttrs[K], device?: string): Tensor {
  for (const t of inputs) t.assertAlive(op);
  const metas = inputs.map((t) => ({ shape: t.shape, dtype: t.dtype }));
  const out = (OPS[op] as { infer(i: readonly TensorMeta[], a: OpAttrs[K]): TensorMeta }).infer(metas, attrs);
  const backend = inputs.length > 0 ? commonBackend(op, inputs) : getBackend(device);
  let storage: Storage;
  if (op === 'reshape') {
    storage = inputs[0]!.storage.retain();
  } else {
    const infos: TensorInfo[] = inputs.map((t) => ({ buffer: t.storage.buffer, shape: t.shape, dtype: t.dtype }));
    const buffer = backend.run(op as Exclude<K, 'reshape'>, infos, attrs as OpAttrs[Exclude<K, 'reshape'>], out) as unknown;
    storage = new Storage(backend, buffer, sizeOf(out.shape) * bytesPerElement(out.dtype));
  }
  const result = new Tensor(storage, out.shape, out.dtype, op);
  // Only float results carry gradients; integer and bool outputs (argmax, comparisons) end the graph.
  if (gradEnabled && out.dtype === 'float32' && inputs.some((t) => t.requiresGrad)) {
    if (SAVED_FOR_BACKWARD[op] === null) {
      result.dispose();
      throw new Error(`${op}: has no gradient rule, so it cannot be used on tensors that require grad (wrap it in noGrad or detach the input)`);
    }
    result.requiresGrad = true;
    result.node = new Node(op, inputs, attrs, result);
  }
  return result;
}
