// Multimodality (gpt-paper.md §5.5): does G.pt, asked several times for the same
// (network, prompt), return different solutions? Draws several samples with optimize(),
// measures how far apart they are, how much worse the straight line between two of them
// gets at its midpoint (a barrier hints at separate modes), and evaluates the task metric
// over the plane through the samples' mean spanned by their top-2 principal directions,
// with the samples (and the starting network, projected) marked on it.
//
// Distances are in raw parameter space (multiply by the normalization coefficient for
// G.pt's space). The permutation freedom is not undone here: every sample grows out of the
// same starting network through G.pt's residual, so they share its unit order.
import { heatmap } from '../plot/heatmap.js';
import { median } from './alignment.js';
import { optimize, type OptimizeProgressEvent, type SamplerOptions } from '../sample/optimize.js';
import type { Task } from '../tasks/task.js';
import type { TrainedGpt } from '../trained-gpt.js';

export type LandscapeProgressEvent =
  | { readonly type: 'optimize'; readonly event: OptimizeProgressEvent }
  | { readonly type: 'grid'; readonly done: number; readonly total: number };

export interface LandscapeOptions extends SamplerOptions {
  /** The prompted metric. Default: the task's best prompt. */
  readonly prompt?: number;
  /** Samples for the one (network, prompt); at least 2. Default 8. */
  readonly samples?: number;
  /** Seed of the samples' noise. Default 0. */
  readonly seed?: number;
  /** Grid points per axis of the plane. Default 21. */
  readonly gridSize?: number;
  /** The grid reaches this fraction of the samples' span beyond them on each side. Default 0.5. */
  readonly margin?: number;
  /** Stretch the grid to include the starting network's projection too. Default false. */
  readonly includeStart?: boolean;
  /** Vectors per task.evaluate call on the grid. Default 128. */
  readonly evaluateBatch?: number;
  readonly device?: string;
  readonly maxBatch?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (event: LandscapeProgressEvent) => void;
}

/** What landscape() measured; plain JSON. */
export interface LandscapeReport {
  readonly task: string;
  readonly metric: { readonly name: string; readonly label: string; readonly unit: string; readonly goal: 'minimize' | 'maximize' };
  readonly prompt: number;
  readonly sampler: string;
  readonly normalizationCoefficient: number;
  readonly start: {
    readonly metric: number;
    /** Coordinates of the start's projection onto the plane. */
    readonly coordinates: readonly [number, number];
    /** Distance from the start to the plane (raw space). */
    readonly distanceToPlane: number;
  };
  readonly samples: readonly { readonly metric: number; readonly coordinates: readonly [number, number]; readonly distanceToStart: number }[];
  /** Raw-space Euclidean distances between samples [S][S]. */
  readonly pairwiseDistances: readonly (readonly number[])[];
  readonly distanceSummary: { readonly min: number; readonly median: number; readonly max: number };
  /** Per pair i < j: how much worse (in metric units, positive = worse) the midpoint is than the mean of the two ends. */
  readonly midpoints: readonly { readonly i: number; readonly j: number; readonly metric: number; readonly penalty: number }[];
  readonly plane: {
    /** Sample variance along each direction and in total (raw space). */
    readonly explainedVariance: readonly [number, number];
    readonly totalVariance: number;
    /** Where each direction came from: "pca", or a fallback when the samples span fewer than two directions. */
    readonly directionSources: readonly [string, string];
  };
  /** values[j][i] = metric at center + xs[i] u1 + ys[j] u2; NaN where the task reported none. */
  readonly grid: { readonly xs: readonly number[]; readonly ys: readonly number[]; readonly values: readonly (readonly number[])[] };
}

export interface LandscapeResult {
  readonly report: LandscapeReport;
  /** The generated raw parameter vectors, in report.samples order (e.g. for novelty()). */
  readonly samples: Float32Array[];
}

/**
 * Samples `samples` G.pt updates of one network for one prompt and maps the landscape
 * around them (see the file comment).
 */
