// Writing a checkpoint dataset: one safetensors file per run under <dir>/runs/, each
// written whole and atomically, so after a crash a run is complete or absent. Resuming
// keeps every complete run and regenerates the rest. A writer holds the folder's lock
// (dataset-lock.ts) from create() to close(): a second writer is refused naming the
// first, and only the lock holder ever deletes temporary files.
import { lstat, mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointFormatError } from './errors.js';
import { isTemporaryFileName, temporaryFileOwner, writeFileAtomic } from './atomic-write.js';
import { type DatasetLock, acquireDatasetLock, lockCovers, processAlive } from './dataset-lock.js';
import { type DatasetManifest, MANIFEST_FILE, sameLayout, validateManifest } from './manifest.js';
import { readManifest, writeManifest } from './manifest-file.js';
import { fileProblem } from './regular-file.js';
import { type RunData, checkRunData, checkRunName, encodeRun } from './run-file.js';
import { readRunLayout } from './run-file-io.js';

export const RUNS_DIR = 'runs';
export const RUN_FILE_EXTENSION = '.safetensors';

export function runFilePath(dir: string, run: string): string {
  return join(dir, RUNS_DIR, run + RUN_FILE_EXTENSION);
}

/**
 * Sorted names of the run files present in `<dir>/runs` (temporary and hidden files
 * excluded). Names are listed as found, valid or not: reading an invalid one fails
 * naming it, so that validate() reports it rather than hiding it.
 */
export async function listRunFiles(dir: string): Promise<string[]> {
  const runsDir = join(dir, RUNS_DIR);
  let names: string[];
  try {
    names = await readdir(runsDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw fileProblem(runsDir, 'runs folder', error);
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
  /**
   * The folder's lock, already taken by the caller with acquireDatasetLock (who then
   * releases it; close() leaves it). Default: create() takes the lock and close() releases it.
   */
  lock?: DatasetLock;
  /** What this writer is doing, shown to a writer it refuses. Default: the process's command line. */
  command?: string;
}

export class DatasetWriter {
  private closed = false;

  private constructor(
    readonly dir: string,
    readonly manifest: DatasetManifest,
    private readonly noSync: boolean,
    /** The lock this writer took itself (released by close()), or null when the caller holds it. */
    private readonly ownLock: DatasetLock | null,
  ) {}

  /**
   * Creates the dataset folder (or reopens it to resume) and takes its writer lock
   * (DatasetLockedError naming the holder when another writer has it). An existing
   * manifest must describe the same layout, so runs of two different networks never mix.
   * Temporary files left by an interrupted writer (a dead process) are deleted. Call
   * close() when done: it releases the lock.
   */
  static async create(dir: string, manifest: DatasetManifest, options: DatasetWriterOptions = {}): Promise<DatasetWriter> {
    validateManifest(manifest, join(dir, MANIFEST_FILE));
    if (options.lock && !lockCovers(options.lock, dir)) {
      throw new Error(`DatasetWriter.create: the lock given is on ${options.lock.dir}, not on ${dir}`);
    }
    try {
      await mkdir(dir, { recursive: true });
    } catch (error) {
      throw fileProblem(dir, 'dataset folder', error);
    }
    const ownLock = options.lock ? null : await acquireDatasetLock(dir, options.command !== undefined ? { command: options.command } : {});
    try {
      await prepareFolder(dir, manifest);
      return new DatasetWriter(dir, manifest, options.noSync ?? false, ownLock);
    } catch (error) {
      await ownLock?.release();
      throw error;
    }
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
   * Checks whether `run` is present and its header matches the manifest (task, run
   * name, tensors). Returns 'complete', 'absent', or the problem with the file found
   * there (a damaged file, another run's or task's file, a directory, a FIFO...).
   */
  async runStatus(run: string): Promise<'complete' | 'absent' | { problem: string }> {
    checkRunName(run);
    const file = this.runFile(run);
    try {
      await readRunLayout(file, this.manifest, run);
      return 'complete';
    } catch (error) {
      if (!(error instanceof CheckpointFormatError)) throw error;
      const code = (error.cause as NodeJS.ErrnoException | undefined)?.code;
      if (code === 'ENOENT' && !(await pathExists(file))) return 'absent'; // (a dangling symlink is a problem, not absent)
      return { problem: error.message };
    }
  }

  /** Writes one whole run atomically; returns the file and its size in bytes. */
  async writeRun(run: string, data: RunData, options: WriteRunOptions = {}): Promise<{ file: string; bytes: number }> {
    if (this.closed) throw new Error(`${this.dir}: DatasetWriter used after close()`);
    checkRunName(run);
    const numCheckpoints = checkRunData(this.manifest, run, data, options.allowNonFinite ?? false);
    const file = this.runFile(run);
    const existing = await lstat(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw fileProblem(file, 'run file', error);
    });
    if (existing && !options.overwrite) throw new Error(`${file}: run "${run}" already exists (pass overwrite: true to replace it)`);
    if (existing && !existing.isFile() && !existing.isSymbolicLink()) {
      // Not ours to replace: a folder or a special file someone put there.
      throw new CheckpointFormatError(file, `cannot write run "${run}": a ${existing.isDirectory() ? 'directory' : 'special file'} is in its place; move it away`);
    }
    const chunks = encodeRun(this.manifest, run, data, numCheckpoints);
    await writeFileAtomic(file, chunks, { signal: options.signal, noSync: this.noSync });
    return { file, bytes: chunks.reduce((n, c) => n + c.byteLength, 0) };
  }

  /** Ends writing: releases the folder's lock if this writer took it. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.ownLock?.release();
  }
}

// Under the lock: the manifest is written or checked, the runs folder exists, and
// temporary files of dead writers are gone.
async function prepareFolder(dir: string, manifest: DatasetManifest): Promise<void> {
  const runsDir = join(dir, RUNS_DIR);
  try {
    await mkdir(runsDir, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new CheckpointFormatError(runsDir, 'runs folder is a file, not a folder');
    throw fileProblem(runsDir, 'runs folder', error);
  }
  if (await pathExists(join(dir, MANIFEST_FILE))) {
    const current = await readManifest(dir); // a directory, FIFO or junk there fails naming it
    if (!sameLayout(current, manifest)) {
      throw new CheckpointFormatError(
        join(dir, MANIFEST_FILE),
        'a dataset with a different manifest (task, tensors, metrics or split) already exists here; use another folder',
      );
    }
  } else {
    await writeManifest(dir, manifest);
  }
  await removeDeadWritersTemporaryFiles(runsDir);
}

async function pathExists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

// Temporary names carry the writing process's pid; a live process's file is left alone
// even here (it could be a writer on an older version without the lock).
async function removeDeadWritersTemporaryFiles(runsDir: string): Promise<void> {
  for (const name of await readdir(runsDir)) {
    if (!isTemporaryFileName(name)) continue;
    const pid = temporaryFileOwner(name);
    if (pid !== null && pid !== process.pid && processAlive(pid)) continue;
    await unlink(join(runsDir, name)).catch(() => undefined);
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
  const { runs } = options;
  if (new Set(runs).size !== runs.length) failDuplicate(runs);
  const writer = await DatasetWriter.create(dir, manifest, options);
  try {
    return await generateRuns(writer, options);
  } finally {
    await writer.close();
  }
}

async function generateRuns(writer: DatasetWriter, options: GenerateDatasetOptions): Promise<{ written: string[]; skipped: string[] }> {
  const { runs, signal, onProgress } = options;
  const { manifest } = writer;
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
