// Converting an official G.pt dataset (LMDB per run) into our format (safetensors per
// run). Resumable like generation: runs already converted are kept. The official
// cleaning rule (drop runs with non-finite values or |param| > 10) is on by default,
// as the official pipeline deletes those runs before training.
import { OFFICIAL_MAX_ABS_PARAMETER, badRunReason } from '../bad-run-filter.js';
import { DatasetWriter } from '../dataset-writer.js';
import { CheckpointFormatError } from '../errors.js';
import { createManifest } from '../manifest.js';
import type { OfficialTask } from '../official-tasks.js';
import { type RunData, checkRunData } from '../run-file.js';
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
  /**
   * A run that cannot be read, or a folder that cannot be a run (".hidden", a bad name, a
   * repeated run): stop with its error (default), or skip it, report it, and go on.
   */
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

/**
 * Converts the official dataset in `sourceDir` into our format in `destDir`, holding
 * the destination's writer lock throughout (a second writer is refused naming this one).
 */
export async function convertOfficialDataset(sourceDir: string, destDir: string, options: ConvertOptions): Promise<ConvertSummary> {
  const { task, signal, onProgress } = options;
  const skipInvalid = options.onInvalidRun === 'skip';
  const source = await OfficialDataset.open(sourceDir, {
    task,
    verifyDone: options.verifyDone,
    ...(options.iterationsPerEpoch !== undefined ? { iterationsPerEpoch: options.iterationsPerEpoch } : {}),
  });
  try {
    if (source.invalid.length > 0 && !skipInvalid) throw source.invalid[0]!.error;
    const manifest = createManifest({
      task: task.name,
      tensors: task.tensors,
      metrics: task.metrics,
      numTestRuns: options.numTestRuns ?? task.numTestRuns,
      metadata: { source: 'official G.pt LMDB dataset', openaiCoefficient: task.openaiCoefficient },
    });
    const writer = await DatasetWriter.create(destDir, manifest, { noSync: options.noSync });
    try {
      const summary: ConvertSummary = { converted: [], existing: [], filtered: [], invalid: [] };
      const total = source.runs.length + source.invalid.length;
      for (const [index, entry] of source.invalid.entries()) {
        summary.invalid.push({ run: entry.name, error: entry.error });
        onProgress?.({ type: 'run-invalid', run: entry.name, index, total, error: entry.error });
      }
      const filter = options.filterBadRuns ?? true;
      for (const [i, run] of source.runs.entries()) {
        const index = source.invalid.length + i;
        signal?.throwIfAborted();
        if ((await writer.runStatus(run)) === 'complete') {
          summary.existing.push(run);
          onProgress?.({ type: 'run-exists', run, index, total });
          continue;
        }
        const start = performance.now();
        let data: RunData;
        try {
          data = await readOfficialRun(source, run, task, manifest, signal);
        } catch (error) {
          if (!(error instanceof CheckpointFormatError) || !skipInvalid) throw error;
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
        const keys = (await source.run(run)).keys;
        await writer.writeRun(run, { ...data, metadata: { source: 'official-lmdb', officialKeys: JSON.stringify(keys) } }, { signal, allowNonFinite: !filter, overwrite: true });
        summary.converted.push(run);
        onProgress?.({ type: 'run-converted', run, index, total, numCheckpoints: keys.length, seconds: (performance.now() - start) / 1000 });
      }
      return summary;
    } finally {
      await writer.close();
    }
  } finally {
    await source.close();
  }
}

/**
 * Reads one official run as our RunData with the task's metrics, checked like the writer
 * will check it; anything wrong is a CheckpointFormatError naming the run's folder.
 */
async function readOfficialRun(
  source: OfficialDataset,
  run: string,
  task: OfficialTask,
  manifest: ReturnType<typeof createManifest>,
  signal: AbortSignal | undefined,
): Promise<RunData> {
  const data = await source.readRun(run, { signal });
  const info = await source.run(run);
  const missing = task.metrics.filter((m) => !Object.hasOwn(info.metrics, m));
  if (missing.length > 0) throw new CheckpointFormatError(`${info.directory}/runs.json`, `metrics ${JSON.stringify(missing)} of the ${task.name} task are missing`);
  const metrics = Object.fromEntries(task.metrics.map((m) => [m, info.metrics[m]!]));
  const converted: RunData = { ...data, metrics };
  try {
    checkRunData(manifest, run, converted, true); // non-finite values are the filter's business
  } catch (error) {
    throw new CheckpointFormatError(info.directory, (error as Error).message, { cause: error });
  }
  return converted;
}
