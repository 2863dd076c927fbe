// Fuzz target: PyTorch .pt files (zip + pickle). Seeds are the torch.save fixtures (stored
// and deflated, a G.pt-style checkpoint) and small files made by the test builder (views,
// stride-0, zip64). Byte mutations alone mostly hit the zip CRC, so most format-aware
// mutators rebuild the zip around a mutated record (sizes and CRC made consistent again):
// that is what reaches the pickle machine and the tensor checks behind it.
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
// Through the package sources (the root project does not depend on the packages).
import { PyDict, PyTuple, TorchTensor, type PyValue } from '../../packages/checkpoints/src/index.js';
import { openTorchFile } from '../../packages/checkpoints/src/node.js';
import { GENERIC_MUTATORS, type FuzzTarget, type Mutator, type Rng, pick, randInt } from '../harness.js';
import { f32Bytes, stateDictPickle, torchFileBytes, zipOf, type ZipRecord } from '../../packages/checkpoints/test/helpers/torch-builder.js';
import { makeZip } from '../../packages/checkpoints/test/helpers/zip-writer.js';

const FIXTURES = new URL('../../packages/checkpoints/test/fixtures/pt/', import.meta.url);
/** What a user reading untrusted files would allow: far above the seeds, far below the cap. */
const LIMITS = { maxBytes: 16 * 1024 ** 2, maxTotalBytes: 64 * 1024 ** 2, maxRecordBytes: 16 * 1024 ** 2 };

// Mutators copy with new Uint8Array(bytes): the harness may hand a Node Buffer, whose slice()
// is a view of the seed (and of Node's shared pool, so DataView(out.buffer) would be off).

/** Every TorchTensor reachable from the root (iterative, with a visited set: pickles may be cyclic). */
function tensorsOf(root: PyValue): TorchTensor[] {
  const found: TorchTensor[] = [];
  const seen = new Set<object>();
  const todo: unknown[] = [root];
  while (todo.length > 0) {
    const value = todo.pop();
    if (value === null || typeof value !== 'object' || seen.has(value)) continue;
    seen.add(value);
    if (value instanceof TorchTensor) found.push(value);
    else if (value instanceof PyDict) {
      for (const [k, v] of value) todo.push(k, v);
      for (const v of value.attributes.values()) todo.push(v);
    } else if (value instanceof PyTuple) {
      for (const v of value.items) todo.push(v);
    }
    else if (Array.isArray(value)) for (const v of value) todo.push(v);
  }
  return found;
}

// ---- a small synchronous zip parser, for rebuilding mutated files ----------------------

/** The records of a plain (non-zip64) zip, or null when it does not parse. */
function recordsOf(bytes: Uint8Array): ZipRecord[] | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const eocd = bytes.length - 22;
  if (eocd < 0 || view.getUint32(eocd, true) !== 0x06054b50) return null;
  const count = view.getUint16(eocd + 10, true);
  let p = view.getUint32(eocd + 16, true);
  const records: ZipRecord[] = [];
  for (let i = 0; i < count; i++) {
    if (p + 46 > bytes.length || view.getUint32(p, true) !== 0x02014b50) return null;
    const method = view.getUint16(p + 10, true);
    const compressed = view.getUint32(p + 20, true);
    const nameLength = view.getUint16(p + 28, true);
    const skip = nameLength + view.getUint16(p + 30, true) + view.getUint16(p + 32, true);
    const local = view.getUint32(p + 42, true);
    if (compressed === 0xffffffff || local + 30 > bytes.length) return null;
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLength));
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (start + compressed > bytes.length) return null;
    const raw = bytes.subarray(start, start + compressed);
    let data: Uint8Array;
    try {
      data = method === 8 ? new Uint8Array(inflateRawSync(raw)) : new Uint8Array(raw);
    } catch {
      return null;
    }
    records.push({ name, data, deflate: method === 8 });
    p += 46 + skip;
  }
  return records;
}

