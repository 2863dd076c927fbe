// A seeded mini-batch iterator over an ImageDataset, like torch's DataLoader with
// shuffle and drop_last: each pass over it is one epoch; the order (and any
// augmentation) comes from one Generator that advances across epochs, so a run is
// reproducible from its seed and resumable from getState().

import { Generator, tensor, type Tensor } from '@gpt/tensor';
import { normalizedImages, type ImageDataset } from './image-dataset.js';

export interface Batch {
  /** [B, C, H, W] normalized images. */
  x: Tensor;
  /** [B] int32 class labels. */
  y: Tensor;
  /** Dataset indices of the batch's images. */
  indices: Int32Array;
}

/** Changes a batch's normalized images [B, C, H, W] in place, drawing from the loader's generator. */
export type Augmentation = (images: Float32Array, shape: readonly [number, number, number, number], generator: Generator) => void;

export interface DataLoaderOptions {
  batchSize: number;
  /** Reshuffle every epoch (default false). */
  shuffle?: boolean;
  /** Drop the last incomplete batch (default false). */
  dropLast?: boolean;
  /** Seed of the loader's own generator (default 0), unless `generator` is given. */
  seed?: number;
  generator?: Generator;
  augment?: Augmentation;
  device?: string;
}

export class DataLoader implements Iterable<Batch> {
  readonly generator: Generator;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;

  constructor(
    readonly dataset: ImageDataset,
    private readonly options: DataLoaderOptions,
  ) {
    const { batchSize } = options;
    if (!Number.isInteger(batchSize) || batchSize <= 0) throw new Error(`DataLoader: batchSize must be a positive integer, got ${batchSize}`);
    if (options.seed !== undefined && options.generator) throw new Error('DataLoader: give either seed or generator, not both');
    this.batchSize = batchSize;
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    this.generator = options.generator ?? new Generator(options.seed ?? 0);
    if (this.length === 0) {
      throw new Error(`DataLoader: ${dataset.name} has ${dataset.count} images, fewer than one batch of ${batchSize} with dropLast`);
    }
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.dataset.count / this.batchSize;
    return this.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  /** One epoch of batches. Dispose each batch's x and y when done with them. */
  *[Symbol.iterator](): Iterator<Batch> {
    const order = this.shuffle ? this.generator.permutation(this.dataset.count) : Int32Array.from({ length: this.dataset.count }, (_, i) => i);
    const { channels, height, width } = this.dataset;
    for (let b = 0; b < this.length; b++) {
      const indices = order.subarray(b * this.batchSize, Math.min((b + 1) * this.batchSize, order.length));
      const images = normalizedImages(this.dataset, indices);
      const shape = [indices.length, channels, height, width] as const;
      this.options.augment?.(images, shape, this.generator);
      const labels = Int32Array.from(indices, (i) => this.dataset.labels[i]!);
      yield {
        x: tensor(images, { shape, device: this.options.device }),
        y: tensor(labels, { shape: [indices.length], dtype: 'int32', device: this.options.device }),
        indices: Int32Array.from(indices),
      };
    }
  }
}
