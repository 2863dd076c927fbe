import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Generator, memory } from '@gpt/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { CIFAR10_NORMALIZATION, DataLoader, mnistFromIdx, normalizedImages, parseCifar10, parseIdx, randomCropFlip } from '../src/data.js';
import { loadBundledMnist, loadCifar10, loadMnist, readIdx } from '../src/data-node.js';
import { cifarBatchBytes, idxBytes, patternBytes, writeCifarFolder, writeMnistSplit } from './format-writers.js';

const root = mkdtempSync(join(tmpdir(), 'gpt-nn-data-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('MNIST from IDX files', () => {
  const n = 7;
  const images = patternBytes(n * 784, 1);
  const labels = Uint8Array.from([3, 1, 4, 1, 5, 9, 2]);

  for (const gzip of [false, true]) {
    it(`reads ${gzip ? 'gzipped' : 'raw'} files and normalizes like ToTensor + Normalize(0.1307, 0.3081)`, async () => {
      const dir = join(root, gzip ? 'mnist-gz' : 'mnist-raw');
      writeMnistSplit(dir, 'test', images, labels, gzip);
      const data = await loadMnist(dir, 'test');
      expect([data.count, data.channels, data.height, data.width]).toEqual([7, 1, 28, 28]);
      expect(Array.from(data.labels)).toEqual(Array.from(labels));
      const x = normalizedImages(data, [2]);
      for (const p of [0, 100, 783]) expect(x[p]).toBeCloseTo((images[2 * 784 + p]! / 255 - 0.1307) / 0.3081, 6);
    });
  }

  it('a wrong magic number names the file and what was expected', async () => {
    const dir = join(root, 'mnist-bad-magic');
    writeMnistSplit(dir, 'train', images, labels);
    const file = join(dir, 'train-images-idx3-ubyte');
    const bytes = readFileSync(file);
    bytes[0] = 0x12;
    writeFileSync(file, bytes);
    await expect(loadMnist(dir, 'train')).rejects.toThrow(`${file}: not an IDX file: magic number 0x12000803`);
  });

  it('a truncated body names the file, the size found and the size needed', async () => {
    const dir = join(root, 'mnist-truncated');
    writeMnistSplit(dir, 'train', images, labels);
    const file = join(dir, 'train-images-idx3-ubyte');
    writeFileSync(file, readFileSync(file).subarray(0, 16 + 784 * 3 + 10));
    await expect(loadMnist(dir, 'train')).rejects.toThrow(`${file}: truncated: 2378 bytes, but dimensions [7, 28, 28] of uint8 need 5504`);
  });

  it('missing files and mismatched counts are reported with file names', async () => {
    await expect(loadMnist(join(root, 'nowhere'), 'train')).rejects.toThrow(/nowhere\/train-images-idx3-ubyte \(or train-images-idx3-ubyte.gz\) not found/);
    const dir = join(root, 'mnist-mismatch');
    writeMnistSplit(dir, 'train', images, labels);
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idxBytes([6], labels.subarray(0, 6)));
    await expect(loadMnist(dir, 'train')).rejects.toThrow('6 labels, but');
  });

  it('a corrupt .gz names the file; parseIdx (bytes only) asks for decompressed data', async () => {
    const file = join(root, 'corrupt-idx.gz');
    writeFileSync(file, new Uint8Array([0x1f, 0x8b, 1, 2, 3]));
    await expect(readIdx(file)).rejects.toThrow(`${file}: gzip data could not be decompressed`);
    expect(() => parseIdx(new Uint8Array([0x1f, 0x8b, 1, 2, 3]), 'x.gz')).toThrow('x.gz: gzip-compressed IDX data: decompress it first');
  });

  it('from bytes alone (the browser path) gives the same dataset as from the files', async () => {
    const dir = join(root, 'mnist-bytes');
    writeMnistSplit(dir, 'test', images, labels);
    const fromFiles = await loadMnist(dir, 'test');
    const fromBytes = mnistFromIdx({
      images: parseIdx(idxBytes([n, 28, 28], images), 'images'),
      labels: parseIdx(idxBytes([n], labels), 'labels'),
      imagesFile: 'images',
      labelsFile: 'labels',
      name: 'MNIST test (bytes)',
    });
    expect(Buffer.from(fromBytes.pixels).equals(Buffer.from(fromFiles.pixels))).toBe(true);
    expect(Array.from(fromBytes.labels)).toEqual(Array.from(fromFiles.labels));
    expect(() =>
      mnistFromIdx({ images: parseIdx(idxBytes([n, 28, 28], images), 'i'), labels: parseIdx(idxBytes([n - 1], labels.subarray(1)), 'l'), imagesFile: 'i', labelsFile: 'l', name: 'x' }),
    ).toThrow('l: 6 labels, but i has 7 images');
  });
});

