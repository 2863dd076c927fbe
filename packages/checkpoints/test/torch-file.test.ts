import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CheckpointFormatError,
  PyDict,
  PyTuple,
  TorchFile,
  TorchTensor,
  UnsafePickleError,
  bytesSource,
  toFloat32,
  type Dtype,
  type TensorData,
} from '../src/index.js';
import { openTorchFile, openZipFile, readTorchStateDict } from '../src/node.js';
import { makeZip } from './helpers/zip-writer.js';
import { useTempDirs } from './helpers/temp-dir.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'pt');
const tempDir = useTempDirs();

interface Expected {
  dtype: string;
  shape: number[];
  values: (number | string | boolean)[];
}

const TORCH_DTYPE: Record<string, Dtype> = {
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  float64: 'F64',
  int64: 'I64',
  int32: 'I32',
  bool: 'BOOL',
};

async function expectations(name: string): Promise<Record<string, Expected>> {
  return JSON.parse(await readFile(join(FIXTURES, `${name}.expected.json`), 'utf8'));
}

/** Compares read values with what torch reported (exactly: every dtype here round-trips through JSON). */
function expectMatches(actual: TensorData, expected: Expected, label: string): void {
  expect(actual.dtype, label).toBe(TORCH_DTYPE[expected.dtype]);
  expect([...actual.shape], label).toEqual(expected.shape);
  let values: unknown[];
  if (actual.dtype === 'I64') values = Array.from(actual.data as BigInt64Array, (v) => v.toString());
  else if (actual.dtype === 'BOOL') values = Array.from(actual.data as Uint8Array, (v) => v === 1);
  else if (actual.dtype === 'F64' || actual.dtype === 'I32') values = Array.from(actual.data as Float64Array | Int32Array);
  else values = Array.from(toFloat32(actual.dtype, actual.data));
  const wanted = expected.values.map((v) => (v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v === 'nan' ? NaN : v));
  if (actual.dtype === 'F32' || actual.dtype === 'F16' || actual.dtype === 'BF16') {
    // float32 values printed by Python as doubles: compare after rounding to float32.
    expect(values, label).toEqual(Array.from(Float32Array.from(wanted as number[])));
  } else {
    expect(values, label).toEqual(wanted);
  }
}

describe('TorchFile: state dict written by torch.save', () => {
  it.each(['state_dict.pt', 'state_dict_deflated.pt'])('reads every dtype, views and scalars of %s exactly', async (file) => {
    const expected = await expectations('state_dict');
    const tensors = await readTorchStateDict(join(FIXTURES, file));
    expect([...tensors.keys()]).toEqual(['fc.weight', 'fc.bias', 'half', 'bfloat', 'double', 'long', 'int32', 'mask', 'scalar', 'base', 'view']);
    for (const [name, data] of tensors) expectMatches(data, expected[name]!, name);
  });

  it('keeps views of one storage pointing at the same record, with offset and strides', async () => {
    const torchFile = await openTorchFile(join(FIXTURES, 'state_dict.pt'));
    try {
      const entries = new Map(torchFile.stateDict());
      const base = entries.get('base')!;
      const view = entries.get('view')!;
      expect(view.storage).toBe(base.storage);
      expect(view.storageOffset).toBe(6);
      expect([...view.shape]).toEqual([3, 3]);
      expect([...view.stride]).toEqual([2, 6]);
      expect(view.isContiguous).toBe(false);
      expect(base.isContiguous).toBe(true);
      // view = base[1:, ::2].T, so view[i][j] = base[1 + j][2 * i]
      const b = (await torchFile.readTensor(base)).data as Float32Array;
      const v = (await torchFile.readTensor(view)).data as Float32Array;
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(v[i * 3 + j]).toBe(b[(1 + j) * 6 + 2 * i]);
    } finally {
      await torchFile.close();
    }
  });

  it('reads a ZIP64 container (the layout of multi-GB checkpoints) like the plain one', async () => {
    const zip = await openZipFile(join(FIXTURES, 'state_dict.pt'));
    const records = [];
    for (const name of zip.entries.keys()) records.push({ name, data: await zip.read(name) });
    await zip.close();
    const file = join(await tempDir(), 'zip64.pt');
    await writeFile(file, makeZip(records, { zip64: true }));
    const reread = await readTorchStateDict(file);
    const original = await readTorchStateDict(join(FIXTURES, 'state_dict.pt'));
    expect(reread).toEqual(original);
  });
});

