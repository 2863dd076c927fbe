// Read-only access to one LMDB environment (one run directory of an official dataset).
// Both data format versions are read by our own bounds-checked reader (lmdb-reader.ts):
//  - version 1 (LMDB 0.9, what py-lmdb and thus the official G.pt datasets use): the
//    prebuilt `lmdb` npm binaries speak version 2 only and refuse these files;
//  - version 2 (LMDB 1.0, what the `lmdb` npm package writes): the native package
//    would read them, but it dies with SIGSEGV/SIGBUS on a damaged file and takes the
//    process with it, so files from elsewhere are never handed to it.
import { join } from 'node:path';
import { CheckpointFormatError } from '../errors.js';
import { openRegularFile } from '../regular-file.js';
import { readExactly } from '../positional-read.js';
import { detectLmdbVersion, LmdbReader, type LmdbReadOptions } from './lmdb-reader.js';

export { DEFAULT_MAX_LMDB_VALUE_BYTES, type LmdbReadOptions } from './lmdb-reader.js';

export interface LmdbStore {
  /** The data file (errors name it). */
  readonly file: string;
  /** Every key, in key order. */
  keys(): Promise<readonly string[]>;
  /** The value of `key` (a fresh copy), or undefined. */
  get(key: string): Promise<Uint8Array | undefined>;
  close(): Promise<void>;
}

export const LMDB_DATA_FILE = 'data.mdb';

/** Reads the data format version from the first meta page of an LMDB data file. */
export async function lmdbDataVersion(dataFile: string): Promise<number> {
  const handle = await openRegularFile(dataFile, 'LMDB data file');
  try {
    const { size } = await handle.stat();
    const version = detectLmdbVersion(await readExactly(handle, dataFile, 0, Math.min(size, 32)));
    if (version === undefined) throw new CheckpointFormatError(dataFile, 'not an LMDB data file (no LMDB magic number in the first meta page)');
    return version;
  } finally {
    await handle.close();
  }
}

/** Opens the LMDB environment in `dir` read-only (format version 1 or 2); errors name its data file. */
export async function openLmdbStore(dir: string, options: LmdbReadOptions = {}): Promise<LmdbStore> {
  const dataFile = join(dir, LMDB_DATA_FILE);
  try {
    return await LmdbReader.open(dataFile, options);
  } catch (error) {
    if (((error as Error).cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      throw new CheckpointFormatError(dataFile, 'missing LMDB data file: this run directory holds no LMDB environment', { cause: error });
    }
    throw error;
  }
}
