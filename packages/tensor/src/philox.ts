// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11).
// Counter-based: the bits for element i depend only on (key, counter), so every
// backend can compute them in parallel and gets the same bits. Only 32-bit integer
// arithmetic is used (the 64-bit product is split into 16-bit halves), exactly as
// the WGSL twin does, because WGSL has no 64-bit integers.
// Also the layout of a draw (which word of which block element i takes, and the
// Box-Muller pairing), written once for the CPU kernels and the Generator's host
// draws, so a host draw and a CPU tensor draw of the same size cannot disagree.

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the unsigned 64-bit product a*b. */
export function mulhi32(a: number, b: number): number {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const loLo = aLo * bLo;
  const hiLo = aHi * bLo;
  const loHi = aLo * bHi;
  const hiHi = aHi * bHi;
  const cross = (loLo >>> 16) + (hiLo & 0xffff) + (loHi & 0xffff);
  return (hiHi + (hiLo >>> 16) + (loHi >>> 16) + (cross >>> 16)) >>> 0;
}

/** One Philox4x32-10 block: writes 4 random uint32 into `out`. */
export function philox4x32(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array,
): void {
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi32(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi32(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    const n0 = (hi1 ^ c1 ^ k0) >>> 0;
    const n2 = (hi0 ^ c3 ^ k1) >>> 0;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

/**
 * Philox blocks consumed by a draw of `size` elements (how far a generator advances):
 * element i of a draw takes word i % 4 of block offset + floor(i / 4).
 */
export function blocksFor(size: number): number {
  return Math.ceil(size / 4);
}

/** Uniform float in [0, 1) with 24 random bits, exactly representable in float32. */
export function bitsToUniform(bits: number): number {
  return (bits >>> 8) * 2 ** -24;
}

/** Uniform float in (0, 1]: safe to take the log of. */
export function bitsToUniformOpen(bits: number): number {
  return ((bits >>> 8) + 1) * 2 ** -24;
}

/** A 64-bit seed (any safe integer) split into the two key words. */
export function seedToKey(seed: number): [number, number] {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new Error(`random: seed must be a non-negative safe integer, got ${seed}`);
  }
  return [seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0];
}

/** Calls `body` with the words of blocks offset, offset+1, ... that cover `size` elements. */
function forEachBlock(key: readonly [number, number], offset: number, size: number, body: (words: Uint32Array, first: number) => void): void {
  const words = new Uint32Array(4);
  for (let first = 0, b = 0; first < size; first += 4, b++) {
    const counter = offset + b;
    philox4x32(counter >>> 0, Math.floor(counter / 2 ** 32) >>> 0, 0, 0, key[0], key[1], words);
    body(words, first);
  }
}

/** out[i] = uniform in [0, 1) from word i % 4 of block offset + floor(i / 4). */
export function fillUniform(key: readonly [number, number], offset: number, out: Float32Array | Float64Array): void {
  const size = out.length;
  forEachBlock(key, offset, size, (w, first) => {
    for (let j = 0; j < 4 && first + j < size; j++) out[first + j] = bitsToUniform(w[j]!);
  });
}

/**
 * out[i] = standard normal, Box-Muller on the word pairs (w0, w1) and (w2, w3) of block
 * offset + floor(i / 4): radius from the first word of a pair, angle from the second.
 * Evaluated in float64; a Float32Array output rounds once at the store.
 */
export function fillNormal(key: readonly [number, number], offset: number, out: Float32Array | Float64Array): void {
  const size = out.length;
  const normals = new Float64Array(4);
  forEachBlock(key, offset, size, (w, first) => {
    for (let pair = 0; pair < 2; pair++) {
      const radius = Math.sqrt(-2 * Math.log(bitsToUniformOpen(w[2 * pair]!)));
      const angle = 2 * Math.PI * bitsToUniform(w[2 * pair + 1]!);
      normals[2 * pair] = radius * Math.cos(angle);
      normals[2 * pair + 1] = radius * Math.sin(angle);
    }
    for (let j = 0; j < 4 && first + j < size; j++) out[first + j] = normals[j]!;
  });
}
