// novelty(): nearest training checkpoint of generated vectors, with hidden units aligned.
// The matching is checked against brute force; the alignment on permuted copies of
// training checkpoints (plainly far, aligned at the noise level); distances against a
// float64 brute-force scan; the neighbour and run-length figures against direct sums.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ParameterPermuter, applyGather, createManifest, type PermutationSpec } from '@gpt/checkpoints';
import { DatasetWriter } from '@gpt/checkpoints/node';
import { Generator } from '@gpt/tensor';
import { hungarian, novelty, noveltyAgainstDataset, noveltyPlot, summarize, UnitAligner, type CheckpointRun } from '../src/eval/novelty.js';

// A 2-hidden-layer MLP 3 -> 4 -> 5 -> 2: two chained permutation groups (like Cartpole's policy).
const TENSORS = [
  { name: 'l0.weight', shape: [4, 3] },
  { name: 'l0.bias', shape: [4] },
  { name: 'l1.weight', shape: [5, 4] },
  { name: 'l1.bias', shape: [5] },
  { name: 'l2.weight', shape: [2, 5] },
  { name: 'l2.bias', shape: [2] },
];
const SPEC: PermutationSpec = {
  tensors: TENSORS,
  groups: [
    { name: 'h1', size: 4, members: [{ tensor: 'l0.weight', axis: 0 }, { tensor: 'l0.bias', axis: 0 }, { tensor: 'l1.weight', axis: 1 }] },
    { name: 'h2', size: 5, members: [{ tensor: 'l1.weight', axis: 0 }, { tensor: 'l1.bias', axis: 0 }, { tensor: 'l2.weight', axis: 1 }] },
  ],
};
const D = 12 + 4 + 20 + 5 + 10 + 2;
const TASK = { name: 'test_mlp', parameterCount: D, permutation: SPEC };

function makeRuns(count: number, K: number, seed: number): CheckpointRun[] {
  const g = new Generator(seed);
  return Array.from({ length: count }, (_, r) => {
    const rows = new Float32Array(K * D);
    let p = Float32Array.from(g.normal(D));
    for (let k = 0; k < K; k++) {
      rows.set(p, k * D);
      const step = g.normal(D);
      p = p.map((x, i) => x + 0.1 * step[i]!);
    }
    return { run: `run${r}`, parameters: rows };
  });
}

function dist(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s);
}

function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

describe('hungarian', () => {
  it('finds the minimum-cost assignment (brute force over all permutations)', () => {
    const g = new Generator(11);
    for (const n of [1, 2, 3, 5, 6]) {
      for (let trial = 0; trial < 5; trial++) {
        const cost = Array.from({ length: n }, () => Array.from(g.uniform(n), (x) => Math.round(x * 20) / 4));
        const assignment = hungarian(cost);
        expect([...assignment].sort()).toEqual(Array.from({ length: n }, (_, i) => i));
        const total = assignment.reduce((s, c, r) => s + cost[r]![c]!, 0);
        const best = Math.min(...permutations(n).map((p) => p.reduce((s, c, r) => s + cost[r]![c]!, 0)));
        expect(total).toBeCloseTo(best, 12);
      }
    }
  });
});

describe('UnitAligner', () => {
  it('puts permuted copies of a vector in the same canonical order, and matching recovers the permutation', () => {
    const aligner = new UnitAligner(SPEC);
    const permuter = new ParameterPermuter(SPEC);
    const g = new Generator(5);
    const x = Float32Array.from(g.normal(D));
    const y = applyGather(x, permuter.randomIndex(g));
    expect(dist(x, y)).toBeGreaterThan(1);
    expect(dist(aligner.canonical(x), aligner.canonical(y))).toBe(0);
    const matched = aligner.match(y, x, 3);
    expect(dist(matched, x)).toBeLessThan(1e-6);
  });

  it('never moves a vector farther from its target, and matches exactly for a single group', () => {
    const aligner = new UnitAligner(SPEC);
    const g = new Generator(6);
    for (let trial = 0; trial < 10; trial++) {
      const a = Float32Array.from(g.normal(D));
      const b = Float32Array.from(g.normal(D));
      expect(dist(aligner.match(a, b, 2), b)).toBeLessThanOrEqual(dist(a, b) + 1e-9);
    }
    // One group (the first only): matching is the exact minimum over its 4! orders.
    const single: PermutationSpec = { tensors: TENSORS, groups: [SPEC.groups[0]!] };
    const one = new UnitAligner(single);
    const permuter = new ParameterPermuter(single);
    const a = Float32Array.from(g.normal(D));
    const b = Float32Array.from(g.normal(D));
    const best = Math.min(...permutations(4).map((p) => dist(applyGather(a, permuter.indexFor([Int32Array.from(p)])), b)));
    expect(dist(one.match(a, b, 1), b)).toBeCloseTo(best, 5);
  });
});

