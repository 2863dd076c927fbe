// Random access to the bytes of a file or of a buffer: all the ZIP and PyTorch readers
// need. The readers take a ByteSource, so the same code reads a .pt file on disk in Node
// (`openFileSource` in @gpt/checkpoints/node, positional reads, nothing loaded whole)
// and a .pt file fetched into memory in a browser (`bytesSource`).

import { CheckpointFormatError } from './errors.js';

export interface ByteSource {
  /** Names the source in every error (a path, a URL, a label). */
  readonly name: string;
  /** Total bytes. */
  readonly size: number;
  /** Exactly `length` bytes at `position`; fails naming the source when the data ends first. */
  read(position: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** A ByteSource over bytes in memory; reads return views (no copies). */
export function bytesSource(name: string, bytes: Uint8Array): ByteSource {
  return {
    name,
    size: bytes.byteLength,
    async read(position, length) {
      if (position < 0 || length < 0 || position + length > bytes.byteLength) {
        const done = Math.max(0, Math.min(length, bytes.byteLength - position));
        throw new CheckpointFormatError(name, `truncated: wanted ${length} bytes at offset ${position}, the data ended after ${done}`);
      }
      return bytes.subarray(position, position + length);
    },
    async close() {},
  };
}
