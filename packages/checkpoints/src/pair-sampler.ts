// Training pairs for G.pt (gpt-paper.md §2.4, official ParameterDataset.__getitem__):
// pick a run; draw a gap k ~ U{minGap..n-1}; draw a start i ~ U{0..n-1-k}; return
// θ₀ = ckpt[i], θ₁ = ckpt[i+k] (so θ₁ is always later in the same run), both multiplied
// by the normalization coefficient and permuted with the same random permutation, plus
// the raw metric of each. Batches are packed as [N, D] float32 matrices.
import { Generator } from '@gpt/tensor';
import type { CheckpointSource } from './checkpoint-source.js';
import { type Normalizer, identityNormalizer } from './normalization.js';
import { ParameterPermuter, type PermutationSpec, applyGather } from './permutation.js';

export interface PairSamplerOptions {
  /** Runs to sample from (e.g. the training split). */
  readonly runs: readonly string[];
  /** Metric returned as metric0/metric1, e.g. "avg_test_loss" or "train_ret". */
  readonly metric: string;
  readonly seed: number;
  /** Applied to θ₀ and θ₁ (default identity). */
  readonly normalizer?: Normalizer;
  /** Permutation augmentation (train split only, as in the official code); omit for none. */
  readonly permutation?: PermutationSpec | ParameterPermuter;
  /** Smallest gap k between θ₀ and θ₁ (default 1). */
  readonly minGap?: number;
  /** Largest gap k (default n - 1 of each run). */
  readonly maxGap?: number;
  /**
   * 'uniform': every example picks a run uniformly at random (default).
   * 'epoch': runs are visited in shuffled passes, each run once per pass — the official
   * loader's behaviour, where an epoch holds every run equally often.
   */
  readonly runOrder?: 'uniform' | 'epoch';
}

/** N pairs; row r of theta0/theta1 is example r. */
export interface PairBatch {
  readonly size: number;
  readonly parameterCount: number;
  /** [N, D] */
  readonly shape: readonly [number, number];
  /** [N, D] starting parameters θ₀ (normalized, permuted). */
  readonly theta0: Float32Array;
  /** [N, D] future parameters θ₁ (normalized, permuted like θ₀). */
  readonly theta1: Float32Array;
  /** [N] raw metric of θ₀. */
  readonly metric0: Float64Array;
  /** [N] raw metric of θ₁. */
  readonly metric1: Float64Array;
  /** [N] run of each example. */
  readonly runs: readonly string[];
  /** [N] checkpoint indices of θ₀ and θ₁ in their run. */
  readonly index0: Int32Array;
  readonly index1: Int32Array;
}

/**
 * Everything that decides the pairs still to come: the generator's position and, for
 * runOrder 'epoch', the current pass over the runs. JSON-serializable, so a training
 * run can checkpoint it and resume drawing exactly the pairs it would have drawn.
 */
export interface PairSamplerState {
  readonly generator: { readonly key: readonly [number, number]; readonly counter: number };
  /** The current pass's run order (indices into `runs`); empty before the first pass. */
  readonly epochOrder: readonly number[];
  /** How many runs of the current pass were drawn. */
  readonly epochPosition: number;
  /** Number of runs the state was taken with (restore checks it against this sampler's). */
  readonly numRuns: number;
}

interface RunEntry {
  readonly run: string;
  readonly numCheckpoints: number;
  readonly metric: Float64Array;
}

interface Draw {
  readonly entry: RunEntry;
  readonly index0: number;
  readonly index1: number;
  readonly gather: Int32Array | null;
}

const READS_IN_FLIGHT = 64;

export class PairSampler {
  private readonly generator: Generator;
  private readonly normalizer: Normalizer;
  private readonly permuter: ParameterPermuter | null;
  private epochOrder: Int32Array = new Int32Array(0);
  private epochPosition = 0;

  private constructor(
    private readonly source: CheckpointSource,
    private readonly entries: readonly RunEntry[],
    private readonly options: PairSamplerOptions,
  ) {
    this.generator = new Generator(options.seed);
    this.normalizer = options.normalizer ?? identityNormalizer();
    const p = options.permutation;
    this.permuter = p === undefined ? null : p instanceof ParameterPermuter ? p : new ParameterPermuter(p);
    if (this.permuter && this.permuter.parameterCount !== source.parameterCount) {
      throw new Error(`PairSampler: permutation covers ${this.permuter.parameterCount} parameters, the dataset has D = ${source.parameterCount}`);
    }
  }

  /** Reads each run's checkpoint count and metric once, and checks the options. */
  static async create(source: CheckpointSource, options: PairSamplerOptions): Promise<PairSampler> {
    if (options.runs.length === 0) throw new Error('PairSampler: no runs to sample from');
    const minGap = options.minGap ?? 1;
    if (!Number.isSafeInteger(minGap) || minGap < 1) throw new RangeError(`PairSampler: minGap must be an integer >= 1, got ${minGap}`);
    if (options.maxGap !== undefined && !(Number.isSafeInteger(options.maxGap) && options.maxGap >= minGap)) {
      throw new RangeError(`PairSampler: maxGap must be an integer >= minGap (${minGap}), got ${options.maxGap}`);
    }
    const entries: RunEntry[] = [];
    for (const run of options.runs) {
      const numCheckpoints = await source.numCheckpoints(run);
      if (numCheckpoints < minGap + 1) throw new Error(`PairSampler: run "${run}" has ${numCheckpoints} checkpoints, too few for a gap of ${minGap}`);
      entries.push({ run, numCheckpoints, metric: await source.metric(run, options.metric) });
    }
    return new PairSampler(source, entries, options);
  }

