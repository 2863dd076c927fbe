// runs.json of an official run directory (gpt-paper.md §2.1): "checkpoints" maps each
// LMDB key to its metrics, in save order (the file is written with sort_keys=True, and
// the zero-padded keys sort chronologically); "metadata" holds per-run summaries. A
// "fused" directory holding several runs keys the whole object by run name.
import { CheckpointFormatError } from '../errors.js';

export interface OfficialRunJson {
  /** LMDB keys of the checkpoints, in order. */
  readonly keys: readonly string[];
  /** Metric name → value per checkpoint (same order as keys). */
  readonly metrics: Readonly<Record<string, Float64Array>>;
  readonly metadata: Readonly<Record<string, unknown>>;
}

/**
 * JSON.parse that also accepts the NaN / Infinity / -Infinity literals Python's json
 * module writes for diverged runs.
 */
export function parsePythonJson(text: string): unknown {
  // The literals become marker strings, turned back into numbers after parsing; a random
  // part keeps a string that the file itself holds from ever reading as such a marker.
  const marker = `\u0000py${Math.random().toString(36).slice(2)}:`;
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    const literal = ['NaN', 'Infinity', '-Infinity'].find((w) => text.startsWith(w, i));
    if (literal) {
      out += JSON.stringify(marker + literal);
      i += literal.length - 1;
      continue;
    }
    out += c;
  }
  return JSON.parse(out, (_, value) => (typeof value === 'string' && value.startsWith(marker) ? Number(value.slice(marker.length)) : value));
}

/** Parses runs.json for `run` (unwrapping a fused file); errors name `file`. */
export function parseRunsJson(file: string, text: string, run: string): OfficialRunJson {
  const fail = (problem: string): never => {
    throw new CheckpointFormatError(file, problem);
  };
  let json: unknown;
  try {
    json = parsePythonJson(text);
  } catch (error) {
    return fail(`runs.json is not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(json)) return fail('runs.json is not a JSON object');
  let data = json;
  if (!Object.hasOwn(data, 'checkpoints')) {
    const inner = Object.hasOwn(data, run) ? data[run] : undefined;
    if (!isObject(inner)) return fail(`runs.json has neither "checkpoints" nor an entry for run "${run}"`);
    data = inner;
  }
  const checkpoints = data.checkpoints;
  if (!isObject(checkpoints) || Object.keys(checkpoints).length === 0) return fail(`runs.json of run "${run}" has no checkpoints`);
  const keys = Object.keys(checkpoints);
  const names = Object.keys((checkpoints[keys[0]!] ?? {}) as object);
  const metrics: Record<string, Float64Array> = Object.fromEntries(names.map((n) => [n, new Float64Array(keys.length)]));
  for (const [k, key] of keys.entries()) {
    const entry = checkpoints[key];
    if (!isObject(entry)) return fail(`runs.json: checkpoint "${key}" has no metrics object`);
    const got = Object.keys(entry);
    if (got.length !== names.length || !names.every((n) => Object.hasOwn(entry, n))) {
      fail(`runs.json: checkpoint "${key}" has metrics ${JSON.stringify(got)}, the first checkpoint has ${JSON.stringify(names)}`);
    }
    for (const n of names) {
      const value = entry[n];
      if (typeof value !== 'number') fail(`runs.json: metric "${n}" of checkpoint "${key}" is not a number`);
      metrics[n]![k] = value as number;
    }
  }
  const metadata = Object.hasOwn(data, 'metadata') && isObject(data.metadata) ? data.metadata : {};
  return { keys, metrics, metadata };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
