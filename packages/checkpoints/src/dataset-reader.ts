// Reading a checkpoint dataset without loading it: run files are opened on demand,
// their headers validated against the manifest once and cached, and a checkpoint is
// one positional read of D float32 values at a fixed offset.
//
// Everything in the folder is untrusted: a run file is checked against the manifest
// (task, run name, tensors, shapes, iterations) before any of its data is used, only
// regular files are opened, and every read is bounded by what the header promises (itself
// checked against the file size) and by `maxRunBytes`. A bad run fails alone with a
// CheckpointFormatError naming its file; validate() lists such runs instead of throwing.
import { join } from 'node:path';
import { CheckpointFormatError } from './errors.js';
import type { CheckpointSource, RunSplit } from './checkpoint-source.js';
import { splitRuns } from './checkpoint-source.js';
import { FileHandlePool } from './file-handle-pool.js';
import { type DatasetManifest, MANIFEST_FILE } from './manifest.js';
import { readManifest } from './manifest-file.js';
import {
  ITERATIONS_TENSOR,
  METRIC_PREFIX,
  type RunData,
  type RunLayout,
  checkIterations,
  firstNonFinite,
  isValidRunName,
  ownMetric,
  validateRunHeader,
} from './run-file.js';
import { readRunHeaderFrom } from './run-file-io.js';
import { listRunFiles, runFilePath } from './dataset-writer.js';
import { readExactly, readExactlySync } from './positional-read.js';
import { readSafetensorsTensorFrom } from './safetensors-file.js';

/** Default `maxRunBytes`: 2 GiB of parameters in one readRun (a paper run is a few MB). */
export const DEFAULT_MAX_RUN_BYTES = 2 ** 31;
/** validate() reads parameters in blocks of about this many bytes, whatever the run's size. */
const VALIDATE_BLOCK_BYTES = 16 * 1024 * 1024;

export interface OpenDatasetOptions {
  /** Check every checkpoint read, and each run's metrics, for NaN/Inf and fail naming file, checkpoint and position. Default false. */
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
  /** Most bytes of parameters readRun / iterateRuns load at once (default 2 GiB); larger runs are read checkpoint by checkpoint. */
  maxRunBytes?: number;
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
  /** Problems of the dataset as a whole (e.g. fewer runs than the manifest's test split), each naming its file. */
  readonly problems: CheckpointFormatError[];
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

  /**
   * Opens a dataset folder; fails with a clear error if the manifest is missing or
   * invalid. Run files are only listed here: a bad one fails when read, and validate()
   * lists them all. A folder with fewer runs than the manifest's test split (a dataset
   * still being generated) opens with every run in the test split; validate() reports it.
   */
  static async open(dir: string, options: OpenDatasetOptions = {}): Promise<CheckpointDataset> {
    const manifest = await readManifest(dir);
    const excluded = new Set(options.excludeRuns ?? []);
    const runs = (await listRunFiles(dir)).filter((r) => !excluded.has(r));
    const checkpointBytes = manifest.parameterCount * 4;
    const limit = options.maxRunBytes ?? DEFAULT_MAX_RUN_BYTES;
    if (checkpointBytes > limit) {
      // Every read allocates at least one checkpoint: refuse before any run file is trusted.
      throw new CheckpointFormatError(join(dir, MANIFEST_FILE), `one checkpoint of ${manifest.parameterCount} parameters is ${checkpointBytes} bytes, more than maxRunBytes (${limit})`);
    }
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
    if (!isValidRunName(run)) {
      throw new CheckpointFormatError(file, `"${run}" is not a valid run name (1-128 letters, digits, '_' or '-', starting with a letter or digit)`);
    }
    const info = await this.pool.use(
      file,
      async (handle) => {
        const header = await readRunHeaderFrom(handle, file);
        const layout = validateRunHeader(header, this.manifest, run);
        const iterations = checkIterations(file, (await readSafetensorsTensorFrom(handle, header, ITERATIONS_TENSOR)).data as BigInt64Array);
        // Null prototype: metric("constructor") must not find Object's constructor.
        const metrics = Object.create(null) as Record<string, Float64Array>;
        for (const name of this.manifest.metrics) {
          metrics[name] = (await readSafetensorsTensorFrom(handle, header, METRIC_PREFIX + name)).data as Float64Array;
        }
        return { layout, iterations, metrics, metadata: header.metadata };
      },
      'run file',
    );
    if (this.options.checkFinite) this.assertFiniteMetrics(info);
    return info;
  }

