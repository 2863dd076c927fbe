// PairSampler.state()/restore(): a sampler restored from a state taken mid-stream (also
// mid-pass of the epoch run order, and through JSON) draws exactly the batches the
// original draws next, permutations included; malformed states are refused.
import { describe, expect, it } from 'vitest';
import { PairSampler, type PairSamplerOptions, type PermutationSpec } from '../src/index.js';
import { MemorySource } from './helpers/memory-source.js';

const D = 6;
const permutation: PermutationSpec = {
  tensors: [
    { name: 'w', shape: [3, 2] },
  ],
  groups: [{ size: 3, members: [{ tensor: 'w', axis: 0 }] }],
};

describe('PairSampler state', () => {
  it.each(['uniform', 'epoch'] as const)('restore continues the %s stream exactly', async (runOrder) => {
    const source = MemorySource.build(5, 7, D, (r, k, j) => r * 1000 + k * 10 + j);
    const options: PairSamplerOptions = { runs: source.runs, metric: 'loss', seed: 3, runOrder, permutation };
    const original = await PairSampler.create(source, options);
    await original.sample(3); // mid-pass for 'epoch' (5 runs per pass)
    const saved = JSON.parse(JSON.stringify(original.state()));
    const expected = [await original.sample(4), await original.sample(6)];

    const resumed = await PairSampler.create(source, { ...options, seed: 99 });
    resumed.restore(saved);
    const actual = [await resumed.sample(4), await resumed.sample(6)];
    for (const [a, e] of actual.map((b, i) => [b, expected[i]!] as const)) {
      expect(a.runs).toEqual(e.runs);
      expect(Array.from(a.index0)).toEqual(Array.from(e.index0));
      expect(Array.from(a.index1)).toEqual(Array.from(e.index1));
      expect(Array.from(a.theta0)).toEqual(Array.from(e.theta0));
      expect(Array.from(a.theta1)).toEqual(Array.from(e.theta1));
    }
    // A fresh sampler with the other seed draws something else: the restore is what made them equal.
    const fresh = await PairSampler.create(source, { ...options, seed: 99 });
    expect(Array.from((await fresh.sample(4)).theta0)).not.toEqual(Array.from(expected[0]!.theta0));
  });

  it('refuses a state of another run list or a malformed one', async () => {
    const source = MemorySource.build(5, 7, D, (r, k, j) => r + k + j);
    const sampler = await PairSampler.create(source, { runs: source.runs, metric: 'loss', seed: 1, runOrder: 'epoch' });
    await sampler.sample(2);
    const state = sampler.state();
    const fewer = await PairSampler.create(source, { runs: source.runs.slice(0, 4), metric: 'loss', seed: 1 });
    expect(() => fewer.restore(state)).toThrow(/taken over 5 runs, this sampler has 4/);
    expect(() => sampler.restore({ ...state, epochOrder: [0, 1, 2, 3, 9] })).toThrow(/epochOrder must be empty or a permutation/);
    expect(() => sampler.restore({ ...state, epochPosition: 6 })).toThrow(/epochPosition must be an integer in \[0, 5\]/);
    expect(() => sampler.restore({ ...state, generator: { key: [1, -1], counter: 0 } })).toThrow(/generator state must be/);
  });
});
