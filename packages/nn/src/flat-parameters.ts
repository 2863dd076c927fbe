// The flat parameter vector G.pt consumes: every state-dict tensor flattened in C
// order and concatenated in state-dict order (G.pt's get_flat_params), with the
// per-tensor sizes alongside (get_param_sizes), and the inverse (moduleify).

import { concat, noGrad, reshape, sizeOf, slice, Tensor } from '@gpt/tensor';
import { isHostReadable } from './devices.js';
import type { Module } from './module.js';

/** Element count of each state-dict tensor, in state-dict order. */
export function parameterSizes(module: Module): number[] {
  return module.stateShapes().map(([, shape]) => sizeOf(shape));
}

/**
 * All state-dict tensors flattened and concatenated: [D], on the module's device.
 * Not tracked by autograd. Move the vector with `.to(device)` / `.toAsync(device)`.
 */
export function flattenParameters(module: Module): Tensor {
  const devices = moduleDevices(module);
  if (devices.size > 1) {
    throw new Error(`flattenParameters: ${module.constructor.name}'s tensors live on several devices (${[...devices].join(', ')}); move it with module.to(device) first`);
  }
  return noGrad(() => {
    const dict = module.stateDict();
    const pieces = Object.values(dict).map((t) => reshape(t, [t.size]));
    const flat = concat(pieces, 0); // [D]
    for (const t of [...pieces, ...Object.values(dict)]) t.dispose();
    return flat;
  });
}

/**
 * Writes a flat vector [D] back into the module's parameters and buffers (the handles
 * stay). The vector is a Float32Array or a float32 tensor on any device. Synchronous:
 * a tensor on a device the host cannot read synchronously (WebGPU) is accepted when
 * the module lives on that device too; to load it into a module elsewhere (G.pt's
 * path: a vector sampled on the GPU, a task network evaluated on the CPU) use
 * `await loadFlatAsync(module, vector)`.
 */
export function loadFlat(module: Module, vector: Tensor | Float32Array): void {
  checkVector(module, vector, 'loadFlat');
  if (vector instanceof Float32Array) {
    module.loadStateDict(splitHost(module, vector));
    return;
  }
  const devices = moduleDevices(module);
  const sameDevice = devices.size === 1 && devices.has(vector.device);
  if (!sameDevice) {
    if (!isHostReadable(vector)) {
      throw new Error(
        `loadFlat: the vector lives on "${vector.device}", which cannot be read synchronously, and ${module.constructor.name} on "${[...devices].join('", "')}"; use await loadFlatAsync(module, vector)`,
      );
    }
    // One read of the whole vector, then one upload per tensor (no slicing kernels).
    module.loadStateDict(splitHost(module, vector.dataSync() as Float32Array));
    return;
  }
  const dict: Record<string, Tensor> = {};
  let offset = 0;
  noGrad(() => {
    for (const [key, shape] of module.stateShapes()) {
      const size = sizeOf(shape);
      const piece = slice(vector, [[offset, offset + size]]);
      dict[key] = reshape(piece, shape);
      piece.dispose();
      offset += size;
    }
  });
  try {
    module.loadStateDict(dict);
  } finally {
    for (const t of Object.values(dict)) t.dispose();
  }
}

/** loadFlat for a vector on any device: reads it back to the host once when the module lives elsewhere. */
export async function loadFlatAsync(module: Module, vector: Tensor | Float32Array): Promise<void> {
  checkVector(module, vector, 'loadFlatAsync');
  if (vector instanceof Tensor && !isHostReadable(vector)) {
    const devices = moduleDevices(module);
    if (devices.size !== 1 || !devices.has(vector.device)) {
      module.loadStateDict(splitHost(module, (await vector.data()) as Float32Array));
      return;
    }
  }
  loadFlat(module, vector);
}

function checkVector(module: Module, vector: Tensor | Float32Array, fn: string): void {
  const total = parameterSizes(module).reduce((a, b) => a + b, 0);
  if (vector instanceof Float32Array) {
    if (vector.length !== total) throw new Error(`${fn}: expected a vector of ${total} values for ${module.constructor.name}, got a Float32Array of ${vector.length}`);
    return;
  }
  if (!(vector instanceof Tensor)) throw new Error(`${fn}: expected a Float32Array or a float32 tensor, got ${String(vector)}`);
  if (vector.rank !== 1 || vector.size !== total) {
    throw new Error(`${fn}: expected a vector of ${total} values for ${module.constructor.name}, got shape [${vector.shape.join(', ')}]`);
  }
  if (vector.dtype !== 'float32') throw new Error(`${fn}: expected float32 values, got ${vector.dtype}`);
  vector.assertAlive(fn);
}

/** The vector cut into the module's state-dict entries: views, no copies. */
function splitHost(module: Module, values: Float32Array): Record<string, Float32Array> {
  const dict: Record<string, Float32Array> = {};
  let offset = 0;
  for (const [key, shape] of module.stateShapes()) {
    const size = sizeOf(shape);
    dict[key] = values.subarray(offset, offset + size);
    offset += size;
  }
  return dict;
}

/** The devices the module's state-dict tensors live on (one, unless it was built across devices). */
function moduleDevices(module: Module): Set<string> {
  return new Set(module.stateDevices().map(([, device]) => device));
}