/** Parses the zip, lets `change` mutate its records, and writes it back consistent (or falls back to a byte mutation). */
function rebuilding(change: (records: ZipRecord[], rng: Rng) => ZipRecord[]): Mutator {
  return (bytes, rng) => {
    const records = recordsOf(bytes);
    if (!records || records.length === 0) return GENERIC_MUTATORS.flipBits!(bytes, rng);
    return zipOf(change(records, rng));
  };
}

const isPickle = (r: ZipRecord) => r.name.endsWith('data.pkl');
const isStorage = (r: ZipRecord) => /\/data\/[^/]+$/.test(r.name);

/** Pickle mutations: the generic byte mutators plus argument extremes, applied to data.pkl only. */
const PICKLE_ARGUMENTS: Mutator = (bytes, rng) => {
  // Set the argument of a length- or int-bearing opcode to an extreme (positions found by opcode byte).
  const out = new Uint8Array(bytes);
  const view = new DataView(out.buffer);
  const sites: [number, number][] = [];
  for (let i = 0; i + 1 < out.length; i++) {
    const op = out[i]!;
    if (op === 0x4a || op === 0x58 || op === 0x42 || op === 0x8b || op === 0x72 || op === 0x6a) sites.push([i + 1, 4]); // BININT, BINUNICODE, BINBYTES, LONG4, LONG_BINPUT/GET
    else if (op === 0x4b || op === 0x8a || op === 0x8c || op === 0x71 || op === 0x68 || op === 0x43) sites.push([i + 1, 1]);
    else if (op === 0x4d) sites.push([i + 1, 2]);
  }
  if (sites.length === 0) return GENERIC_MUTATORS.flipBits!(bytes, rng);
  const [at, width] = pick(rng, sites);
  if (at + width > out.length) return out;
  if (width === 4) view.setUint32(at, pick(rng, [0, 1, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 200_000, out.length, out.length - at]), true);
  else if (width === 2) view.setUint16(at, pick(rng, [0, 0xffff, 0x8000]), true);
  else out[at] = pick(rng, [0, 0xff, 0x7f, 0x80, 1]);
  return out;
};

const pickleMutators: Mutator[] = [PICKLE_ARGUMENTS, ...Object.values(GENERIC_MUTATORS)];

