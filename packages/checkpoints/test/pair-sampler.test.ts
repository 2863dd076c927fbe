import { describe, expect, it } from 'vitest';
import { MNIST_TASK, PairSampler, ParameterPermuter, createManifest, openaiNormalizer, splitRuns } from '../src/index.js';
import { CheckpointDataset, DatasetWriter } from '../src/node.js';
import { MemorySource } from './helpers/memory-source.js';
import { useTempDirs } from './helpers/temp-dir.js';

const tempDir = useTempDirs();

function expectBetween(value: number, low: number, high: number): void {
  expect(value).toBeGreaterThan(low);
  expect(value).toBeLessThan(high);
}

describe('PairSampler', () => {
  it('draws forward-in-time pairs from one run with the metric of each checkpoint', async () => {
    const D = 6;
    // Parameter j of checkpoint k of run r is r*1000 + k*10 + j: every row says where it came from.
    const source = MemorySource.build(3, 8, D, (r, k, j) => r * 1000 + k * 10 + j);
    const sampler = await PairSampler.create(source, { runs: source.runs, metric: 'loss', seed: 1 });
    const batch = await sampler.sample(64);
    expect(batch.shape).toEqual([64, D]);
    expect(batch.theta0.length).toBe(64 * D);
    for (let i = 0; i < batch.size; i++) {
      const r = Number(batch.runs[i]);
      const [k0, k1] = [batch.index0[i]!, batch.index1[i]!];
      expect(k1).toBeGreaterThan(k0);
      expect(k1).toBeLessThan(8);
      for (let j = 0; j < D; j++) {
        expect(batch.theta0[i * D + j]).toBe(r * 1000 + k0 * 10 + j);
        expect(batch.theta1[i * D + j]).toBe(r * 1000 + k1 * 10 + j);
      }
      expect(batch.metric0[i]).toBe(100 * r + k0 + 0.5);
      expect(batch.metric1[i]).toBe(100 * r + k1 + 0.5);
    }
  });

  it('samples gap k ~ U{1..n-1}, then start ~ U{0..n-1-k}, and runs uniformly', async () => {
    const n = 5;
    const source = MemorySource.build(4, n, 1, (r, k) => k);
    const sampler = await PairSampler.create(source, { runs: source.runs, metric: 'loss', seed: 2 });
    const batch = await sampler.sample(8000);
    const gaps = new Map<number, number>();
    const startsForGap1 = new Map<number, number>();
    const runs = new Map<string, number>();
    for (let i = 0; i < batch.size; i++) {
      const gap = batch.index1[i]! - batch.index0[i]!;
      gaps.set(gap, (gaps.get(gap) ?? 0) + 1);
      if (gap === 1) startsForGap1.set(batch.index0[i]!, (startsForGap1.get(batch.index0[i]!) ?? 0) + 1);
      runs.set(batch.runs[i]!, (runs.get(batch.runs[i]!) ?? 0) + 1);
    }
    // Each of the 4 gaps has probability 1/4 (so pairs are NOT uniform over all (i, j) pairs).
    expect([...gaps.keys()].sort()).toEqual([1, 2, 3, 4]);
    for (const count of gaps.values()) expectBetween(count / 8000, 0.22, 0.28);
    // Given gap 1, the start is uniform over 0..3.
    const gap1 = gaps.get(1)!;
    for (const s of [0, 1, 2, 3]) expectBetween(startsForGap1.get(s)! / gap1, 0.2, 0.3);
    for (const count of runs.values()) expectBetween(count / 8000, 0.22, 0.28);
  });

  it('honours minGap/maxGap, the epoch run order, and the seed', async () => {
    const source = MemorySource.build(5, 10, 2, (r, k, j) => r + k + j);
    const limited = await PairSampler.create(source, { runs: source.runs, metric: 'loss', seed: 3, minGap: 2, maxGap: 3 });
    const b = await limited.sample(300);
    for (let i = 0; i < b.size; i++) expect([2, 3]).toContain(b.index1[i]! - b.index0[i]!);

    const epochs = await PairSampler.create(source, { runs: source.runs, metric: 'loss', seed: 3, runOrder: 'epoch' });
    const e = await epochs.sample(15);
    for (let pass = 0; pass < 3; pass++) expect([...e.runs.slice(pass * 5, pass * 5 + 5)].sort()).toEqual(source.runs);

    const a1 = await (await PairSampler.create(source, { runs: source.runs, metric: 'loss', seed: 9 })).sample(20);
    const a2 = await (await PairSampler.create(source, { runs: source.runs, metric: 'loss', seed: 9 })).sample(20);
    const a3 = await (await PairSampler.create(source, { runs: source.runs, metric: 'loss', seed: 10 })).sample(20);
    expect(a2).toEqual(a1);
    expect(a3.index0).not.toEqual(a1.index0);
  });

  it('normalizes both checkpoints and applies one shared random permutation per pair', async () => {
    const D = MNIST_TASK.tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
    // Value = position + 10000 * checkpoint, so the gather index can be read back from the output.
    const source = MemorySource.build(2, 4, D, (_, k, j) => j + 10000 * k);
    const coefficient = 0.5; // exact in float32, so the index can be recovered exactly
    const sampler = await PairSampler.create(source, {
      runs: source.runs,
      metric: 'loss',
      seed: 4,
      normalizer: openaiNormalizer(coefficient),
      permutation: MNIST_TASK.permutation,
    });
    const batch = await sampler.sample(6);
    const permuter = new ParameterPermuter(MNIST_TASK.permutation);
    const indices = new Set<string>();
    for (let i = 0; i < batch.size; i++) {
      const index0 = Int32Array.from({ length: D }, (_, j) => batch.theta0[i * D + j]! / coefficient - 10000 * batch.index0[i]!);
      const index1 = Int32Array.from({ length: D }, (_, j) => batch.theta1[i * D + j]! / coefficient - 10000 * batch.index1[i]!);
      expect(index1).toEqual(index0); // same permutation on θ₀ and θ₁
      // It is the gather index of some permutation of the 10 hidden units: recover it from fc1.bias.
      const hidden = Int32Array.from({ length: 10 }, (_, u) => index0[7840 + u]! - 7840);
      expect(index0).toEqual(permuter.indexFor([hidden]));
      indices.add(hidden.join(','));
    }
    expect(indices.size).toBeGreaterThan(1); // a fresh permutation per example
  });

  it('reads pairs from a dataset on disk with the train split', async () => {
    const dir = await tempDir();
    const manifest = createManifest({ task: 't', tensors: [{ name: 'w', shape: [4] }], metrics: ['loss'], numTestRuns: 1 });
    const writer = await DatasetWriter.create(dir, manifest);
    for (let r = 0; r < 3; r++) {
      const parameters = Float32Array.from({ length: 6 * 4 }, (_, i) => r * 100 + i);
      await writer.writeRun(`run${r}`, { parameters, iterations: [0, 1, 2, 3, 4, 5], metrics: { loss: [6, 5, 4, 3, 2, 1] } });
    }
    const dataset = await CheckpointDataset.open(dir);
    expect(dataset.split).toEqual(splitRuns(['run0', 'run1', 'run2'], 1));
    const sampler = await PairSampler.create(dataset, { runs: dataset.split.train, metric: 'loss', seed: 0 });
    const batch = await sampler.sample(40);
    for (let i = 0; i < batch.size; i++) {
      expect(batch.runs[i]).not.toBe('run2');
      const r = Number(batch.runs[i]!.slice(3));
      expect(batch.theta1[i * 4]).toBe(r * 100 + batch.index1[i]! * 4);
      expect(batch.metric0[i]! - batch.metric1[i]!).toBe(batch.index1[i]! - batch.index0[i]!);
    }
    await dataset.close();
  });

  it('rejects runs that are too short, unknown metrics and a permutation of the wrong size', async () => {
    const source = MemorySource.build(2, 1, 3, () => 0);
    await expect(PairSampler.create(source, { runs: source.runs, metric: 'loss', seed: 0 })).rejects.toThrow(/run "000" has 1 checkpoints, too few/);
    const ok = MemorySource.build(2, 3, 3, () => 0);
    await expect(PairSampler.create(ok, { runs: ok.runs, metric: 'acc', seed: 0 })).rejects.toThrow(/unknown metric acc/);
    await expect(PairSampler.create(ok, { runs: ok.runs, metric: 'loss', seed: 0, permutation: MNIST_TASK.permutation })).rejects.toThrow(
      /permutation covers 7960 parameters, the dataset has D = 3/,
    );
    expect(() => splitRuns(['a'], 2)).toThrow(/more than the 1 runs/);
  });
});
