// Novelty (gpt-paper.md §6 gotcha 13): does G.pt generate new parameters or copy training
// checkpoints? For each generated vector: the distance to its nearest training checkpoint,
// plainly and after undoing the permutation freedom of hidden units as far as is cheap,
// set against the typical distance between neighbouring saved checkpoints of one run (how
// far one recorded training step moves) and the length of a whole run.
//
// Undoing permutations: every vector (generated or checkpoint) is first put in a canonical
// unit order (units of each group sorted by the norm of everything that unit touches, which
// no permutation of any group changes), and the nearest candidates by canonical distance are
// then matched unit by unit (Hungarian assignment per group, coordinate descent over the
// groups). Every aligned distance is a distance between two permutations of the vectors, so
// it is an upper bound on the exact permutation-free distance; it is exact for a permuted
// copy (equal keys) and for a single group after matching.
import { ParameterPermuter, applyGather, type PermutationSpec } from '@gpt/checkpoints';
import { CheckpointDataset } from '@gpt/checkpoints/node';
import { matmul, tensor } from '@gpt/tensor';
import { histogram } from '../plot/histogram.js';
import { median } from './alignment.js';
import { euclidean } from './landscape.js';
import type { Task } from '../tasks/task.js';

/** One training run's saved checkpoints, [K, D] row-major, in training order. */
export interface CheckpointRun {
  readonly run: string;
  readonly parameters: Float32Array;
}

export type NoveltyProgressEvent = { readonly type: 'run'; readonly done: number; readonly run: string } | { readonly type: 'refine'; readonly done: number; readonly total: number };

export type NoveltyAlignment = 'none' | 'canonical-match';

export interface NoveltyOptions {
  /** 'canonical-match' (default when the task has permutable units) or 'none'. */
  readonly alignment?: NoveltyAlignment;
  /** Candidates per vector (closest by screening distance) re-measured exactly and matched. Default 8. */
  readonly refine?: number;
  /** Passes of matching over the permutation groups. Default 2. */
  readonly passes?: number;
  /** Other vectors measured the same way, e.g. held-out test-run checkpoints (what a genuinely new network looks like). */
  readonly references?: readonly { readonly name: string; readonly vectors: readonly Float32Array[] }[];
  /** Also report distances times this (G.pt's normalized space). */
  readonly normalizationCoefficient?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (event: NoveltyProgressEvent) => void;
}

/** Nearest-checkpoint distances of one vector (raw parameter space). */
export interface NearestCheckpoint {
  readonly plain: { readonly distance: number; readonly run: string; readonly index: number };
  /** After undoing permutations; equal to `plain` when alignment is 'none'. */
  readonly aligned: { readonly distance: number; readonly run: string; readonly index: number };
}

export interface DistanceSummary {
  readonly count: number;
  readonly min: number;
  readonly median: number;
  readonly mean: number;
  readonly max: number;
}

export interface NoveltyReport {
  readonly task: string;
  readonly alignment: NoveltyAlignment;
  /** What was and was not undone, in words. */
  readonly alignmentNote: string;
  readonly normalizationCoefficient: number | null;
  readonly trainingRuns: number;
  readonly trainingCheckpoints: number;
  readonly generated: readonly NearestCheckpoint[];
  readonly references: readonly { readonly name: string; readonly nearest: readonly NearestCheckpoint[] }[];
  /** Distances between consecutive saved checkpoints of each training run (all of them). */
  readonly neighbourDistances: readonly number[];
  /** Distance from the first to the last saved checkpoint of each run. */
  readonly runLengths: readonly number[];
  readonly summary: {
    readonly generatedPlain: DistanceSummary;
    readonly generatedAligned: DistanceSummary;
    readonly references: readonly { readonly name: string; readonly aligned: DistanceSummary }[];
    readonly neighbour: DistanceSummary;
    readonly runLength: DistanceSummary;
    /** Median aligned nearest distance of the generated vectors / median neighbour distance. */
    readonly generatedToNeighbourRatio: number;
    /** The medians times the normalization coefficient (G.pt's space, where gpt-paper.md §8 quotes them); null without one. */
    readonly normalizedMedians: { readonly generatedAligned: number; readonly neighbour: number; readonly runLength: number } | null;
  };
}

