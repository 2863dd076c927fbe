// The dataset manifest: `manifest.json` at the root of a dataset folder. It fixes what
// every run file must contain (the network's tensors in state-dict order, the metric
// names) and the split, so each run file can be validated on its own. Reading and writing
// the file is manifest-file.ts (Node only); this file validates values, anywhere.
import { CheckpointFormatError } from './errors.js';

export const MANIFEST_FILE = 'manifest.json';
export const FORMAT_NAME = 'gpt-checkpoints';
export const FORMAT_VERSION = 1;

/** One tensor of the network's state dict. */
export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

export interface DatasetManifest {
  readonly format: typeof FORMAT_NAME;
  readonly formatVersion: typeof FORMAT_VERSION;
  /** Task name, e.g. "mnist", "cifar10", "cartpole". */
  readonly task: string;
  /** The network's tensors in state-dict order; a checkpoint is their flat concatenation. */
  readonly tensors: readonly TensorSpec[];
  /** D: total number of parameters (sum of tensor sizes). */
  readonly parameterCount: number;
  /** Per-checkpoint metric names, e.g. ["avg_test_loss", "avg_test_err"]. */
  readonly metrics: readonly string[];
  /** Runs sorted by name; the last `numTestRuns` are the test split. */
  readonly split: { readonly numTestRuns: number };
  /** Free-form description (generator settings, provenance). */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

export interface ManifestInput {
  task: string;
  tensors: readonly TensorSpec[];
  metrics: readonly string[];
  numTestRuns?: number;
  metadata?: Record<string, unknown>;
}

/** Largest D accepted: one checkpoint must fit one Float32Array (2^31 - 1 elements). */
export const MAX_PARAMETER_COUNT = 2 ** 31 - 1;
/** Most dimensions of one tensor (PyTorch itself allows 64... and no network here needs more than 5). */
export const MAX_TENSOR_RANK = 64;

export function parameterCountOf(tensors: readonly TensorSpec[]): number {
  return tensors.reduce((sum, t) => sum + t.shape.reduce((n, d) => n * d, 1), 0);
}

/** Builds a manifest (computes D), validating it like a read one. */
export function createManifest(input: ManifestInput): DatasetManifest {
  const manifest = {
    format: FORMAT_NAME,
    formatVersion: FORMAT_VERSION,
    task: input.task,
    tensors: input.tensors.map((t) => ({ name: t.name, shape: [...t.shape] })),
    parameterCount: parameterCountOf(input.tensors),
    metrics: [...input.metrics],
    split: { numTestRuns: input.numTestRuns ?? 0 },
    ...(input.metadata ? { metadata: input.metadata } : {}),
  };
  return validateManifest(manifest, '(new manifest)');
}

const METRIC_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;

/**
 * Names that Object.prototype already has (constructor, toString, __proto__, ...): a
 * metric of that name would read as the inherited value wherever metrics sit in a plain
 * object, so the format refuses them.
 */
export function isPrototypeKey(name: string): boolean {
  return name in Object.prototype;
}

/** `object[key]` if it is the object's own property (never an inherited one). */
function own(object: object, key: string): unknown {
  return Object.hasOwn(object, key) ? (object as Record<string, unknown>)[key] : undefined;
}

function isPlainObject(value: unknown): value is object {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function shown(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Array.isArray(value) ? 'a nested list' : typeof value; // too deep to print
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Checks that `value` is a well-formed manifest and returns a clean copy of it (only
 * the known fields, own properties only); errors name `file` and the field.
 */
export function validateManifest(value: unknown, file: string): DatasetManifest {
  const fail: (problem: string) => never = (problem) => {
    throw new CheckpointFormatError(file, problem);
  };
  if (!isPlainObject(value)) return fail('manifest is not a JSON object');
  const format = own(value, 'format');
  if (format !== FORMAT_NAME) fail(`manifest "format" is ${shown(format)}, expected "${FORMAT_NAME}"`);
  const formatVersion = own(value, 'formatVersion');
  if (formatVersion !== FORMAT_VERSION) {
    fail(`manifest formatVersion ${shown(formatVersion)} is not supported (this reader knows version ${FORMAT_VERSION})`);
  }
  const task = own(value, 'task');
  if (typeof task !== 'string' || task.length === 0) return fail('manifest "task" must be a non-empty string');
  const tensors = checkTensors(own(value, 'tensors'), fail);
  let count = 0;
  for (const t of tensors) count += t.shape.reduce((n, d) => n * d, 1);
  if (count > MAX_PARAMETER_COUNT) fail(`manifest tensors hold ${count} parameters in all, more than the ${MAX_PARAMETER_COUNT} a checkpoint may have`);
  const parameterCount = own(value, 'parameterCount');
  if (parameterCount !== count) fail(`manifest parameterCount ${shown(parameterCount)} does not match the tensors' total ${count}`);
  const metrics = own(value, 'metrics');
  if (!Array.isArray(metrics) || !metrics.every((x) => typeof x === 'string' && METRIC_NAME.test(x))) {
    return fail('manifest "metrics" must be a list of metric names (1-128 letters, digits, _ . -, not starting with a digit)');
  }
  const reserved = (metrics as string[]).find(isPrototypeKey);
  if (reserved !== undefined) fail(`manifest metric name "${reserved}" is reserved (a property every JavaScript object has)`);
  if (new Set(metrics).size !== metrics.length) fail('manifest "metrics" lists a name twice');
  const split = own(value, 'split');
  const numTestRuns = isPlainObject(split) ? own(split, 'numTestRuns') : undefined;
  if (typeof numTestRuns !== 'number' || !Number.isSafeInteger(numTestRuns) || numTestRuns < 0) {
    return fail('manifest "split.numTestRuns" must be a non-negative integer');
  }
  const metadata = own(value, 'metadata');
  if (metadata !== undefined && !isPlainObject(metadata)) fail('manifest "metadata" must be an object when present');
  return {
    format: FORMAT_NAME,
    formatVersion: FORMAT_VERSION,
    task,
    tensors,
    parameterCount: count,
    metrics: [...(metrics as string[])],
    split: { numTestRuns },
    ...(metadata !== undefined ? { metadata: metadata as Record<string, unknown> } : {}),
  };
}

function checkTensors(value: unknown, fail: (problem: string) => never): TensorSpec[] {
  if (!Array.isArray(value) || value.length === 0) return fail('manifest "tensors" must be a non-empty list');
  const names = new Set<string>();
  const tensors: TensorSpec[] = [];
  for (const [i, spec] of value.entries()) {
    if (!isPlainObject(spec)) return fail(`manifest tensors[${i}] is not an object`);
    const name = own(spec, 'name');
    if (typeof name !== 'string' || name.length === 0) return fail(`manifest tensors[${i}] has no name`);
    if (names.has(name)) fail(`manifest lists tensor "${name}" twice`);
    names.add(name);
    const shape = own(spec, 'shape');
    if (!Array.isArray(shape) || shape.length > MAX_TENSOR_RANK || !shape.every((d) => Number.isSafeInteger(d) && (d as number) > 0)) {
      return fail(`manifest tensor "${name}" has shape ${shown(shape)}; expected a list of at most ${MAX_TENSOR_RANK} positive integers`);
    }
    let numel = 1;
    for (const d of shape as number[]) {
      numel *= d;
      if (numel > MAX_PARAMETER_COUNT) fail(`manifest tensor "${name}" has shape ${shown(shape)}, more than the ${MAX_PARAMETER_COUNT} parameters a checkpoint may have`);
    }
    tensors.push({ name, shape: [...(shape as number[])] });
  }
  return tensors;
}

/** True when two manifests describe the same data (metadata is not compared). */
export function sameLayout(a: DatasetManifest, b: DatasetManifest): boolean {
  return (
    a.task === b.task &&
    a.parameterCount === b.parameterCount &&
    JSON.stringify(a.tensors) === JSON.stringify(b.tensors) &&
    JSON.stringify(a.metrics) === JSON.stringify(b.metrics) &&
    a.split.numTestRuns === b.split.numTestRuns
  );
}
