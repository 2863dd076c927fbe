// Fuzzes the safetensors reader: every mutated file (length prefix, header JSON, data)
// must be read completely or refused with a CheckpointFormatError naming it, within the
// time and memory caps. `pnpm fuzz --target safetensors --iterations N` runs it for longer.
import { expect, it } from 'vitest';
import { fuzzTarget } from '../../fuzz/harness.js';

it('safetensors: mutated files are read or refused cleanly, never a crash, hang, raw error or memory blow-up', async () => {
  const report = await fuzzTarget(new URL('../../fuzz/targets/safetensors.ts', import.meta.url), { iterations: 200, seed: 1 });
  expect(report.tried).toBe(200);
  expect(report.bad).toEqual([]);
  expect(report.ok + report.clean).toBe(200);
}, 120_000);