/**
 * Measures how far each generated vector (raw parameters) lies from the training
 * checkpoints streamed by `trainingRuns` (one run in memory at a time).
 */
export async function novelty(
  task: Pick<Task, 'name' | 'parameterCount' | 'permutation'>,
  generated: readonly Float32Array[],
  trainingRuns: AsyncIterable<CheckpointRun> | Iterable<CheckpointRun>,
  options: NoveltyOptions = {},
): Promise<NoveltyReport> {
  const D = task.parameterCount;
  if (generated.length === 0) throw new Error('novelty: generated is empty; give at least one vector');
  const references = options.references ?? [];
  const queries = [...generated, ...references.flatMap((r) => r.vectors)];
  queries.forEach((v, i) => {
    if (!(v instanceof Float32Array) || v.length !== D) throw new Error(`novelty: vector ${i} must be a Float32Array of ${D} values (task "${task.name}")`);
  });
  const canAlign = task.permutation.groups.length > 0;
  const alignment = options.alignment ?? (canAlign ? 'canonical-match' : 'none');
  if (alignment !== 'none' && alignment !== 'canonical-match') throw new Error(`novelty: alignment must be "none" or "canonical-match", got "${String(alignment)}"`);
  const refine = options.refine ?? 8;
  if (!Number.isInteger(refine) || refine < 1) throw new Error(`novelty: refine must be a positive integer, got ${refine}`);
  const passes = options.passes ?? 2;
  const aligner = alignment === 'canonical-match' && canAlign ? new UnitAligner(task.permutation) : null;

  const canonicalQueries = aligner ? queries.map((q) => aligner.canonical(q)) : queries;
  const plainBest = queries.map(() => new TopK<Candidate>(refine));
  const alignedBest = queries.map(() => new TopK<Candidate>(refine));
  const neighbourDistances: number[] = [];
  const runLengths: number[] = [];
  let runs = 0;
  let checkpoints = 0;
  for await (const { run, parameters } of trainingRuns) {
    options.signal?.throwIfAborted();
    if (parameters.length === 0 || parameters.length % D !== 0) throw new Error(`novelty: run "${run}" holds ${parameters.length} values, not a whole number of ${D}-parameter checkpoints`);
    const K = parameters.length / D;
    const rows = Array.from({ length: K }, (_, k) => parameters.subarray(k * D, (k + 1) * D));
    for (let k = 1; k < K; k++) neighbourDistances.push(euclidean(rows[k - 1]!, rows[k]!));
    runLengths.push(euclidean(rows[0]!, rows[K - 1]!));
    screen(queries, parameters, K, D, (q, k, d2) => plainBest[q]!.offer(d2, { run, index: k, vector: rows[k]! }));
    if (aligner) {
      const canonicalRows = new Float32Array(parameters.length);
      rows.forEach((row, k) => canonicalRows.set(aligner.canonical(row), k * D));
      screen(canonicalQueries, canonicalRows, K, D, (q, k, d2) => alignedBest[q]!.offer(d2, { run, index: k, vector: canonicalRows.subarray(k * D, (k + 1) * D) }));
    }
    runs++;
    checkpoints += K;
    options.onProgress?.({ type: 'run', done: runs, run });
  }
  if (runs === 0) throw new Error('novelty: no training runs were given');

  const nearest: NearestCheckpoint[] = [];
  for (let q = 0; q < queries.length; q++) {
    options.signal?.throwIfAborted();
    const plain = exactNearest(queries[q]!, plainBest[q]!.items());
    const aligned = aligner ? alignedNearest(aligner, canonicalQueries[q]!, alignedBest[q]!.items(), passes) : plain;
    nearest.push({ plain, aligned: aligned.distance <= plain.distance ? aligned : plain });
    options.onProgress?.({ type: 'refine', done: q + 1, total: queries.length });
  }
  const generatedNearest = nearest.slice(0, generated.length);
  let at = generated.length;
  const referenceNearest = references.map((r) => {
    const part = nearest.slice(at, at + r.vectors.length);
    at += r.vectors.length;
    return { name: r.name, nearest: part };
  });
  const neighbour = summarize(neighbourDistances);
  const generatedAligned = summarize(generatedNearest.map((n) => n.aligned.distance));
  const runLength = summarize(runLengths);
  const c = options.normalizationCoefficient;
  return {
    task: task.name,
    alignment: aligner ? 'canonical-match' : 'none',
    alignmentNote: aligner
      ? `hidden units aligned (${task.permutation.groups.map((g) => `${g.name ?? 'group'}: ${g.size}`).join(', ')}): canonical order by unit norm over all checkpoints, then Hungarian matching per group (${passes} passes) against the ${refine} closest candidates; aligned distances are upper bounds of the permutation-free distance`
      : canAlign
        ? 'permutation freedom NOT undone (alignment "none"): plain Euclidean distances'
        : 'the task declares no permutable units: plain Euclidean distances',
    normalizationCoefficient: options.normalizationCoefficient ?? null,
    trainingRuns: runs,
    trainingCheckpoints: checkpoints,
    generated: generatedNearest,
    references: referenceNearest,
    neighbourDistances,
    runLengths,
    summary: {
      generatedPlain: summarize(generatedNearest.map((n) => n.plain.distance)),
      generatedAligned,
      references: referenceNearest.map((r) => ({ name: r.name, aligned: summarize(r.nearest.map((n) => n.aligned.distance)) })),
      neighbour,
      runLength,
      generatedToNeighbourRatio: generatedAligned.median / neighbour.median,
      normalizedMedians: c === undefined ? null : { generatedAligned: c * generatedAligned.median, neighbour: c * neighbour.median, runLength: c * runLength.median },
    },
  };
}

