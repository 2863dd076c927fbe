// Fuzz target: safetensors files. Seeds are small files written by writeSafetensors (every
// dtype, scalars, empty tensors, metadata, names that are JavaScript prototype keys). The
// format-aware mutators lie in the length prefix, or rewrite the JSON header (offsets,
// shapes, dtypes, entries duplicated, dropped or renamed) with a prefix that matches it,
// so the probe gets past the first check and reaches the header and coverage checks.
import { join } from 'node:path';
// Through the package sources (the root project does not depend on the packages).
import { toFloat32, type SafetensorsInput } from '../../packages/checkpoints/src/index.js';
import { readSafetensors, writeSafetensors } from '../../packages/checkpoints/src/node.js';
import { type FuzzTarget, type Mutator, type Rng, pick, randInt } from '../harness.js';

/** What a user reading untrusted files would allow: far above the seeds, far below the cap. */
const LIMITS = { maxBytes: 64 * 1024 ** 2 };

// Mutators copy with new Uint8Array(bytes): the harness may hand a Node Buffer, whose slice()
// is a view of the seed (and of Node's shared pool, so DataView(out.buffer) would be off).

const EXTREME_NUMBERS = [0, 1, -1, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 1e300, 0.5, -0];

/** The header as parsed JSON plus the data after it, or null when the file is not that. */
function split(bytes: Uint8Array): { header: Record<string, unknown>; data: Uint8Array } | null {
  if (bytes.length < 8) return null;
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  if (length > bytes.length - 8) return null;
  try {
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))) as unknown;
    if (header === null || typeof header !== 'object' || Array.isArray(header)) return null;
    return { header: header as Record<string, unknown>, data: bytes.subarray(8 + length) };
  } catch {
    return null;
  }
}

