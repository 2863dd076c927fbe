// Module and optimizer state dicts as safetensors bytes, through @gpt/checkpoints'
// codec: bytes in, bytes out (no file system here, so it runs in browsers too;
// writing the bytes to a file is the caller's, e.g. with writeFileAtomic).
//
// A module's state dict is one tensor per key, exactly as PyTorch's
// `safetensors.torch.save_file(model.state_dict(), ...)` writes it, so files go both
// ways between the two. An optimizer's state dict puts its tensors under
// `state.<index>.<field>` and its numbers (step counts, hyper-parameters, groups) as
// JSON in the header's `__metadata__`, which safetensors restricts to strings.
//
// Bytes from a file are untrusted: every problem with them is a CheckpointFormatError
// naming `options.name`, keys are data (state dicts built here have no prototype, so a
// tensor named "__proto__" or "constructor" is a key like any other), and `maxBytes`
// bounds the tensor data read (default: @gpt/checkpoints' DEFAULT_MAX_SAFETENSORS_BYTES).

import {
  CheckpointFormatError,
  decodeSafetensors,
  encodeSafetensors,
  toFloat32,
  type AnyTypedArray,
  type Dtype,
  type SafetensorsInput,
} from '@gpt/checkpoints';
import { Tensor, tensor, type DType, type TypedArray } from '@gpt/tensor';
import { Module, type StateDict } from './module.js';
import { Optimizer, type BaseOptions, type OptimizerStateDict, type ParamState } from './optim/optimizer.js';

export interface LoadBytesOptions {
  /** Device the tensors are created on (default: the default device). */
  device?: string;
  /** Names the bytes in error messages (e.g. the file they came from). */
  name?: string;
  /** The most tensor bytes accepted (checked on the header first); default 4 GiB. */
  maxBytes?: number;
}

// ---- dtypes: the one place where @gpt/tensor's names meet safetensors' ----------------

const TO_SAFETENSORS: Readonly<Record<DType, Dtype>> = { float32: 'F32', int32: 'I32', bool: 'BOOL' };

/** The safetensors dtype a tensor of `dtype` is written as. */
export function safetensorsDtype(dtype: DType): Dtype {
  return TO_SAFETENSORS[dtype];
}

/**
 * A tensor dtype and host array for safetensors data. F32, I32 and BOOL map one to
 * one. F16, BF16 and F64 are read as float32 (@gpt/tensor computes in float32: half
 * precision widens exactly, float64 rounds to the nearest float32), and I64 —
 * PyTorch's default integer type — as int32 when every value fits.
 */
export function fromSafetensors(dtype: Dtype, data: AnyTypedArray, where: string): { dtype: DType; values: TypedArray } {
  switch (dtype) {
    case 'F32':
    case 'F16':
    case 'BF16':
    case 'F64':
      return { dtype: 'float32', values: toFloat32(dtype, data) };
    case 'I32':
      return { dtype: 'int32', values: data as Int32Array };
    case 'BOOL':
      return { dtype: 'bool', values: data as Uint8Array };
    case 'I64': {
      const wide = data as BigInt64Array;
      const values = new Int32Array(wide.length);
      for (let i = 0; i < wide.length; i++) {
        const v = wide[i]!;
        if (v < -2147483648n || v > 2147483647n) throw new CheckpointFormatError(where, `I64 value ${v} at index ${i} does not fit in int32`);
        values[i] = Number(v);
      }
      return { dtype: 'int32', values };
    }
    default:
      throw new CheckpointFormatError(where, `dtype ${dtype} is not supported (F32, F16, BF16, F64 read as float32; I32, I64 as int32; BOOL as bool)`);
  }
}

// ---- module state dicts ---------------------------------------------------------------

/**
 * A state dict as safetensors bytes: a module's (its stateDict()) or key -> tensor.
 * Reads the tensors back from whatever device they live on. `metadata` goes into
 * the header's `__metadata__` (string -> string).
 */
export async function saveStateDict(source: Module | Readonly<Record<string, Tensor>>, options: { metadata?: Record<string, string> } = {}): Promise<Uint8Array> {
  if (source === null || typeof source !== 'object' || Array.isArray(source)) {
    throw new TypeError(`saveStateDict: expected a Module or an object of name -> Tensor, got ${source === null ? 'null' : Array.isArray(source) ? 'an array' : typeof source}`);
  }
  const dict = source instanceof Module ? source.stateDict() : source;
  try {
    const inputs = await Promise.all(
      Object.entries(dict).map(async ([name, t]): Promise<SafetensorsInput> => {
        if (!(t instanceof Tensor)) throw new Error(`saveStateDict: "${name}" is not a Tensor`);
        t.assertAlive(`saveStateDict ("${name}")`);
        return { name, dtype: safetensorsDtype(t.dtype), shape: t.shape, data: await t.data() };
      }),
    );
    return concatBytes(encodeSafetensors(inputs, options.metadata ?? {}));
  } finally {
    if (source instanceof Module) for (const t of Object.values(dict)) t.dispose();
  }
}

/**
 * The state dict held in safetensors bytes, as tensors on `options.device`, in the
 * file's order. The tensors are new: dispose them after loading, e.g.
 * `tidy(() => model.loadStateDict(loadStateDictBytes(bytes)))`.
 */
