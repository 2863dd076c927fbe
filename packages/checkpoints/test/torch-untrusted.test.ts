// Hostile .pt files: one regression test per class of issue 19 (and what an adversary
// tries next) for the pickle machine, the tensor checks and the zip reader. Each hostile
// input must end in a CheckpointFormatError naming the file, quickly and without a large
// allocation (the test timeout catches a super-linear case: the old LONG4 decoder took
// 24 s on 200 kB), or in the data Python would give.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { inflateRawSync } from 'node:zlib';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointFormatError, MAX_INT_DIGITS, MAX_LONG_BYTES, PyCallable, PyDict, TorchFile, unpickle, type PyValue } from '../src/index.js';
import { openTorchFile } from '../src/node.js';
import { decodeLong } from '../src/pytorch/pickle.js';
import { crc32 } from '../src/pytorch/zip-reader.js';
import { makeZip } from './helpers/zip-writer.js';
import { f32Bytes, int, pickleBytes, stateDictPickle, str, torchFileBytes, tuple, zipOf } from './helpers/torch-builder.js';

const FILE = 'hostile.pt';
const noGlobals = { file: FILE, globals: new Map() };

/** The error `promise` rejects with (fails the test if it resolves). */
async function refusal(promise: Promise<unknown>): Promise<CheckpointFormatError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a refusal, the input was accepted');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CheckpointFormatError);
  expect((error as CheckpointFormatError).file).toBe(FILE);
  expect((error as Error).message.startsWith(`${FILE}: `)).toBe(true);
  return error as CheckpointFormatError;
}

function refusalSync(run: () => unknown): CheckpointFormatError {
  let error: unknown;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(CheckpointFormatError);
  expect((error as Error).message.startsWith(`${FILE}: `)).toBe(true);
  return error as CheckpointFormatError;
}

/** Opens a .pt held in memory and reads every tensor of its top-level state dict. */
async function readAll(bytes: Uint8Array, options = {}): Promise<Map<string, unknown>> {
  const torchFile = await TorchFile.fromBytes(FILE, bytes, options);
  try {
    return await torchFile.readStateDict();
  } finally {
    await torchFile.close();
  }
}

describe('pickle: time linear in the input', () => {
  it('decodes LONG bytes through hex, equal to a byte-by-byte reference, for every length up to the limit', () => {
    let state = 12345;
    const rand = () => (state = (state * 1103515245 + 12345) >>> 0) >>> 24;
    for (const length of [1, 2, 7, 8, 9, 33, 255, MAX_LONG_BYTES]) {
      const bytes = Uint8Array.from({ length }, rand);
      let reference = 0n;
      for (let i = length - 1; i >= 0; i--) reference = reference * 256n + BigInt(bytes[i]!);
      if (bytes[length - 1]! & 0x80) reference -= 256n ** BigInt(length);
      const decoded = decodeLong(bytes);
      expect(BigInt(decoded), `length ${length}`).toBe(reference);
      expect(typeof decoded).toBe(Number.isSafeInteger(Number(reference)) && BigInt(Number(reference)) === reference ? 'number' : 'bigint');
    }
  });

  it('refuses a 200 kB LONG4 at once (it took 24 s), and a 4301-digit text INT; accepts 4300 digits exactly', () => {
    const long4 = pickleBytes([0x80, 2, 0x8b], [0x40, 0x0d, 0x03, 0x00], new Uint8Array(200_000).fill(0x5a), '.');
    expect(refusalSync(() => unpickle(long4, noGlobals)).problem).toMatch(/LONG of 200000 bytes .* exceeds the 1786-byte limit/);
    const digits = '7'.repeat(MAX_INT_DIGITS);
    expect(unpickle(pickleBytes(`I${digits}\n.`), noGlobals)).toBe(BigInt(digits));
    expect(refusalSync(() => unpickle(pickleBytes(`L${digits}7L\n.`), noGlobals)).problem).toMatch(/4300-digit limit/);
  });

  it('APPENDS, SETITEMS and TUPLE of 300k items build without overflowing the stack', () => {
    const n = 300_000;
    const items = new Uint8Array(2 * n).fill(0x4b); // BININT1 k (k = 0x4b for every item)
    const list = unpickle(pickleBytes([0x80, 2], ']', '(', items, 'e.'), noGlobals) as number[];
    expect(list.length).toBe(2 * n / 2);
    expect(list.every((v) => v === 0x4b)).toBe(true);
    const pairs = new Uint8Array(7 * n); // BININT i, BININT1 1
    for (let i = 0; i < n; i++) pairs.set([0x4a, i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff, 0, 0x4b, 1], 7 * i);
    const dict = unpickle(pickleBytes([0x80, 2], '}', '(', pairs, 'u.'), noGlobals) as PyDict;
    expect(dict.size).toBe(n);
    expect(dict.get(n - 1)).toBe(1);
    const tupleValue = unpickle(pickleBytes([0x80, 2], '(', items, 't.'), noGlobals) as { items: unknown[] };
    expect(tupleValue.items.length).toBe(n);
  });

  it('nests 200k lists deep without recursion, and a list appended to itself (legal pickle) comes back cyclic', () => {
    const depth = 200_000;
    const nested = unpickle(pickleBytes([0x80, 2], new Uint8Array(depth).fill(0x5d), new Uint8Array(depth - 1).fill(0x61), '.'), noGlobals);
    let level = 1;
    for (let value = nested as PyValue[]; value.length > 0; value = value[0] as PyValue[]) level++;
    expect(level).toBe(depth);
    const cyclic = unpickle(pickleBytes([0x80, 2], ']q\x00h\x00a.'), noGlobals) as PyValue[];
    expect(cyclic[0]).toBe(cyclic);
  });
});

