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

export function parameterCountOf(tensors: readonly TensorSpec[]): number {
  return tensors.reduce((sum, t) => sum + t.shape.reduce((n, d) => n * d, 1), 0);
}

/** Builds a manifest (computes D), validating it like a read one. */
export function createManifest(input: ManifestInput): DatasetManifest {
  const manifest: DatasetManifest = {
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

const METRIC_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Checks that `value` is a well-formed manifest; errors name `file`. */
export function validateManifest(value: unknown, file: string): DatasetManifest {
  const fail: (problem: string) => never = (problem) => {
    throw new CheckpointFormatError(file, problem);
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('manifest is not a JSON object');
  const m = value as Record<string, unknown>;
  if (m.format !== FORMAT_NAME) fail(`manifest "format" is ${JSON.stringify(m.format)}, expected "${FORMAT_NAME}"`);
  if (m.formatVersion !== FORMAT_VERSION) {
    fail(`manifest formatVersion ${JSON.stringify(m.formatVersion)} is not supported (this reader knows version ${FORMAT_VERSION})`);
  }
  if (typeof m.task !== 'string' || m.task.length === 0) fail('manifest "task" must be a non-empty string');
  if (!Array.isArray(m.tensors) || m.tensors.length === 0) fail('manifest "tensors" must be a non-empty list');
  const names = new Set<string>();
  for (const [i, t] of (m.tensors as unknown[]).entries()) {
    const spec = t as Record<string, unknown> | null;
    if (!spec || typeof spec.name !== 'string' || spec.name.length === 0) fail(`manifest tensors[${i}] has no name`);
    const name = spec!.name as string;
    if (names.has(name)) fail(`manifest lists tensor "${name}" twice`);
    names.add(name);
    const shape = spec!.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) > 0)) {
      fail(`manifest tensor "${name}" has shape ${JSON.stringify(shape)}; expected a list of positive integers`);
    }
  }
  const count = parameterCountOf(m.tensors as TensorSpec[]);
  if (m.parameterCount !== count) fail(`manifest parameterCount ${JSON.stringify(m.parameterCount)} does not match the tensors' total ${count}`);
  if (!Array.isArray(m.metrics) || !m.metrics.every((x) => typeof x === 'string' && METRIC_NAME.test(x))) {
    fail('manifest "metrics" must be a list of metric names (letters, digits, _ . -)');
  }
  if (new Set(m.metrics as string[]).size !== (m.metrics as string[]).length) fail('manifest "metrics" lists a name twice');
  const split = m.split as Record<string, unknown> | null;
  if (!split || typeof split !== 'object' || !Number.isSafeInteger(split.numTestRuns) || (split.numTestRuns as number) < 0) {
    fail('manifest "split.numTestRuns" must be a non-negative integer');
  }
  if (m.metadata !== undefined && (m.metadata === null || typeof m.metadata !== 'object' || Array.isArray(m.metadata))) {
    fail('manifest "metadata" must be an object when present');
  }
  return value as DatasetManifest;
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
