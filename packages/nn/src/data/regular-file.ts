// Opening dataset files without trusting what kind of file they are (Node only). A FIFO
// blocks a plain open() until a writer appears (forever, for a reader) and a batch
// symlinked to /dev/zero reads without end. So: open non-blocking (a FIFO then opens at
// once; O_NONBLOCK changes nothing for a regular file), check the type on the open
// descriptor (no window between check and open), refuse anything but a regular file, and
// read at most the size it had when opened.
import { constants, type Stats } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { DataFileError } from './data-file-error.js';

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Why a system call on a file failed, in words (from its error code). */
export function openFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'it does not exist (or is a dangling symlink)';
  if (code === 'ELOOP') return 'it is a symlink loop';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENXIO') return 'it is a socket or a device without a reader';
  return code ?? (error as Error).message;
}

export interface RegularFile {
  readonly handle: FileHandle;
  /** The size when opened. */
  readonly size: number;
}

/** Opens `file` read-only if it is a regular file (symlinks to one are followed); `what` names its role in errors. */
export async function openRegularFile(file: string, what: string): Promise<RegularFile> {
  let handle: FileHandle;
  try {
    handle = await open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw new DataFileError(file, `cannot read ${what}: ${openFailure(error)}`, { cause: error });
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new DataFileError(file, `${what} is ${kindOf(stats)}, not a regular file`);
    return { handle, size: stats.size };
  } catch (error) {
    await handle.close();
    throw error instanceof DataFileError ? error : new DataFileError(file, `cannot read ${what}: ${openFailure(error)}`, { cause: error });
  }
}

/** Reads `length` bytes at `position` of an open file, or fails naming it (a file that shrank). */
export async function readRange(file: RegularFile, name: string, position: number, length: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await file.handle.read(bytes, done, length - done, position + done);
    if (bytesRead === 0) throw new DataFileError(name, `file ended after ${position + done} bytes, ${position + length} expected (did it shrink while being read?)`);
    done += bytesRead;
  }
  return bytes;
}