describe('pickle: memo, lengths and strings', () => {
  it('a memo id put twice keeps the later value (as Python does); a GET of an id never put is refused', () => {
    expect(unpickle(pickleBytes([0x80, 2], 'K\x01q\x000K\x02q\x000h\x00.'), noGlobals)).toBe(2);
    expect(refusalSync(() => unpickle(pickleBytes([0x80, 2], 'K\x01q\x00j\x00\x00\x00\x01.'), noGlobals)).problem).toMatch(/memo index 16777216 used before it was set/);
    expect(refusalSync(() => unpickle(pickleBytes('g99\n.'), noGlobals)).problem).toMatch(/memo index 99/);
  });

  it('lengths past the data (u32, u64 up to 2^64-1, negative BINSTRING) are truncation errors, not allocations', () => {
    const cases = [
      pickleBytes([0x80, 2, 0x58, 0xff, 0xff, 0xff, 0xff], 'ab.'), // BINUNICODE 4 GiB
      pickleBytes([0x80, 4, 0x8d], new Uint8Array(8).fill(0xff), 'ab.'), // BINUNICODE8 2^64-1
      pickleBytes([0x80, 4, 0x8e, 0, 0, 0, 0, 0, 0, 0x20, 0], '.'), // BINBYTES8 2^53
      pickleBytes([0x80, 2, 0x54, 0xff, 0xff, 0xff, 0xff], 'ab.'), // BINSTRING -1
      pickleBytes([0x80, 2, 0x42, 0xff, 0xff, 0xff, 0x7f], '.'), // BINBYTES 2 GiB
    ];
    for (const bytes of cases) expect(refusalSync(() => unpickle(bytes, noGlobals)).problem).toMatch(/truncated|runs past the end/);
  });

  it('an error thrown inside an allowed callable still names the file', () => {
    const globals = new Map([['m.f', new PyCallable('m.f', () => (null as unknown as { x: number }).x)]]); // TypeError inside
    const error = refusalSync(() => unpickle(pickleBytes([0x80, 2], 'cm\nf\n)R.'), { file: FILE, globals }));
    expect(error.cause).toBeInstanceOf(TypeError);
  });
});

