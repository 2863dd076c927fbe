// Fuzz test of the checkpoint dataset reader through fuzz/targets/manifest.ts: seeded mutations
// of a valid dataset folder's manifest.json, each read completely in a child process with a time
// limit and a memory cap. Every probe must end in correct data or a typed error naming the
// folder's file; `pnpm fuzz --iterations N --target manifest` runs longer.
import { describe, expect, it } from 'vitest';
import { fuzzTarget } from '../../fuzz/harness.js';

describe('fuzz: manifest', () => {
  it('no crash, hang, memory blow-up, raw error or wrong data over 150 seeded probes', async () => {
    const report = await fuzzTarget(new URL('../../fuzz/targets/manifest.ts', import.meta.url), { iterations: 150, seed: 1 });
    expect(report.bad).toEqual([]);
    expect(report.tried).toBe(150);
    expect(report.clean).toBeGreaterThan(0); // the mutations do reach the reader's checks
  }, 120_000);
});
