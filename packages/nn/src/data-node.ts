// @gpt/nn/data-node: datasets from files (Node only: node:fs, node:path, node:zlib).
// MNIST from the standard IDX files (raw or .gz) or the 10,000 digits bundled by the
// optional `mnist` package, CIFAR-10 from its binary batches. The formats, normalization,
// augmentation and DataLoader are in `@gpt/nn/data`, which also runs in browsers.
// Files are opened only when they are regular files and read no further than their
// headers promise; every problem with one is a DataFileError naming it.

export { readIdx } from './data/idx-file.js';
export { DEFAULT_MAX_IDX_BYTES, type IdxOptions } from './data/idx.js';
export { DataFileError } from './data/data-file-error.js';
export { loadMnist, loadBundledMnist, type BundledMnistOptions } from './data/mnist-files.js';
export { loadCifar10, readCifar10Batch, CIFAR10_RECORDS_PER_BATCH, type Cifar10Options } from './data/cifar10-files.js';