/** Histogram of nearest-checkpoint distances against neighbouring-checkpoint distances. */
export async function noveltyPlot(report: NoveltyReport, options: { title?: string } = {}): Promise<string> {
  const series = [
    { name: 'G.pt sample to nearest training checkpoint', values: report.generated.map((n) => n.aligned.distance) },
    ...report.references.map((r) => ({ name: `${r.name} to nearest training checkpoint`, values: r.nearest.map((n) => n.aligned.distance) })),
    { name: 'consecutive checkpoints of a training run', values: report.neighbourDistances },
    { name: 'first to last checkpoint of a training run', values: report.runLengths },
  ];
  return histogram({
    title: options.title ?? `${report.task}: novelty of G.pt samples (${report.alignment === 'none' ? 'permutations not undone' : 'hidden units aligned'})`,
    xTitle: 'Euclidean distance in raw parameter space',
    series,
    maxBins: 40,
    references: [{ label: 'median G.pt sample distance', x: report.summary.generatedAligned.median }],
  });
}

/**
 * novelty() against a checkpoint dataset folder (Node): the training split's runs are the
 * candidates, and the final checkpoints of the held-out test runs are measured the same way
 * as a reference (how far a genuinely new trained network lies from the training set).
 */
export async function noveltyAgainstDataset(
  task: Pick<Task, 'name' | 'parameterCount' | 'permutation'>,
  generated: readonly Float32Array[],
  datasetDir: string,
  options: Omit<NoveltyOptions, 'references'> = {},
): Promise<NoveltyReport> {
  const data = await CheckpointDataset.open(datasetDir);
  try {
    if (data.parameterCount !== task.parameterCount) {
      throw new Error(`novelty: the dataset ${datasetDir} holds ${data.parameterCount}-parameter checkpoints, task "${task.name}" has ${task.parameterCount}`);
    }
    const heldOut = await Promise.all(data.split.test.map(async (run) => data.readCheckpoint(run, (await data.numCheckpoints(run)) - 1)));
    const references = heldOut.length > 0 ? [{ name: 'held-out run (final checkpoint)', vectors: heldOut }] : [];
    return await novelty(task, generated, checkpointRuns(data, data.split.train, options.signal), { ...options, references });
  } finally {
    await data.close();
  }
}

