// The official G.pt checkpoint datasets (gpt-paper.md §2.1): a folder of run
// directories, each an LMDB environment plus runs.json and DONE.txt; a directory whose
// name joins several runs with "_" holds all of them. Runs are loaded lazily and one
// at a time, so a broken run (no runs.json, a damaged LMDB) fails alone, with an error
// naming its file, while the other runs stay readable.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckpointSource } from '../checkpoint-source.js';
import { CheckpointFormatError } from '../errors.js';
import { parameterCountOf } from '../manifest.js';
import type { OfficialTask } from '../official-tasks.js';
import { type RunData, isValidRunName } from '../run-file.js';
import { parseOfficialKey } from './checkpoint-key.js';
import { type LmdbStore, openLmdbStore } from './lmdb-store.js';
import { parseRunsJson } from './runs-json.js';
import { readRegularFile } from '../regular-file.js';

/** runs.json holds a few numbers per checkpoint; 64 MB is far beyond any real one. */
const MAX_RUNS_JSON_BYTES = 64 * 1024 * 1024;

export interface OfficialDatasetOptions {
  /** The network (checks `_arch` sizes, gives D and the iterations per epoch). */
  task?: OfficialTask;
  /** Overrides the task's iterations per epoch for SGD keys. */
  iterationsPerEpoch?: number;
  /** Skip run directories without DONE.txt (official `verify_done`). Default false. */
  verifyDone?: boolean;
  /** Most LMDB environments kept open at once. Default 16. */
  maxOpenRuns?: number;
}

/** A folder of the dataset that cannot be a run directory (its name is not a list of run names, or repeats a run). */
export interface OfficialInvalidEntry {
  /** The folder's name. */
  readonly name: string;
  readonly error: CheckpointFormatError;
}

/** What one official run holds, after validation. */
export interface OfficialRun {
  readonly run: string;
  readonly directory: string;
  readonly keys: readonly string[];
  /** Absolute iteration of each checkpoint (undefined for SGD keys without iterationsPerEpoch). */
  readonly iterations: readonly (number | undefined)[];
  readonly metrics: Readonly<Record<string, Float64Array>>;
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Per-tensor element counts from the first checkpoint's "_arch" entry. */
  readonly architecture: readonly number[];
}

export class OfficialDataset implements CheckpointSource {
  private readonly loaded = new Map<string, Promise<OfficialRun>>();
  private readonly stores = new Map<string, { store: Promise<LmdbStore>; users: number }>();

  private constructor(
    readonly dir: string,
    /** Run names in the official order (sorted directories, then runs within a fused one). */
    readonly runs: readonly string[],
    private readonly directories: ReadonlyMap<string, string>,
    readonly parameterCount: number,
    private readonly options: OfficialDatasetOptions,
    /** Folders left out because they cannot be run directories (hidden, bad names, repeated runs). */
    readonly invalid: readonly OfficialInvalidEntry[] = [],
  ) {}

  /**
   * Lists the runs of an official dataset folder. D comes from the task when given,
   * else from the first run that loads.
   */
  static async open(dir: string, options: OfficialDatasetOptions = {}): Promise<OfficialDataset> {
    let names: string[];
    try {
      names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    } catch (error) {
      throw new CheckpointFormatError(dir, `cannot list the dataset folder (${(error as Error).message})`, { cause: error });
    }
    const directories = new Map<string, string>();
    const invalid: OfficialInvalidEntry[] = [];
    for (const name of names) {
      const path = join(dir, name);
      // Run names become our file names: a folder such as ".hidden" or "a b" is not a run.
      const runs = name.split('_');
      const bad = runs.find((run) => !isValidRunName(run));
      if (bad !== undefined) {
        invalid.push({ name, error: new CheckpointFormatError(path, `folder name "${name}" is not a run name or "_"-joined run names (run "${bad}" is not 1-128 letters, digits or '-')`) });
        continue;
      }
      const repeated = runs.find((run) => directories.has(run));
      if (repeated !== undefined) {
        invalid.push({ name, error: new CheckpointFormatError(path, `run "${repeated}" is also in ${directories.get(repeated)}`) });
        continue;
      }
      if (options.verifyDone && !(await exists(join(path, 'DONE.txt')))) continue;
      for (const run of runs) directories.set(run, path);
    }
    if (directories.size === 0) {
      const why = invalid.length > 0 ? ` (${invalid.map((e) => e.error.message).join('; ')})` : '';
      throw new CheckpointFormatError(dir, `no run directories found${why}`);
    }
    const runs = [...directories.keys()];
    let parameterCount = options.task ? parameterCountOf(options.task.tensors) : 0;
    if (!options.task) {
      const probe = new OfficialDataset(dir, runs, directories, 0, options);
      parameterCount = await probe.firstParameterCount();
      await probe.close();
    }
    return new OfficialDataset(dir, runs, directories, parameterCount, options, invalid);
  }

