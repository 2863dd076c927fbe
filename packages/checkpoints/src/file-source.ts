// A ByteSource over a file on disk (Node only): positional reads, so a multi-GB PyTorch
// checkpoint is never loaded whole.

import { open } from 'node:fs/promises';
import type { ByteSource } from './byte-source.js';
import { readExactly } from './positional-read.js';

/** Opens `file` for positional reads; close() closes it. */
export async function openFileSource(file: string): Promise<ByteSource> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    return {
      name: file,
      size,
      read: (position, length) => readExactly(handle, file, position, length),
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
