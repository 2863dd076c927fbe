// landscape(): several G.pt samples of one (network, prompt), their distances, midpoints and
// the metric over the plane of their top-2 principal directions. The linear algebra is
// checked against constructed data with known principal directions; landscape() itself on
// the quadratic test task, whose metric the test recomputes on the vectors the task saw.
import { describe, expect, it } from 'vitest';
import { Generator } from '@gpt/tensor';
import { euclidean, landscape, landscapePlot, principalPlane, symmetricEigen } from '../src/eval/landscape.js';
import type { Task } from '../src/tasks/task.js';
import { tinyTrainedGpt } from './fixtures/eval-models.js';
import { quadraticLoss, quadraticTask } from './sample-quadratic-task.js';

/** The quadratic task, recording every vector evaluate() receives and the batch sizes. */
function recordingTask(): { task: Task; seen: Float32Array[]; batches: number[] } {
  const base = quadraticTask();
  const seen: Float32Array[] = [];
  const batches: number[] = [];
  return {
    seen,
    batches,
    task: {
      ...base,
      async evaluate(params, options) {
        seen.push(...params.map((p) => Float32Array.from(p)));
        batches.push(params.length);
        return base.evaluate(params, options);
      },
    },
  };
}

describe('symmetricEigen and principalPlane', () => {
  it('diagonalizes a symmetric matrix (A v = lambda v, orthonormal v)', () => {
    const m = [
      [4, 1, -2, 0.5],
      [1, 3, 0, 1],
      [-2, 0, 5, -1],
      [0.5, 1, -1, 2],
    ];
    const { values, vectors } = symmetricEigen(m);
    for (let k = 0; k < 4; k++) {
      for (let i = 0; i < 4; i++) {
        const av = m[i]!.reduce((s, mij, j) => s + mij * vectors[j]![k]!, 0);
        expect(av).toBeCloseTo(values[k]! * vectors[i]![k]!, 10);
      }
      for (let l = 0; l < 4; l++) expect(vectors.reduce((s, row) => s + row[k]! * row[l]!, 0)).toBeCloseTo(k === l ? 1 : 0, 10);
    }
    expect(values.reduce((a, b) => a + b, 0)).toBeCloseTo(14, 10); // the trace
  });

  it('recovers the two directions of largest spread and projects onto them', () => {
    const D = 12;
    const center = Float32Array.from({ length: D }, (_, d) => d * 0.1);
    const u = Float32Array.from({ length: D }, (_, d) => (d === 3 ? 1 : 0));
    const w = Float32Array.from({ length: D }, (_, d) => (d === 7 ? 1 : 0));
    // Coefficients with mean 0: spread 3 along u, 1 along w, uncorrelated.
    const a = [3, -3, 3, -3];
    const b = [1, 1, -1, -1];
    const vectors = a.map((ai, i) => Float32Array.from(center, (c, d) => c + ai * u[d]! + b[i]! * w[d]!));
    const plane = principalPlane(vectors, center);
    expect(plane.sources).toEqual(['pca', 'pca']);
    expect(Math.abs(plane.directions[0][3]!)).toBeCloseTo(1, 6);
    expect(Math.abs(plane.directions[1][7]!)).toBeCloseTo(1, 6);
    expect(plane.variances[0]).toBeCloseTo(12, 5); // sum a² / (S - 1) = 36 / 3
    expect(plane.variances[1]).toBeCloseTo(4 / 3, 5);
    vectors.forEach((v, i) => {
      const [x, y] = plane.project(v);
      expect(Math.abs(x)).toBeCloseTo(3, 5);
      expect(Math.abs(y)).toBeCloseTo(1, 5);
      expect(euclidean(plane.point(x, y), v)).toBeLessThan(1e-5);
      expect(plane.distanceToPlane(v)).toBeLessThan(1e-5);
    });
    const off = Float32Array.from(center, (c, d) => c + (d === 0 ? 2 : 0));
    expect(plane.distanceToPlane(off)).toBeCloseTo(2, 5);
  });

  it('completes the basis when the samples are all the same point', () => {
    const p = Float32Array.from([1, 2, 3]);
    const plane = principalPlane([p, p, p], Float32Array.from([1, 2, 5]));
    expect(plane.sources).toEqual(['start - mean', 'axis 0']);
    expect(plane.variances).toEqual([0, 0]);
    expect(plane.project(Float32Array.from([1, 2, 5]))[0]).toBeCloseTo(2, 6);
  });
});