export async function landscape(trained: TrainedGpt, task: Task, params: Float32Array, options: LandscapeOptions = {}): Promise<LandscapeResult> {
  const count = options.samples ?? 8;
  if (!Number.isInteger(count) || count < 2) throw new Error(`landscape: samples must be an integer >= 2, got ${count}`);
  const gridSize = options.gridSize ?? 21;
  if (!Number.isInteger(gridSize) || gridSize < 2) throw new Error(`landscape: gridSize must be an integer >= 2, got ${gridSize}`);
  const margin = options.margin ?? 0.5;
  if (!(margin >= 0)) throw new Error(`landscape: margin must be >= 0, got ${margin}`);
  const evaluateBatch = options.evaluateBatch ?? 128;
  if (!Number.isInteger(evaluateBatch) || evaluateBatch < 1) throw new Error(`landscape: evaluateBatch must be a positive integer, got ${evaluateBatch}`);
  const prompt = options.prompt ?? task.prompt.bestPrompt;

  const result = await optimize(trained, task, [params], {
    prompt,
    samples: count,
    sampler: options.sampler,
    steps: options.steps,
    eta: options.eta,
    seed: options.seed,
    device: options.device,
    maxBatch: options.maxBatch,
    signal: options.signal,
    onProgress: (event) => options.onProgress?.({ type: 'optimize', event }),
  });
  const vectors = result.samples.map((s) => s.params);
  const plane = principalPlane(vectors, params);
  const sampleCoordinates = vectors.map((v) => plane.project(v));
  const start = plane.project(params);

  const spanOf = (values: number[]) => [Math.min(...values), Math.max(...values)] as const;
  const along = (k: 0 | 1) => [...sampleCoordinates.map((c) => c[k]), ...(options.includeStart ? [start[k]] : [])];
  const axes = ([0, 1] as const).map((k) => gridAxis(spanOf(along(k)), margin, gridSize));
  const [xs, ys] = [axes[0]!, axes[1]!];

  const gridVectors: Float32Array[] = [];
  for (const y of ys) for (const x of xs) gridVectors.push(plane.point(x, y));
  const pairs: [number, number][] = [];
  for (let i = 0; i < count; i++) for (let j = i + 1; j < count; j++) pairs.push([i, j]);
  const midpointVectors = pairs.map(([i, j]) => midpoint(vectors[i]!, vectors[j]!));
  const measured = await evaluateInBatches(task, [...gridVectors, ...midpointVectors], evaluateBatch, options);
  const metricOf = (m: Record<string, number>) => m[task.metric.name] ?? Number.NaN;
  const gridValues = ys.map((_, j) => xs.map((_, i) => metricOf(measured[j * xs.length + i]!)));
  const worse = task.metric.goal === 'minimize' ? 1 : -1;
  const midpoints = pairs.map(([i, j], k) => {
    const metric = metricOf(measured[gridVectors.length + k]!);
    const ends = (result.samples[i]!.metric + result.samples[j]!.metric) / 2;
    return { i, j, metric, penalty: worse * (metric - ends) };
  });

  const distances = vectors.map((a) => vectors.map((b) => euclidean(a, b)));
  const offDiagonal = pairs.map(([i, j]) => distances[i]![j]!);
  const report: LandscapeReport = {
    task: task.name,
    metric: { ...task.metric },
    prompt,
    sampler: result.sampler,
    normalizationCoefficient: trained.normalizationCoefficient,
    start: { metric: result.startMetric[0]!, coordinates: start, distanceToPlane: plane.distanceToPlane(params) },
    samples: result.samples.map((s, i) => ({ metric: s.metric, coordinates: sampleCoordinates[i]!, distanceToStart: euclidean(s.params, params) })),
    pairwiseDistances: distances,
    distanceSummary: { min: Math.min(...offDiagonal), median: median(offDiagonal), max: Math.max(...offDiagonal) },
    midpoints,
    plane: { explainedVariance: plane.variances, totalVariance: plane.totalVariance, directionSources: plane.sources },
    grid: { xs, ys, values: gridValues },
  };
  return { report, samples: vectors };
}