describe('TorchFile from bytes (no file system: the browser path)', () => {
  it.each(['state_dict.pt', 'state_dict_deflated.pt'])('reads %s from memory like from disk, inflating with DecompressionStream', async (file) => {
    const bytes = new Uint8Array(await readFile(join(FIXTURES, file)));
    const torchFile = await TorchFile.fromBytes(`memory:${file}`, bytes);
    try {
      expect(await torchFile.readStateDict()).toEqual(await readTorchStateDict(join(FIXTURES, file)));
    } finally {
      await torchFile.close();
    }
  });

  it('errors name the source, and a short buffer is reported as truncated', async () => {
    const bytes = new Uint8Array(await readFile(join(FIXTURES, 'state_dict.pt')));
    await expect(TorchFile.fromBytes('fetched.pt', bytes.subarray(0, bytes.length - 100))).rejects.toThrow(/^fetched\.pt: (not a zip file|truncated)/);
    await expect(bytesSource('b', bytes.subarray(0, 10)).read(8, 4)).rejects.toThrow('b: truncated: wanted 4 bytes at offset 8, the data ended after 2');
  });

  it('a deflated record that inflates past its stated size fails (zip bomb guard) on both inflaters', async () => {
    const zip = await openZipFile(join(FIXTURES, 'state_dict_deflated.pt'));
    const entry = [...zip.entries.values()].find((e) => e.method === 8)!;
    const raw = new Uint8Array(await readFile(join(FIXTURES, 'state_dict_deflated.pt')));
    await zip.close();
    const nameLength = new DataView(raw.buffer).getUint16(entry.localHeaderOffset + 26, true);
    const extraLength = new DataView(raw.buffer).getUint16(entry.localHeaderOffset + 28, true);
    const start = entry.localHeaderOffset + 30 + nameLength + extraLength;
    const deflated = raw.subarray(start, start + entry.compressedSize);
    const { inflateRawWithStreams } = await import('../src/index.js');
    const { inflateRawZlib } = await import('../src/node.js');
    expect((await inflateRawWithStreams(deflated, entry.uncompressedSize)).byteLength).toBe(entry.uncompressedSize);
    await expect(inflateRawWithStreams(deflated, entry.uncompressedSize - 1)).rejects.toThrow(/inflates to more than/);
    expect(() => inflateRawZlib(deflated, entry.uncompressedSize - 1)).toThrow();
  });
});

describe('TorchFile: G.pt-style checkpoint {G, G_ema, optim}', () => {
  it('reads G and G_ema state dicts in state-dict order with the values torch saved', async () => {
    const expected = await expectations('gpt_checkpoint');
    const torchFile = await openTorchFile(join(FIXTURES, 'gpt_checkpoint.pt'));
    try {
      expect(torchFile.root).toBeInstanceOf(PyDict);
      expect([...(torchFile.root as PyDict).keys()]).toEqual(['G', 'G_ema', 'optim']);
      for (const key of ['G', 'G_ema']) {
        const entries = torchFile.stateDict([key]);
        expect(entries.map(([n]) => n)).toEqual([
          'frequencies',
          'ln_in.weight',
          'ln_in.bias',
          'blocks.0.weight',
          'blocks.0.bias',
          'blocks.1.weight',
          'blocks.1.bias',
          'out.weight',
        ]);
        for (const [name, tensor] of entries) expectMatches(await torchFile.readTensor(tensor), expected[`${key}/${name}`]!, `${key}/${name}`);
      }
      // The state dict's `_metadata` arrives through BUILD as an attribute of the OrderedDict.
      const g = (torchFile.root as PyDict).get('G') as PyDict;
      expect(g.ordered).toBe(true);
      expect((g.attributes.get('_metadata') as PyDict).get('ln_in')).toBeInstanceOf(PyDict);
    } finally {
      await torchFile.close();
    }
  });

  it('decodes the AdamW state: integer keys, tuples, floats, booleans, None and tensors', async () => {
    const expected = await expectations('gpt_checkpoint');
    const torchFile = await openTorchFile(join(FIXTURES, 'gpt_checkpoint.pt'));
    try {
      const optim = (torchFile.root as PyDict).get('optim') as PyDict;
      const state = optim.get('state') as PyDict;
      expect([...state.keys()]).toEqual([0, 1, 2, 3, 4, 5, 6]);
      const group = (optim.get('param_groups') as PyDict[])[0]!;
      expect(group.get('lr')).toBe(4e-4);
      expect(group.get('weight_decay')).toBe(0.1);
      expect(group.get('amsgrad')).toBe(false);
      expect(group.get('betas')).toBeInstanceOf(PyTuple);
      expect((group.get('betas') as PyTuple).items).toEqual([0.9, 0.999]);
      expect(group.get('params')).toEqual([0, 1, 2, 3, 4, 5, 6]);
      for (const [index, entry] of state) {
        for (const [name, tensor] of entry as PyDict) {
          expect(tensor).toBeInstanceOf(TorchTensor);
          expectMatches(await torchFile.readTensor(tensor as TorchTensor), expected[`optim/state/${index}/${name}`]!, `${index}/${name}`);
        }
      }
    } finally {
      await torchFile.close();
    }
  });

  it('names the missing key or the non-tensor value when asked for a state dict that is not one', async () => {
    const torchFile = await openTorchFile(join(FIXTURES, 'gpt_checkpoint.pt'));
    try {
      expect(() => torchFile.stateDict(['EMA'])).toThrow(/gpt_checkpoint\.pt: no key "EMA" at the top level/);
      expect(() => torchFile.stateDict(['optim'])).toThrow(/\["optim"\]\["state"\] is not a tensor/);
    } finally {
      await torchFile.close();
    }
  });
});

