// Test helper: a CheckpointSource held in memory, optionally recording every read.
import type { CheckpointSource } from '../../src/index.js';

export class MemorySource implements CheckpointSource {
  readonly runs: readonly string[];
  readonly reads: { run: string; index: number }[] = [];

  constructor(
    readonly parameterCount: number,
    private readonly data: ReadonlyMap<string, { checkpoints: Float32Array[]; metrics: Record<string, Float64Array> }>,
  ) {
    this.runs = [...data.keys()].sort();
  }

  /** `numRuns` runs of `n` checkpoints; value(run, k, j) fills parameter j of checkpoint k. */
  static build(numRuns: number, n: number, D: number, value: (run: number, k: number, j: number) => number): MemorySource {
    const data = new Map<string, { checkpoints: Float32Array[]; metrics: Record<string, Float64Array> }>();
    for (let r = 0; r < numRuns; r++) {
      const checkpoints = Array.from({ length: n }, (_, k) => Float32Array.from({ length: D }, (_, j) => value(r, k, j)));
      const loss = Float64Array.from({ length: n }, (_, k) => 100 * r + k + 0.5);
      data.set(String(r).padStart(3, '0'), { checkpoints, metrics: { loss } });
    }
    return new MemorySource(D, data);
  }

  private get(run: string) {
    const entry = this.data.get(run);
    if (!entry) throw new Error(`no run ${run}`);
    return entry;
  }

  async numCheckpoints(run: string): Promise<number> {
    return this.get(run).checkpoints.length;
  }

  async metric(run: string, name: string): Promise<Float64Array> {
    const values = this.get(run).metrics[name];
    if (!values) throw new Error(`unknown metric ${name}`);
    return values;
  }

  async readCheckpoint(run: string, index: number, out?: Float32Array): Promise<Float32Array> {
    this.reads.push({ run, index });
    const row = this.get(run).checkpoints[index];
    if (!row) throw new RangeError(`no checkpoint ${index}`);
    const target = out ?? new Float32Array(this.parameterCount);
    target.set(row);
    return target;
  }
}
