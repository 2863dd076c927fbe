// Fuzzes the .pt reader (zip + pickle + tensor checks): every mutated file must be read
// completely or refused with a CheckpointFormatError naming it, within the time and memory
// caps. `pnpm fuzz --target torch-file --iterations N` runs the same target for longer.
import { expect, it } from 'vitest';
import { fuzzTarget } from '../../fuzz/harness.js';

it('torch-file: mutated .pt files are read or refused cleanly, never a crash, hang, raw error or memory blow-up', async () => {
  const report = await fuzzTarget(new URL('../../fuzz/targets/torch-file.ts', import.meta.url), { iterations: 150, seed: 1 });
  expect(report.tried).toBe(150);
  expect(report.bad).toEqual([]);
  expect(report.ok + report.clean).toBe(150);
}, 120_000);
