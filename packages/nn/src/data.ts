// @gpt/nn/data: dataset loaders (Node only: they read files). MNIST from IDX files or
// the digits bundled by the optional `mnist` package, CIFAR-10 from its binary
// batches, the paper's CIFAR augmentation and a seeded batch iterator.

export { type ImageDataset, type Normalization, normalizedImages } from './data/image-dataset.js';
export { parseIdx, readIdx, type IdxArray } from './data/idx.js';
export { loadMnist, loadBundledMnist, MNIST_NORMALIZATION, type BundledMnistOptions } from './data/mnist.js';
export { loadCifar10, randomCropFlip, CIFAR10_NORMALIZATION, type CropFlipOptions } from './data/cifar10.js';
export { DataLoader, type Batch, type Augmentation, type DataLoaderOptions } from './data/data-loader.js';
