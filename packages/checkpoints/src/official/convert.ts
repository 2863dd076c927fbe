// Converting an official G.pt dataset (LMDB per run) into our format (safetensors per
// run). Resumable like generation: runs already converted are kept. The official
// cleaning rule (drop runs with non-finite values or |param| > 10) is on by default,
// as the official pipeline deletes those runs before training.
import { OFFICIAL_MAX_ABS_PARAMETER, badRunReason } from '../bad-run-filter.js';
import { DatasetWriter } from '../dataset-writer.js';
import { CheckpointFormatError } from '../errors.js';
import { createManifest } from '../manifest.js';
import type { OfficialTask } from '../official-tasks.js';
import type { RunData } from '../run-file.js';
import { OfficialDataset } from './official-dataset.js';

export type ConvertProgressEvent =
  | { type: 'run-converted'; run: string; index: number; total: number; numCheckpoints: number; seconds: number }
  | { type: 'run-exists'; run: string; index: number; total: number }
  | { type: 'run-filtered'; run: string; index: number; total: number; reason: string }
  | { type: 'run-invalid'; run: string; index: number; total: number; error: Error };

export interface ConvertOptions {
  /** The network of the dataset (tensor shapes, metrics, iterations per epoch). */
  task: OfficialTask;
  /** Test runs recorded in the manifest (default: the task's official value). */
  numTestRuns?: number;
  /** Apply the official bad-run filter (default true). */
  filterBadRuns?: boolean;
  /** Threshold of the filter (default 10). */
  maxAbs?: number;
  /** A run that cannot be read: stop with its error (default), or skip it and go on. */
  onInvalidRun?: 'throw' | 'skip';
  /** Only convert run directories with DONE.txt. Default false. */
  verifyDone?: boolean;
  iterationsPerEpoch?: number;
  signal?: AbortSignal;
  onProgress?: (event: ConvertProgressEvent) => void;
  /** Skip fsync (faster, not crash-safe). Default false. */
  noSync?: boolean;
}

export interface ConvertSummary {
  readonly converted: string[];
  readonly existing: string[];
  readonly filtered: { run: string; reason: string }[];
  readonly invalid: { run: string; error: Error }[];
}

export async function convertOfficialDataset(sourceDir: string, destDir: string, options: ConvertOptions): Promise<ConvertSummary> {
  const { task, signal, onProgress } = options;
  const source = await OfficialDataset.open(sourceDir, {
    task,
    verifyDone: options.verifyDone,
    ...(options.iterationsPerEpoch !== undefined ? { iterationsPerEpoch: options.iterationsPerEpoch } : {}),
  });
  const manifest = createManifest({
    task: task.name,
    tensors: task.tensors,
    metrics: task.metrics,
    numTestRuns: options.numTestRuns ?? task.numTestRuns,
    metadata: { source: 'official G.pt LMDB dataset', openaiCoefficient: task.openaiCoefficient },
  });
  const writer = await DatasetWriter.create(destDir, manifest, { noSync: options.noSync });
  const summary: ConvertSummary = { converted: [], existing: [], filtered: [], invalid: [] };
  const total = source.runs.length;
  const filter = options.filterBadRuns ?? true;
  try {
    for (const [index, run] of source.runs.entries()) {
      signal?.throwIfAborted();
      if ((await writer.runStatus(run)) === 'complete') {
        summary.existing.push(run);
        onProgress?.({ type: 'run-exists', run, index, total });
        continue;
      }
      const start = performance.now();
      let data: RunData;
      try {
        data = await source.readRun(run, { signal });
        const info = await source.run(run);
        const missing = task.metrics.filter((m) => !(m in info.metrics));
        if (missing.length > 0) throw new CheckpointFormatError(`${info.directory}/runs.json`, `metrics ${JSON.stringify(missing)} of the ${task.name} task are missing`);
      } catch (error) {
        if (!(error instanceof CheckpointFormatError) || options.onInvalidRun !== 'skip') throw error;
        summary.invalid.push({ run, error });
        onProgress?.({ type: 'run-invalid', run, index, total, error });
        continue;
      }
      const reason = filter ? badRunReason(data.parameters, source.parameterCount, options.maxAbs ?? OFFICIAL_MAX_ABS_PARAMETER) : null;
      if (reason) {
        summary.filtered.push({ run, reason });
        onProgress?.({ type: 'run-filtered', run, index, total, reason });
        continue;
      }
      const metrics = Object.fromEntries(task.metrics.map((m) => [m, data.metrics[m]!]));
      const keys = (await source.run(run)).keys;
      await writer.writeRun(
        run,
        { ...data, metrics, metadata: { source: 'official-lmdb', officialKeys: JSON.stringify(keys) } },
        { signal, allowNonFinite: !filter, overwrite: true },
      );
      summary.converted.push(run);
      onProgress?.({ type: 'run-converted', run, index, total, numCheckpoints: keys.length, seconds: (performance.now() - start) / 1000 });
    }
  } finally {
    await source.close();
  }
  return summary;
}
