// Fuzz test (issue 19): mutated LMDB format 2 files (the lmdb npm package) end in the right data or a typed
// error naming the file, never a crash, a hang or the memory cap. `pnpm fuzz --target lmdb-v2` runs more.
import { expect, it } from 'vitest';
import { fuzzTarget } from '../../fuzz/harness.js';

it('lmdb-v2: 200 seeded mutations, every one read cleanly or refused by a typed error naming the file', async () => {
  const report = await fuzzTarget(new URL('../../fuzz/targets/lmdb-v2.ts', import.meta.url), { iterations: 200, seed: 1 });
  expect(report.bad).toEqual([]);
  expect(report.ok).toBeGreaterThan(0); // valid-looking inputs still read: the reader does not just refuse everything
  expect(report.tried).toBe(200);
  expect(report.ok + report.clean).toBe(200);
}, 120_000);