describe('novelty', () => {
  const runs = makeRuns(4, 6, 1);
  const permuter = new ParameterPermuter(SPEC);

  it('finds permuted near-copies of training checkpoints after alignment, and the exact plain nearest', async () => {
    const g = new Generator(9);
    const sources = [
      [1, 3],
      [2, 5],
      [0, 0],
    ] as const;
    const generated = sources.map(([r, k]) => {
      const row = runs[r]!.parameters.subarray(k * D, (k + 1) * D);
      const noisy = Float32Array.from(row, (x) => x + 1e-3 * g.normal(1)[0]!);
      return applyGather(noisy, permuter.randomIndex(g));
    });
    async function* stream() {
      for (const r of runs) yield r;
    }
    const report = await novelty(TASK, generated, stream(), { normalizationCoefficient: 2 });
    expect(report.alignment).toBe('canonical-match');
    expect(report.trainingRuns).toBe(4);
    expect(report.trainingCheckpoints).toBe(24);
    report.generated.forEach((n, i) => {
      const [r, k] = sources[i]!;
      expect(n.aligned.run).toBe(`run${r}`);
      expect(n.aligned.index).toBe(k);
      expect(n.aligned.distance).toBeLessThan(0.05); // the noise: 1e-3 x sqrt(D)
      // Plain nearest: the brute-force minimum in float64.
      let best = Infinity;
      for (const run of runs) for (let kk = 0; kk < 6; kk++) best = Math.min(best, dist(generated[i]!, run.parameters.subarray(kk * D, (kk + 1) * D)));
      expect(n.plain.distance).toBeCloseTo(best, 5);
      expect(n.plain.distance).toBeGreaterThan(1);
    });
    // Neighbour distances and run lengths, directly.
    const expected: number[] = [];
    for (const run of runs) for (let k = 1; k < 6; k++) expected.push(dist(run.parameters.subarray((k - 1) * D, k * D), run.parameters.subarray(k * D, (k + 1) * D)));
    expect(report.neighbourDistances).toHaveLength(20);
    report.neighbourDistances.forEach((d, i) => expect(d).toBeCloseTo(expected[i]!, 5));
    expect(report.runLengths[2]).toBeCloseTo(dist(runs[2]!.parameters.subarray(0, D), runs[2]!.parameters.subarray(5 * D, 6 * D)), 5);
    expect(report.summary.neighbour).toEqual(summarize(report.neighbourDistances));
    expect(report.summary.generatedToNeighbourRatio).toBeCloseTo(report.summary.generatedAligned.median / report.summary.neighbour.median, 12);
    expect(report.summary.normalizedMedians!.neighbour).toBeCloseTo(2 * report.summary.neighbour.median, 12);
    expect(report.summary.normalizedMedians!.runLength).toBeCloseTo(2 * report.summary.runLength.median, 12);
    const svg = await noveltyPlot(report);
    expect(svg).toContain('consecutive checkpoints of a training run');
    expect(svg).toContain('G.pt sample to nearest training checkpoint');
  });

  it('with alignment "none" reports plain distances only, and measures references the same way', async () => {
    const g = new Generator(10);
    const fresh = [Float32Array.from(g.normal(D))];
    const held = makeRuns(1, 2, 99)[0]!.parameters.subarray(D, 2 * D);
    const report = await novelty(TASK, fresh, runs, { alignment: 'none', references: [{ name: 'held-out checkpoint', vectors: [Float32Array.from(held)] }] });
    expect(report.alignmentNote).toMatch(/NOT undone/);
    expect(report.summary.normalizedMedians).toBeNull();
    expect(report.generated[0]!.aligned).toEqual(report.generated[0]!.plain);
    expect(report.references[0]!.name).toBe('held-out checkpoint');
    let best = Infinity;
    for (const run of runs) for (let k = 0; k < 6; k++) best = Math.min(best, dist(held, run.parameters.subarray(k * D, (k + 1) * D)));
    expect(report.references[0]!.nearest[0]!.plain.distance).toBeCloseTo(best, 5);
  });

  it('refuses vectors of the wrong size, runs that are not whole checkpoints, and no runs', async () => {
    await expect(novelty(TASK, [new Float32Array(3)], runs)).rejects.toThrow(/vector 0 must be a Float32Array of 53 values/);
    await expect(novelty(TASK, [new Float32Array(D)], [{ run: 'bad', parameters: new Float32Array(D + 1) }])).rejects.toThrow(/run "bad" holds 54 values/);
    await expect(novelty(TASK, [new Float32Array(D)], [])).rejects.toThrow(/no training runs/);
  });
});

describe('noveltyAgainstDataset', () => {
  it('uses the training split as candidates and the test runs\' final checkpoints as the reference', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpt-novelty-'));
    try {
      const runs = makeRuns(5, 4, 3);
      const writer = await DatasetWriter.create(dir, createManifest({ task: 'test_mlp', tensors: TENSORS, metrics: ['loss'], numTestRuns: 2 }), { noSync: true });
      for (const r of runs) await writer.writeRun(r.run, { parameters: r.parameters, iterations: [0, 1, 2, 3], metrics: { loss: [4, 3, 2, 1] } });
      await writer.close();
      // A copy of test run 4's checkpoint 1: far from the training runs 0-2, since run 4 is held out.
      const copyOfTest = Float32Array.from(runs[4]!.parameters.subarray(D, 2 * D));
      const copyOfTrain = Float32Array.from(runs[1]!.parameters.subarray(2 * D, 3 * D));
      const report = await noveltyAgainstDataset(TASK, [copyOfTrain, copyOfTest], dir);
      expect(report.trainingRuns).toBe(3);
      expect(report.trainingCheckpoints).toBe(12);
      expect(report.generated[0]!.aligned).toEqual({ distance: 0, run: 'run1', index: 2 });
      expect(report.generated[1]!.aligned.distance).toBeGreaterThan(1);
      expect(report.references[0]!.name).toBe('held-out run (final checkpoint)');
      expect(report.references[0]!.nearest).toHaveLength(2);
      expect(report.neighbourDistances).toHaveLength(9); // 3 training runs x 3 consecutive pairs
      await expect(noveltyAgainstDataset({ ...TASK, parameterCount: 7 }, [new Float32Array(7)], dir)).rejects.toThrow(/53-parameter checkpoints, task "test_mlp" has 7/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
