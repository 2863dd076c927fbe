// A ByteSource over a file on disk (Node only): positional reads, so a multi-GB PyTorch
// checkpoint is never loaded whole. Only regular files are opened (a FIFO, a directory or
// /dev/zero is refused naming the file, without blocking).

import type { ByteSource } from './byte-source.js';
import { readExactly } from './positional-read.js';
import { fileProblem, openRegularFile } from './regular-file.js';

/** Opens `file` for positional reads; close() closes it. */
export async function openFileSource(file: string): Promise<ByteSource> {
  const handle = await openRegularFile(file);
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
    throw fileProblem(file, 'file', error);
  }
}
