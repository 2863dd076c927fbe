// The layout of one run file: a safetensors file holding a whole training run.
//   parameters          F32 [n, D]   checkpoint k is row k, flattened in state-dict order
//   iterations          I64 [n]      training iteration of each checkpoint, strictly increasing
//   metrics.<name>      F64 [n]      one per manifest metric (loss in nats, error in %, return...)
//   __metadata__        {format: "gpt-checkpoints-run", formatVersion: "1", task, run, tensors: "w:3x4,b:3", ...}
// "parameters" comes first so that its rows start 8-byte aligned right after the
// header, and row k sits at a fixed offset: reading one checkpoint is one pread.
import type { DatasetManifest } from './manifest.js';
import { CheckpointFormatError } from './errors.js';
import { encodeSafetensors, type SafetensorsHeader, type SafetensorsInput } from './safetensors.js';

export const RUN_FORMAT_NAME = 'gpt-checkpoints-run';
export const PARAMETERS_TENSOR = 'parameters';
export const ITERATIONS_TENSOR = 'iterations';
export const METRIC_PREFIX = 'metrics.';

/** One training run, in memory. */
export interface RunData {
  /** [numCheckpoints, D] row-major: checkpoint k is parameters[k*D .. (k+1)*D). */
  readonly parameters: Float32Array;
  /** [numCheckpoints] iteration of each checkpoint, strictly increasing. */
  readonly iterations: ArrayLike<number>;
  /** Each [numCheckpoints]; exactly the manifest's metric names. */
  readonly metrics: Readonly<Record<string, ArrayLike<number>>>;
  /** Extra string metadata stored in the file header. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** What a validated run-file header tells about the run. */
export interface RunLayout {
  readonly file: string;
  readonly run: string;
  readonly numCheckpoints: number;
  readonly parameterCount: number;
  /** Absolute file offset of checkpoint 0's first parameter. */
  readonly parametersStart: number;
  readonly header: SafetensorsHeader;
}

const RUN_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/** Whether `name` may name a run (and so a file): 1-128 letters, digits, '_' or '-', starting with a letter or digit. */
export function isValidRunName(name: string): boolean {
  return typeof name === 'string' && RUN_NAME.test(name);
}

/** Run names become file names; keep them to a portable set. */
export function checkRunName(name: string): void {
  if (!isValidRunName(name)) {
    throw new Error(`invalid run name ${JSON.stringify(name)}: use 1-128 letters, digits, '_' or '-', starting with a letter or digit`);
  }
}

/**
 * The I64 iterations of a run file as numbers, checked as the writer checks them:
 * non-negative, exactly representable (at most 2^53 - 1) and strictly increasing.
 */
export function checkIterations(file: string, raw: BigInt64Array): number[] {
  const iterations = new Array<number>(raw.length);
  for (let k = 0; k < raw.length; k++) {
    const value = raw[k]!;
    if (value < 0n) throw new CheckpointFormatError(file, `iteration ${value} (checkpoint ${k}) is negative`);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new CheckpointFormatError(file, `iteration ${value} (checkpoint ${k}) is above 2^53 - 1 and cannot be represented exactly`);
    }
    iterations[k] = Number(value);
    if (k > 0 && !(iterations[k]! > iterations[k - 1]!)) {
      throw new CheckpointFormatError(file, `iterations are not strictly increasing (checkpoint ${k}: ${iterations[k]} after ${iterations[k - 1]})`);
    }
  }
  return iterations;
}

/** Zero-padded run names sort in numeric order, like the official "000123" folders. */
export function runNameOf(index: number, digits = 6): string {
  return String(index).padStart(digits, '0');
}

/** Validates `run` against the manifest; returns its checkpoint count. Throws on the first problem. */
export function checkRunData(manifest: DatasetManifest, runName: string, run: RunData, allowNonFinite: boolean): number {
  const where = `run "${runName}"`;
  const D = manifest.parameterCount;
  if (!(run.parameters instanceof Float32Array)) throw new TypeError(`${where}: parameters must be a Float32Array`);
  if (run.parameters.length === 0 || run.parameters.length % D !== 0) {
    throw new RangeError(`${where}: parameters has ${run.parameters.length} values, not a positive multiple of D = ${D}`);
  }
  const n = run.parameters.length / D;
  if (run.iterations.length !== n) throw new RangeError(`${where}: ${run.iterations.length} iterations for ${n} checkpoints`);
  for (let k = 0; k < n; k++) {
    const it = run.iterations[k]!;
    if (!Number.isSafeInteger(it) || it < 0) throw new RangeError(`${where}: iteration ${it} (checkpoint ${k}) is not a non-negative integer`);
    if (k > 0 && it <= run.iterations[k - 1]!) throw new RangeError(`${where}: iterations must increase strictly (checkpoint ${k}: ${it} after ${run.iterations[k - 1]})`);
  }
  const given = Object.keys(run.metrics).sort();
  const expected = [...manifest.metrics].sort();
  if (JSON.stringify(given) !== JSON.stringify(expected)) {
    throw new Error(`${where}: metrics ${JSON.stringify(given)} do not match the manifest's ${JSON.stringify(expected)}`);
  }
  for (const name of manifest.metrics) {
    const values = ownMetric(run.metrics, name);
    if (values === undefined || typeof values.length !== 'number') throw new TypeError(`${where}: metric "${name}" is not a list of numbers`);
    if (values.length !== n) throw new RangeError(`${where}: metric "${name}" has ${values.length} values for ${n} checkpoints`);
  }
  if (!allowNonFinite) {
    const bad = firstNonFinite(run.parameters);
    if (bad >= 0) {
      throw new RangeError(`${where}: parameter ${bad % D} of checkpoint ${Math.floor(bad / D)} is ${run.parameters[bad]} (pass allowNonFinite to store it anyway)`);
    }
  }
  return n;
}