export const target: FuzzTarget = {
  name: 'torch-file',
  async seeds(dir) {
    const seeds: string[] = [];
    for (const name of ['state_dict.pt', 'state_dict_deflated.pt', 'gpt_checkpoint.pt']) {
      const file = join(dir, name);
      await copyFile(new URL(name, FIXTURES), file);
      seeds.push(file);
    }
    // Written with our builder: views, a stride-0 expand, and the same as deflated and zip64.
    const pickle = stateDictPickle([
      { name: 'w', key: '0', numel: 6, shape: [2, 3], stride: [3, 1] },
      { name: 'wT', key: '0', numel: 6, shape: [3, 2], stride: [1, 3] },
      { name: 'row', key: '0', numel: 6, offset: 3, shape: [3], stride: [1] },
      { name: 'expand', key: '1', numel: 1, shape: [4, 4], stride: [0, 0] },
      { name: 'ints', key: '2', storageType: 'LongStorage', numel: 2, shape: [2], stride: [1] },
    ]);
    const storages = { '0': f32Bytes(1, 2, 3, 4, 5, 6), '1': f32Bytes(-1), '2': new Uint8Array(new BigInt64Array([5n, -(2n ** 40n)]).buffer) };
    const built: [string, Uint8Array][] = [
      ['views.pt', torchFileBytes(pickle, storages)],
      ['views_deflated.pt', torchFileBytes(pickle, storages, { deflate: true })],
      [
        'views_zip64.pt',
        makeZip([
          { name: 'archive/data.pkl', data: pickle },
          ...Object.entries(storages).map(([key, data]) => ({ name: `archive/data/${key}`, data })),
        ], { zip64: true }),
      ],
    ];
    for (const [name, bytes] of built) {
      const file = join(dir, name);
      await writeFile(file, bytes);
      seeds.push(file);
    }
    return seeds.map((path) => ({ path }));
  },
  async read(path) {
    const torchFile = await openTorchFile(path, LIMITS);
    try {
      for (const tensor of tensorsOf(torchFile.root)) {
        const { data } = await torchFile.readTensor(tensor);
        if (data.length !== tensor.numel) throw new Error(`${path}: read ${data.length} values for a tensor of ${tensor.numel}`);
      }
    } finally {
      await torchFile.close();
    }
  },
  mutators: {
    // The pickle, mutated at the byte level, inside a zip whose sizes and CRC agree again.
    pickleBytes: rebuilding((records, rng) =>
      records.map((r) => (isPickle(r) ? { ...r, data: pick(rng, pickleMutators)(r.data, rng) } : r)),
    ),
    // Storage bytes changed, everything else intact: a valid file with other values.
    storageBytes: rebuilding((records, rng) =>
      records.map((r) => {
        if (!isStorage(r) || r.data.length === 0) return r;
        const data = new Uint8Array(r.data);
        for (let k = 1 + randInt(rng, 8); k > 0; k--) data[randInt(rng, data.length)] = randInt(rng, 256);
        return { ...r, data };
      }),
    ),
    // A storage record made shorter, longer or empty (its tensors then disagree with it).
    storageSize: rebuilding((records, rng) => {
      const storages = records.filter(isStorage);
      if (storages.length === 0) return records;
      const victim = pick(rng, storages);
      const size = pick(rng, [0, 1, victim.data.length - 1, victim.data.length + 4, victim.data.length * 3]);
      const data = new Uint8Array(Math.max(0, size));
      data.set(victim.data.subarray(0, data.length));
      return records.map((r) => (r === victim ? { ...r, data } : r));
    }),
    // Records renamed, duplicated, dropped, or switched between stored and deflated.
    recordTable: rebuilding((records, rng) => {
      const i = randInt(rng, records.length);
      const r = records[i]!;
      switch (randInt(rng, 5)) {
        case 0:
          return [...records, { ...r }];
        case 1:
          return records.filter((_, k) => k !== i);
        case 2:
          return records.map((x, k) => (k === i ? { ...x, name: pick(rng, ['archive/data.pkl', 'archive/data/../data.pkl', `${x.name}0`, 'x/data.pkl', 'archive/byteorder']) } : x));
        case 3:
          return records.map((x) => ({ ...x, deflate: !x.deflate }));
        default:
          return records.map((x, k) => (k === i ? { ...x, statedSize: pick(rng, [0, x.data.length + 1, 0x7fffffff, 0xfffffffe]) } : x));
      }
    }),
    // A directory field (sizes, offsets, name and extra lengths, counts) set to an extreme.
    directoryField: (bytes, rng) => {
      const out = new Uint8Array(bytes);
      const view = new DataView(out.buffer);
      const headers: [number, number[]][] = [];
      for (let i = 0; i + 4 <= out.length; i++) {
        const signature = view.getUint32(i, true);
        if (signature === 0x02014b50) headers.push([i, [20, 24, 42, 28, 30, 32]]);
        else if (signature === 0x04034b50) headers.push([i, [18, 22, 26, 28]]);
        else if (signature === 0x06054b50) headers.push([i, [8, 10, 12, 16, 20]]);
        else if (signature === 0x06064b50) headers.push([i, [24, 32, 40, 48]]);
      }
      if (headers.length === 0) return GENERIC_MUTATORS.extremeInteger!(bytes, rng);
      const [at, fields] = pick(rng, headers);
      const field = pick(rng, fields);
      const wide = view.getUint32(at, true) === 0x06064b50;
      const short = [26, 28, 30, 32, 8, 10].includes(field) && !wide;
      if (at + field + (wide ? 8 : short ? 2 : 4) > out.length) return out;
      if (wide) view.setBigUint64(at + field, pick(rng, [0n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, BigInt(out.length)]), true);
      else if (short) view.setUint16(at + field, pick(rng, [0, 1, 0xffff, 0xfffe, 3]), true);
      else view.setUint32(at + field, pick(rng, [0, 1, 0xffffffff, 0xfffffffe, out.length, out.length - 22, 0x7fffffff]), true);
      return out;
    },
  },
  timeoutMs: 5000,
};