describe('bundled MNIST digits', () => {
  it('splits the 10,000 digits deterministically into 8,004 train and 1,996 test, balanced per class', async () => {
    const { train, test } = await loadBundledMnist();
    expect(train.count + test.count).toBe(10000);
    expect(test.count).toBe(1996);
    const counts = new Array<number>(10).fill(0);
    for (const l of test.labels) counts[l]!++;
    for (const c of counts) expect(c).toBeGreaterThanOrEqual(172);
    // Real digits: about 19% of MNIST pixels are non-zero, and the dataset mean is about 0.13.
    let sum = 0;
    for (const p of train.pixels) sum += p;
    expect(sum / train.pixels.length / 255).toBeGreaterThan(0.11);
    expect(sum / train.pixels.length / 255).toBeLessThan(0.15);
    const again = await loadBundledMnist();
    expect(Buffer.from(again.test.pixels).equals(Buffer.from(test.pixels))).toBe(true);
  });
});

describe('CIFAR-10 binary batches', () => {
  it('reads all train and test batches, keeping record order and channel-major pixels', async () => {
    const dir = join(root, 'cifar');
    const written = writeCifarFolder(join(dir, 'cifar-10-batches-bin'), 4);
    const train = await loadCifar10(dir, 'train');
    const test = await loadCifar10(dir, 'test');
    expect([train.count, test.count]).toEqual([20, 4]);
    expect(Array.from(train.labels)).toEqual(Array.from(written.train.labels));
    expect(Buffer.from(test.pixels).equals(Buffer.from(written.test.pixels))).toBe(true);
    const x = normalizedImages(train, [5]);
    for (const c of [0, 1, 2]) {
      const p = c * 1024 + 37;
      expect(x[p]).toBeCloseTo((written.train.pixels[5 * 3072 + p]! - CIFAR10_NORMALIZATION.mean[c]!) / CIFAR10_NORMALIZATION.std[c]!, 5);
    }
  });

  it('a missing folder, a missing batch file and a truncated batch give errors naming them', async () => {
    await expect(loadCifar10(join(root, 'no-cifar'), 'train')).rejects.toThrow(`CIFAR-10: folder ${join(root, 'no-cifar')} does not exist`);
    const dir = join(root, 'cifar-partial');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'data_batch_1.bin'), cifarBatchBytes(Uint8Array.from([1]), patternBytes(3072, 3)));
    await expect(loadCifar10(dir, 'train')).rejects.toThrow(new RegExp(`CIFAR-10: cannot read batch file ${join(dir, 'data_batch_2.bin')}: .*it does not exist.*; the train split needs data_batch_1.bin`));
    const truncated = join(root, 'cifar-truncated');
    writeCifarFolder(truncated, 2);
    const file = join(truncated, 'test_batch.bin');
    writeFileSync(file, readFileSync(file).subarray(0, 3073 + 100));
    await expect(loadCifar10(truncated, 'test')).rejects.toThrow(`CIFAR-10: ${file} has 3173 bytes, not a whole number of 3073-byte records`);
    const badLabel = join(root, 'cifar-label');
    writeCifarFolder(badLabel, 1);
    writeFileSync(join(badLabel, 'test_batch.bin'), cifarBatchBytes(Uint8Array.from([12]), patternBytes(3072, 1)));
    await expect(loadCifar10(badLabel, 'test')).rejects.toThrow('record 0 has label 12, expected 0-9');
  });

  it('from bytes alone (the browser path): batches in order, errors naming the batch', () => {
    const labels = Uint8Array.from([3, 9, 0]);
    const pixels = patternBytes(3 * 3072, 5);
    const data = parseCifar10(
      [
        { file: 'a.bin', data: cifarBatchBytes(labels.subarray(0, 2), pixels.subarray(0, 2 * 3072)) },
        { file: 'b.bin', data: cifarBatchBytes(labels.subarray(2), pixels.subarray(2 * 3072)) },
      ],
      'CIFAR-10 (bytes)',
    );
    expect([data.name, data.count, data.channels, data.height, data.width]).toEqual(['CIFAR-10 (bytes)', 3, 3, 32, 32]);
    expect(Array.from(data.labels)).toEqual([3, 9, 0]);
    expect(Buffer.from(data.pixels).equals(Buffer.from(pixels))).toBe(true);
    expect(() => parseCifar10([{ file: 'https://x/b.bin', data: new Uint8Array(10) }], 'x')).toThrow('CIFAR-10: https://x/b.bin has 10 bytes');
  });
});

