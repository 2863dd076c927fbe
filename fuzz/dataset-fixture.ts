// Shared by the manifest and dataset fuzz targets: a small valid checkpoint dataset
// (manifest + three run files of a few checkpoints each), reading one completely as a
// user would, and JSON-aware mutations for the manifest and the run files' headers.
import { join } from 'node:path';
import { type DatasetManifest, createManifest } from '../packages/checkpoints/src/index.js';
import { CheckpointDataset, DatasetWriter } from '../packages/checkpoints/src/node.js';
import { type Mutator, type Rng, pick, randInt } from './harness.js';

export const SEED_MANIFEST: DatasetManifest = createManifest({
  task: 'fuzz',
  tensors: [
    { name: 'w', shape: [2, 3] },
    { name: 'b', shape: [2] },
  ],
  metrics: ['loss', 'err'],
  numTestRuns: 1,
});
export const SEED_RUNS = ['000000', '000001', '000002'];

/** Writes the seed dataset into `<dir>/<name>` and returns the folder. */
export async function writeSeedDataset(dir: string, name: string): Promise<string> {
  const out = join(dir, name);
  const D = SEED_MANIFEST.parameterCount;
  const writer = await DatasetWriter.create(out, SEED_MANIFEST, { noSync: true });
  try {
    for (const [r, run] of SEED_RUNS.entries()) {
      const n = 3 + r;
      await writer.writeRun(run, {
        parameters: Float32Array.from({ length: n * D }, (_, i) => Math.sin(i + r) * 2),
        iterations: Array.from({ length: n }, (_, k) => k * 7 + r),
        metrics: { loss: Array.from({ length: n }, (_, k) => 2 - k / 4), err: Array.from({ length: n }, (_, k) => 90 - k) },
      });
    }
  } finally {
    await writer.close();
  }
  return out;
}

/** Wrong data returned: a plain Error, which the harness counts as a bad probe. */
function inconsistent(problem: string): Error {
  return new Error(`BUG (wrong data accepted): ${problem}`);
}

/**
 * Reads a dataset completely: validate() with every check (it must list bad runs, not
 * throw), then every run as a user reads it (whole run, iterations, each metric, each
 * checkpoint on its own), throwing the first error. Data read two ways must agree.
 */
export async function readDatasetCompletely(path: string): Promise<void> {
  // checkFinite on both sides: what validate() lists as bad, reading must refuse too.
  const dataset = await CheckpointDataset.open(path, { checkFinite: true });
  try {
    const report = await dataset.validate({ checkFinite: true });
    if (report.ok.length + report.bad.length !== dataset.runs.length) throw inconsistent(`${path}: validate() missed runs`);
    const D = dataset.parameterCount;
    for (const run of dataset.runs) {
      const data = await dataset.readRun(run);
      const n = await dataset.numCheckpoints(run);
      if (data.parameters.length !== n * D || data.iterations.length !== n) throw inconsistent(`${path}: run ${run} sizes disagree`);
      for (let k = 0; k < n; k++) {
        const row = await dataset.readCheckpoint(run, k);
        for (let j = 0; j < D; j++) {
          if (!Object.is(row[j], data.parameters[k * D + j])) throw inconsistent(`${path}: run ${run} checkpoint ${k} reads differently`);
        }
        if (!Number.isSafeInteger(data.iterations[k]) || data.iterations[k]! < 0 || (k > 0 && !(data.iterations[k]! > data.iterations[k - 1]!))) {
          throw inconsistent(`${path}: run ${run} iterations ${String(data.iterations[k])} accepted`);
        }
      }
      for (const name of dataset.metricNames) {
        if ((await dataset.metric(run, name)).length !== n) throw inconsistent(`${path}: run ${run} metric ${name} has the wrong length`);
      }
      if (report.bad.some((b) => b.run === run)) throw inconsistent(`${path}: run ${run} is listed bad by validate() but reads`);
    }
  } finally {
    await dataset.close();
  }
}


/** Values no manifest or header field should be trusted to hold. */
function adversarialValue(rng: Rng): unknown {
  const deep: unknown[] = [];
  let node = deep;
  for (let i = 0; i < 2000; i++) node = (node[0] = []) as unknown[];
  const proto = JSON.parse('{"__proto__": {"polluted": 1}, "constructor": {"prototype": 1}}') as unknown;
  return pick(rng, [
    null, true, 0, -1, -0, 1.5, 2 ** 31, 2 ** 32, 2 ** 53 + 2, 1e308, -1e308, '', 'x', '__proto__', 'constructor', 'toString',
    '1', [], {}, [0], [-1], [2 ** 20, 2 ** 20, 2 ** 20], [1e308], deep, proto, 'a'.repeat(10_000), Array.from({ length: 5000 }, () => 1),
  ]);
}

