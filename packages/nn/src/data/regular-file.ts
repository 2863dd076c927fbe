// Opening dataset files without trusting what kind of file they are (Node only), through
// @gpt/checkpoints' file source: only regular files are opened (non-blocking, type checked
// on the open descriptor), so a FIFO cannot block the reader and a batch symlinked to
// /dev/zero cannot be read forever; reads are positional and exact. Its errors become
// this package's DataFileError, naming the file.
import { type ByteSource, CheckpointFormatError } from '@gpt/checkpoints';
import { openFileSource } from '@gpt/checkpoints/node';
import { DataFileError } from './data-file-error.js';

function asDataFileError(error: unknown): unknown {
  if (!(error instanceof CheckpointFormatError)) return error;
  return new DataFileError(error.file, error.problem, { cause: error.cause ?? error });
}

/** Opens `file` if it is a regular file; `size` is its size when opened (read no more than that). */
export async function openDataFile(file: string): Promise<ByteSource> {
  try {
    return await openFileSource(file);
  } catch (error) {
    throw asDataFileError(error);
  }
}

/** Exactly `length` bytes at `position`, or a DataFileError naming the file (one that shrank, a failing disk). */
export async function readDataFile(source: ByteSource, position: number, length: number): Promise<Uint8Array> {
  try {
    return await source.read(position, length);
  } catch (error) {
    throw asDataFileError(error);
  }
}

/** True when opening failed at the system level (missing, a loop, no permission), not because of the file's kind. */
export function isOpenFailure(error: unknown): boolean {
  return error instanceof DataFileError && (error.cause as NodeJS.ErrnoException | undefined)?.code !== undefined;
}