/** Adapts a CheckpointDataset (or anything with iterateRuns) to the runs novelty() reads. */
export async function* checkpointRuns(
  dataset: { iterateRuns(options?: { runs?: readonly string[]; signal?: AbortSignal }): AsyncIterable<{ run: string; data: { parameters: Float32Array } }> },
  runs?: readonly string[],
  signal?: AbortSignal,
): AsyncGenerator<CheckpointRun> {
  for await (const { run, data } of dataset.iterateRuns({ runs, signal })) yield { run, parameters: data.parameters };
}

interface Candidate {
  readonly run: string;
  readonly index: number;
  readonly vector: Float32Array;
}

/** Squared distances of every query to every row of `rows` [K, D] via one matmul (float32: a screen only). */
function screen(queries: readonly Float32Array[], rows: Float32Array, K: number, D: number, offer: (q: number, k: number, d2: number) => void): void {
  const Q = queries.length;
  const q = new Float32Array(Q * D);
  queries.forEach((v, i) => q.set(v, i * D));
  const a = tensor(q, { shape: [Q, D], device: 'cpu' });
  const b = tensor(rows, { shape: [K, D], device: 'cpu' });
  const ab = matmul(a, b, { transB: true }); // [Q, K]
  const dots = ab.dataSync() as Float32Array;
  for (const t of [a, b, ab]) t.dispose();
  const qNorms = queries.map((v) => squaredNorm(v));
  for (let k = 0; k < K; k++) {
    const rNorm = squaredNorm(rows.subarray(k * D, (k + 1) * D));
    for (let i = 0; i < Q; i++) offer(i, k, Math.max(0, qNorms[i]! + rNorm - 2 * dots[i * K + k]!));
  }
}

function exactNearest(query: Float32Array, candidates: readonly Candidate[]): { distance: number; run: string; index: number } {
  let best = { distance: Infinity, run: '', index: -1 };
  for (const c of candidates) {
    const distance = euclidean(query, c.vector);
    if (distance < best.distance) best = { distance, run: c.run, index: c.index };
  }
  return best;
}

function alignedNearest(aligner: UnitAligner, query: Float32Array, candidates: readonly Candidate[], passes: number): { distance: number; run: string; index: number } {
  let best = { distance: Infinity, run: '', index: -1 };
  for (const c of candidates) {
    const distance = euclidean(aligner.match(query, c.vector, passes), c.vector);
    if (distance < best.distance) best = { distance, run: c.run, index: c.index };
  }
  return best;
}

/**
 * Hidden-unit alignment for one permutation spec: each group's units as lists of flat
 * indices (every member tensor's slice at that unit, in the same order for every unit).
 */
export class UnitAligner {
  private readonly permuter: ParameterPermuter;
  /** Per group, per unit: flat indices of everything the unit touches. */
  private readonly units: Int32Array[][];

  constructor(spec: PermutationSpec) {
    this.permuter = new ParameterPermuter(spec);
    const offsets = new Map<string, { offset: number; shape: readonly number[] }>();
    let offset = 0;
    for (const t of spec.tensors) {
      offsets.set(t.name, { offset, shape: t.shape });
      offset += t.shape.reduce((a, b) => a * b, 1);
    }
    this.units = spec.groups.map((group) => {
      const perUnit: number[][] = Array.from({ length: group.size }, () => []);
      for (const member of group.members) {
        const { offset: start, shape } = offsets.get(member.tensor)!;
        const size = shape.reduce((a, b) => a * b, 1);
        const inner = shape.slice(member.axis + 1).reduce((a, b) => a * b, 1);
        for (let i = 0; i < size; i++) perUnit[Math.floor(i / inner) % group.size]!.push(start + i);
      }
      return perUnit.map((list) => Int32Array.from(list));
    });
  }

