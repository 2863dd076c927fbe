// An in-memory image classification dataset: raw 8-bit pixels (4x smaller than
// floats: the 50,000 CIFAR-10 training images take 154 MB this way) plus the
// per-channel normalization that turns them into network inputs batch by batch.

export interface Normalization {
  /** Pixels are multiplied by this first (1/255 for ToTensor-style [0, 1] inputs, 1 for raw 0-255). */
  readonly scale: number;
  /** Per-channel mean and standard deviation on the scaled values. */
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

export interface ImageDataset {
  /** Where the data came from (for messages). */
  readonly name: string;
  readonly count: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  /** [count, channels, height, width], row-major, 0-255. */
  readonly pixels: Uint8Array;
  /** [count] class indices. */
  readonly labels: Uint8Array;
  readonly normalization: Normalization;
}

/** Normalized float values of the images at `indices`: [indices.length, C, H, W] row-major. */
export function normalizedImages(dataset: ImageDataset, indices: ArrayLike<number>): Float32Array {
  const { channels, height, width, pixels, normalization } = dataset;
  const plane = height * width;
  const size = channels * plane;
  const out = new Float32Array(indices.length * size);
  const { scale, mean, std } = normalization;
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i]!;
    if (!(index >= 0 && index < dataset.count)) throw new Error(`${dataset.name}: image index ${index} is out of range [0, ${dataset.count})`);
    const src = index * size;
    const dst = i * size;
    for (let c = 0; c < channels; c++) {
      const m = mean[c]!;
      const s = std[c]!;
      const base = c * plane;
      for (let p = 0; p < plane; p++) out[dst + base + p] = (pixels[src + base + p]! * scale - m) / s;
    }
  }
  return out;
}

/** Checks that the arrays agree with the declared sizes (used by every loader). */
export function checkDataset(dataset: ImageDataset): ImageDataset {
  const { name, count, channels, height, width, pixels, labels, normalization } = dataset;
  if (pixels.length !== count * channels * height * width) {
    throw new Error(`${name}: ${pixels.length} pixel bytes do not match ${count} images of ${channels}x${height}x${width}`);
  }
  if (labels.length !== count) throw new Error(`${name}: ${labels.length} labels for ${count} images`);
  if (normalization.mean.length !== channels || normalization.std.length !== channels) {
    throw new Error(`${name}: normalization needs ${channels} means and stds`);
  }
  return dataset;
}