/** `metrics[name]` when it is an own property (an inherited `constructor` is not a metric). */
export function ownMetric<T>(metrics: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(metrics, name) ? metrics[name] : undefined;
}

/** Index of the first NaN or ±Infinity, or -1. */
export function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v - v !== 0) return i; // false exactly for NaN and ±Infinity
  }
  return -1;
}

/** The safetensors chunks of a run file (data chunks are views of `run`'s arrays). */
export function encodeRun(manifest: DatasetManifest, runName: string, run: RunData, numCheckpoints: number): Uint8Array[] {
  const iterations = new BigInt64Array(numCheckpoints);
  for (let k = 0; k < numCheckpoints; k++) iterations[k] = BigInt(run.iterations[k]!);
  const tensors: SafetensorsInput[] = [
    { name: PARAMETERS_TENSOR, dtype: 'F32', shape: [numCheckpoints, manifest.parameterCount], data: run.parameters },
    { name: ITERATIONS_TENSOR, dtype: 'I64', shape: [numCheckpoints], data: iterations },
  ];
  for (const name of manifest.metrics) {
    tensors.push({ name: METRIC_PREFIX + name, dtype: 'F64', shape: [numCheckpoints], data: Float64Array.from(ownMetric(run.metrics, name)!) });
  }
  const metadata = { ...run.metadata, format: RUN_FORMAT_NAME, formatVersion: '1', task: manifest.task, run: runName, tensors: tensorLayoutOf(manifest) };
  return encodeSafetensors(tensors, metadata);
}

/**
 * The network's tensors as recorded in each run file's metadata ("w:3x4,b:3"), so that a
 * run of another network with the same parameter count is told apart from ours.
 */
export function tensorLayoutOf(manifest: DatasetManifest): string {
  return manifest.tensors.map((t) => `${t.name}:${t.shape.join('x')}`).join(',');
}

/** Checks a run file's header against the manifest (dtype, shapes, tensor set). */
export function validateRunHeader(header: SafetensorsHeader, manifest: DatasetManifest, runName: string): RunLayout {
  const fail: (problem: string) => never = (problem) => {
    throw new CheckpointFormatError(header.file, problem);
  };
  const meta = (key: string): string | undefined => (Object.hasOwn(header.metadata, key) ? header.metadata[key] : undefined);
  if (meta('format') !== RUN_FORMAT_NAME) {
    fail(`not a run file of a checkpoint dataset (__metadata__.format is ${JSON.stringify(meta('format'))}, expected "${RUN_FORMAT_NAME}")`);
  }
  if (meta('formatVersion') !== '1') fail(`run file formatVersion ${JSON.stringify(meta('formatVersion'))} is not supported`);
  // A file copied from another dataset, or renamed to another run's name, holds valid
  // data of the wrong run: the header records which task and run it was written for.
  if (meta('task') !== manifest.task) {
    fail(`run file of task ${JSON.stringify(meta('task') ?? null)} in a "${manifest.task}" dataset (copied from another dataset?)`);
  }
  // Files written before the layout was recorded lack it; a recorded one must match.
  const layout = meta('tensors');
  if (layout !== undefined && layout !== tensorLayoutOf(manifest)) {
    fail(`run file of a network with tensors ${JSON.stringify(layout.length > 200 ? `${layout.slice(0, 200)}...` : layout)}, the manifest has ${JSON.stringify(tensorLayoutOf(manifest))}`);
  }
  if (meta('run') !== runName) fail(`run file of run ${JSON.stringify(meta('run') ?? null)} stored as run "${runName}" (renamed or copied from another run?)`);
  const parameters = header.byName.get(PARAMETERS_TENSOR) ?? fail(`no "${PARAMETERS_TENSOR}" tensor`);
  if (parameters.dtype !== 'F32') fail(`"${PARAMETERS_TENSOR}" has dtype ${parameters.dtype}, expected F32`);
  const D = manifest.parameterCount;
  if (parameters.shape.length !== 2 || parameters.shape[1] !== D || parameters.shape[0]! < 1) {
    fail(`"${PARAMETERS_TENSOR}" has shape ${JSON.stringify(parameters.shape)}, but the manifest says [numCheckpoints >= 1, ${D}]`);
  }
  const n = parameters.shape[0]!;
  const expectVector = (name: string, dtype: string): void => {
    const entry = header.byName.get(name) ?? fail(`no "${name}" tensor`);
    if (entry.dtype !== dtype) fail(`"${name}" has dtype ${entry.dtype}, expected ${dtype}`);
    if (entry.shape.length !== 1 || entry.shape[0] !== n) fail(`"${name}" has shape ${JSON.stringify(entry.shape)}, expected [${n}]`);
  };
  expectVector(ITERATIONS_TENSOR, 'I64');
  for (const metric of manifest.metrics) expectVector(METRIC_PREFIX + metric, 'F64');
  const known = new Set([PARAMETERS_TENSOR, ITERATIONS_TENSOR, ...manifest.metrics.map((m) => METRIC_PREFIX + m)]);
  for (const entry of header.entries) if (!known.has(entry.name)) fail(`unexpected tensor "${entry.name}" (not in the manifest)`);
  return { file: header.file, run: runName, numCheckpoints: n, parameterCount: D, parametersStart: header.dataStart + parameters.begin, header };
}