export function loadStateDictBytes(bytes: Uint8Array, options: LoadBytesOptions = {}): StateDict {
  const name = options.name ?? 'safetensors bytes';
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`loadStateDictBytes (${name}): bytes must be a Uint8Array, got ${describeValue(bytes)}`);
  const { tensors } = decodeSafetensors(name, bytes, { maxBytes: options.maxBytes });
  const dict: StateDict = Object.create(null);
  try {
    for (const [key, t] of tensors) {
      const { dtype, values } = fromSafetensors(t.dtype, t.data, `${name}: tensor "${key}"`);
      dict[key] = tensor(values, { shape: t.shape, dtype, device: options.device });
    }
  } catch (error) {
    for (const t of Object.values(dict)) t.dispose();
    throw error;
  }
  return dict;
}

// ---- optimizer state dicts -------------------------------------------------------------

const OPTIMIZER_FORMAT = 'gpt.nn.optimizer/1';

/**
 * An optimizer's state dict (or the optimizer's own) as safetensors bytes: tensors
 * as `state.<index>.<field>`; `__metadata__` holds `format`, `paramGroups` (JSON)
 * and `state` (JSON: each stateful parameter's numbers, e.g. its step count).
 */
export async function saveOptimizerState<O extends BaseOptions>(source: Optimizer<O> | OptimizerStateDict<O>): Promise<Uint8Array> {
  const dict = source instanceof Optimizer ? source.stateDict() : source;
  const numbers: Record<string, Record<string, number>> = {};
  const tensors: [string, Tensor][] = [];
  for (const [index, entry] of Object.entries(dict.state)) {
    numbers[index] = {};
    for (const [field, value] of Object.entries(entry)) {
      if (value instanceof Tensor) tensors.push([`state.${index}.${field}`, value]);
      else numbers[index][field] = value;
    }
  }
  try {
    return await saveStateDict(Object.fromEntries(tensors), {
      metadata: { format: OPTIMIZER_FORMAT, paramGroups: JSON.stringify(dict.paramGroups), state: JSON.stringify(numbers) },
    });
  } finally {
    if (source instanceof Optimizer) for (const [, t] of tensors) t.dispose();
  }
}

/**
 * The optimizer state dict held in bytes written by saveOptimizerState, ready for
 * `optimizer.loadStateDict` (which checks it against the optimizer). Dispose its
 * tensors afterwards (tidy works).
 */
export function loadOptimizerStateBytes<O extends BaseOptions = BaseOptions>(bytes: Uint8Array, options: LoadBytesOptions = {}): OptimizerStateDict<O> {
  const name = options.name ?? 'safetensors bytes';
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`loadOptimizerStateBytes (${name}): bytes must be a Uint8Array, got ${describeValue(bytes)}`);
  const bad = (problem: string): never => {
    throw new CheckpointFormatError(name, problem);
  };
  const { header } = decodeSafetensors(name, bytes, { maxBytes: options.maxBytes });
  const { format, paramGroups: groupsJson, state: stateJson } = header.metadata;
  if (format !== OPTIMIZER_FORMAT) bad(`not an optimizer state (__metadata__.format is ${JSON.stringify(format)}, expected "${OPTIMIZER_FORMAT}")`);
  const paramGroups = parseJson(name, 'paramGroups', groupsJson);
  const numbers = parseJson(name, 'state', stateJson);
  if (!Array.isArray(paramGroups)) bad('__metadata__.paramGroups is not a list');
  if (numbers === null || typeof numbers !== 'object' || Array.isArray(numbers)) bad('__metadata__.state is not an object');
  const state: Record<number, ParamState> = Object.create(null);
  for (const [index, entry] of Object.entries(numbers as Record<string, unknown>)) {
    if (!/^\d{1,9}$/.test(index) || entry === null || typeof entry !== 'object' || Array.isArray(entry)) bad(`__metadata__.state[${JSON.stringify(index)}] is not a parameter's numbers`);
    const fields: ParamState = Object.create(null);
    for (const [field, value] of Object.entries(entry as Record<string, unknown>)) {
      if (typeof value !== 'number') bad(`__metadata__.state[${JSON.stringify(index)}][${JSON.stringify(field)}] is not a number`);
      fields[field] = value as number;
    }
    state[Number(index)] = fields;
  }
  const tensors = loadStateDictBytes(bytes, options);
  for (const [key, t] of Object.entries(tensors)) {
    const match = /^state\.(\d+)\.(.+)$/.exec(key);
    const entry = match && Object.hasOwn(state, Number(match[1])) ? state[Number(match[1])] : undefined;
    if (!match || !entry || Object.hasOwn(entry, match[2]!)) {
      for (const u of Object.values(tensors)) u.dispose();
      bad(`tensor ${JSON.stringify(key)} is not "state.<index>.<field>" of a parameter listed in __metadata__.state (or repeats one of its numbers)`);
    }
    entry![match![2]!] = t;
  }
  return { state, paramGroups: paramGroups as OptimizerStateDict<O>['paramGroups'] };
}

function parseJson(name: string, key: string, text: string | undefined): unknown {
  if (text === undefined) throw new CheckpointFormatError(name, `__metadata__.${key} is missing`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CheckpointFormatError(name, `__metadata__.${key} is not valid JSON (${(error as Error).message})`, { cause: error });
  }
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'an object';
  return typeof value;
}

function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}
