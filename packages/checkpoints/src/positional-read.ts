// Positional reads that either fill the whole range or fail naming the file.
// The synchronous variant exists for small random reads (one checkpoint, ~32 KB): served
// from the page cache, a pread takes microseconds, while the async path's round trip
// through libuv's thread pool costs far more, and much more again on a loaded machine.
import { readSync } from 'node:fs';
import type { open } from 'node:fs/promises';
import { CheckpointFormatError } from './errors.js';
import { fileProblem } from './regular-file.js';

type ReadHandle = Awaited<ReturnType<typeof open>>;

function truncated(file: string, position: number, length: number, done: number): never {
  throw new CheckpointFormatError(file, `truncated: wanted ${length} bytes at offset ${position}, the file ended after ${done}`);
}

// Offsets and lengths come from file headers: a negative or unsafe one is a bad file, not a RangeError.
function checkRange(file: string, position: number, length: number): void {
  if (!Number.isSafeInteger(position) || position < 0 || !Number.isSafeInteger(length) || length < 0 || !Number.isSafeInteger(position + length)) {
    throw new CheckpointFormatError(file, `invalid byte range: ${length} bytes at offset ${position}`);
  }
}

/** Reads exactly `length` bytes at `position`, or fails naming the file. */
export async function readExactly(handle: ReadHandle, file: string, position: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
  checkRange(file, position, length);
  const buffer = into ?? new Uint8Array(length);
  let done = 0;
  while (done < length) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(buffer, done, length - done, position + done));
    } catch (error) {
      throw fileProblem(file, 'file', error); // EIO and the like: name the file
    }
    if (bytesRead === 0) truncated(file, position, length, done);
    done += bytesRead;
  }
  return buffer;
}

/** Synchronous `readExactly` on a file descriptor (blocks the event loop for the read). */
export function readExactlySync(fd: number, file: string, position: number, length: number, into: Uint8Array): Uint8Array {
  checkRange(file, position, length);
  let done = 0;
  while (done < length) {
    let bytesRead: number;
    try {
      bytesRead = readSync(fd, into, done, length - done, position + done);
    } catch (error) {
      throw fileProblem(file, 'file', error);
    }
    if (bytesRead === 0) truncated(file, position, length, done);
    done += bytesRead;
  }
  return into;
}