function join8(header: string, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** Parses the header, lets `change` rewrite it (entries as [name, value] pairs, order kept), writes a matching prefix. */
function rewritingHeader(change: (entries: [string, Record<string, unknown>][], rng: Rng) => [string, unknown][]): Mutator {
  return (bytes, rng) => {
    const parsed = split(bytes);
    if (!parsed) return new Uint8Array(bytes);
    const entries = Object.entries(parsed.header) as [string, Record<string, unknown>][];
    const changed = change(entries, rng);
    // Written by hand: JSON.stringify of an object would merge duplicate names.
    const text = `{${changed.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
    return join8(text, parsed.data);
  };
}

const tensorEntries = (entries: [string, Record<string, unknown>][]) => entries.filter(([k]) => k !== '__metadata__');

export const target: FuzzTarget = {
  name: 'safetensors',
  async seeds(dir) {
    const all: SafetensorsInput[] = [
      { name: 'f64', dtype: 'F64', shape: [2], data: Float64Array.of(Math.PI, -0) },
      { name: 'f32', dtype: 'F32', shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) },
      { name: 'f16', dtype: 'F16', shape: [2], data: Uint16Array.of(0x3c00, 0x7c00) },
      { name: 'bf16', dtype: 'BF16', shape: [1], data: Uint16Array.of(0x3f80) },
      { name: 'i64', dtype: 'I64', shape: [2], data: BigInt64Array.of(-(2n ** 62n), 7n) },
      { name: 'i32', dtype: 'I32', shape: [], data: Int32Array.of(-5) },
      { name: 'u8', dtype: 'U8', shape: [3], data: Uint8Array.of(1, 2, 3) },
      { name: 'bool', dtype: 'BOOL', shape: [2], data: Uint8Array.of(0, 1) },
      { name: 'empty', dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
    ];
    const proto: SafetensorsInput[] = ['__proto__', 'constructor', 'toString'].map((name, i) => ({ name, dtype: 'F32', shape: [i + 1], data: new Float32Array(i + 1).fill(i) }));
    const files: [string, SafetensorsInput[], Record<string, string>][] = [
      ['all-dtypes.safetensors', all, { format: 'pt', note: 'seed' }],
      ['proto-names.safetensors', proto, { ['__proto__']: 'p' }],
      ['one.safetensors', [{ name: 'w', dtype: 'F32', shape: [4, 4], data: new Float32Array(16).fill(0.5) }], {}],
      ['none.safetensors', [], { only: 'metadata' }],
    ];
    const seeds = [];
    for (const [name, tensors, metadata] of files) {
      const file = join(dir, name);
      await writeSafetensors(file, tensors, metadata, { noSync: true });
      seeds.push({ path: file });
    }
    return seeds;
  },
  async read(path) {
    const { header, tensors } = await readSafetensors(path, LIMITS);
    for (const entry of header.entries) {
      const tensor = tensors.get(entry.name);
      if (!tensor) throw new Error(`${path}: header entry ${JSON.stringify(entry.name)} has no tensor`);
      const numel = entry.shape.reduce((n, d) => n * d, 1);
      if (tensor.data.length !== numel) throw new Error(`${path}: tensor ${JSON.stringify(entry.name)} has ${tensor.data.length} values, its shape ${numel}`);
      if (tensor.dtype !== 'I64' && tensor.dtype !== 'U64') toFloat32(tensor.dtype, tensor.data); // touch every value
    }
    for (const value of Object.values(header.metadata)) if (typeof value !== 'string') throw new Error(`${path}: metadata value is not a string`);
  },
  mutators: {
    // Tensor bytes changed, header intact: a valid file with other values (NaN, Inf, subnormal halves).
    dataBytes: (bytes, rng) => {
      const parsed = split(bytes);
      if (!parsed || parsed.data.length === 0) return new Uint8Array(bytes);
      const out = new Uint8Array(bytes);
      const start = bytes.length - parsed.data.length;
      for (let k = 1 + randInt(rng, 8); k > 0; k--) out[start + randInt(rng, parsed.data.length)] = pick(rng, [0, 0xff, 0x7f, 0x80, 0x7c, 0xfc, randInt(rng, 256)]);
      return out;
    },
    // The u64 length prefix set to a lie: 2^53, 2^64-1, one past the file, zero, a nudge.
    headerLength: (bytes, rng) => {
      const out = new Uint8Array(bytes);
      if (out.length < 8) return out;
      const view = new DataView(out.buffer);
      const now = view.getBigUint64(0, true);
      view.setBigUint64(0, pick(rng, [0n, 1n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, BigInt(out.length - 8), BigInt(out.length - 7), now - 1n < 0n ? 0n : now - 1n, now + 1n, now + 8n]), true);
      return out;
    },
    // One field of one entry set to an extreme: data_offsets, shape, dtype.
    entryField: rewritingHeader((entries, rng) => {
      const tensors = tensorEntries(entries);
      if (tensors.length === 0) return entries;
      const [name, value] = pick(rng, tensors);
      const changed = { ...value };
      const offsets = Array.isArray(value.data_offsets) ? [...(value.data_offsets as number[])] : [0, 0];
      switch (randInt(rng, 6)) {
        case 0:
          offsets[randInt(rng, 2)] = pick(rng, EXTREME_NUMBERS);
          changed.data_offsets = offsets;
          break;
        case 1:
          changed.data_offsets = [offsets[1], offsets[0]];
          break;
        case 2:
          changed.shape = pick(rng, [[], [-1], [2 ** 53], [2 ** 32, 2 ** 32], [0], new Array(100).fill(1), [1e300], ['1'], null]);
          break;
        case 3:
          changed.dtype = pick(rng, ['F32', 'F64', 'U8', 'I64', 'BOOL', 'F8_E4M3', '', 'constructor', '__proto__', 7]);
          break;
        case 4:
          changed.data_offsets = pick(rng, [[0], [0, 0, 0], 'x', null, [1.5, 2.5]]);
          break;
        default: {
          const other = pick(rng, tensors)[1];
          changed.data_offsets = other.data_offsets; // alias another tensor's bytes
        }
      }
      return entries.map(([k, v]) => [k, k === name ? changed : v]);
    }),
    // Entries duplicated (same name twice), dropped, renamed to prototype keys, or metadata broken.
    entryTable: rewritingHeader((entries, rng) => {
      const i = randInt(rng, Math.max(1, entries.length));
      switch (randInt(rng, 5)) {
        case 0:
          return entries.length > 0 ? [...entries, entries[i]!] : entries;
        case 1:
          return entries.filter((_, k) => k !== i);
        case 2:
          return entries.map(([k, v], n) => [n === i ? pick(rng, ['__proto__', 'constructor', '__metadata__', '', 'toString', 'a'.repeat(3000)]) : k, v]);
        case 3:
          return [...entries.filter(([k]) => k !== '__metadata__'), ['__metadata__', pick(rng, [{ a: 1 }, [], 'x', null, { ['__proto__']: 'x' }, { b: { c: 'd' } }])]];
        default:
          return [['__metadata__', { n: 'x'.repeat(randInt(rng, 10_000)) }], ...entries.filter(([k]) => k !== '__metadata__')];
      }
    }),
  },
};