  private async firstParameterCount(): Promise<number> {
    const errors: string[] = [];
    for (const run of this.runs) {
      try {
        return (await this.run(run)).architecture.reduce((a, b) => a + b, 0);
      } catch (error) {
        if (!(error instanceof CheckpointFormatError)) throw error;
        errors.push(error.message);
      }
    }
    throw new CheckpointFormatError(this.dir, `no run could be read: ${errors.join('; ')}`);
  }

  runDirectory(run: string): string {
    const directory = this.directories.get(run);
    if (!directory) throw new Error(`${this.dir}: no run named "${run}"`);
    return directory;
  }

  /** Loads and validates a run's runs.json and architecture (cached; a failure is not cached). */
  run(run: string): Promise<OfficialRun> {
    let loaded = this.loaded.get(run);
    if (!loaded) {
      loaded = this.loadRun(run);
      loaded.catch(() => this.loaded.delete(run));
      this.loaded.set(run, loaded);
    }
    return loaded;
  }

  private async loadRun(run: string): Promise<OfficialRun> {
    const directory = this.runDirectory(run);
    const jsonFile = join(directory, 'runs.json');
    let text: string;
    try {
      // Regular files only (a FIFO would block), and bounded: runs.json is a few KB per run.
      text = new TextDecoder().decode(await readRegularFile(jsonFile, 'runs.json', MAX_RUNS_JSON_BYTES));
    } catch (error) {
      if ((error as { cause?: NodeJS.ErrnoException }).cause?.code !== 'ENOENT') throw error;
      throw new CheckpointFormatError(jsonFile, `missing runs.json: run "${run}" is incomplete (its training job may not have finished)`, { cause: error });
    }
    const { keys, metrics, metadata } = parseRunsJson(jsonFile, text, run);
    const iterationsPerEpoch = this.options.iterationsPerEpoch ?? this.options.task?.iterationsPerEpoch;
    const iterations = keys.map((key) => {
      const parsed = parseOfficialKey(key, iterationsPerEpoch);
      if (!parsed) throw new CheckpointFormatError(jsonFile, `checkpoint key "${key}" follows neither "<run>/ep<E>_it<I>.pt" nor "<run>/it<I>.pt"`);
      return parsed.iteration;
    });
    for (let k = 1; k < iterations.length; k++) {
      const [a, b] = [iterations[k - 1], iterations[k]];
      if (a !== undefined && b !== undefined && !(b > a)) throw new CheckpointFormatError(jsonFile, `checkpoints are not in training order ("${keys[k]}" after "${keys[k - 1]}")`);
    }
    const architecture = await this.readArchitecture(run, keys[0]!);
    return { run, directory, keys, iterations, metrics, metadata, architecture };
  }

  private async readArchitecture(run: string, key: string): Promise<number[]> {
    return this.withStore(run, (store) => this.checkArchitecture(store, key));
  }

  private async checkArchitecture(store: LmdbStore, key: string): Promise<number[]> {
    const raw = await store.get(`${key}_arch`);
    if (!raw) throw new CheckpointFormatError(store.file, `no "${key}_arch" entry (tensor sizes)`);
    const sizes = Array.from(float32View(store.file, `${key}_arch`, raw), (v) => {
      if (!Number.isInteger(v) || v < 1) throw new CheckpointFormatError(store.file, `"${key}_arch" holds ${v}, not a tensor size`);
      return v;
    });
    const task = this.options.task;
    if (task) {
      const expected = task.tensors.map((t) => t.shape.reduce((a, b) => a * b, 1));
      if (JSON.stringify(expected) !== JSON.stringify(sizes)) {
        throw new CheckpointFormatError(store.file, `tensor sizes ${JSON.stringify(sizes)} do not match the ${task.name} network ${JSON.stringify(expected)}`);
      }
    }
    return sizes;
  }