type Json = Record<string, unknown> | unknown[];

/** Every container in `root` (objects and arrays), with the keys they hold. */
function containers(root: unknown): Json[] {
  const out: Json[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (value === null || typeof value !== 'object') continue;
    out.push(value as Json);
    for (const child of Object.values(value)) stack.push(child);
  }
  return out;
}

function setOwn(target: Json, key: string | number, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** One structural edit of parsed JSON: replace, delete, duplicate or add a prototype-named key. */
function mutateJson(root: unknown, rng: Rng): void {
  const all = containers(root);
  if (all.length === 0) return;
  const target = pick(rng, all);
  const keys = Object.keys(target);
  const r = rng();
  if (keys.length > 0 && r < 0.55) {
    setOwn(target, pick(rng, keys), adversarialValue(rng));
  } else if (keys.length > 0 && r < 0.7) {
    const key = pick(rng, keys);
    if (Array.isArray(target)) target.splice(Number(key), 1);
    else delete target[key];
  } else if (Array.isArray(target) && target.length > 0 && r < 0.85) {
    target.push(structuredClone(pick(rng, target))); // duplicated entries (tensors, metrics, dims)
  } else if (!Array.isArray(target)) {
    setOwn(target, pick(rng, ['__proto__', 'constructor', 'toString', 'hasOwnProperty']), adversarialValue(rng));
  }
}

/** A manifest (JSON text) with one to three structural edits; bytes that are not JSON pass unchanged. */
export const manifestJson: Mutator = (bytes, rng) => {
  let root: unknown;
  try {
    root = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return bytes;
  }
  for (let k = 1 + randInt(rng, 3); k > 0; k--) mutateJson(root, rng);
  return new TextEncoder().encode(JSON.stringify(root));
};

interface RunFileParts {
  header: Record<string, unknown>;
  data: Uint8Array;
}

function splitRunFile(bytes: Uint8Array): RunFileParts | null {
  if (bytes.length < 8) return null;
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (length > bytes.length - 8) return null;
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  } catch {
    return null;
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) return null;
  // A copy (new Uint8Array of a view): a Buffer's slice() would share the seed's memory.
  return { header: header as Record<string, unknown>, data: new Uint8Array(bytes.subarray(8 + length)) };
}

function joinRunFile({ header, data }: RunFileParts): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** A run file whose safetensors header (shapes, dtypes, offsets, metadata) got structural edits. */
export const runHeaderJson: Mutator = (bytes, rng) => {
  const parts = splitRunFile(bytes);
  if (!parts) return bytes;
  for (let k = 1 + randInt(rng, 2); k > 0; k--) mutateJson(parts.header, rng);
  return joinRunFile(parts);
};

/** A run file that claims another run or task (renamed, copied from another dataset). */
export const runIdentity: Mutator = (bytes, rng) => {
  const parts = splitRunFile(bytes);
  const meta = parts?.header.__metadata__;
  if (!parts || meta === null || typeof meta !== 'object') return bytes; // an earlier edit replaced it
  if (rng() < 0.5) setOwn(meta as Json, 'run', pick(rng, [...SEED_RUNS, '__proto__', '']));
  else setOwn(meta as Json, 'task', pick(rng, ['mnist', 'cifar10', 'constructor', '']));
  return joinRunFile(parts);
};

/** A tensor value set to an extreme: an I64 iteration (negative, 2^53 + 1, 2^63 - 1) or a NaN/Inf metric. */
export const tensorValue: Mutator = (bytes, rng) => {
  const parts = splitRunFile(bytes);
  if (!parts) return bytes;
  const entries = Object.entries(parts.header).filter(([name, e]) => name !== '__metadata__' && e !== null && typeof e === 'object') as [string, { dtype?: unknown; data_offsets?: unknown }][];
  const vectors = entries.filter(([, e]) => (e.dtype === 'I64' || e.dtype === 'F64') && Array.isArray(e.data_offsets));
  if (vectors.length === 0) return bytes;
  const [, entry] = pick(rng, vectors);
  const [begin, end] = entry.data_offsets as [number, number];
  if (!(end - begin >= 8) || end > parts.data.length) return bytes;
  const at = begin + randInt(rng, (end - begin) >> 3) * 8;
  const view = new DataView(parts.data.buffer, parts.data.byteOffset + at, 8);
  if (entry.dtype === 'I64') view.setBigInt64(0, pick(rng, [-1n, -(2n ** 63n), 2n ** 53n + 1n, 2n ** 63n - 1n, 0n]), true);
  else view.setFloat64(0, pick(rng, [NaN, Infinity, -Infinity, 1e308, -0]), true);
  return joinRunFile(parts);
};