/** The heat map of a landscape report, samples and (when inside the grid) the start marked. */
export async function landscapePlot(report: LandscapeReport, options: { title?: string } = {}): Promise<string> {
  const { xs, ys } = report.grid;
  const inside = (c: readonly [number, number]) => c[0] >= xs[0]! && c[0] <= xs[xs.length - 1]! && c[1] >= ys[0]! && c[1] <= ys[ys.length - 1]!;
  const points = report.samples.map((s, i) => ({ x: s.coordinates[0], y: s.coordinates[1], kind: 'G.pt sample', label: `${i}` }));
  if (inside(report.start.coordinates)) points.push({ x: report.start.coordinates[0], y: report.start.coordinates[1], kind: 'start (projected)', label: '' });
  const unit = report.metric.unit ? ` (${report.metric.unit})` : '';
  const share = (k: 0 | 1) => (report.plane.totalVariance > 0 ? ` (${((100 * report.plane.explainedVariance[k]) / report.plane.totalVariance).toFixed(0)}% of the variance)` : '');
  return heatmap({
    title: options.title ?? `${report.task}: ${report.metric.label} around ${report.samples.length} G.pt samples (prompt ${report.prompt}, ${report.sampler})`,
    xTitle: `direction 1${share(0)}`,
    yTitle: `direction 2${share(1)}`,
    valueTitle: `${report.metric.label}${unit}`,
    xs,
    ys,
    values: report.grid.values,
    points,
    // Bright = better for either goal.
    reverse: report.metric.goal === 'minimize',
  });
}

interface Plane {
  /** Orthonormal directions u1, u2 (float64, raw space). */
  readonly directions: readonly [Float64Array, Float64Array];
  readonly sources: readonly [string, string];
  readonly variances: readonly [number, number];
  readonly totalVariance: number;
  project(v: Float32Array): [number, number];
  point(a: number, b: number): Float32Array;
  distanceToPlane(v: Float32Array): number;
}

/**
 * The plane through the mean of `vectors` spanned by their top-2 principal directions
 * (eigenvectors of the S x S Gram matrix of the centred samples, mapped back to D
 * dimensions). When the samples span fewer than two directions (identical samples), the
 * direction towards `fallback` and then coordinate axes complete the basis.
 */
export function principalPlane(vectors: readonly Float32Array[], fallback: Float32Array): Plane {
  const S = vectors.length;
  const D = vectors[0]!.length;
  const center = new Float64Array(D);
  for (const v of vectors) for (let d = 0; d < D; d++) center[d]! += v[d]! / S;
  const centred = vectors.map((v) => Float64Array.from(v, (x, d) => x - center[d]!));
  const gram = centred.map((a) => centred.map((b) => dot(a, b)));
  const { values, vectors: eigenvectors } = symmetricEigen(gram);
  const order = values.map((_, k) => k).sort((a, b) => values[b]! - values[a]!);
  const totalVariance = values.reduce((s, v) => s + Math.max(v, 0), 0) / Math.max(S - 1, 1);
  // Float32 rounding makes identical samples differ by ~1e-7 relative; such spread is no direction.
  const floor = 1e-10 * vectors.reduce((sum, v) => sum + v.reduce((t, x) => t + x * x, 0), 0);
  const basis: Float64Array[] = [];
  const sources: string[] = [];
  const variances: number[] = [];
  for (const k of order) {
    if (basis.length === 2 || !(values[k]! > floor)) break;
    const u = new Float64Array(D);
    centred.forEach((row, s) => axpy(eigenvectors[s]![k]!, row, u));
    if (addOrthonormal(basis, u)) {
      sources.push('pca');
      variances.push(values[k]! / Math.max(S - 1, 1));
    }
  }
  // Two coordinate axes always complete a basis of at most one vector (D >= 2).
  const candidates: [string, Float64Array][] = [['start - mean', Float64Array.from(fallback, (x, d) => x - center[d]!)]];
  for (let d = 0; d < Math.min(D, 3); d++) candidates.push([`axis ${d}`, Float64Array.from({ length: D }, (_, i) => (i === d ? 1 : 0))]);
  for (const [source, u] of candidates) {
    if (basis.length === 2) break;
    if (addOrthonormal(basis, u)) {
      sources.push(source);
      variances.push(0);
    }
  }
  const [u1, u2] = [basis[0]!, basis[1]!];
  const project = (v: Float32Array): [number, number] => {
    let a = 0;
    let b = 0;
    for (let d = 0; d < D; d++) {
      const x = v[d]! - center[d]!;
      a += x * u1[d]!;
      b += x * u2[d]!;
    }
    return [a, b];
  };
  return {
    directions: [u1, u2],
    sources: [sources[0]!, sources[1]!],
    variances: [variances[0]!, variances[1]!],
    totalVariance,
    project,
    point: (a, b) => Float32Array.from(center, (c, d) => c + a * u1[d]! + b * u2[d]!),
    distanceToPlane(v) {
      const [a, b] = project(v);
      let s = 0;
      for (let d = 0; d < D; d++) s += (v[d]! - center[d]! - a * u1[d]! - b * u2[d]!) ** 2;
      return Math.sqrt(s);
    },
  };
}

