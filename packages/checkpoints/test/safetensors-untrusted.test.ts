// Hostile safetensors files: one regression test per class of issue 19. A hostile file
// ends in a CheckpointFormatError naming it (before any large allocation), and names that
// are also JavaScript prototype keys are data like any other name.
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointFormatError, decodeSafetensors, encodeSafetensors } from '../src/index.js';
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from '../src/node.js';
import { useTempDirs } from './helpers/temp-dir.js';

const tempDir = useTempDirs();
const FILE = 'hostile.safetensors';

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  chunks.reduce((at, c) => (out.set(c, at), at + c.byteLength), 0);
  return out;
}

/** u64 length prefix (any value, also a lie), the header text, then `data`. */
function fileOf(header: string, data: Uint8Array = new Uint8Array(0), statedLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, statedLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function refusal(run: () => unknown): CheckpointFormatError {
  let error: unknown;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(CheckpointFormatError);
  expect((error as CheckpointFormatError).file).toBe(FILE);
  return error as CheckpointFormatError;
}

describe('safetensors: names are data', () => {
  it('tensors named __proto__, constructor and toString round-trip through the writer and both readers', async () => {
    const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '__metadata__x'];
    const inputs = names.map((name, i) => ({ name, dtype: 'F32' as const, shape: [2], data: Float32Array.of(i, -i) }));
    const metadata = JSON.parse('{"__proto__": "p", "constructor": "c", "note": "n"}') as Record<string, string>;
    const file = join(await tempDir(), 'proto.safetensors');
    await writeSafetensors(file, inputs, metadata);
    const header = JSON.parse(new TextDecoder().decode((await readFile(file)).subarray(8)).trim().replace(/[^}]*$/, ''));
    expect(Object.keys(header)).toEqual(['__metadata__', ...names]);
    const { tensors, header: read } = await readSafetensors(file);
    expect([...tensors.keys()]).toEqual(names);
    names.forEach((name, i) => expect(Array.from(tensors.get(name)!.data as Float32Array), name).toEqual([i, -i]));
    expect(Object.entries(read.metadata)).toEqual([
      ['__proto__', 'p'],
      ['constructor', 'c'],
      ['note', 'n'],
    ]);
    const decoded = decodeSafetensors(FILE, new Uint8Array(await readFile(file)));
    expect([...decoded.tensors.keys()]).toEqual(names);
  });

  it('a lookup never returns something inherited: metadata.toString and header entries of absent names are undefined', () => {
    const { header } = decodeSafetensors(FILE, concat(encodeSafetensors([], { a: 'b' })));
    expect(header.metadata.toString).toBeUndefined();
    expect(header.metadata.constructor).toBeUndefined();
    expect(header.byName.get('constructor')).toBeUndefined();
  });
});

describe('safetensors: sizes and offsets that lie', () => {
  it('a header length of 2^53, 2^63 or 2^64-1 is refused from the prefix, naming the file', () => {
    for (const length of [2n ** 53n, 2n ** 63n, 2n ** 64n - 1n]) {
      expect(refusal(() => decodeSafetensors(FILE, fileOf('{}', new Uint8Array(0), length))).problem).toMatch(/header length \d+ goes beyond the end of the file/);
    }
  });

  it('offsets beyond 2^53, shapes whose product overflows, and dtypes that disagree with the byte count', () => {
    const cases: [string, RegExp][] = [
      ['{"a":{"dtype":"U8","shape":[1],"data_offsets":[9007199254740993,9007199254740994]}}', /data_offsets .* is not a pair of non-negative integers/],
      ['{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}', /needs \d+ bytes but data_offsets span 0/],
      ['{"a":{"dtype":"F32","shape":[9007199254740991,2],"data_offsets":[0,0]}}', /needs .* bytes but data_offsets span 0/],
      ['{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,4]}}', /F64\[1\] needs 8 bytes but data_offsets span 4/],
      ['{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', /shape \[-1\] is not a list of non-negative integers/],
      ['{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}', /end before they begin/],
      ['{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}', /unknown dtype/],
    ];
    for (const [header, message] of cases) expect(refusal(() => decodeSafetensors(FILE, fileOf(header, new Uint8Array(4)))).problem).toMatch(message);
  });

  it('overlapping and aliased data_offsets (two tensors on the same bytes) are refused', () => {
    const aliased = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    expect(refusal(() => decodeSafetensors(FILE, fileOf(aliased, new Uint8Array(4)))).problem).toMatch(/overlaps/);
    const overlapping = '{"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"b":{"dtype":"U8","shape":[3],"data_offsets":[2,5]}}';
    expect(refusal(() => decodeSafetensors(FILE, fileOf(overlapping, new Uint8Array(5)))).problem).toMatch(/overlaps/);
  });

  it('maxBytes refuses a file whose tensors need more, from the header, before reading them', async () => {
    const bytes = concat(encodeSafetensors([{ name: 'w', dtype: 'F32', shape: [256], data: new Float32Array(256) }]));
    expect(refusal(() => decodeSafetensors(FILE, bytes, { maxBytes: 1023 })).problem).toMatch(/more than 1023 bytes \(the limit, option maxBytes\)/);
    expect(decodeSafetensors(FILE, bytes, { maxBytes: 1024 }).tensors.get('w')!.data.length).toBe(256);
    const file = join(await tempDir(), 'big.safetensors');
    await writeFile(file, bytes);
    await expect(readSafetensors(file, { maxBytes: 1000 })).rejects.toThrow(`${file}: the tensors need more than 1000 bytes`);
    await expect(readSafetensorsHeader(file, { maxBytes: 1000 })).rejects.toBeInstanceOf(CheckpointFormatError);
  });

  it('a deeply nested header is a JSON error naming the file, not a stack overflow', () => {
    const deep = `{"a":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
    expect(refusal(() => decodeSafetensors(FILE, fileOf(deep))).problem).toMatch(/header entry is not an object|not valid JSON/);
  });

  it('the writer refuses non-string metadata and bad shapes instead of writing a file the reader refuses', () => {
    expect(() => encodeSafetensors([], { n: 1 as unknown as string })).toThrow(/__metadata__\["n"\] must be a string/);
    expect(() => encodeSafetensors([{ name: 'a', dtype: 'F32', shape: [-1], data: new Float32Array(0) }])).toThrow(/shape \[-1\]/);
    expect(() => decodeSafetensors(FILE, null as unknown as Uint8Array)).toThrow(/hostile\.safetensors.*expected a Uint8Array, got null/);
  });
});

describe('safetensors files that are not regular files', () => {
  it('a FIFO and a directory are refused without blocking, naming them', async () => {
    const dir = await tempDir();
    const fifo = join(dir, 'pipe.safetensors');
    execFileSync('mkfifo', [fifo]);
    for (const read of [readSafetensors, readSafetensorsHeader]) {
      const error = await read(fifo).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CheckpointFormatError);
      expect((error as Error).message).toMatch(/pipe\.safetensors: safetensors file is a FIFO \(named pipe\), not a regular file/);
    }
    const folder = join(dir, 'folder.safetensors');
    await mkdir(folder);
    await expect(readSafetensors(folder)).rejects.toBeInstanceOf(CheckpointFormatError);
  });
});
