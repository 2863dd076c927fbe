// Philox-based random kernels. Element i takes word (i % 4) of the Philox block
// with counter (offset + floor(i / 4)), so any backend computes the same bits;
// the layout and the Box–Muller pairing live in philox.ts, shared with the
// Generator's host draws.

import { fillNormal, fillUniform } from '../philox.js';
import type { RandomAttrs } from '../ops.js';
import { sizeOf } from '../shape.js';

export function randomUniform(attrs: RandomAttrs): Float32Array {
  const out = new Float32Array(sizeOf(attrs.shape));
  fillUniform(attrs.key, attrs.offset, out);
  return out;
}

export function randomNormal(attrs: RandomAttrs): Float32Array {
  const out = new Float32Array(sizeOf(attrs.shape));
  fillNormal(attrs.key, attrs.offset, out);
  return out;
}
