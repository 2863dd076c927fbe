// Philox4x32-10 written from the paper (Salmon et al., SC'11) with BigInt
// products, independent of the library's 16-bit-split arithmetic, plus the
// library's documented mapping from bits to numbers:
// element i of a draw uses word i % 4 of the block with counter offset + floor(i / 4)
// (counter words [lo, hi, 0, 0]); uniforms take the top 24 bits; normals use
// Box–Muller on word pairs (0, 1) and (2, 3) of a block.

import type { NdArray } from './nd-array.js';
import { sizeOf } from './nd-array.js';

const MULTIPLIERS = [0xd2511f53n, 0xcd9e8d57n] as const;
const WEYL = [0x9e3779b9n, 0xbb67ae85n] as const;
const MASK = 0xffffffffn;

/** One Philox4x32 block with `rounds` rounds (10 for Philox4x32-10). */
export function philoxBlock(counter: readonly number[], key: readonly number[], rounds = 10): number[] {
  let [c0, c1, c2, c3] = counter.map(BigInt) as [bigint, bigint, bigint, bigint];
  let [k0, k1] = key.map(BigInt) as [bigint, bigint];
  for (let r = 0; r < rounds; r++) {
    const p0 = MULTIPLIERS[0] * c0;
    const p1 = MULTIPLIERS[1] * c2;
    [c0, c1, c2, c3] = [(p1 >> 32n) ^ c1 ^ k0, p1 & MASK, (p0 >> 32n) ^ c3 ^ k1, p0 & MASK];
    k0 = (k0 + WEYL[0]) & MASK;
    k1 = (k1 + WEYL[1]) & MASK;
  }
  return [c0, c1, c2, c3].map(Number);
}

/** The key a non-negative integer seed maps to: its low and high 32-bit words. */
export function keyOfSeed(seed: number): [number, number] {
  return [seed % 2 ** 32, Math.floor(seed / 2 ** 32)];
}

/** The raw 32-bit words of a draw of `size` elements starting at block `offset`. */
export function philoxWords(key: readonly number[], offset: number, size: number): number[] {
  const words: number[] = [];
  for (let block = 0; words.length < size; block++) {
    const counter = offset + block;
    words.push(...philoxBlock([counter % 2 ** 32, Math.floor(counter / 2 ** 32), 0, 0], key));
  }
  return words.slice(0, size);
}

const uniformOf = (word: number): number => Math.floor(word / 256) / 2 ** 24;

export function uniform(shape: readonly number[], key: readonly number[], offset = 0): NdArray {
  const words = philoxWords(key, offset, sizeOf(shape));
  return { shape: [...shape], dtype: 'float32', data: Float64Array.from(words, uniformOf) };
}

export function normal(shape: readonly number[], key: readonly number[], offset = 0): NdArray {
  const size = sizeOf(shape);
  const words = philoxWords(key, offset, Math.ceil(size / 4) * 4);
  const data = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const pair = i - (i % 2);
    const radius = Math.sqrt(-2 * Math.log((Math.floor(words[pair]! / 256) + 1) / 2 ** 24));
    const angle = 2 * Math.PI * uniformOf(words[pair + 1]!);
    data[i] = i % 2 === 0 ? radius * Math.cos(angle) : radius * Math.sin(angle);
  }
  return { shape: [...shape], dtype: 'float32', data };
}

/** Blocks a draw of `size` elements consumes (a generator's counter advances by this much). */
export const blocksFor = (size: number): number => Math.ceil(size / 4);
