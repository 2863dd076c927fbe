// Philox-based random kernels. Element i takes word (i % 4) of the Philox block
// with counter (offset + floor(i / 4)), so any backend computes the same bits.
// Normals use Box–Muller on the pairs (w0, w1) and (w2, w3) of a block.

import { bitsToUniform, bitsToUniformOpen, philox4x32 } from '../philox.js';
import type { RandomAttrs } from '../ops.js';
import { sizeOf } from '../shape.js';

function forEachBlock(attrs: RandomAttrs, size: number, body: (block: Uint32Array, first: number) => void): void {
  const words = new Uint32Array(4);
  const [k0, k1] = attrs.key;
  for (let first = 0, b = 0; first < size; first += 4, b++) {
    const counter = attrs.offset + b;
    philox4x32(counter >>> 0, Math.floor(counter / 2 ** 32) >>> 0, 0, 0, k0, k1, words);
    body(words, first);
  }
}

export function randomUniform(attrs: RandomAttrs): Float32Array {
  const size = sizeOf(attrs.shape);
  const out = new Float32Array(size);
  forEachBlock(attrs, size, (w, first) => {
    for (let j = 0; j < 4 && first + j < size; j++) out[first + j] = bitsToUniform(w[j]!);
  });
  return out;
}

export function randomNormal(attrs: RandomAttrs): Float32Array {
  const size = sizeOf(attrs.shape);
  const out = new Float32Array(size);
  const normals = new Float64Array(4);
  forEachBlock(attrs, size, (w, first) => {
    for (let pair = 0; pair < 2; pair++) {
      const radius = Math.sqrt(-2 * Math.log(bitsToUniformOpen(w[2 * pair]!)));
      const angle = 2 * Math.PI * bitsToUniform(w[2 * pair + 1]!);
      normals[2 * pair] = radius * Math.cos(angle);
      normals[2 * pair + 1] = radius * Math.sin(angle);
    }
    for (let j = 0; j < 4 && first + j < size; j++) out[first + j] = normals[j]!;
  });
  return out;
}
