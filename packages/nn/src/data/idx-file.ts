// IDX files on disk (Node only): raw or gzip-compressed, as MNIST is distributed.

import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { isGzip, parseIdx, type IdxArray } from './idx.js';

/** Reads an IDX file, gunzipping it when it is compressed; errors name the file. */
export async function readIdx(file: string): Promise<IdxArray> {
  let data: Uint8Array;
  try {
    data = await readFile(file);
  } catch (error) {
    throw new Error(`${file}: cannot read IDX file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (isGzip(data)) {
    try {
      data = gunzipSync(data);
    } catch (error) {
      throw new Error(`${file}: gzip data could not be decompressed (${(error as Error).message})`);
    }
  }
  return parseIdx(data, file);
}
