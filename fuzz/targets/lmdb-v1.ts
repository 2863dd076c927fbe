// Fuzz target: LMDB data format 1 (py-lmdb, the official G.pt datasets), read by
// @gpt/checkpoints' own reader through openLmdbStore. Seeds: the py-lmdb fixtures (a
// one-level tree with overflow values, a fused run directory, a 3-level tree of 600 keys).
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FuzzSeed, FuzzTarget } from '../harness.js';
import { LMDB_MUTATORS, readLmdbEnvironment } from '../lmdb-fuzz.js';

const FIXTURES = fileURLToPath(new URL('../../packages/checkpoints/test/fixtures/official-lmdb/', import.meta.url));

export const target: FuzzTarget = {
  name: 'lmdb-v1',
  async seeds(dir: string): Promise<FuzzSeed[]> {
    const runs = [join('cartpole', '000000'), join('cartpole', '000003_000004'), join('sgd-deep', '000000')];
    return Promise.all(
      runs.map(async (run, i) => {
        const path = join(dir, `run-${i}`);
        await cp(join(FIXTURES, run, 'data.mdb'), join(path, 'data.mdb'));
        return { path, mutate: join(path, 'data.mdb') };
      }),
    );
  },
  read: readLmdbEnvironment,
  // The generic mutators on a copy of the seed (see dataset-fixture.ts: Buffer#slice is a view), beside this format's own.
  mutators: LMDB_MUTATORS,
  genericMutators: false,
};
