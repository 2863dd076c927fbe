// Opening files a user handed us without trusting what kind of file they are. A FIFO
// blocks a plain open() until a writer appears (forever, for a reader), /dev/zero reads
// without end, a directory or a symlink loop fails with a raw system error. So: open
// non-blocking (O_NONBLOCK changes nothing for a regular file), check the type on the open
// descriptor (no window between a check and the open), and refuse anything but a regular
// file with a CheckpointFormatError naming it; system errors keep their code as `cause`.
import { constants, type Stats } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { CheckpointFormatError } from './errors.js';

export type ReadHandle = FileHandle;

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'it does not exist (or is a dangling symlink)';
  if (code === 'ELOOP') return 'it is a symlink loop';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENXIO') return 'it is a socket or a device without a reader';
  return code ?? (error as Error)?.message ?? String(error);
}

/** A system error met on `file` as a CheckpointFormatError naming it (the original as `cause`); ours pass through. */
export function fileProblem(file: string, what: string, error: unknown): Error {
  if (error instanceof CheckpointFormatError) return error;
  return new CheckpointFormatError(file, `cannot read ${what}: ${reason(error)}`, { cause: error });
}

/** Opens `file` read-only if it is a regular file (symlinks to one are followed); `what` names its role. */
export async function openRegularFile(file: string, what = 'file'): Promise<ReadHandle> {
  let handle: FileHandle;
  try {
    handle = await open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw new CheckpointFormatError(file, `cannot open ${what}: ${reason(error)}`, { cause: error });
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new CheckpointFormatError(file, `${what} is ${kindOf(stats)}, not a regular file`);
    return handle;
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw fileProblem(file, what, error);
  }
}

/** Reads a whole regular file of at most `maxBytes` bytes (refused before reading when larger). */
export async function readRegularFile(file: string, what: string, maxBytes: number): Promise<Uint8Array> {
  const handle = await openRegularFile(file, what);
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) throw new CheckpointFormatError(file, `${what} is ${size} bytes, more than the ${maxBytes}-byte limit`);
    const bytes = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await handle.read(bytes, done, size - done, done);
      if (bytesRead === 0) throw new CheckpointFormatError(file, `${what} shrank while being read (${done} of ${size} bytes)`);
      done += bytesRead;
    }
    return bytes;
  } catch (error) {
    throw fileProblem(file, what, error);
  } finally {
    await handle.close().catch(() => undefined);
  }
}