  /** The vector with each group's units sorted by descending norm (ties keep their order). */
  canonical(vector: Float32Array): Float32Array {
    const permutations = this.units.map((units) => {
      const keys = units.map((indices) => indices.reduce((s, i) => s + vector[i]! * vector[i]!, 0));
      return Int32Array.from(keys.map((_, u) => u).sort((a, b) => keys[b]! - keys[a]! || a - b));
    });
    return applyGather(vector, this.permuter.indexFor(permutations));
  }

  /**
   * `vector` re-ordered to match `target` unit by unit: for each group in turn (with the
   * other groups' current order), the assignment of the vector's units to the target's
   * that minimizes the squared distance; `passes` rounds over the groups. Never farther
   * from `target` than `vector` is.
   */
  match(vector: Float32Array, target: Float32Array, passes: number): Float32Array {
    const permutations = this.units.map((units) => Int32Array.from(units.keys()));
    let current = vector;
    for (let pass = 0; pass < passes; pass++) {
      let changed = false;
      this.units.forEach((units, g) => {
        const n = units.length;
        const cost = units.map((targetUnit) => units.map((unit) => unitDistance(current, unit, target, targetUnit)));
        const assignment = hungarian(cost); // target unit v <- current unit assignment[v]
        if (assignment.every((u, v) => u === v)) return;
        const previous = permutations[g]!;
        permutations[g] = Int32Array.from({ length: n }, (_, v) => previous[assignment[v]!]!);
        current = applyGather(vector, this.permuter.indexFor(permutations));
        changed = true;
      });
      if (!changed) break;
    }
    return current;
  }
}

function unitDistance(a: Float32Array, aIndices: Int32Array, b: Float32Array, bIndices: Int32Array): number {
  let s = 0;
  for (let j = 0; j < aIndices.length; j++) s += (a[aIndices[j]!]! - b[bIndices[j]!]!) ** 2;
  return s;
}

/**
 * Minimum-cost assignment of an n x n cost matrix (rows to columns), O(n³) shortest
 * augmenting paths with potentials (Kuhn-Munkres). Returns column of each row.
 */
export function hungarian(cost: readonly (readonly number[])[]): number[] {
  const n = cost.length;
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const p = new Int32Array(n + 1); // p[j]: row matched to column j (1-based; 0 = none)
  const way = new Int32Array(n + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(n + 1).fill(Infinity);
    const used = new Uint8Array(n + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const cur = cost[i0 - 1]![j - 1]! - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[p[j]!]! += delta;
          v[j]! -= delta;
        } else minv[j]! -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const rowToColumn = new Array<number>(n).fill(-1);
  for (let j = 1; j <= n; j++) if (p[j]! > 0) rowToColumn[p[j]! - 1] = j - 1;
  return rowToColumn;
}

/** The k smallest offers, by key. */
class TopK<T> {
  private readonly entries: { key: number; value: T }[] = [];
  constructor(private readonly k: number) {}
  offer(key: number, value: T): void {
    if (this.entries.length === this.k && key >= this.entries[this.k - 1]!.key) return;
    let at = this.entries.length;
    while (at > 0 && this.entries[at - 1]!.key > key) at--;
    this.entries.splice(at, 0, { key, value });
    if (this.entries.length > this.k) this.entries.pop();
  }
  items(): T[] {
    return this.entries.map((e) => e.value);
  }
}

/** Count, min, median, mean and max of the finite values (NaN fields when there are none). */
export function summarize(values: readonly number[]): DistanceSummary {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { count: 0, min: Number.NaN, median: Number.NaN, mean: Number.NaN, max: Number.NaN };
  return { count: n, min: sorted[0]!, median: median(sorted), mean: sorted.reduce((a, b) => a + b, 0) / n, max: sorted[n - 1]! };
}


function squaredNorm(v: Float32Array): number {
  let s = 0;
  for (let d = 0; d < v.length; d++) s += v[d]! * v[d]!;
  return s;
}
