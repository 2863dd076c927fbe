// Byte-level mutations of valid files, for the fuzzers. Each takes the bytes and a random
// source and returns new bytes (never mutating its input). They aim at what parsers trust:
// lengths, offsets and counts (set to extremes or nudged), truncation, and structures
// repeated or copied onto themselves (which is how cycles and stack-deep nesting appear).

export type Rng = () => number;
export type Mutator = (bytes: Uint8Array, rng: Rng) => Uint8Array;

/** A whole number in [0, n). */
export const randInt = (rng: Rng, n: number): number => Math.floor(rng() * n);
/** One of `items` (not empty). */
export const pick = <T>(rng: Rng, items: readonly T[]): T => items[randInt(rng, items.length)]!;

/** A span [start, end) of at most `maxLength` bytes inside `length` bytes. */
function span(rng: Rng, length: number, maxLength: number): [number, number] {
  const start = randInt(rng, Math.max(1, length));
  const end = Math.min(length, start + 1 + randInt(rng, maxLength));
  return [start, end];
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Values a length, count or offset field should never be trusted to hold. */
const EXTREME_U32 = [0, 1, 0x7f, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
const EXTREME_U64 = [2n ** 31n, 2n ** 32n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n];

/** Cut the file short: often inside the first header bytes, often near the end. */
export const truncate: Mutator = (bytes, rng) => {
  const r = rng();
  const at = r < 0.4 ? randInt(rng, Math.min(bytes.length, 64)) : r < 0.7 ? bytes.length - 1 - randInt(rng, 16) : randInt(rng, bytes.length);
  return bytes.slice(0, Math.max(0, at));
};

/** Flip one to eight random bits. */
export const flipBits: Mutator = (bytes, rng) => {
  const out = bytes.slice();
  if (out.length === 0) return out;
  for (let i = 1 + randInt(rng, 8); i > 0; i--) out[randInt(rng, out.length)]! ^= 1 << randInt(rng, 8);
  return out;
};

/** Overwrite an aligned 4- or 8-byte field (either byte order) with an extreme value. */
export const extremeInteger: Mutator = (bytes, rng) => {
  const out = bytes.slice();
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const little = rng() < 0.7;
  if (rng() < 0.6 && out.length >= 4) {
    const at = randInt(rng, (out.length - 4) >> 2 || 1) * 4;
    if (at + 4 <= out.length) view.setUint32(at, pick(rng, EXTREME_U32), little);
  } else if (out.length >= 8) {
    const at = randInt(rng, (out.length - 8) >> 3 || 1) * 8;
    if (at + 8 <= out.length) view.setBigUint64(at, pick(rng, EXTREME_U64), little);
  }
  return out;
};

/**
 * Find little-endian u32 fields that look like an offset or length into this file (a value
 * below its size) and move one just past the end, onto the header, or by a small step.
 */
export const nudgeOffset: Mutator = (bytes, rng) => {
  const out = bytes.slice();
  if (out.length < 8) return out;
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let tries = 0; tries < 64; tries++) {
    const at = randInt(rng, out.length - 3);
    const value = view.getUint32(at, true);
    if (value === 0 || value > out.length) continue;
    const choices = [out.length, out.length + 1, out.length * 2, 0, at, value + 1, value - 1, value + 4096];
    view.setUint32(at, pick(rng, choices) >>> 0, true);
    return out;
  }
  return extremeInteger(bytes, rng);
};

/** Copy a span of the file to another place (structures referring to themselves or duplicated). */
export const duplicateSpan: Mutator = (bytes, rng) => {
  const [start, end] = span(rng, bytes.length, 256);
  const at = randInt(rng, bytes.length + 1);
  return concat(bytes.subarray(0, at), bytes.subarray(start, end), bytes.subarray(at));
};

/** Overwrite a span with a copy of another span of the same file (shape-preserving). */
export const overwriteSpan: Mutator = (bytes, rng) => {
  const out = bytes.slice();
  const [start, end] = span(rng, bytes.length, 64);
  const at = randInt(rng, Math.max(1, bytes.length - (end - start)));
  out.set(bytes.subarray(start, end), at);
  return out;
};

/** Repeat a short span hundreds to thousands of times in place (deep nesting, long opcode runs). */
export const repeatSpan: Mutator = (bytes, rng) => {
  const [start, end] = span(rng, bytes.length, 16);
  const copies = 100 + randInt(rng, 4000);
  const piece = bytes.subarray(start, end);
  const repeated = new Uint8Array(piece.length * copies);
  for (let i = 0; i < copies; i++) repeated.set(piece, i * piece.length);
  return concat(bytes.subarray(0, start), repeated, bytes.subarray(end));
};

/** Remove a span. */
export const deleteSpan: Mutator = (bytes, rng) => {
  const [start, end] = span(rng, bytes.length, 128);
  return concat(bytes.subarray(0, start), bytes.subarray(end));
};

const encoder = new TextEncoder();
const NUMBER_TEXT = ['-1', '0', '1e400', '-0', '9007199254740993', '18446744073709551616', '4294967296', '1.5', 'NaN'];
const NAME_TEXT = ['__proto__', 'constructor', 'toString', '', '../../etc/passwd', '\u0000', 'a'.repeat(5000)];

/**
 * For text inside a file (JSON headers, manifests): replace a run of ASCII digits with a
 * number no field should accept, or a quoted string with a prototype key or odd name.
 */
export const textToken: Mutator = (bytes, rng) => {
  const text = new TextDecoder('latin1').decode(bytes);
  const numbers = [...text.matchAll(/\d+/g)];
  const strings = [...text.matchAll(/"[^"\\\u0000-\u001f]{0,64}"/g)];
  const useNumber = strings.length === 0 || (numbers.length > 0 && rng() < 0.6);
  const matches = useNumber ? numbers : strings;
  if (matches.length === 0) return flipBits(bytes, rng);
  const match = pick(rng, matches);
  const replacement = useNumber ? pick(rng, NUMBER_TEXT) : JSON.stringify(pick(rng, NAME_TEXT));
  const start = match.index!;
  return concat(bytes.subarray(0, start), encoder.encode(replacement), bytes.subarray(start + match[0].length));
};

/** Every generic mutator by name; targets add format-aware ones. */
export const GENERIC_MUTATORS: Readonly<Record<string, Mutator>> = {
  truncate,
  flipBits,
  extremeInteger,
  nudgeOffset,
  duplicateSpan,
  overwriteSpan,
  repeatSpan,
  deleteSpan,
  textToken,
};

/** mulberry32: a small seeded generator, so probe k of seed s is the same input every time. */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