describe('TorchFile: allowed globals refuse wrong data', () => {
  const pt = (pickle: Uint8Array, storages: Record<string, Uint8Array> = {}) => torchFileBytes(pickle, storages);

  it('_codecs.encode keeps latin1 bytes exactly and refuses characters above U+00FF instead of truncating them', async () => {
    const encode = (text: string) => pickleBytes([0x80, 2], 'ccollections\nOrderedDict\n)R', str('b'), 'c_codecs\nencode\n', str(text), str('latin1'), [0x86], 'Rs.');
    const torchFile = await TorchFile.fromBytes(FILE, pt(encode('\u00ff\u0000A')));
    expect((torchFile.root as PyDict).get('b')).toEqual(Uint8Array.of(0xff, 0, 0x41));
    await torchFile.close();
    expect((await refusal(TorchFile.fromBytes(FILE, pt(encode('\u0100'))))).problem).toMatch(/U\+0100 at position 0 is not latin1/);
  });

  it('OrderedDict refuses unhashable keys, and a prototype name is an ordinary key (no inherited lookup)', async () => {
    const unhashable = pickleBytes([0x80, 2], 'ccollections\nOrderedDict\n', ']', ']', 'N', [0x86], 'a', [0x85], 'R.'); // OrderedDict([([], None)])
    expect((await refusal(TorchFile.fromBytes(FILE, pt(unhashable)))).problem).toMatch(/list of \(key, value\) pairs/);
    const protoKey = stateDictPickle([{ name: '__proto__', key: '0', numel: 2, shape: [2], stride: [1] }]);
    const read = await readAll(pt(protoKey, { '0': f32Bytes(1, 2) }));
    expect([...read.keys()]).toEqual(['__proto__']);
    const torchFile = await TorchFile.fromBytes(FILE, pt(protoKey, { '0': f32Bytes(1, 2) }));
    expect(() => torchFile.stateDict(['constructor'])).toThrow(/no key "constructor"/);
    await torchFile.close();
  });
});

describe('TorchFile: tensor sizes checked against storage and limits before allocating', () => {
  const one = { '0': f32Bytes(7) };

  it('a 1-element storage viewed as 32768x32768 (stride 0) is refused at open, naming the limit', async () => {
    const pickle = stateDictPickle([{ name: 'w', key: '0', numel: 1, shape: [32768, 32768], stride: [0, 0] }]);
    const error = await refusal(TorchFile.fromBytes(FILE, torchFileBytes(pickle, one)));
    expect(error.problem).toMatch(/needs 4294967296 bytes, more than the 2147483648-byte limit \(option maxBytes\)/);
  });

  it('a small stride-0 view (torch.expand) reads as its copies; maxBytes and maxTotalBytes are what the caller allows', async () => {
    const pickle = stateDictPickle([
      { name: 'a', key: '0', numel: 1, shape: [3, 4], stride: [0, 0] },
      { name: 'b', key: '0', numel: 1, shape: [4], stride: [0] },
    ]);
    const read = await readAll(torchFileBytes(pickle, one));
    expect(Array.from((read.get('a') as { data: Float32Array }).data)).toEqual(new Array(12).fill(7));
    expect((await refusal(readAll(torchFileBytes(pickle, one), { maxBytes: 47 }))).problem).toMatch(/needs 48 bytes, more than the 47-byte limit/);
    expect((await refusal(readAll(torchFileBytes(pickle, one), { maxTotalBytes: 63 }))).problem).toMatch(/64 bytes together, more than the 63-byte limit \(option maxTotalBytes\)/);
  });

  it('many views of one element cannot promise more than maxTotalBytes together', async () => {
    const views = Array.from({ length: 40 }, (_, i) => ({ name: `v${i}`, key: '0', numel: 1, shape: [1024, 1024], stride: [0, 0] }));
    expect((await refusal(readAll(torchFileBytes(stateDictPickle(views), one), { maxTotalBytes: 64 * 1024 ** 2 }))).problem).toMatch(/option maxTotalBytes/);
  });

  it('negative, overflowing and out-of-storage offsets, strides and shapes are refused', async () => {
    const four = { '0': f32Bytes(1, 2, 3, 4) };
    const cases: [Parameters<typeof stateDictPickle>[0][number], RegExp][] = [
      [{ name: 'w', key: '0', numel: 4, offset: -1, shape: [2], stride: [1] }, /storage offset is not a non-negative integer/],
      [{ name: 'w', key: '0', numel: 4, offset: 2n ** 60n, shape: [2], stride: [1] }, /storage offset is not a non-negative integer/],
      [{ name: 'w', key: '0', numel: 4, shape: [2, 2], stride: [2n ** 52n, 1] }, /reaches element/],
      [{ name: 'w', key: '0', numel: 4, shape: [2, -2], stride: [1, 1] }, /size is not a tuple of non-negative integers/],
      [{ name: 'w', key: '0', numel: 4, offset: 3, shape: [2], stride: [1] }, /reaches element 4 of a 4-element storage/],
      [{ name: 'w', key: '0', numel: 4, shape: [2 ** 30, 2 ** 30, 2 ** 30], stride: [0, 0, 0] }, /needs .* bytes, more than/],
      [{ name: 'w', key: '0', numel: 4, shape: new Array(65).fill(1), stride: new Array(65).fill(1) }, /65 dimensions, more than 64/],
    ];
    for (const [spec, message] of cases) expect((await refusal(readAll(torchFileBytes(stateDictPickle([spec]), four)))).problem).toMatch(message);
  });

  it('storage keys that are paths, missing records, and one storage with two sizes are refused', async () => {
    const four = { '0': f32Bytes(1, 2, 3, 4) };
    const path = stateDictPickle([{ name: 'w', key: '../data.pkl', numel: 1, shape: [1], stride: [1] }]);
    expect((await refusal(readAll(torchFileBytes(path, four)))).problem).toMatch(/storage key "..\/data.pkl" is not a plain record name/);
    const missing = stateDictPickle([{ name: 'w', key: '7', numel: 1, shape: [1], stride: [1] }]);
    expect((await refusal(readAll(torchFileBytes(missing, four)))).problem).toMatch(/storage record "archive\/data\/7" is missing/);
    const twoSizes = stateDictPickle([
      { name: 'a', key: '0', numel: 4, shape: [4], stride: [1] },
      { name: 'b', key: '0', numel: 1, shape: [1], stride: [1] },
    ]);
    expect((await refusal(readAll(torchFileBytes(twoSizes, four)))).problem).toMatch(/referenced as 4 F32 and as 1 F32 elements/);
  });
});