describe('TorchFile: bad input', () => {
  it('refuses a pickle that names an unknown global, without calling it, and names the global and file', async () => {
    const file = join(FIXTURES, 'unsafe_global.pt');
    const error = await openTorchFile(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsafePickleError);
    expect((error as UnsafePickleError).globalName).toBe('posix.system');
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toMatch(/'posix\.system'.*not on the allow-list.*nothing from the file was executed/);
    // The other fixtures are still readable after the refusal.
    expect((await readTorchStateDict(join(FIXTURES, 'state_dict.pt'))).size).toBe(11);
  });

  it('says that the legacy (pre-zip) format is unsupported', async () => {
    await expect(openTorchFile(join(FIXTURES, 'legacy.pt'))).rejects.toThrow(/legacy\.pt: legacy torch\.save format/);
  });

  it('reports a truncated file by name', async () => {
    const bytes = await readFile(join(FIXTURES, 'state_dict.pt'));
    const file = join(await tempDir(), 'truncated.pt');
    await writeFile(file, bytes.subarray(0, bytes.length - 100));
    const error = await openTorchFile(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointFormatError);
    expect((error as CheckpointFormatError).file).toBe(file);
    expect((error as Error).message).toMatch(/not a zip file|truncated/);
  });

  it('detects a corrupted pickle through the zip CRC', async () => {
    const bytes = new Uint8Array(await readFile(join(FIXTURES, 'state_dict.pt')));
    const zip = await openZipFile(join(FIXTURES, 'state_dict.pt'));
    const entry = zip.entry('state_dict/data.pkl');
    await zip.close();
    const dir = await tempDir();
    const file = join(dir, 'corrupt.pt');
    const nameLength = new DataView(bytes.buffer).getUint16(entry.localHeaderOffset + 26, true);
    bytes[entry.localHeaderOffset + 30 + nameLength + 40]! ^= 0xff;
    await writeFile(file, bytes);
    await expect(openTorchFile(file)).rejects.toThrow(/corrupt\.pt: zip record "state_dict\/data\.pkl": CRC-32 mismatch/);
    // A copy of the intact file next to it still reads.
    await copyFile(join(FIXTURES, 'state_dict.pt'), join(dir, 'ok.pt'));
    expect((await readTorchStateDict(join(dir, 'ok.pt'))).size).toBe(11);
  });

  it('reports a storage record whose size does not match its element count', async () => {
    const zip = await openZipFile(join(FIXTURES, 'state_dict.pt'));
    const records = [];
    for (const name of zip.entries.keys()) {
      const data = await zip.read(name);
      records.push({ name, data: name === 'state_dict/data/0' ? data.subarray(0, data.length - 4) : data });
    }
    await zip.close();
    const file = join(await tempDir(), 'short-storage.pt');
    await writeFile(file, makeZip(records));
    await expect(openTorchFile(file)).rejects.toThrow(/short-storage\.pt: storage "state_dict\/data\/0" holds 44 bytes, but 12 F32 elements need 48/);
  });
});
