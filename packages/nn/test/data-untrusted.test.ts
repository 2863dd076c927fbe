// Dataset files from elsewhere (issue 19): whatever an IDX file or CIFAR-10 batch holds,
// or whatever kind of file it is, reading ends in the right data or a DataFileError naming
// it, without reading, inflating or allocating beyond what the header promises.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCifar10, parseIdx } from '../src/data.js';
import { DataFileError, loadCifar10, loadMnist, readCifar10Batch, readIdx } from '../src/data-node.js';
import { cifarBatchBytes, idxBytes, patternBytes, writeCifarFolder, writeMnistSplit } from './format-writers.js';

const root = mkdtempSync(join(tmpdir(), 'gpt-nn-untrusted-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let folders = 0;
const freshDir = () => {
  const dir = join(root, `d${folders++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

async function dataFileError(promise: Promise<unknown>, file: string, message: RegExp | string): Promise<DataFileError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DataFileError);
  expect((error as DataFileError).name).toBe('DataFileError');
  expect((error as DataFileError).file).toBe(file);
  expect((error as Error).message).toContain(file);
  expect((error as Error).message).toMatch(message);
  return error as DataFileError;
}

/** Makes `file` a special file of the given kind. */
const SPECIAL: [string, (file: string) => void, RegExp][] = [
  ['a FIFO', (f) => execFileSync('mkfifo', [f]), /is a FIFO \(named pipe\), not a regular file/],
  ['a symlink to /dev/zero', (f) => symlinkSync('/dev/zero', f), /is a character device, not a regular file/],
  ['a directory', (f) => mkdirSync(f), /is a directory, not a regular file/],
  ['a symlink loop', (f) => symlinkSync(f, f), /it is a symlink loop/],
  ['a dangling symlink', (f) => symlinkSync(join(root, 'nowhere'), f), /it does not exist/],
];

describe('IDX files', () => {
  const images = patternBytes(7 * 784, 1);

  it('a gzip bomb whose header says [1, 28, 28] stops inflating right after the 800 promised bytes', async () => {
    // 2 GiB of zeros in 2,048 gzip members of 1 MiB each (Node inflates multi-member
    // files whole): about 2 MB on disk. Reading it all would take seconds and 2 GiB.
    const first = gzipSync(Buffer.concat([idxBytes([1, 28, 28], new Uint8Array(784)), Buffer.alloc(2 ** 20 - 800)]));
    const member = gzipSync(Buffer.alloc(2 ** 20));
    const file = join(freshDir(), 'bomb-idx3-ubyte.gz');
    writeFileSync(file, Buffer.concat([first, ...Array.from({ length: 2047 }, () => member)]));
    const error = await dataFileError(readIdx(file), file, /trailing data: the gzip data inflates past the 800 bytes that dimensions \[1, 28, 28\] of uint8 need/);
    const stoppedAfter = Number(/stopped after (\d+)/.exec(error.message)![1]);
    expect(stoppedAfter).toBeGreaterThan(800);
    expect(stoppedAfter).toBeLessThanOrEqual(2 ** 20); // within the first member's output
  });

  it('a gzip file inflating to many chunks reads back exactly (the output grows up to the promised size)', async () => {
    const body = patternBytes(2000 * 3001, 5); // 6 MB: hundreds of 16 KiB inflate chunks
    const file = join(freshDir(), 'big-idx.gz');
    writeFileSync(file, gzipSync(idxBytes([2000, 3001], body)));
    const array = await readIdx(file);
    expect(array.dims).toEqual([2000, 3001]);
    expect(Buffer.from(array.bytes).equals(Buffer.from(body))).toBe(true);
  });

  it('a valid gzip file still reads; one that inflates short of its header is truncated', async () => {
    const dir = freshDir();
    writeMnistSplit(dir, 'train', images, Uint8Array.from([1, 2, 3, 4, 5, 6, 7]), true);
    const file = join(dir, 'train-images-idx3-ubyte.gz');
    expect((await readIdx(file)).dims).toEqual([7, 28, 28]);
    writeFileSync(file, gzipSync(idxBytes([8, 28, 28], images)));
    await dataFileError(readIdx(file), file, 'truncated: 5504 bytes, but dimensions [8, 28, 28] of uint8 need 6288');
    writeFileSync(file, gzipSync(Uint8Array.from([0, 0, 8, 3, 0, 0])));
    await dataFileError(readIdx(file), file, /truncated header: 6 bytes, 3 dimensions need 16/);
  });

  it('dimensions whose product overflows or passes maxBytes are refused before anything is allocated', async () => {
    const dir = freshDir();
    const huge = join(dir, 'huge-idx');
    writeFileSync(huge, idxBytes([0xffffffff, 0xffffffff, 0xffffffff], new Uint8Array(16)));
    await dataFileError(readIdx(huge), huge, /dimensions \[4294967295, 4294967295, 4294967295\] of uint8 promise more than the 268435456-byte limit \(maxBytes\)/);
    const rank255 = join(dir, 'rank255-idx');
    writeFileSync(rank255, idxBytes(Array.from({ length: 255 }, () => 0xffffffff), new Uint8Array(0)));
    await dataFileError(readIdx(rank255), rank255, /promise more than the 268435456-byte limit/);
    expect(() => parseIdx(idxBytes([2 ** 31, 2 ** 31], new Uint8Array(4)), 'x-idx')).toThrow(DataFileError);
    const gz = join(dir, 'huge-idx.gz');
    writeFileSync(gz, gzipSync(idxBytes([60000, 28, 28], new Uint8Array(16))));
    await dataFileError(readIdx(gz, { maxBytes: 1000 }), gz, /\[60000, 28, 28\] of uint8 promise more than the 1000-byte limit/);
    const fine = join(dir, 'fine-idx');
    writeFileSync(fine, idxBytes([7, 28, 28], images));
    await dataFileError(readIdx(fine, { maxBytes: 5503 }), fine, /more than the 5503-byte limit/);
    expect((await readIdx(fine, { maxBytes: 5504 })).bytes.length).toBe(5488);
    const empty = join(dir, 'empty-idx');
    writeFileSync(empty, idxBytes([0xffffffff, 0, 28], new Uint8Array(0)));
    expect((await readIdx(empty)).dims).toEqual([0xffffffff, 0, 28]);
  });

  it('a raw file of the wrong size is refused from its header and size alone', async () => {
    const file = join(freshDir(), 'sized-idx');
    writeFileSync(file, Buffer.concat([idxBytes([7, 28, 28], images), Buffer.alloc(3)]));
    await dataFileError(readIdx(file), file, 'trailing data: 5507 bytes, but dimensions [7, 28, 28] of uint8 need 5504');
    writeFileSync(file, Uint8Array.from([0, 0, 8]));
    await dataFileError(readIdx(file), file, '3 bytes is too short for an IDX header');
    writeFileSync(file, Uint8Array.from([0, 0, 0x42, 1, 0, 0, 0, 1, 9]));
    await dataFileError(readIdx(file), file, /not an IDX file: magic number 0x00004201/);
  });

  it.each(SPECIAL)('%s as an MNIST file is refused by name, without blocking', async (_, make, message) => {
    const dir = freshDir();
    writeMnistSplit(dir, 'test', images, Uint8Array.from([1, 2, 3, 4, 5, 6, 7]));
    const file = join(dir, 't10k-images-idx3-ubyte');
    rmSync(file);
    make(file);
    await dataFileError(loadMnist(dir, 'test'), file, message);
    await dataFileError(readIdx(file), file, message);
  });

  it('MNIST files that disagree name the file (typed)', async () => {
    const dir = freshDir();
    writeMnistSplit(dir, 'train', images, Uint8Array.from([1, 2, 3, 4, 5, 6, 12]));
    await dataFileError(loadMnist(dir, 'train'), join(dir, 'train-labels-idx1-ubyte'), 'label 12 at index 6 is not a digit 0-9');
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), idxBytes([7, 784], images));
    await dataFileError(loadMnist(dir, 'train'), join(dir, 'train-images-idx3-ubyte'), 'expected uint8 images [N, rows, cols], got uint8 [7, 784]');
    await dataFileError(loadMnist(join(dir, 'nowhere'), 'train'), join(dir, 'nowhere', 'train-images-idx3-ubyte'), /not found/);
  });
});

describe('CIFAR-10 batches', () => {
  it.each(SPECIAL)('%s as a batch is refused by name, without blocking or reading forever', async (_, make, message) => {
    const dir = freshDir();
    writeCifarFolder(dir, 2);
    const file = join(dir, 'test_batch.bin');
    rmSync(file);
    make(file);
    await dataFileError(loadCifar10(dir, 'test'), file, message);
  });

  it('batch sizes: whole records, at most 10,000 of them (the archive size) by default, or maxRecordsPerBatch', async () => {
    const dir = freshDir();
    writeCifarFolder(dir, 3);
    const file = join(dir, 'test_batch.bin');
    // Sparse files: their size is what counts, and they are refused before a byte is read.
    truncateSync(file, 10001 * 3073);
    await dataFileError(loadCifar10(dir, 'test'), file, /has 30733073 bytes, not a whole number of 3073-byte records \(1 label \+ 3072 pixels\) from 1 to 10000/);
    truncateSync(file, 10000 * 3073);
    expect((await loadCifar10(dir, 'test')).count).toBe(10000);
    writeFileSync(file, cifarBatchBytes(Uint8Array.from([1, 2, 3]), patternBytes(3 * 3072, 2)));
    await dataFileError(loadCifar10(dir, 'test', { maxRecordsPerBatch: 2 }), file, /from 1 to 2;/);
    expect((await readCifar10Batch(file, 3)).data.length).toBe(3 * 3073);
    writeFileSync(file, new Uint8Array(0));
    await dataFileError(loadCifar10(dir, 'test'), file, /has 0 bytes/);
  });

  it('labels outside 0-9 and odd sizes from bytes name the batch (typed)', async () => {
    const dir = freshDir();
    writeCifarFolder(dir, 1);
    const file = join(dir, 'test_batch.bin');
    writeFileSync(file, cifarBatchBytes(Uint8Array.from([10]), patternBytes(3072, 1)));
    await dataFileError(loadCifar10(dir, 'test'), file, 'record 0 has label 10, expected 0-9');
    expect(() => parseCifar10([{ file: 'b.bin', data: new Uint8Array(5) }], 'x')).toThrow(DataFileError);
    await dataFileError(loadCifar10(join(dir, 'absent'), 'test'), join(dir, 'absent'), /folder .* does not exist/);
  });
});
