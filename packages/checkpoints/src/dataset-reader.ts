// Reading a checkpoint dataset without loading it: run files are opened on demand,
// their headers validated against the manifest once and cached, and a checkpoint is
// one positional read of D float32 values at a fixed offset.
import { CheckpointFormatError } from './errors.js';
import type { CheckpointSource, RunSplit } from './checkpoint-source.js';
import { splitRuns } from './checkpoint-source.js';
import { FileHandlePool } from './file-handle-pool.js';
import type { DatasetManifest } from './manifest.js';
import { readManifest } from './manifest-file.js';
import { ITERATIONS_TENSOR, METRIC_PREFIX, type RunData, type RunLayout, firstNonFinite, validateRunHeader } from './run-file.js';
import { listRunFiles, runFilePath } from './dataset-writer.js';
import { readExactly, readExactlySync } from './positional-read.js';
import { readSafetensorsHeaderFrom, readSafetensorsTensorFrom } from './safetensors-file.js';

export interface OpenDatasetOptions {
  /** Check every checkpoint read for NaN/Inf and fail naming file, checkpoint and position. Default false. */
  checkFinite?: boolean;
  /** Runs to leave out (e.g. the result of `findBadRuns`). */
  excludeRuns?: Iterable<string>;
  /** Keep only the first `maxTrainRuns` training runs in `split` (official data-scaling knob). */
  maxTrainRuns?: number;
  /** Most run files kept open at once. Default 64. */
  maxOpenFiles?: number;
  /**
   * Read single checkpoints with async I/O instead of a synchronous pread. The default
   * (sync) is several times faster for page-cached data; async keeps the event loop free
   * when reads are slow (network file systems).
   */
  asyncReads?: boolean;
}

/** Per-run facts read from the file's small tensors. */
export interface RunInfo {
  readonly layout: RunLayout;
  readonly iterations: readonly number[];
  readonly metrics: Readonly<Record<string, Float64Array>>;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface CheckpointRecord {
  readonly run: string;
  readonly index: number;
  readonly iteration: number;
  /** [D] */
  readonly parameters: Float32Array;
  readonly metrics: Readonly<Record<string, number>>;
}

export interface IterateOptions {
  /** Runs to visit, in order (default: all). */
  runs?: readonly string[];
  signal?: AbortSignal;
}

export type ValidationProgressEvent = { type: 'run-checked'; run: string; index: number; total: number; ok: boolean };

export interface ValidationReport {
  readonly ok: string[];
  readonly bad: { run: string; error: Error }[];
}

export class CheckpointDataset implements CheckpointSource {
  readonly parameterCount: number;
  /** Run names, sorted. */
  readonly runs: readonly string[];
  /** The train/test split from the manifest (last runs are test). */
  readonly split: RunSplit;
  private readonly infos = new Map<string, Promise<RunInfo>>();
  private readonly pool: FileHandlePool;
  private readonly runSet: ReadonlySet<string>;

  private constructor(
    readonly dir: string,
    readonly manifest: DatasetManifest,
    runs: string[],
    private readonly options: OpenDatasetOptions,
  ) {
    this.parameterCount = manifest.parameterCount;
    this.runs = runs;
    this.runSet = new Set(runs);
    this.split = splitRuns(runs, Math.min(manifest.split.numTestRuns, runs.length), options.maxTrainRuns);
    this.pool = new FileHandlePool(options.maxOpenFiles ?? 64);
  }

  /** Opens a dataset folder; fails with a clear error if the manifest is missing or invalid. */
  static async open(dir: string, options: OpenDatasetOptions = {}): Promise<CheckpointDataset> {
    const manifest = await readManifest(dir);
    const excluded = new Set(options.excludeRuns ?? []);
    const runs = (await listRunFiles(dir)).filter((r) => !excluded.has(r));
    return new CheckpointDataset(dir, manifest, runs, options);
  }

  get metricNames(): readonly string[] {
    return this.manifest.metrics;
  }

  runFile(run: string): string {
    if (!this.runSet.has(run)) throw new Error(`${this.dir}: no run named "${run}" in this dataset`);
    return runFilePath(this.dir, run);
  }

  /** Header facts, iterations and metrics of a run (read once, then cached). */
  runInfo(run: string): Promise<RunInfo> {
    let info = this.infos.get(run);
    if (!info) {
      info = this.loadRunInfo(run);
      info.catch(() => this.infos.delete(run)); // a bad file is re-read (and fails again) next time
      this.infos.set(run, info);
    }
    return info;
  }

  private async loadRunInfo(run: string): Promise<RunInfo> {
    const file = this.runFile(run);
    return this.pool.use(file, async (handle) => {
      const header = await readSafetensorsHeaderFrom(handle, file);
      const layout = validateRunHeader(header, this.manifest, run);
      const rawIterations = (await readSafetensorsTensorFrom(handle, header, ITERATIONS_TENSOR)).data as BigInt64Array;
      const iterations = Array.from(rawIterations, Number);
      for (let k = 1; k < iterations.length; k++) {
        if (!(iterations[k]! > iterations[k - 1]!)) {
          throw new CheckpointFormatError(file, `iterations are not strictly increasing (checkpoint ${k}: ${iterations[k]} after ${iterations[k - 1]})`);
        }
      }
      const metrics: Record<string, Float64Array> = {};
      for (const name of this.manifest.metrics) {
        metrics[name] = (await readSafetensorsTensorFrom(handle, header, METRIC_PREFIX + name)).data as Float64Array;
      }
      return { layout, iterations, metrics, metadata: header.metadata };
    });
  }

