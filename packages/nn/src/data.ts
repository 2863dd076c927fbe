// @gpt/nn/data: image datasets from bytes — the MNIST IDX and CIFAR-10 binary formats,
// per-channel normalization, the paper's CIFAR augmentation and a seeded batch iterator.
// No Node built-in is imported from here, so this entry bundles for browsers (feed it
// fetched bytes). Reading the files of a folder, .gz included, and the digits bundled by
// the `mnist` package are the Node entry `@gpt/nn/data-node`.

export { type ImageDataset, type Normalization, normalizedImages } from './data/image-dataset.js';
export { isGzip, parseIdx, type IdxArray } from './data/idx.js';
export { mnistFromIdx, MNIST_NORMALIZATION, type MnistIdx } from './data/mnist.js';
export { parseCifar10, randomCropFlip, CIFAR10_NORMALIZATION, type Cifar10Batch, type CropFlipOptions } from './data/cifar10.js';
export { DataFileError } from './data/data-file-error.js';
export { DataLoader, type Batch, type Augmentation, type DataLoaderOptions } from './data/data-loader.js';