  /** Throws naming the metric and checkpoint of the first NaN/Inf metric value. */
  private assertFiniteMetrics(info: RunInfo): void {
    for (const name of this.manifest.metrics) {
      const values = info.metrics[name]!;
      const bad = firstNonFinite(values);
      if (bad >= 0) throw new CheckpointFormatError(info.layout.file, `metric "${name}" of checkpoint ${bad} is ${values[bad]} (non-finite)`);
    }
  }

  async numCheckpoints(run: string): Promise<number> {
    return (await this.runInfo(run)).layout.numCheckpoints;
  }

  async iterations(run: string): Promise<readonly number[]> {
    return (await this.runInfo(run)).iterations;
  }

  async metric(run: string, name: string): Promise<Float64Array> {
    if (!this.manifest.metrics.includes(name)) {
      throw new Error(`${this.dir}: unknown metric ${JSON.stringify(name)} (the manifest has ${this.manifest.metrics.join(', ') || 'none'})`);
    }
    return ownMetric((await this.runInfo(run)).metrics, name)!;
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
    await this.pool.use(
      layout.file,
      async (handle) => {
        if (this.options.asyncReads) await readExactly(handle, layout.file, position, D * 4, bytes);
        else readExactlySync(handle.fd, layout.file, position, D * 4, bytes);
      },
      'run file',
    );
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
    const size = layout.numCheckpoints * this.parameterCount * 4;
    const limit = this.options.maxRunBytes ?? DEFAULT_MAX_RUN_BYTES;
    if (size > limit) {
      throw new CheckpointFormatError(layout.file, `run holds ${size} bytes of parameters, more than maxRunBytes (${limit}); read it checkpoint by checkpoint, or raise maxRunBytes`);
    }
    const parameters = new Float32Array(layout.numCheckpoints * this.parameterCount);
    const bytes = new Uint8Array(parameters.buffer);
    await this.pool.use(layout.file, (handle) => readExactly(handle, layout.file, layout.parametersStart, bytes.byteLength, bytes), 'run file');
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
        const metrics = Object.create(null) as Record<string, number>;
        for (const name of this.manifest.metrics) metrics[name] = info.metrics[name]![index]!;
        const parameters = await this.readCheckpoint(run, index);
        yield { run, index, iteration: info.iterations[index]!, parameters, metrics };
      }
    }
  }

  /**
   * Validates every run without throwing: the header against the manifest (task, run
   * name, tensors, shapes), the iterations, that every byte of the parameters is there,
   * and with `checkFinite` every parameter and metric value. Returns which runs are fine
   * and the error (naming the file) of each bad one: a corrupt, truncated, renamed or
   * foreign run file, a directory, FIFO, device or dangling symlink in its place.
   * Parameters are read in blocks of ~16 MB, so memory stays bounded for any run.
   */
  async validate(options: { checkFinite?: boolean; signal?: AbortSignal; onProgress?: (e: ValidationProgressEvent) => void } = {}): Promise<ValidationReport> {
    const report: ValidationReport = { ok: [], bad: [], problems: [] };
    const { numTestRuns } = this.manifest.split;
    if (numTestRuns > this.runs.length) {
      report.problems.push(
        new CheckpointFormatError(
          join(this.dir, MANIFEST_FILE),
          `split.numTestRuns is ${numTestRuns}, but the folder holds only ${this.runs.length} runs: all of them are test runs, none is left for training (an incomplete dataset, or a manifest that does not belong to these runs)`,
        ),
      );
    }
    for (const [index, run] of this.runs.entries()) {
      options.signal?.throwIfAborted();
      let ok = true;
      try {
        await this.checkRun(run, options.checkFinite ?? false);
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

  private async checkRun(run: string, checkFinite: boolean): Promise<void> {
    const info = await this.runInfo(run);
    if (checkFinite) this.assertFiniteMetrics(info);
    const { layout } = info;
    const rowBytes = this.parameterCount * 4;
    const rowsPerBlock = Math.max(1, Math.floor(VALIDATE_BLOCK_BYTES / rowBytes));
    const block = new Float32Array(Math.min(rowsPerBlock, layout.numCheckpoints) * this.parameterCount);
    for (let first = 0; first < layout.numCheckpoints; first += rowsPerBlock) {
      const rows = Math.min(rowsPerBlock, layout.numCheckpoints - first);
      const view = block.subarray(0, rows * this.parameterCount);
      const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
      await this.pool.use(layout.file, (handle) => readExactly(handle, layout.file, layout.parametersStart + first * rowBytes, bytes.byteLength, bytes), 'run file');
      if (checkFinite) this.assertFiniteRows(layout.file, first, view);
    }
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
