// Fuzz target: LMDB data format 2 (what the `lmdb` npm package writes), read by
// @gpt/checkpoints' own reader through openLmdbStore (the native package, which crashed
// on damaged files, is not involved in reading). Seeds are written here with the package
// (a dev dependency of @gpt/checkpoints, resolved from there): a two-level tree with
// inline and overflow values, and a one-page tree.
import { createRequire } from 'node:module';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FuzzSeed, FuzzTarget } from '../harness.js';
import { LMDB_MUTATORS, readLmdbEnvironment } from '../lmdb-fuzz.js';

/** The part of the `lmdb` package used here (its types are not visible from fuzz/). */
interface LmdbPackage {
  open(options: { path: string; encoding: 'binary'; keyEncoding: 'binary'; noSync: boolean }): {
    transactionSync(write: () => void): void;
    putSync(key: Buffer, value: Buffer): void;
    close(): Promise<void>;
  };
}
const fromCheckpoints = createRequire(new URL('../../packages/checkpoints/package.json', import.meta.url));

async function writeSeed(lmdb: LmdbPackage, path: string, count: number, length: (i: number) => number): Promise<FuzzSeed> {
  const db = lmdb.open({ path, encoding: 'binary', keyEncoding: 'binary', noSync: true });
  db.transactionSync(() => {
    for (let i = 0; i < count; i++) db.putSync(Buffer.from(`000000/it${String(i).padStart(5, '0')}.pt`), Buffer.alloc(length(i), i + 1));
  });
  await db.close();
  await rm(join(path, 'lock.mdb'), { force: true });
  return { path, mutate: join(path, 'data.mdb') };
}

export const target: FuzzTarget = {
  name: 'lmdb-v2',
  async seeds(dir: string): Promise<FuzzSeed[]> {
    const lmdb = (await import(pathToFileURL(fromCheckpoints.resolve('lmdb')).href)) as LmdbPackage;
    return [
      await writeSeed(lmdb, join(dir, 'tree'), 120, (i) => (i % 10 === 0 ? 6000 : 40)),
      await writeSeed(lmdb, join(dir, 'one-page'), 6, (i) => (i === 2 ? 9000 : i * 8)),
    ];
  },
  read: readLmdbEnvironment,
  // The generic mutators on a copy of the seed (see dataset-fixture.ts: Buffer#slice is a view), beside this format's own.
  mutators: LMDB_MUTATORS,
  genericMutators: false,
};
