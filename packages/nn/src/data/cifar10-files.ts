// CIFAR-10 on disk (Node only): the binary batches of a folder, as the archive unpacks.
// The record format, its checks and the normalization are cifar10.ts.

import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Cifar10Batch, parseCifar10 } from './cifar10.js';
import type { ImageDataset } from './image-dataset.js';

const TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
const TEST_FILES = ['test_batch.bin'];

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Loads a split from `dir`, which holds the .bin batches directly or inside the
 * archive's `cifar-10-batches-bin/` folder. Any number of records per file is accepted.
 */
export async function loadCifar10(dir: string, split: 'train' | 'test'): Promise<ImageDataset> {
  if (split !== 'train' && split !== 'test') throw new Error(`loadCifar10: split must be "train" or "test", got "${String(split)}"`);
  if (!(await isDirectory(dir))) throw new Error(`CIFAR-10: folder ${dir} does not exist (expected the binary batches data_batch_1.bin ... test_batch.bin)`);
  const nested = join(dir, 'cifar-10-batches-bin');
  const root = (await isDirectory(nested)) ? nested : dir;
  const names = split === 'train' ? TRAIN_FILES : TEST_FILES;
  const batches: Cifar10Batch[] = [];
  for (const name of names) {
    const file = join(root, name);
    try {
      batches.push({ file, data: await readFile(file) });
    } catch (error) {
      throw new Error(`CIFAR-10: cannot read batch file ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); the ${split} split needs ${names.join(', ')}`);
    }
  }
  return parseCifar10(batches, `CIFAR-10 ${split} (${root})`);
}