describe('augmentation', () => {
  it('randomCropFlip flips with probability 1/2 and shifts by offsets 0..7 into zero padding', () => {
    // One channel 4x4 image with distinct values, padding 1: offsets 0..1.
    const n = 400;
    const images = new Float32Array(n * 16);
    for (let i = 0; i < n; i++) for (let p = 0; p < 16; p++) images[i * 16 + p] = p + 1;
    randomCropFlip(images, [n, 1, 4, 4], new Generator(5), { padding: 1 });
    let flips = 0;
    const offsets = new Set<string>();
    for (let i = 0; i < n; i++) {
      const img = images.subarray(i * 16, i * 16 + 16);
      // Recover the transform by matching against all candidates.
      let matched = false;
      for (const flip of [false, true]) {
        for (let oy = 0; oy < 2 && !matched; oy++) {
          for (let ox = 0; ox < 2 && !matched; ox++) {
            let ok = true;
            for (let y = 0; y < 4 && ok; y++) {
              for (let x = 0; x < 4 && ok; x++) {
                const sy = y + oy - 1;
                const sx = x + ox - 1;
                const expected = sy >= 0 && sy < 4 && sx >= 0 && sx < 4 ? sy * 4 + (flip ? 3 - sx : sx) + 1 : 0;
                ok = img[y * 4 + x] === expected;
              }
            }
            if (ok) {
              matched = true;
              if (flip) flips++;
              offsets.add(`${oy},${ox}`);
            }
          }
        }
      }
      expect(matched).toBe(true);
    }
    expect(Math.abs(flips / n - 0.5)).toBeLessThan(0.1);
    expect(offsets.size).toBe(4);
    // With the default padding 4, offsets range over 0..7: the crop shifts by -4..3.
    const wide = new Float32Array(2000 * 3 * 32 * 32).fill(1);
    randomCropFlip(wide, [2000, 3, 32, 32], new Generator(9));
    const shifts = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const img = wide.subarray(i * 3072, i * 3072 + 1024);
      let topZeros = 0;
      while (topZeros < 32 && img[topZeros * 32 + 16] === 0) topZeros++;
      let bottomZeros = 0;
      while (bottomZeros < 32 && img[(31 - bottomZeros) * 32 + 16] === 0) bottomZeros++;
      shifts.add(topZeros > 0 ? -topZeros : bottomZeros);
    }
    expect([...shifts].sort((a, b) => a - b)).toEqual([-4, -3, -2, -1, 0, 1, 2, 3]);
  });
});

describe('DataLoader', () => {
  const dataset = {
    name: 'toy',
    count: 10,
    channels: 1,
    height: 1,
    width: 2,
    pixels: Uint8Array.from({ length: 20 }, (_, i) => i),
    labels: Uint8Array.from({ length: 10 }, (_, i) => i),
    normalization: { scale: 1, mean: [0], std: [1] },
  };

  function epoch(loader: DataLoader): number[][] {
    const result: number[][] = [];
    for (const batch of loader) {
      expect(batch.x.shape).toEqual([batch.indices.length, 1, 1, 2]);
      const x = batch.x.dataSync();
      const y = batch.y.dataSync();
      batch.indices.forEach((index, k) => {
        expect(y[k]).toBe(index);
        expect([x[2 * k], x[2 * k + 1]]).toEqual([2 * index, 2 * index + 1]);
      });
      result.push(Array.from(batch.indices));
      batch.x.dispose();
      batch.y.dispose();
    }
    return result;
  }

  it('without shuffle yields the dataset in order, with a short last batch unless dropLast', () => {
    expect(epoch(new DataLoader(dataset, { batchSize: 4 }))).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    expect(epoch(new DataLoader(dataset, { batchSize: 4, dropLast: true }))).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
  });

  it('shuffles to a new permutation each epoch, reproducibly from the seed, without leaking tensors', () => {
    const before = memory().tensors;
    const a = new DataLoader(dataset, { batchSize: 3, shuffle: true, dropLast: true, seed: 42 });
    const b = new DataLoader(dataset, { batchSize: 3, shuffle: true, dropLast: true, seed: 42 });
    const a1 = epoch(a);
    const a2 = epoch(a);
    expect(a.length).toBe(3);
    expect(a1).toHaveLength(3);
    expect(a1.flat()).toHaveLength(9);
    expect(new Set(a1.flat()).size).toBe(9);
    expect(a2).not.toEqual(a1);
    expect(epoch(b)).toEqual(a1);
    expect(epoch(b)).toEqual(a2);
    expect(memory().tensors).toBe(before);
  });

  it('rejects bad options clearly', () => {
    expect(() => new DataLoader(dataset, { batchSize: 0 })).toThrow('DataLoader: batchSize must be a positive integer, got 0');
    expect(() => new DataLoader(dataset, { batchSize: 11, dropLast: true })).toThrow('toy has 10 images, fewer than one batch of 11 with dropLast');
  });
});