  /** Draws and reads `batchSize` pairs. Deterministic for a given seed and call sequence. */
  async sample(batchSize: number, options: { signal?: AbortSignal } = {}): Promise<PairBatch> {
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError(`sample: batchSize must be a positive integer, got ${batchSize}`);
    // All random draws happen before any read, so results do not depend on I/O timing.
    const draws = Array.from({ length: batchSize }, () => this.draw());
    const D = this.source.parameterCount;
    const theta0 = new Float32Array(batchSize * D);
    const theta1 = new Float32Array(batchSize * D);
    const reads: (() => Promise<void>)[] = [];
    for (const [r, d] of draws.entries()) {
      reads.push(() => this.readInto(d.entry.run, d.index0, theta0.subarray(r * D, (r + 1) * D), d.gather));
      reads.push(() => this.readInto(d.entry.run, d.index1, theta1.subarray(r * D, (r + 1) * D), d.gather));
    }
    for (let start = 0; start < reads.length; start += READS_IN_FLIGHT) {
      options.signal?.throwIfAborted();
      await Promise.all(reads.slice(start, start + READS_IN_FLIGHT).map((read) => read()));
    }
    return {
      size: batchSize,
      parameterCount: D,
      shape: [batchSize, D],
      theta0,
      theta1,
      metric0: Float64Array.from(draws, (d) => d.entry.metric[d.index0]!),
      metric1: Float64Array.from(draws, (d) => d.entry.metric[d.index1]!),
      runs: draws.map((d) => d.entry.run),
      index0: Int32Array.from(draws, (d) => d.index0),
      index1: Int32Array.from(draws, (d) => d.index1),
    };
  }

  /** The sampler's position, to resume drawing later with restore() (see PairSamplerState). */
  state(): PairSamplerState {
    const { key, counter } = this.generator.getState();
    return {
      generator: { key: [key[0], key[1]], counter },
      epochOrder: Array.from(this.epochOrder),
      epochPosition: this.epochPosition,
      numRuns: this.entries.length,
    };
  }

  /**
   * Continues from a state taken by state() of a sampler over the same runs and options:
   * the following sample() calls return what the original sampler's would have.
   */
  restore(state: PairSamplerState): void {
    const n = this.entries.length;
    if (state.numRuns !== n) throw new Error(`PairSampler.restore: the state was taken over ${state.numRuns} runs, this sampler has ${n}`);
    const { key, counter } = state.generator ?? {};
    if (!Array.isArray(key) || key.length !== 2 || !key.every((k) => Number.isInteger(k) && k >= 0 && k < 2 ** 32) || !(Number.isSafeInteger(counter) && counter >= 0)) {
      throw new Error(`PairSampler.restore: generator state must be {key: [uint32, uint32], counter: integer >= 0}, got ${JSON.stringify(state.generator)}`);
    }
    const order = state.epochOrder;
    if (!Array.isArray(order) || (order.length !== 0 && order.length !== n) || !order.every((i) => Number.isInteger(i) && i >= 0 && i < n)) {
      throw new Error(`PairSampler.restore: epochOrder must be empty or a permutation of 0..${n - 1}`);
    }
    if (!(Number.isInteger(state.epochPosition) && state.epochPosition >= 0 && state.epochPosition <= order.length)) {
      throw new Error(`PairSampler.restore: epochPosition must be an integer in [0, ${order.length}], got ${state.epochPosition}`);
    }
    this.generator.setState({ key: [key[0]!, key[1]!], counter });
    this.epochOrder = Int32Array.from(order);
    this.epochPosition = state.epochPosition;
  }

  private draw(): Draw {
    const entry = this.entries[this.nextRunIndex()]!;
    const n = entry.numCheckpoints;
    const minGap = this.options.minGap ?? 1;
    const maxGap = Math.min(this.options.maxGap ?? n - 1, n - 1);
    const gap = this.generator.int(minGap, maxGap + 1); // k ~ U{minGap..maxGap}
    const index0 = this.generator.int(0, n - gap); // i ~ U{0..n-1-k}
    const gather = this.permuter ? this.permuter.randomIndex(this.generator) : null;
    return { entry, index0, index1: index0 + gap, gather };
  }

  private nextRunIndex(): number {
    if (this.options.runOrder !== 'epoch') return this.generator.int(0, this.entries.length);
    if (this.epochPosition >= this.epochOrder.length) {
      this.epochOrder = this.generator.permutation(this.entries.length);
      this.epochPosition = 0;
    }
    return this.epochOrder[this.epochPosition++]!;
  }

  private async readInto(run: string, index: number, row: Float32Array, gather: Int32Array | null): Promise<void> {
    if (!gather) {
      await this.source.readCheckpoint(run, index, row);
      this.normalizer.normalize(row, row);
      return;
    }
    const raw = await this.source.readCheckpoint(run, index);
    this.normalizer.normalize(raw, raw);
    applyGather(raw, gather, row);
  }
}
