// @gpt/nn/data-node: datasets from files (Node only: node:fs, node:path, node:zlib).
// MNIST from the standard IDX files (raw or .gz) or the 10,000 digits bundled by the
// optional `mnist` package, CIFAR-10 from its binary batches. The formats, normalization,
// augmentation and DataLoader are in `@gpt/nn/data`, which also runs in browsers.

export { readIdx } from './data/idx-file.js';
export { loadMnist, loadBundledMnist, type BundledMnistOptions } from './data/mnist-files.js';
export { loadCifar10 } from './data/cifar10-files.js';