describe('ZipReader: a directory that lies', () => {
  const good = () => torchFileBytes(stateDictPickle([{ name: 'w', key: '0', numel: 2, shape: [2], stride: [1] }]), { '0': f32Bytes(1, 2) });
  const eocdOf = (bytes: Uint8Array) => bytes.length - 22;
  const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  it('a 1 MB deflated data.pkl stating 1 GiB is refused before inflating', async () => {
    const zeros = new Uint8Array(1024 ** 2);
    const bytes = zipOf([{ name: 'archive/data.pkl', data: zeros, deflate: true, statedSize: 1024 ** 3 }]);
    expect(bytes.length).toBeLessThan(10_000);
    expect((await refusal(TorchFile.fromBytes(FILE, bytes))).problem).toMatch(/deflated record "archive\/data.pkl" states 1073741824 bytes, more than its \d+ compressed bytes can inflate to/);
    let state = 1;
    const xorshift = () => ((state ^= state << 13), (state ^= state >>> 17), (state ^= state << 5), state & 0xff);
    const noise = Uint8Array.from({ length: 600_000 }, xorshift); // barely compresses
    const plausible = zipOf([{ name: 'archive/data.pkl', data: noise, deflate: true, statedSize: 512 * 1024 ** 2 }]);
    expect((await refusal(TorchFile.fromBytes(FILE, plausible, { maxBytes: 2 ** 40 }))).problem).toMatch(/states 536870912 bytes, more than the 268435456-byte limit/);
    expect((await refusal(TorchFile.fromBytes(FILE, plausible, { maxRecordBytes: 1024 ** 2 }))).problem).toMatch(/more than the 1048576-byte limit/);
  });

  it('a deflated storage inflates once however many tensors view it', async () => {
    const views = Array.from({ length: 200 }, (_, i) => ({ name: `v${i}`, key: '0', numel: 65536, shape: [256, 256], stride: [256, 1] }));
    const pickle = stateDictPickle(views);
    const bytes = torchFileBytes(pickle, { '0': new Uint8Array(4 * 65536) }, { deflate: true });
    const inflated: number[] = [];
    const countingInflater = (data: Uint8Array, size: number) => (inflated.push(size), inflateRawSync(data, { maxOutputLength: Math.max(size, 1) }));
    const read = await readAll(bytes, { inflateRaw: countingInflater });
    expect(read.size).toBe(200);
    expect(inflated.sort((a, b) => a - b)).toEqual([pickle.length, 4 * 65536].sort((a, b) => a - b)); // data.pkl once, the storage once
  });

  it('a short zip64 extra field, a stored size mismatch and an impossible entry count are clean errors', async () => {
    const records = [{ name: 'archive/data.pkl', data: pickleBytes([0x80, 2], 'N.') }];
    const zip64 = makeZip(records, { zip64: true });
    const directory = zip64.length - 22 - 20 - 56 - (46 + 'archive/data.pkl'.length + 28);
    view(zip64).setUint16(directory + 30, 12, true); // extra data shrinks to 12 bytes; the field inside still says 24
    expect((await refusal(TorchFile.fromBytes(FILE, zip64))).problem).toMatch(/extra field 1 of 24 bytes runs past the 12-byte extra data|zip64 extra field too short/);

    const stored = good();
    const firstEntry = view(stored).getUint32(eocdOf(stored) + 16, true);
    view(stored).setUint32(firstEntry + 24, 1 << 30, true);
    expect((await refusal(TorchFile.fromBytes(FILE, stored))).problem).toMatch(/stored record "archive\/data.pkl" states 1073741824 bytes but holds/);

    const counted = good();
    view(counted).setUint16(eocdOf(counted) + 10, 0xfffe, true);
    expect((await refusal(TorchFile.fromBytes(FILE, counted))).problem).toMatch(/cannot hold the 65534 entries/);
  });

  it('duplicate names, and entries pointing at another record or past the file, are refused', async () => {
    const data = pickleBytes([0x80, 2], 'N.');
    expect((await refusal(TorchFile.fromBytes(FILE, zipOf([{ name: 'a/data.pkl', data }, { name: 'a/data.pkl', data }])))).problem).toMatch(/appears twice/);

    const bytes = good();
    const directory = view(bytes).getUint32(eocdOf(bytes) + 16, true);
    const second = directory + 46 + 'archive/data.pkl'.length; // the storage's entry
    view(bytes).setUint32(second + 42, 0, true); // point it at data.pkl's local header
    expect((await refusal(readAll(bytes))).problem).toMatch(/the local header at byte 0 names another record/);

    const past = good();
    view(past).setUint32(view(past).getUint32(eocdOf(past) + 16, true) + 42, past.length - 10, true);
    expect((await refusal(TorchFile.fromBytes(FILE, past))).problem).toMatch(/lies beyond the end of the file/);
  });

  it('a deflated record whose data inflates past its stated size stops at the stated size', async () => {
    const real = new Uint8Array(100_000);
    const bytes = zipOf([{ name: 'archive/data.pkl', data: real, deflate: true, statedSize: 1000 }]);
    expect((await refusal(TorchFile.fromBytes(FILE, bytes))).problem).toMatch(/cannot inflate/);
  });

  it('crc32 gives the standard check value of "123456789"', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
});

describe('openTorchFile on disk', () => {
  it('refuses a FIFO without blocking, naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gpt-fifo-'));
    try {
      const fifo = join(dir, 'pipe.pt');
      execFileSync('mkfifo', [fifo]);
      const error = await openTorchFile(fifo).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CheckpointFormatError);
      expect((error as Error).message).toContain(fifo);
      const file = join(dir, 'ok.pt');
      await writeFile(file, torchFileBytes(stateDictPickle([{ name: 'w', key: '0', numel: 1, shape: [], stride: [] }]), { '0': f32Bytes(3) }));
      const torchFile = await openTorchFile(file, { maxBytes: 4 });
      expect(Array.from((await torchFile.readStateDict()).get('w')!.data as Float32Array)).toEqual([3]);
      await torchFile.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// Keeps the helpers honest: a tuple/int built here decodes to what it says.
it('torch-builder: ints and tuples decode to their values', () => {
  const value = unpickle(pickleBytes([0x80, 2], tuple(int(-5), int(2n ** 40n), int(-(2n ** 63n))), '.'), noGlobals) as { items: unknown[] };
  expect(value.items).toEqual([-5, 2 ** 40, -(2n ** 63n)]);
});