  // Environments are opened on demand; idle ones are closed, oldest first, beyond
  // maxOpenRuns. An environment in use by a pending read is never closed.
  private async withStore<T>(run: string, fn: (store: LmdbStore) => Promise<T>): Promise<T> {
    const directory = this.runDirectory(run);
    let entry = this.stores.get(directory);
    if (entry) {
      this.stores.delete(directory); // re-insert: Map order is the LRU order
    } else {
      entry = { store: openLmdbStore(directory), users: 0 };
    }
    this.stores.set(directory, entry);
    entry.users++;
    let store: LmdbStore;
    try {
      store = await entry.store;
    } catch (error) {
      entry.users--;
      if (this.stores.get(directory) === entry) this.stores.delete(directory); // a failed open is not cached
      throw error;
    }
    try {
      return await fn(store);
    } finally {
      entry.users--;
      this.evictIdleStores();
    }
  }

  private evictIdleStores(): void {
    const max = this.options.maxOpenRuns ?? 16;
    for (const [path, entry] of this.stores) {
      if (this.stores.size <= max) break;
      if (entry.users > 0) continue;
      this.stores.delete(path);
      void entry.store.then((s) => s.close(), () => undefined);
    }
  }

  async numCheckpoints(run: string): Promise<number> {
    return (await this.run(run)).keys.length;
  }

  async metric(run: string, name: string): Promise<Float64Array> {
    const info = await this.run(run);
    const values = Object.hasOwn(info.metrics, name) ? info.metrics[name] : undefined;
    if (!values) throw new Error(`${join(info.directory, 'runs.json')}: no metric "${name}" (has ${Object.keys(info.metrics).join(', ')})`);
    return values;
  }

  /** Checkpoint `index` of `run`: float32 [D] from the LMDB value of its key. */
  async readCheckpoint(run: string, index: number, out?: Float32Array): Promise<Float32Array> {
    const info = await this.run(run);
    const key = info.keys[index];
    if (key === undefined) throw new RangeError(`run "${run}": checkpoint index ${index} out of range [0, ${info.keys.length})`);
    const values = await this.withStore(run, async (store) => {
      const raw = await store.get(key);
      if (!raw) throw new CheckpointFormatError(store.file, `no entry for checkpoint key "${key}" listed in runs.json`);
      const floats = float32View(store.file, key, raw);
      if (floats.length !== this.parameterCount) {
        throw new CheckpointFormatError(store.file, `"${key}" holds ${floats.length} float32 values, expected D = ${this.parameterCount}`);
      }
      return floats;
    });
    if (!out) return values;
    if (out.length !== values.length) throw new RangeError(`readCheckpoint: out has ${out.length} elements, expected ${values.length}`);
    out.set(values);
    return out;
  }

  /** A whole run as our RunData (iterations must be known: SGD tasks need iterationsPerEpoch). */
  async readRun(run: string, options: { signal?: AbortSignal } = {}): Promise<RunData> {
    const info = await this.run(run);
    const D = this.parameterCount;
    const parameters = new Float32Array(info.keys.length * D);
    for (let k = 0; k < info.keys.length; k++) {
      options.signal?.throwIfAborted();
      await this.readCheckpoint(run, k, parameters.subarray(k * D, (k + 1) * D));
    }
    const iterations = info.iterations.map((it, k) => {
      if (it === undefined) throw new CheckpointFormatError(join(info.directory, 'runs.json'), `run "${run}": iteration of "${info.keys[k]}" is unknown; pass iterationsPerEpoch (or a task)`);
      return it;
    });
    return { parameters, iterations, metrics: info.metrics };
  }

  async close(): Promise<void> {
    const entries = [...this.stores.values()];
    this.stores.clear();
    await Promise.all(entries.map((e) => e.store.then((s) => s.close(), () => undefined)));
  }
}

/** The value as float32 (the official Database stores every tensor, even sizes, as float32). */
function float32View(file: string, key: string, raw: Uint8Array): Float32Array {
  if (raw.byteLength % 4 !== 0) throw new CheckpointFormatError(file, `"${key}" has ${raw.byteLength} bytes, not a whole number of float32 values`);
  const aligned = raw.byteOffset % 4 === 0 ? raw : raw.slice();
  return new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