describe('landscape', () => {
  it('evaluates the task on a grid in the plane of the samples and reports consistent distances', async () => {
    const { task, seen, batches } = recordingTask();
    const trained = tinyTrainedGpt(task, { perturb: 0.05 });
    const start = Float32Array.from(new Generator(3).normal(9));
    const { report, samples } = await landscape(trained, task, start, { samples: 4, sampler: 'ddim', steps: 5, gridSize: 5, evaluateBatch: 7, seed: 2 });
    const S = 4;
    expect(report.samples).toHaveLength(S);
    expect(samples).toEqual(seen.slice(1, 1 + S)); // the vectors optimize() measured
    samples.forEach((v, i) => expect(report.samples[i]!.metric).toBe(quadraticLoss(v)));
    expect(report.pairwiseDistances[0]![1]).toBeCloseTo(euclidean(samples[0]!, samples[1]!), 10);
    expect(report.start.metric).toBeCloseTo(quadraticLoss(start), 10);
    // evaluate() saw: the start (optimize), the 4 samples (optimize), then 25 grid points and 6 midpoints in batches of <= 7.
    const grid = seen.slice(1 + S, 1 + S + 25);
    expect(batches.slice(2).every((n) => n <= 7)).toBe(true);
    expect(batches.slice(2).reduce((a, b) => a + b, 0)).toBe(25 + 6);
    const { xs, ys, values } = report.grid;
    expect(xs).toHaveLength(5);
    expect(ys).toHaveLength(5);
    ys.forEach((_, j) => xs.forEach((_, i) => expect(values[j]![i]).toBeCloseTo(quadraticLoss(grid[j * 5 + i]!), 10)));
    // The grid lies on a plane with orthonormal axes: a step along x moves by exactly dx.
    expect(euclidean(grid[1]!, grid[0]!)).toBeCloseTo(xs[1]! - xs[0]!, 4);
    expect(euclidean(grid[5]!, grid[0]!)).toBeCloseTo(ys[1]! - ys[0]!, 4);
    // Samples sit inside the grid, which extends half their span beyond them.
    for (const s of report.samples) {
      expect(s.coordinates[0]).toBeGreaterThan(xs[0]!);
      expect(s.coordinates[0]).toBeLessThan(xs[4]!);
    }
    // Distances: symmetric, zero diagonal, the summary matches, and different samples differ.
    const d = report.pairwiseDistances;
    for (let i = 0; i < S; i++) {
      expect(d[i]![i]).toBe(0);
      for (let j = 0; j < S; j++) expect(d[i]![j]).toBe(d[j]![i]);
    }
    const off = [d[0]![1]!, d[0]![2]!, d[0]![3]!, d[1]![2]!, d[1]![3]!, d[2]![3]!];
    expect(report.distanceSummary.min).toBe(Math.min(...off));
    expect(report.distanceSummary.max).toBe(Math.max(...off));
    expect(report.distanceSummary.min).toBeGreaterThan(0);
    // Midpoints: the metric of (x_i + x_j) / 2 against the mean of the ends; for this
    // convex metric the midpoint is never worse.
    expect(report.midpoints).toHaveLength(6);
    const midVectors = seen.slice(1 + S + 25);
    report.midpoints.forEach((m, k) => {
      expect(m.metric).toBeCloseTo(quadraticLoss(midVectors[k]!), 10);
      expect(m.penalty).toBeCloseTo(m.metric - (report.samples[m.i]!.metric + report.samples[m.j]!.metric) / 2, 10);
      expect(m.penalty).toBeLessThanOrEqual(1e-9);
    });
    expect(report.plane.directionSources).toEqual(['pca', 'pca']);
    expect(report.plane.explainedVariance[0]).toBeGreaterThanOrEqual(report.plane.explainedVariance[1]);
    expect(report.plane.explainedVariance[0] + report.plane.explainedVariance[1]).toBeLessThanOrEqual(report.plane.totalVariance * (1 + 1e-9));
    expect(JSON.parse(JSON.stringify(report))).toEqual(report); // plain JSON

    const svg = await landscapePlot(report);
    expect(svg).toContain('G.pt sample');
    expect(svg).toContain('direction 1');
    expect(svg).toContain('loss');
  });

  it('reports identical samples (a fresh G.pt is the identity update) without failing', async () => {
    const task = quadraticTask();
    const start = Float32Array.from(new Generator(4).normal(9));
    const { report } = await landscape(tinyTrainedGpt(task), task, start, { samples: 3, sampler: 'ddim', steps: 4, gridSize: 3 });
    expect(report.distanceSummary.max).toBeLessThan(1e-5);
    expect(report.plane.directionSources[0]).not.toBe('pca');
    for (const m of report.midpoints) expect(Math.abs(m.penalty)).toBeLessThan(1e-6);
  });

  it('refuses fewer than two samples and a bad grid size', async () => {
    const task = quadraticTask();
    const start = new Float32Array(9);
    await expect(landscape(tinyTrainedGpt(task), task, start, { samples: 1 })).rejects.toThrow(/samples must be an integer >= 2/);
    await expect(landscape(tinyTrainedGpt(task), task, start, { gridSize: 1 })).rejects.toThrow(/gridSize/);
  });
});
