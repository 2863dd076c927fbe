// CIFAR-10 on disk (Node only): the binary batches of a folder, as the archive unpacks.
// The record format, its checks and the normalization are cifar10.ts. Each batch must be
// a regular file of whole records, at most maxRecordsPerBatch of them (the archive's
// batches hold exactly 10,000), and no more than the size it had when opened is read: a
// batch symlinked to /dev/zero or a FIFO is refused by name instead of read forever.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Cifar10Batch, parseCifar10, CIFAR10_RECORD_BYTES } from './cifar10.js';
import { DataFileError } from './data-file-error.js';
import type { ImageDataset } from './image-dataset.js';
import { isOpenFailure, openDataFile, readDataFile } from './regular-file.js';

const TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
const TEST_FILES = ['test_batch.bin'];

/** Records in each batch of the official archive, and the default upper limit per file. */
export const CIFAR10_RECORDS_PER_BATCH = 10000;

export interface Cifar10Options {
  /** Most records one batch file may hold (default 10,000, as in the archive); larger files are refused before reading. */
  maxRecordsPerBatch?: number;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Reads one batch file after checking its type and size. */
export async function readCifar10Batch(file: string, maxRecords = CIFAR10_RECORDS_PER_BATCH): Promise<Cifar10Batch> {
  const source = await openDataFile(file);
  try {
    const { size } = source;
    if (size === 0 || size % CIFAR10_RECORD_BYTES !== 0 || size > maxRecords * CIFAR10_RECORD_BYTES) {
      throw new DataFileError(
        file,
        `CIFAR-10: ${file} has ${size} bytes, not a whole number of ${CIFAR10_RECORD_BYTES}-byte records (1 label + 3072 pixels) from 1 to ${maxRecords}; truncated or not a CIFAR-10 binary batch`,
      );
    }
    return { file, data: await readDataFile(source, 0, size) };
  } finally {
    await source.close();
  }
}

/**
 * Loads a split from `dir`, which holds the .bin batches directly or inside the
 * archive's `cifar-10-batches-bin/` folder. Batches may hold fewer records than the archive's 10,000.
 */
export async function loadCifar10(dir: string, split: 'train' | 'test', options: Cifar10Options = {}): Promise<ImageDataset> {
  if (split !== 'train' && split !== 'test') throw new Error(`loadCifar10: split must be "train" or "test", got "${String(split)}"`);
  const maxRecords = options.maxRecordsPerBatch ?? CIFAR10_RECORDS_PER_BATCH;
  if (!(Number.isSafeInteger(maxRecords) && maxRecords > 0)) throw new RangeError(`loadCifar10: maxRecordsPerBatch must be a positive integer, got ${maxRecords}`);
  if (!(await isDirectory(dir))) throw new DataFileError(dir, `CIFAR-10: folder ${dir} does not exist (expected the binary batches data_batch_1.bin ... test_batch.bin)`);
  const nested = join(dir, 'cifar-10-batches-bin');
  const root = (await isDirectory(nested)) ? nested : dir;
  const names = split === 'train' ? TRAIN_FILES : TEST_FILES;
  const batches: Cifar10Batch[] = [];
  for (const name of names) {
    const file = join(root, name);
    try {
      batches.push(await readCifar10Batch(file, maxRecords));
    } catch (error) {
      // Opening failed (missing, a loop, no permission): say which files the split needs.
      if (!isOpenFailure(error)) throw error;
      const { problem, cause } = error as DataFileError;
      throw new DataFileError(file, `CIFAR-10: cannot read batch file ${file}: ${problem}; the ${split} split needs ${names.join(', ')}`, { cause });
    }
  }
  return parseCifar10(batches, `CIFAR-10 ${split} (${root})`);
}
