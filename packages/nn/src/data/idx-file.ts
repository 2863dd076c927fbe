// IDX files on disk (Node only): raw or gzip-compressed, as MNIST is distributed.
// Nothing is read, inflated or allocated beyond what the header promises: a raw file's
// size is checked against its header before its body is read, and a .gz file is inflated
// as a stream that stops as soon as the output passes the size its header promises (a
// small .gz can inflate to gigabytes), or maxBytes.

import { createGunzip } from 'node:zlib';
import { DataFileError } from './data-file-error.js';
import { checkMaxBytes, idxHeader, idxSizeError, isGzip, parseIdx, type IdxArray, type IdxHeader, type IdxOptions } from './idx.js';
import type { ByteSource } from '@gpt/checkpoints';
import { openDataFile, readDataFile } from './regular-file.js';

/** The longest IDX header: 4 bytes of magic and 255 dimensions. */
const MAX_HEADER_BYTES = 4 + 4 * 255;

/** Reads an IDX file, gunzipping it when it is compressed; errors (DataFileError) name the file. */
export async function readIdx(file: string, options: IdxOptions = {}): Promise<IdxArray> {
  const maxBytes = checkMaxBytes(options.maxBytes, 'readIdx');
  const source = await openDataFile(file);
  try {
    const head = await readDataFile(source, 0, Math.min(source.size, MAX_HEADER_BYTES));
    const data = isGzip(head) ? await gunzipIdx(source, file, maxBytes) : await readRawIdx(source, file, head, maxBytes);
    return parseIdx(data, file, { maxBytes });
  } finally {
    await source.close();
  }
}

async function readRawIdx(source: ByteSource, file: string, head: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  const header = idxHeader(head, file, maxBytes);
  if (!header) return head; // too short even for its header: parseIdx says so
  if (source.size !== header.fileBytes) throw idxSizeError(file, header, source.size);
  return readDataFile(source, 0, header.fileBytes);
}

/** Inflates a whole .gz IDX file, stopping past the size its header promises. */
async function gunzipIdx(source: ByteSource, file: string, maxBytes: number): Promise<Uint8Array> {
  // The compressed file itself is bounded too (deflate never shrinks data to nothing).
  if (source.size > maxBytes) throw new DataFileError(file, `gzip file of ${source.size} bytes is larger than the ${maxBytes}-byte limit (maxBytes)`);
  const compressed = await readDataFile(source, 0, source.size);
  const gunzip = createGunzip();
  // The output grows by doubling up to the size the header promises (never allocated from
  // the header alone: a tiny file may promise a gigabyte), so the peak is at most 1.5 times
  // what was actually inflated, and inflating stops at the first chunk past that size.
  let out = new Uint8Array(0);
  let total = 0;
  let header: IdxHeader | undefined;
  await new Promise<void>((resolve, reject) => {
    const stop = (error: unknown) => {
      gunzip.destroy();
      reject(error);
    };
    gunzip.on('data', (chunk: Buffer) => {
      const needed = total + chunk.length;
      try {
        header ??= idxHeader(Buffer.concat([out.subarray(0, total), chunk.subarray(0, MAX_HEADER_BYTES)]), file, maxBytes);
      } catch (error) {
        return stop(error);
      }
      const limit = header ? header.fileBytes : MAX_HEADER_BYTES;
      if (needed > limit) {
        return stop(
          new DataFileError(
            file,
            header
              ? `trailing data: the gzip data inflates past the ${header.fileBytes} bytes that dimensions [${header.dims.join(', ')}] of ${header.type} need (stopped after ${needed})`
              : 'gzip data does not start with an IDX header',
          ),
        );
      }
      if (needed > out.length) {
        const grown = new Uint8Array(Math.max(needed, Math.min(limit, Math.max(2 * out.length, 2 ** 16))));
        grown.set(out.subarray(0, total));
        out = grown;
      }
      out.set(chunk, total);
      total = needed;
    });
    gunzip.on('end', resolve);
    gunzip.on('error', (error) => reject(new DataFileError(file, `gzip data could not be decompressed (${error.message})`, { cause: error })));
    gunzip.end(compressed);
  });
  if (header && total !== header.fileBytes) throw idxSizeError(file, header, total);
  return out.subarray(0, total);
}
