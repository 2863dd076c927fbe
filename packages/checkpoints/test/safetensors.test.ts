import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointFormatError, MAX_HEADER_BYTES, decodeSafetensors, encodeSafetensors } from '../src/index.js';
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from '../src/node.js';
import { parseHeaderLength } from '../src/safetensors.js';
import { useTempDirs } from './helpers/temp-dir.js';

const tempDir = useTempDirs();

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** A file laid out by hand from the format description: u64 length, JSON, bytes. */
function handMade(header: string, data: number[]): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors', () => {
  it('decodes a file laid out by hand from the format description', () => {
    // F32 [2] = [1, -2] then U8 [3]; "__metadata__" anywhere in the object; no padding.
    const bytes = handMade(
      '{"b":{"dtype":"U8","shape":[3],"data_offsets":[8,11]},"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}',
      [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 7, 8, 9],
    );
    const { header, tensors } = decodeSafetensors('hand.safetensors', bytes);
    expect(header.metadata).toEqual({ format: 'pt' });
    expect([...tensors.get('a')!.data]).toEqual([1, -2]);
    expect([...tensors.get('b')!.data]).toEqual([7, 8, 9]);
    expect(tensors.get('b')!.shape).toEqual([3]);
  });

  it('writes an 8-byte-aligned, space-padded header and round-trips every dtype, scalars and empty tensors', async () => {
    const inputs = [
      { name: 'f64', dtype: 'F64' as const, shape: [2], data: Float64Array.of(Math.PI, -0) },
      { name: 'f32', dtype: 'F32' as const, shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) },
      { name: 'f16', dtype: 'F16' as const, shape: [1], data: Uint16Array.of(0x3c00) },
      { name: 'i64', dtype: 'I64' as const, shape: [1], data: BigInt64Array.of(-(2n ** 62n)) },
      { name: 'i32', dtype: 'I32' as const, shape: [], data: Int32Array.of(-5) },
      { name: 'u8', dtype: 'U8' as const, shape: [3], data: Uint8Array.of(1, 2, 3) },
      { name: 'empty', dtype: 'F32' as const, shape: [0, 4], data: new Float32Array(0) },
    ];
    const file = join(await tempDir(), 'all.safetensors');
    await writeSafetensors(file, inputs, { note: 'hello' });
    const raw = new Uint8Array(await readFile(file));
    const headerLength = Number(new DataView(raw.buffer).getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    expect(raw[8]).toBe(0x7b);
    expect(new TextDecoder().decode(raw.subarray(8, 8 + headerLength))).toMatch(/} *$/);
    const { header, tensors } = await readSafetensors(file);
    expect(header.metadata).toEqual({ note: 'hello' });
    for (const input of inputs) {
      const t = tensors.get(input.name)!;
      expect(t.dtype).toBe(input.dtype);
      expect([...t.shape]).toEqual(input.shape);
      expect(t.data).toEqual(input.data);
    }
  });

  it('refuses to encode data whose size does not match the shape', () => {
    expect(() => encodeSafetensors([{ name: 'x', dtype: 'F32', shape: [3], data: new Float32Array(2) }])).toThrow(/needs 12 bytes, got 8/);
  });

  describe('bad files: each error names the file and the problem', () => {
    const good = (): Uint8Array =>
      concat(encodeSafetensors([{ name: 'w', dtype: 'F32', shape: [4], data: Float32Array.of(1, 2, 3, 4) }], { k: 'v' }));

    async function expectError(bytes: Uint8Array, pattern: RegExp): Promise<void> {
      const file = join(await tempDir(), 'bad.safetensors');
      await writeFile(file, bytes);
      const error = await readSafetensors(file).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CheckpointFormatError);
      expect((error as CheckpointFormatError).file).toBe(file);
      expect((error as Error).message).toMatch(pattern);
    }

    it('truncated data', async () => {
      const bytes = good();
      await expectError(bytes.subarray(0, bytes.length - 3), /truncated: the header describes 16 bytes of tensor data but the file holds only 13/);
    });

    it('shorter than the length prefix', async () => {
      await expectError(Uint8Array.of(1, 2, 3), /truncated safetensors file: 3 bytes/);
    });

    it('header length beyond the file', async () => {
      const bytes = good();
      new DataView(bytes.buffer).setBigUint64(0, 10_000n, true);
      await expectError(bytes, /header length 10000 goes beyond the end of the file/);
    });

    it('header length over the 100 MB cap (checked from the prefix, before reading the header)', () => {
      const prefix = new Uint8Array(8);
      new DataView(prefix.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES + 8), true);
      expect(() => parseHeaderLength('big.safetensors', prefix, MAX_HEADER_BYTES + 1000)).toThrow(
        /big\.safetensors: safetensors header length 100000008 exceeds the 100000000-byte limit/,
      );
    });

    it('header not starting with "{"', async () => {
      await expectError(handMade(' {}', []), /does not start with '\{'/);
    });

    it('invalid JSON', async () => {
      await expectError(handMade('{"w": {', []), /header is not valid JSON/);
    });

    it('unknown dtype', async () => {
      await expectError(handMade('{"w":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}', [0]), /tensor "w": unsupported or unknown dtype "Q4"/);
    });

    it('offsets that do not match dtype and shape', async () => {
      await expectError(handMade('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', [0, 0, 0, 0]), /F32\[2\] needs 8 bytes but data_offsets span 4/);
    });

    it('a hole between tensors, overlapping tensors, trailing bytes', async () => {
      await expectError(
        handMade('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}', [1, 2, 3]),
        /1 bytes between tensor "a" and tensor "b" belong to no tensor/,
      );
      await expectError(
        handMade('{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', [1, 2]),
        /overlaps/,
      );
      await expectError(handMade('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', [1, 2]), /1 trailing bytes after the last tensor/);
    });

    it('metadata values that are not strings', async () => {
      await expectError(handMade('{"__metadata__":{"n":1}}', []), /__metadata__\["n"\] is not a string/);
    });

    it('reading just the header validates the same way', async () => {
      const file = join(await tempDir(), 'h.safetensors');
      const bytes = good();
      await writeFile(file, bytes.subarray(0, bytes.length - 1));
      await expect(readSafetensorsHeader(file)).rejects.toThrow(/h\.safetensors: truncated/);
    });
  });
});
