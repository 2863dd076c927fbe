// MNIST as an ImageDataset from its two IDX arrays (images [N, 28, 28], labels [N]),
// checked against each other, with inputs normalized like torchvision's ToTensor +
// Normalize((0.1307,), (0.3081,)). Bytes only (it runs in browsers); reading the files in
// a folder, or the digits bundled by the `mnist` package, is mnist-files.ts (Node entry).

import { DataFileError } from './data-file-error.js';
import { checkDataset, type ImageDataset, type Normalization } from './image-dataset.js';
import type { IdxArray } from './idx.js';

export const MNIST_NORMALIZATION: Normalization = { scale: 1 / 255, mean: [0.1307], std: [0.3081] };

export interface MnistIdx {
  /** uint8 [N, rows, cols]. */
  readonly images: IdxArray;
  /** uint8 [N], digits 0-9. */
  readonly labels: IdxArray;
  /** Name the arrays in errors (file names or URLs). */
  readonly imagesFile: string;
  readonly labelsFile: string;
  /** The dataset's name, for messages (e.g. "MNIST train (data/mnist)"). */
  readonly name: string;
}

/** The dataset of an images/labels IDX pair (parseIdx), after checking types, shapes and labels. */
export function mnistFromIdx({ images, labels, imagesFile, labelsFile, name }: MnistIdx): ImageDataset {
  if (images.type !== 'uint8' || images.dims.length !== 3) {
    throw new DataFileError(imagesFile, `${imagesFile}: expected uint8 images [N, rows, cols], got ${images.type} [${images.dims.join(', ')}]`);
  }
  if (labels.type !== 'uint8' || labels.dims.length !== 1) {
    throw new DataFileError(labelsFile, `${labelsFile}: expected uint8 labels [N], got ${labels.type} [${labels.dims.join(', ')}]`);
  }
  const [count, height, width] = images.dims as [number, number, number];
  if (labels.dims[0] !== count) throw new DataFileError(labelsFile, `${labelsFile}: ${labels.dims[0]} labels, but ${imagesFile} has ${count} images`);
  const bad = labels.bytes.findIndex((l) => l > 9);
  if (bad >= 0) throw new DataFileError(labelsFile, `${labelsFile}: label ${labels.bytes[bad]} at index ${bad} is not a digit 0-9`);
  return checkDataset({ name, count, channels: 1, height, width, pixels: images.bytes, labels: labels.bytes, normalization: MNIST_NORMALIZATION });
}
