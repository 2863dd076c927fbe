// What samplers and statistics need from a checkpoint dataset. Both our format
// (CheckpointDataset) and the official LMDB datasets (OfficialDataset) provide it, so
// normalization and pair sampling work on either without converting first.

export interface CheckpointSource {
  /** D: parameters per checkpoint. */
  readonly parameterCount: number;
  /** Run names, sorted; the split takes the last ones as the test runs. */
  readonly runs: readonly string[];
  /** Number of checkpoints of `run` (chronological). */
  numCheckpoints(run: string): Promise<number>;
  /** Metric `name` of every checkpoint of `run`, in checkpoint order. */
  metric(run: string, name: string): Promise<Float64Array>;
  /** Checkpoint `index` of `run` as a flat float32 vector [D] (written into `out` when given). */
  readCheckpoint(run: string, index: number, out?: Float32Array): Promise<Float32Array>;
}

/** Train/test split by runs: the last `numTestRuns` runs (in sorted order) are the test split. */
export interface RunSplit {
  readonly train: readonly string[];
  readonly test: readonly string[];
}

/**
 * Splits sorted run names like the official loader: the last `numTestRuns` are test,
 * the rest train, optionally truncated to the first `maxTrainRuns` (data-scaling knob).
 */
export function splitRuns(runs: readonly string[], numTestRuns: number, maxTrainRuns = Infinity): RunSplit {
  if (!Number.isSafeInteger(numTestRuns) || numTestRuns < 0) throw new RangeError(`numTestRuns must be a non-negative integer, got ${numTestRuns}`);
  if (numTestRuns > runs.length) throw new RangeError(`numTestRuns (${numTestRuns}) is more than the ${runs.length} runs available`);
  const cut = runs.length - numTestRuns;
  const train = runs.slice(0, cut);
  return { train: maxTrainRuns < train.length ? train.slice(0, maxTrainRuns) : train, test: runs.slice(cut) };
}
