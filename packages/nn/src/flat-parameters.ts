// The flat parameter vector G.pt consumes: every state-dict tensor flattened in C
// order and concatenated in state-dict order (G.pt's get_flat_params), with the
// per-tensor sizes alongside (get_param_sizes), and the inverse (moduleify).

import { concat, noGrad, reshape, slice, type Tensor } from '@gpt/tensor';
import type { Module } from './module.js';

/** Element count of each state-dict tensor, in state-dict order. */
export function parameterSizes(module: Module): number[] {
  return module.stateShapes().map(([, shape]) => shape.reduce((a, b) => a * b, 1));
}

/** All state-dict tensors flattened and concatenated: [D]. Not tracked by autograd. */
export function flattenParameters(module: Module): Tensor {
  return noGrad(() => {
    const dict = module.stateDict();
    const pieces = Object.values(dict).map((t) => reshape(t, [t.size]));
    const flat = concat(pieces, 0); // [D]
    for (const t of [...pieces, ...Object.values(dict)]) t.dispose();
    return flat;
  });
}

/** Writes a flat vector [D] back into the module's parameters and buffers (the handles stay). */
export function loadFlat(module: Module, vector: Tensor): void {
  const shapes = module.stateShapes();
  const total = shapes.reduce((sum, [, shape]) => sum + shape.reduce((a, b) => a * b, 1), 0);
  if (vector.rank !== 1 || vector.size !== total) {
    throw new Error(`loadFlat: expected a vector of ${total} values for ${module.constructor.name}, got shape [${vector.shape.join(', ')}]`);
  }
  if (vector.dtype !== 'float32') throw new Error(`loadFlat: expected float32 values, got ${vector.dtype}`);
  const dict: Record<string, Tensor> = {};
  let offset = 0;
  noGrad(() => {
    for (const [key, shape] of shapes) {
      const size = shape.reduce((a, b) => a * b, 1);
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