/** Gram-Schmidt: appends u (orthogonalized, normalized) unless it lies in the span already. */
function addOrthonormal(basis: Float64Array[], u: Float64Array): boolean {
  const norm0 = Math.sqrt(dot(u, u));
  if (!(norm0 > 0)) return false;
  const w = Float64Array.from(u);
  for (const b of basis) axpy(-dot(w, b), b, w);
  const norm = Math.sqrt(dot(w, w));
  if (!(norm > 1e-8 * norm0)) return false;
  for (let d = 0; d < w.length; d++) w[d]! /= norm;
  basis.push(w);
  return true;
}

/**
 * Eigen-decomposition of a small symmetric matrix by cyclic Jacobi rotations (float64).
 * Returns the eigenvalues and the eigenvectors as columns: vectors[row][k].
 */
export function symmetricEigen(matrix: readonly (readonly number[])[]): { values: number[]; vectors: number[][] } {
  const n = matrix.length;
  const a = matrix.map((row) => [...row]);
  const v: number[][] = a.map((_, i) => a.map((_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += a[i]![j]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p]![q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q]![q]! - a[p]![p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k]![p]!;
          const akq = a[k]![q]!;
          a[k]![p] = c * akp - s * akq;
          a[k]![q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p]![k]!;
          const aqk = a[q]![k]!;
          a[p]![k] = c * apk - s * aqk;
          a[q]![k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k]![p]!;
          const vkq = v[k]![q]!;
          v[k]![p] = c * vkp - s * vkq;
          v[k]![q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: a.map((row, i) => row[i]!), vectors: v };
}

/** `count` evenly spaced coordinates covering [low, high] widened by margin x span on each side. */
function gridAxis([low, high]: readonly [number, number], margin: number, count: number): number[] {
  const span = high - low;
  const pad = span > 0 ? margin * span : 1;
  const from = low - pad;
  const to = high + pad;
  return Array.from({ length: count }, (_, i) => from + ((to - from) * i) / (count - 1));
}

async function evaluateInBatches(task: Task, vectors: readonly Float32Array[], batch: number, options: LandscapeOptions): Promise<Record<string, number>[]> {
  const out: Record<string, number>[] = [];
  for (let lo = 0; lo < vectors.length; lo += batch) {
    options.signal?.throwIfAborted();
    out.push(...(await task.evaluate(vectors.slice(lo, lo + batch), { signal: options.signal })));
    options.onProgress?.({ type: 'grid', done: out.length, total: vectors.length });
  }
  return out;
}

function midpoint(a: Float32Array, b: Float32Array): Float32Array {
  return Float32Array.from(a, (x, d) => (x + b[d]!) / 2);
}

/** Euclidean distance of two vectors, summed in float64. */
export function euclidean(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let d = 0; d < a.length; d++) s += (a[d]! - b[d]!) ** 2;
  return Math.sqrt(s);
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let d = 0; d < a.length; d++) s += a[d]! * b[d]!;
  return s;
}

function axpy(alpha: number, x: Float64Array, y: Float64Array): void {
  for (let d = 0; d < x.length; d++) y[d]! += alpha * x[d]!;
}