  async numCheckpoints(run: string): Promise<number> {
    return (await this.runInfo(run)).layout.numCheckpoints;
  }

  async iterations(run: string): Promise<readonly number[]> {
    return (await this.runInfo(run)).iterations;
  }

  async metric(run: string, name: string): Promise<Float64Array> {
    const values = (await this.runInfo(run)).metrics[name];
    if (!values) throw new Error(`${this.dir}: unknown metric "${name}" (the manifest has ${this.manifest.metrics.join(', ')})`);
    return values;
  }

  /** Checkpoint `index` of `run` as float32 [D]; one positional read. */
  async readCheckpoint(run: string, index: number, out?: Float32Array): Promise<Float32Array> {
    const { layout } = await this.runInfo(run);
    const D = this.parameterCount;
    if (!Number.isInteger(index) || index < 0 || index >= layout.numCheckpoints) {
      throw new RangeError(`${layout.file}: checkpoint index ${index} out of range [0, ${layout.numCheckpoints})`);
    }
    const target = out ?? new Float32Array(D);
    if (target.length !== D) throw new RangeError(`readCheckpoint: out has ${target.length} elements, expected D = ${D}`);
    const bytes = new Uint8Array(target.buffer, target.byteOffset, D * 4);
    const position = layout.parametersStart + index * D * 4;
    await this.pool.use(layout.file, async (handle) => {
      if (this.options.asyncReads) await readExactly(handle, layout.file, position, D * 4, bytes);
      else readExactlySync(handle.fd, layout.file, position, D * 4, bytes);
    });
    if (this.options.checkFinite) this.assertFiniteRows(layout.file, index, target);
    return target;
  }

  /** Throws naming the checkpoint and position of the first NaN/Inf in rows starting at `firstIndex`. */
  private assertFiniteRows(file: string, firstIndex: number, rows: Float32Array): void {
    const bad = firstNonFinite(rows);
    if (bad < 0) return;
    const D = this.parameterCount;
    throw new CheckpointFormatError(file, `checkpoint ${firstIndex + Math.floor(bad / D)}: parameter ${bad % D} is ${rows[bad]} (non-finite)`);
  }

  /** Reads a whole run: [n, D] parameters (one read), iterations and metrics. */
  async readRun(run: string): Promise<RunData> {
    const info = await this.runInfo(run);
    const { layout } = info;
    const parameters = new Float32Array(layout.numCheckpoints * this.parameterCount);
    const bytes = new Uint8Array(parameters.buffer);
    await this.pool.use(layout.file, (handle) => readExactly(handle, layout.file, layout.parametersStart, bytes.byteLength, bytes));
    if (this.options.checkFinite) this.assertFiniteRows(layout.file, 0, parameters);
    return { parameters, iterations: info.iterations, metrics: info.metrics, metadata: info.metadata };
  }

  /** Streams whole runs, one in memory at a time. */
  async *iterateRuns(options: IterateOptions = {}): AsyncGenerator<{ run: string; data: RunData }> {
    for (const run of options.runs ?? this.runs) {
      options.signal?.throwIfAborted();
      yield { run, data: await this.readRun(run) };
    }
  }

  /** Streams every checkpoint of the chosen runs, one at a time, in run then checkpoint order. */
  async *checkpoints(options: IterateOptions = {}): AsyncGenerator<CheckpointRecord> {
    for (const run of options.runs ?? this.runs) {
      const info = await this.runInfo(run);
      for (let index = 0; index < info.layout.numCheckpoints; index++) {
        options.signal?.throwIfAborted();
        const metrics: Record<string, number> = {};
        for (const name of this.manifest.metrics) metrics[name] = info.metrics[name]![index]!;
        const parameters = await this.readCheckpoint(run, index);
        yield { run, index, iteration: info.iterations[index]!, parameters, metrics };
      }
    }
  }

  /**
   * Validates every run (header, shapes, and with `checkFinite` every value) without
   * throwing: returns which runs are fine and the error of each bad one.
   */
  async validate(options: { checkFinite?: boolean; signal?: AbortSignal; onProgress?: (e: ValidationProgressEvent) => void } = {}): Promise<ValidationReport> {
    const report: ValidationReport = { ok: [], bad: [] };
    for (const [index, run] of this.runs.entries()) {
      options.signal?.throwIfAborted();
      let ok = true;
      try {
        const data = await this.readRun(run);
        if (options.checkFinite) this.assertFiniteRows(this.runFile(run), 0, data.parameters);
        report.ok.push(run);
      } catch (error) {
        if (!(error instanceof CheckpointFormatError)) throw error;
        ok = false;
        report.bad.push({ run, error });
      }
      options.onProgress?.({ type: 'run-checked', run, index, total: this.runs.length, ok });
    }
    return report;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
