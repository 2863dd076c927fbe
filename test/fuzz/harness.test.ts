// The fuzz harness catches and classifies every way a reader can misbehave (so the per-reader
// fuzz tests beside this one can fail), and passes clean refusals and accepted inputs.
import { describe, expect, it } from 'vitest';
import { fuzzTarget } from '../../fuzz/harness.js';
import { classifyError } from '../../fuzz/classify.js';
import { GENERIC_MUTATORS, seededRng } from '../../fuzz/mutators.js';

describe('fuzz harness', () => {
  it('classifies accepted, clean, raw, unnamed, hanging, allocating and crashing readers', async () => {
    const report = await fuzzTarget(new URL('./fixtures/misbehaving-target.ts', import.meta.url), {
      iterations: 7,
      seed: 3,
      keepDir: `${process.env.TMPDIR ?? '/tmp'}/gpt-fuzz-harness-test`,
    });
    expect(report.tried).toBe(7);
    const outcomes = Object.fromEntries(
      report.bad.map((b) => [b.seed, b.outcome]),
    );
    expect(outcomes).toEqual({
      'type-error.bin': 'raw-error',
      'unnamed-error.bin': 'raw-error',
      'hang.bin': 'hang',
      'allocate.bin': 'memory',
      'segfault.bin': 'crash',
    });
    expect(report.ok).toBe(1);
    expect(report.clean).toBe(1);
    for (const b of report.bad) expect(b.kept).toBeTruthy();
    expect(report.largestMemory!.peakRssMb).toBeGreaterThan(400);
  }, 120_000);

  it('classifies errors: typed and naming the file is clean, everything else is raw', () => {
    class DataError extends Error {
      override name = 'DataError';
    }
    const path = '/data/run-1.safetensors';
    expect(classifyError(new DataError(`${path}: truncated`), path).outcome).toBe('clean');
    expect(classifyError(new DataError('truncated'), path).outcome).toBe('raw-error');
    expect(classifyError(new Error(`${path}: truncated`), path).outcome).toBe('raw-error');
    expect(classifyError(new RangeError(`${path}: offset`), path).outcome).toBe('raw-error');
    expect(classifyError(Object.assign(new DataError(`${path}`), { errno: -21, syscall: 'read' }), path).outcome).toBe('raw-error');
    expect(classifyError('a string', path).outcome).toBe('raw-error');
  });

  it('mutators are deterministic under a seed and never mutate their input', () => {
    const input = Uint8Array.from({ length: 200 }, (_, i) => i);
    const copy = input.slice();
    for (const [name, mutate] of Object.entries(GENERIC_MUTATORS)) {
      const a = mutate(input, seededRng(7));
      const b = mutate(input, seededRng(7));
      expect(a, name).toEqual(b);
      expect(input, name).toEqual(copy);
    }
  });
});
