// Writing a checkpoint dataset: one safetensors file per run under <dir>/runs/, each
// written whole and atomically, so after a crash a run is complete or absent. Resuming
// keeps every complete run and regenerates the rest.
import { mkdir, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointFormatError } from './errors.js';
import { isTemporaryFileName, writeFileAtomic } from './atomic-write.js';
import { type DatasetManifest, MANIFEST_FILE, sameLayout, validateManifest } from './manifest.js';
import { readManifest, writeManifest } from './manifest-file.js';
import { type RunData, checkRunData, checkRunName, encodeRun, validateRunHeader } from './run-file.js';
import { readSafetensorsHeader } from './safetensors-file.js';

export const RUNS_DIR = 'runs';
export const RUN_FILE_EXTENSION = '.safetensors';

export function runFilePath(dir: string, run: string): string {
  return join(dir, RUNS_DIR, run + RUN_FILE_EXTENSION);
}

/** Sorted names of the run files present in `<dir>/runs` (temporary files excluded). */
export async function listRunFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(join(dir, RUNS_DIR));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .filter((n) => n.endsWith(RUN_FILE_EXTENSION) && !n.startsWith('.'))
    .map((n) => n.slice(0, -RUN_FILE_EXTENSION.length))
    .sort();
}

export interface WriteRunOptions {
  signal?: AbortSignal;
  /** Store runs whose parameters contain NaN/Inf (default false: such a run is an error). */
  allowNonFinite?: boolean;
  /** Replace an existing run file (default false: writing an existing run is an error). */
  overwrite?: boolean;
}

export interface DatasetWriterOptions {
  /** Skip fsync (faster, not crash-safe; for throwaway data). Default false. */
  noSync?: boolean;
}

export class DatasetWriter {
  private constructor(
    readonly dir: string,
    readonly manifest: DatasetManifest,
    private readonly noSync: boolean,
  ) {}

  /**
   * Creates the dataset folder (or reopens it to resume). An existing manifest must
   * describe the same layout, so runs of two different networks never mix. Temporary
   * files left by an interrupted write are deleted.
   */
  static async create(dir: string, manifest: DatasetManifest, options: DatasetWriterOptions = {}): Promise<DatasetWriter> {
    validateManifest(manifest, join(dir, MANIFEST_FILE));
    await mkdir(join(dir, RUNS_DIR), { recursive: true });
    const existing = await stat(join(dir, MANIFEST_FILE)).then(
      () => true,
      () => false,
    );
    if (existing) {
      const current = await readManifest(dir);
      if (!sameLayout(current, manifest)) {
        throw new CheckpointFormatError(
          join(dir, MANIFEST_FILE),
          'a dataset with a different manifest (task, tensors, metrics or split) already exists here; use another folder',
        );
      }
    } else {
      await writeManifest(dir, manifest);
    }
    await removeTemporaryFiles(join(dir, RUNS_DIR));
    return new DatasetWriter(dir, manifest, options.noSync ?? false);
  }

  /** Reopens an existing dataset for writing more runs, with its own manifest. */
  static async open(dir: string, options: DatasetWriterOptions = {}): Promise<DatasetWriter> {
    return DatasetWriter.create(dir, await readManifest(dir), options);
  }

  runFile(run: string): string {
    return runFilePath(this.dir, run);
  }

  /** Runs already written (complete files; headers are not checked here). */
  async completedRuns(): Promise<string[]> {
    return listRunFiles(this.dir);
  }

  /**
   * Checks whether `run` is present and its header matches the manifest. Returns
   * 'complete', 'absent', or the problem with the file found there.
   */
  async runStatus(run: string): Promise<'complete' | 'absent' | { problem: string }> {
    checkRunName(run);
    const file = this.runFile(run);
    try {
      validateRunHeader(await readSafetensorsHeader(file), this.manifest, run);
      return 'complete';
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
      if (error instanceof CheckpointFormatError) return { problem: error.message };
      throw error;
    }
  }

  /** Writes one whole run atomically; returns the file and its size in bytes. */
  async writeRun(run: string, data: RunData, options: WriteRunOptions = {}): Promise<{ file: string; bytes: number }> {
    checkRunName(run);
    const numCheckpoints = checkRunData(this.manifest, run, data, options.allowNonFinite ?? false);
    const file = this.runFile(run);
    if (!options.overwrite) {
      const exists = await stat(file).then(
        () => true,
        () => false,
      );
      if (exists) throw new Error(`${file}: run "${run}" already exists (pass overwrite: true to replace it)`);
    }
    const chunks = encodeRun(this.manifest, run, data, numCheckpoints);
    await writeFileAtomic(file, chunks, { signal: options.signal, noSync: this.noSync });
    return { file, bytes: chunks.reduce((n, c) => n + c.byteLength, 0) };
  }
}

async function removeTemporaryFiles(runsDir: string): Promise<void> {
  for (const name of await readdir(runsDir)) {
    if (isTemporaryFileName(name)) await unlink(join(runsDir, name)).catch(() => undefined);
  }
}

export type GenerateProgressEvent =
  | { type: 'run-skipped'; run: string; index: number; total: number }
  | { type: 'run-redo'; run: string; index: number; total: number; problem: string }
  | { type: 'run-started'; run: string; index: number; total: number }
  | { type: 'run-written'; run: string; index: number; total: number; numCheckpoints: number; bytes: number; seconds: number };

export interface GenerateDatasetOptions extends DatasetWriterOptions {
  /** Names of all runs the dataset should hold, in generation order. */
  runs: readonly string[];
  /** Produces one run (e.g. trains a network and records its checkpoints). */
  makeRun: (run: string, index: number, signal: AbortSignal | undefined) => Promise<RunData> | RunData;
  signal?: AbortSignal;
  onProgress?: (event: GenerateProgressEvent) => void;
  allowNonFinite?: boolean;
}

/**
 * Generates a dataset resumably: complete runs on disk are kept, missing ones are
 * made and written, and a run whose file does not validate is made again.
 */
export async function generateDataset(
  dir: string,
  manifest: DatasetManifest,
  options: GenerateDatasetOptions,
): Promise<{ written: string[]; skipped: string[] }> {
  const writer = await DatasetWriter.create(dir, manifest, options);
  const { runs, signal, onProgress } = options;
  if (new Set(runs).size !== runs.length) failDuplicate(runs);
  const written: string[] = [];
  const skipped: string[] = [];
  for (const [index, run] of runs.entries()) {
    signal?.throwIfAborted();
    const status = await writer.runStatus(run);
    const total = runs.length;
    if (status === 'complete') {
      skipped.push(run);
      onProgress?.({ type: 'run-skipped', run, index, total });
      continue;
    }
    if (status !== 'absent') onProgress?.({ type: 'run-redo', run, index, total, problem: status.problem });
    onProgress?.({ type: 'run-started', run, index, total });
    const start = performance.now();
    const data = await options.makeRun(run, index, signal);
    signal?.throwIfAborted();
    const { bytes } = await writer.writeRun(run, data, { signal, allowNonFinite: options.allowNonFinite, overwrite: status !== 'absent' });
    written.push(run);
    const numCheckpoints = data.parameters.length / manifest.parameterCount;
    onProgress?.({ type: 'run-written', run, index, total, numCheckpoints, bytes, seconds: (performance.now() - start) / 1000 });
  }
  return { written, skipped };
}

function failDuplicate(runs: readonly string[]): never {
  const dup = runs.find((r, i) => runs.indexOf(r) !== i);
  throw new Error(`generateDataset: run "${dup}" is listed twice`);
}
