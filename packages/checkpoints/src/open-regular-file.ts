// Opening a file a user handed us without trusting what kind of file it is. A FIFO
// blocks a plain open() until some writer appears (forever, for a reader); a symlink to
// /dev/zero or /dev/urandom reads without end. So: open non-blocking (opening a FIFO
// then returns at once, and O_NONBLOCK changes nothing for a regular file), check the
// type on the open descriptor (no window between a check and the open), and refuse
// anything but a regular file with an error naming it.
import { constants, type Stats } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { CheckpointFormatError } from './errors.js';

/** What a non-regular file is, for messages. */
export function fileKind(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Why an open failed, from a Node system error, for messages. */
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
  /** The size when opened: read at most this much. */
  readonly size: number;
}

/**
 * Opens `file` read-only if it is a regular file (symlinks to one are followed), else
 * throws a CheckpointFormatError naming it; `what` names the file's role ("LMDB data file").
 */
export async function openRegularFile(file: string, what: string): Promise<RegularFile> {
  let handle: FileHandle;
  try {
    handle = await open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw new CheckpointFormatError(file, `cannot open ${what}: ${openFailure(error)}`, { cause: error });
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new CheckpointFormatError(file, `${what} is ${fileKind(stats)}, not a regular file`);
    return { handle, size: stats.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
