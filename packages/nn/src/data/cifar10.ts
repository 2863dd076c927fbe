// CIFAR-10 from the standard binary batches (data_batch_1.bin ... data_batch_5.bin,
// test_batch.bin; each record is 1 label byte + 3,072 pixel bytes, channel-major
// 3x32x32), normalized per channel on 0-255 pixels with G.pt's constants, and the
// paper's training augmentation (data_gen/train_cifar10.py): after normalization, a
// horizontal flip with p = 0.5, then zero padding by 4 and a random 32x32 crop.
// Bytes only (it runs in browsers); reading the batch files of a folder is
// cifar10-files.ts, in the Node entry.

import type { Generator } from '@gpt/tensor';
import { DataFileError } from './data-file-error.js';
import { checkDataset, type ImageDataset, type Normalization } from './image-dataset.js';

export const CIFAR10_NORMALIZATION: Normalization = { scale: 1, mean: [125.3, 123.0, 113.9], std: [63.0, 62.1, 66.7] };

/** One record: a label byte and 3x32x32 pixel bytes. */
export const CIFAR10_RECORD_BYTES = 1 + 3 * 32 * 32;
const RECORD_BYTES = CIFAR10_RECORD_BYTES;

/** One binary batch: its bytes, and a name for errors (a file name or URL). */
export interface Cifar10Batch {
  readonly file: string;
  readonly data: Uint8Array;
}

/**
 * The dataset of one or more binary batches (any number of records each), after checking
 * that each holds whole records with labels 0-9. `name` names the dataset in messages;
 * a bad batch is a DataFileError naming its `file`.
 */
export function parseCifar10(batches: readonly Cifar10Batch[], name: string): ImageDataset {
  for (const { file, data } of batches) {
    if (data.length === 0 || data.length % RECORD_BYTES !== 0) {
      throw new DataFileError(file, `CIFAR-10: ${file} has ${data.length} bytes, not a whole number of ${RECORD_BYTES}-byte records (1 label + 3072 pixels); truncated or not a CIFAR-10 binary batch`);
    }
    for (let r = 0; r < data.length / RECORD_BYTES; r++) {
      const label = data[r * RECORD_BYTES]!;
      if (label > 9) throw new DataFileError(file, `CIFAR-10: ${file}: record ${r} has label ${label}, expected 0-9`);
    }
  }
  const count = batches.reduce((n, b) => n + b.data.length / RECORD_BYTES, 0);
  const pixels = new Uint8Array(count * (RECORD_BYTES - 1));
  const labels = new Uint8Array(count);
  let i = 0;
  for (const { data } of batches) {
    for (let offset = 0; offset < data.length; offset += RECORD_BYTES, i++) {
      labels[i] = data[offset]!;
      pixels.set(data.subarray(offset + 1, offset + RECORD_BYTES), i * (RECORD_BYTES - 1));
    }
  }
  return checkDataset({ name, count, channels: 3, height: 32, width: 32, pixels, labels, normalization: CIFAR10_NORMALIZATION });
}

export interface CropFlipOptions {
  /** Zero padding on each side before cropping back to the original size (default 4: offsets 0..8 exclusive). */
  padding?: number;
  /** Probability of a horizontal flip (default 0.5). */
  flipProbability?: number;
}

/**
 * In-place augmentation of normalized images [n, C, H, W]: per image a horizontal flip
 * with probability p, then a random H x W crop of the zero-padded image. Draws 3
 * uniforms per image from `generator`.
 */
export function randomCropFlip(
  images: Float32Array,
  shape: readonly [number, number, number, number],
  generator: Generator,
  options: CropFlipOptions = {},
): void {
  const [n, channels, height, width] = shape;
  const pad = options.padding ?? 4;
  const p = options.flipProbability ?? 0.5;
  const draws = generator.uniform(3 * n);
  const plane = height * width;
  const image = new Float32Array(channels * plane);
  for (let i = 0; i < n; i++) {
    const flip = draws[3 * i]! < p;
    // Offsets into the padded image, uniform on 0..2*pad (numpy randint(0, H + 2 pad - H)).
    const oy = Math.floor(draws[3 * i + 1]! * (2 * pad));
    const ox = Math.floor(draws[3 * i + 2]! * (2 * pad));
    const base = i * channels * plane;
    image.set(images.subarray(base, base + channels * plane));
    for (let c = 0; c < channels; c++) {
      for (let y = 0; y < height; y++) {
        const sy = y + oy - pad;
        for (let x = 0; x < width; x++) {
          const sx = x + ox - pad;
          let value = 0;
          if (sy >= 0 && sy < height && sx >= 0 && sx < width) {
            value = image[c * plane + sy * width + (flip ? width - 1 - sx : sx)]!;
          }
          images[base + c * plane + y * width + x] = value;
        }
      }
    }
  }
}
