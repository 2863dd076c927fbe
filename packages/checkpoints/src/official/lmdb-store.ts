// Read-only access to one LMDB environment (one run directory of an official dataset).
// Two backends, chosen by the data format version in the file's meta page:
//  - version 1 (LMDB 0.9, what py-lmdb and thus the official G.pt datasets use): read
//    here in TypeScript, because the prebuilt `lmdb` npm binaries speak version 2 only
//    and refuse these files ("version mismatch");
//  - version 2 (LMDB 1.0 format, what the `lmdb` npm package writes): through the
//    optional `lmdb` package, loaded on first use.
import { stat } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointFormatError } from '../errors.js';
import { LmdbV1Reader, LMDB_MAGIC } from './lmdb-v1-reader.js';

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

/**
 * Reads the data format version from the first meta page of an LMDB data file. The
 * page header is 16 bytes in format 1 and 24 bytes in format 2, so the meta record
 * (magic, then version) starts at either offset.
 */
export async function lmdbDataVersion(dataFile: string): Promise<number> {
  const handle = await open(dataFile, 'r');
  try {
    const head = new Uint8Array(32);
    const { bytesRead } = await handle.read(head, 0, 32, 0);
    const view = new DataView(head.buffer);
    for (const metaStart of [16, 24]) {
      if (bytesRead >= metaStart + 8 && view.getUint32(metaStart, true) === LMDB_MAGIC) return view.getUint32(metaStart + 4, true) & 0xffff;
    }
    throw new CheckpointFormatError(dataFile, 'not an LMDB data file (no LMDB magic number in the first meta page)');
  } finally {
    await handle.close();
  }
}

/** Opens the LMDB environment in `dir` read-only, picking the backend by format version. */
export async function openLmdbStore(dir: string): Promise<LmdbStore> {
  const dataFile = join(dir, LMDB_DATA_FILE);
  try {
    await stat(dataFile);
  } catch {
    throw new CheckpointFormatError(dataFile, 'missing LMDB data file: this run directory holds no LMDB environment');
  }
  const version = await lmdbDataVersion(dataFile);
  if (version === 1) return LmdbV1Reader.open(dataFile);
  if (version === 2) return openWithLmdbPackage(dir, dataFile);
  throw new CheckpointFormatError(dataFile, `unsupported LMDB data format version ${version}`);
}

type LmdbModule = typeof import('lmdb');

let lmdbModule: Promise<LmdbModule> | undefined;

async function loadLmdbPackage(dataFile: string): Promise<LmdbModule> {
  lmdbModule ??= import('lmdb');
  try {
    return await lmdbModule;
  } catch (error) {
    lmdbModule = undefined;
    throw new CheckpointFormatError(
      dataFile,
      "LMDB data format version 2 needs the optional dependency 'lmdb' (npm install lmdb), which could not be loaded",
      { cause: error },
    );
  }
}

async function openWithLmdbPackage(dir: string, dataFile: string): Promise<LmdbStore> {
  const lmdb = await loadLmdbPackage(dataFile);
  let db: ReturnType<LmdbModule['open']>;
  try {
    db = lmdb.open({ path: dir, readOnly: true, encoding: 'binary', keyEncoding: 'binary', noSubdir: false, cache: false });
  } catch (error) {
    throw new CheckpointFormatError(dataFile, `cannot open LMDB environment (${(error as Error).message})`, { cause: error });
  }
  const decoder = new TextDecoder();
  return {
    file: dataFile,
    async keys() {
      return Array.from(db.getKeys(), (k) => decoder.decode(k as Uint8Array));
    },
    async get(key) {
      const value = db.getBinary(Buffer.from(key, 'utf8'));
      return value === undefined ? undefined : new Uint8Array(value);
    },
    async close() {
      await db.close();
    },
  };
}
