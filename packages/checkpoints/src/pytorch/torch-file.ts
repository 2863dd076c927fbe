// Reader for PyTorch checkpoint files (torch.save, zip format of PyTorch >= 1.6): the
// pickle in `<name>/data.pkl` is decoded with an allow-list of the globals that tensors
// and state dicts use; tensor bytes stay in `<name>/data/<key>` and are read only when
// asked for, so big checkpoints (the official G.pt files hold G, G_ema and the AdamW
// state, several GB) can be opened and partially read. Reads go through a ByteSource:
// a file in Node (`openTorchFile` of @gpt/checkpoints/node), bytes anywhere (`fromBytes`).
//
// Untrusted files: the pickle runs through an allow-list (nothing from the file is ever
// called), and every size the file states is checked before anything is allocated for it:
// each tensor's values against `maxBytes` and the sum over all tensors against
// `maxTotalBytes` when the pickle is decoded (so a 1-element storage viewed as 32768x32768
// fails at open, not after allocating 4 GiB), each tensor's extent against its storage,
// each storage against its zip record; records read whole are capped by the zip reader.
import { type ByteSource, bytesSource } from '../byte-source.js';
import { CheckpointFormatError } from '../errors.js';
import { DTYPE_BYTES, type AnyTypedArray, type Dtype, toFloat32, typedArrayFromBytes, viewOfBytes } from '../dtype.js';
import { PyCallable, PyDict, PyTuple, type PyValue, isPyKey, unpickle } from './pickle.js';
import { ZipReader, type ZipReaderOptions } from './zip-reader.js';

export interface TorchFileOptions extends ZipReaderOptions {
  /**
   * The most bytes one tensor's values (numel × dtype size, what readTensor allocates)
   * may take; also the default for `maxRecordBytes` (deflated storages are read whole;
   * data.pkl has its own cap, MAX_PICKLE_BYTES). Default DEFAULT_MAX_TENSOR_BYTES (2 GiB).
   */
  readonly maxBytes?: number;
  /**
   * The most bytes all tensors of the file together may take (each view counted, so a
   * pickle of many stride-0 views of one element cannot promise terabytes). Default
   * DEFAULT_MAX_TOTAL_TENSOR_BYTES (32 GiB: an official G.pt checkpoint with G, G_ema and
   * AdamW's moments fits).
   */
  readonly maxTotalBytes?: number;
}

/** Default `maxBytes` of a .pt file: one tensor's values. */
export const DEFAULT_MAX_TENSOR_BYTES = 2 * 1024 ** 3;
/** Default `maxTotalBytes` of a .pt file: every tensor's values together. */
export const DEFAULT_MAX_TOTAL_TENSOR_BYTES = 32 * 1024 ** 3;
/** More dimensions than any PyTorch kernel takes: a hostile shape, refused before gathering. */
export const MAX_TORCH_RANK = 64;
/**
 * The largest data.pkl read: the pickle holds names, shapes and numbers only (a few MB for
 * the biggest checkpoints), so a record claiming more is refused before it is inflated.
 */
export const MAX_PICKLE_BYTES = 256 * 1024 ** 2;
/** A storage key is a plain name (torch writes decimal numbers): never a path. */
const STORAGE_KEY = /^[A-Za-z0-9_.-]{1,128}$/;

/** What the pickle's tensors may take (from TorchFileOptions), counted while it is decoded. */
interface TensorBudget {
  readonly maxBytes: number;
  readonly maxTotalBytes: number;
  total: number;
}

/** A legacy typed-storage class (`torch.FloatStorage`...), only meaningful inside a storage reference. */
class StorageType {
  constructor(
    readonly qualifiedName: string,
    readonly dtype: Dtype,
  ) {}
}

const STORAGE_TYPES: Readonly<Record<string, Dtype>> = {
  DoubleStorage: 'F64',
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

/** One storage record of the file (shared by every tensor viewing it). */
export interface TorchStorage {
  readonly key: string;
  readonly dtype: Dtype;
  /** Elements in the storage. */
  readonly numel: number;
  /** Device it was saved from ("cpu", "cuda:0"); data is read to the CPU either way. */
  readonly location: string;
  /** Zip record holding the bytes. */
  readonly record: string;
}

/** A tensor as pickled: a strided view into a storage. Read its values with TorchFile.readTensor. */
export class TorchTensor {
  constructor(
    readonly storage: TorchStorage,
    readonly storageOffset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
    readonly requiresGrad: boolean,
  ) {}

  get dtype(): Dtype {
    return this.storage.dtype;
  }

  get numel(): number {
    return this.shape.reduce((n, d) => n * d, 1);
  }

  get isContiguous(): boolean {
    let expected = 1;
    for (let a = this.shape.length - 1; a >= 0; a--) {
      if (this.shape[a] !== 1 && this.stride[a] !== expected) return false;
      expected *= this.shape[a]!;
    }
    return true;
  }
}

/** A tensor's values, contiguous in C order (F16/BF16 as raw Uint16 bits). */
export interface TensorData {
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  readonly data: AnyTypedArray;
}

const PICKLE_PROTOCOL_2 = [0x80, 0x02];

export class TorchFile {
  private constructor(
    readonly file: string,
    private readonly zip: ZipReader,
    /** The unpickled object: dicts are PyDict, tensors TorchTensor, tuples PyTuple. */
    readonly root: PyValue,
  ) {}

  /**
   * Decodes the pickle of a .pt file (no tensor data is read yet). The TorchFile owns
   * `source` from here on: close() closes it, and so does a failed open.
   */
  static async open(source: ByteSource, options: TorchFileOptions = {}): Promise<TorchFile> {
    const file = source.name;
    const budget: TensorBudget = {
      maxBytes: options.maxBytes ?? DEFAULT_MAX_TENSOR_BYTES,
      maxTotalBytes: options.maxTotalBytes ?? DEFAULT_MAX_TOTAL_TENSOR_BYTES,
      total: 0,
    };
    try {
      for (const key of ['maxBytes', 'maxTotalBytes'] as const) {
        if (!(budget[key] >= 0)) throw new RangeError(`TorchFile.open: ${key} must be a non-negative number, got ${budget[key]}`);
      }
      await rejectLegacyFormat(source);
    } catch (error) {
      await source.close();
      throw error;
    }
    const zip = await ZipReader.open(source, { ...options, maxRecordBytes: options.maxRecordBytes ?? budget.maxBytes });
    try {
      const pickles = [...zip.entries.keys()].filter((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
      if (pickles.length !== 1) {
        throw new CheckpointFormatError(file, `expected one "<name>/data.pkl" record in the zip, found ${pickles.length}: not a torch.save file`);
      }
      const prefix = pickles[0]!.slice(0, -'data.pkl'.length);
      await checkByteOrder(zip, prefix);
      const storages = new Map<string, TorchStorage>();
      // The pickle is metadata (names, shapes): its own cap, whatever maxBytes allows for tensor data.
      const root = unpickle(await zip.read(pickles[0]!, Math.min(MAX_PICKLE_BYTES, options.maxRecordBytes ?? Infinity)), {
        file,
        globals: allowedGlobals(file, budget),
        persistentLoad: (pid) => loadStorage(file, zip, prefix, storages, pid),
      });
      return new TorchFile(file, zip, root);
    } catch (error) {
      await zip.close();
      throw asFormatError(file, error);
    }
  }

  /** A .pt file held in memory (e.g. fetched in a browser); `name` only names it in errors. */
  static fromBytes(name: string, bytes: Uint8Array, options: TorchFileOptions = {}): Promise<TorchFile> {
    return TorchFile.open(bytesSource(name, bytes), options);
  }

  /**
   * Reads a tensor's values (only the bytes it views), contiguous in C order. Its size
   * was checked against `maxBytes` when the file was opened.
   */
  async readTensor(tensor: TorchTensor): Promise<TensorData> {
    if (!(tensor instanceof TorchTensor)) throw new TypeError(`TorchFile.readTensor (${this.file}): expected a TorchTensor of this file, got ${typeof tensor}`);
    try {
      return await this.gather(tensor);
    } catch (error) {
      throw asFormatError(this.file, error);
    }
  }

  private async gather(tensor: TorchTensor): Promise<TensorData> {
    const { storage } = tensor;
    const size = DTYPE_BYTES[storage.dtype];
    const numel = tensor.numel;
    if (numel === 0) return { dtype: storage.dtype, shape: tensor.shape, data: typedArrayFromBytes(storage.dtype, new Uint8Array(0)) };
    const last = tensor.storageOffset + tensor.shape.reduce((s, d, a) => s + (d - 1) * tensor.stride[a]!, 0);
    const bytes = await this.zip.readRange(storage.record, tensor.storageOffset * size, (last - tensor.storageOffset + 1) * size);
    const span = typedArrayFromBytes(storage.dtype, bytes); // elements storageOffset..last
    const data = tensor.isContiguous ? span : gatherStrided(span, tensor, storage.dtype);
    return { dtype: storage.dtype, shape: tensor.shape, data };
  }

  /** Reads a tensor widened to float32 (float16/bfloat16/integers converted). */
  async readFloat32(tensor: TorchTensor): Promise<Float32Array> {
    const { dtype, data } = await this.readTensor(tensor);
    return toFloat32(dtype, data);
  }

  /**
   * The state dict at `path` (e.g. ["G_ema"]) as ordered [name, tensor] pairs. Fails
   * naming the key if something there is not a dict of tensors.
   */
  stateDict(path: readonly (string | number)[] = []): [string, TorchTensor][] {
    let value: PyValue = this.root;
    for (const [i, key] of path.entries()) {
      if (!(value instanceof PyDict) || !(typeof key === 'string' || typeof key === 'number') || !value.has(key)) {
        throw new CheckpointFormatError(this.file, `no key ${JSON.stringify(key)} at ${describePath(path.slice(0, i))}`);
      }
      value = value.get(key)!;
    }
    if (!(value instanceof PyDict)) throw new CheckpointFormatError(this.file, `${describePath(path)} is not a dict`);
    const entries: [string, TorchTensor][] = [];
    for (const [name, tensor] of value) {
      if (typeof name !== 'string' || !(tensor instanceof TorchTensor)) {
        throw new CheckpointFormatError(this.file, `${describePath(path)}[${JSON.stringify(String(name))}] is not a tensor: not a state dict`);
      }
      entries.push([name, tensor]);
    }
    return entries;
  }

  /** Reads every tensor of the state dict at `path` (e.g. ["G_ema"] of a G.pt checkpoint), in state-dict order. */
  async readStateDict(path: readonly (string | number)[] = []): Promise<Map<string, TensorData>> {
    const out = new Map<string, TensorData>();
    for (const [name, tensor] of this.stateDict(path)) out.set(name, await this.readTensor(tensor));
    return out;
  }

  async close(): Promise<void> {
    await this.zip.close();
  }
}

function describePath(path: readonly (string | number)[]): string {
  return path.length === 0 ? 'the top level' : path.map((k) => `[${JSON.stringify(k)}]`).join('');
}

async function rejectLegacyFormat(source: ByteSource): Promise<void> {
  if (source.size < 2) return; // too short for anything: the zip reader says so
  const head = await source.read(0, 2);
  if (head[0] === PICKLE_PROTOCOL_2[0] && head[1] === PICKLE_PROTOCOL_2[1]) {
    throw new CheckpointFormatError(source.name, 'legacy torch.save format (PyTorch < 1.6, a bare pickle stream) is not supported; re-save it with a current PyTorch');
  }
}

async function checkByteOrder(zip: ZipReader, prefix: string): Promise<void> {
  const record = `${prefix}byteorder`;
  if (!zip.entries.has(record)) return; // written since PyTorch 2.1; older files are little-endian
  if (zip.entry(record).uncompressedSize > 16) throw new CheckpointFormatError(zip.file, `record "${record}" is ${zip.entry(record).uncompressedSize} bytes, not "little" or "big"`);
  const order = new TextDecoder().decode(await zip.read(record)).trim();
  if (order !== 'little') throw new CheckpointFormatError(zip.file, `tensor data is ${order}-endian; only little-endian files are supported`);
}

// Resolves ('storage', StorageType, key, location, numel) against the zip's records.
function loadStorage(file: string, zip: ZipReader, prefix: string, storages: Map<string, TorchStorage>, pid: PyValue): TorchStorage {
  const fail = (problem: string): never => {
    throw new CheckpointFormatError(file, problem);
  };
  if (!(pid instanceof PyTuple) || pid.items[0] !== 'storage' || pid.items.length !== 5) fail('unknown persistent reference in the pickle (expected a storage)');
  const [, type, key, location, numel] = (pid as PyTuple).items;
  if (!(type instanceof StorageType)) return fail('storage reference without a storage type');
  if (typeof key !== 'string' || typeof location !== 'string' || typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) {
    return fail(`malformed storage reference for key ${typeof key === 'string' ? JSON.stringify(key.slice(0, 200)) : `of type ${typeof key}`}`);
  }
  const existing = storages.get(key);
  if (existing) {
    if (existing.dtype !== type.dtype || existing.numel !== numel) {
      fail(`storage ${JSON.stringify(key)} is referenced as ${existing.numel} ${existing.dtype} and as ${numel} ${type.dtype} elements`);
    }
    return existing;
  }
  if (!STORAGE_KEY.test(key) || key === '.' || key === '..') fail(`storage key ${JSON.stringify(key.slice(0, 200))} is not a plain record name`);
  const record = `${prefix}data/${key}`;
  const entry = zip.entries.get(record) ?? fail(`storage record "${record}" is missing from the zip`);
  const bytes = numel * DTYPE_BYTES[type.dtype];
  if (entry.uncompressedSize !== bytes) fail(`storage "${record}" holds ${entry.uncompressedSize} bytes, but ${numel} ${type.dtype} elements need ${bytes}`);
  const storage: TorchStorage = { key, dtype: type.dtype, numel, location, record };
  STORAGES.add(storage);
  storages.set(key, storage);
  return storage;
}

function rebuildTensor(file: string, args: readonly PyValue[], budget: TensorBudget): TorchTensor {
  const fail = (problem: string): never => {
    throw new CheckpointFormatError(file, `_rebuild_tensor: ${problem}`);
  };
  if (args.length < 4) fail(`takes (storage, offset, size, stride, ...), got ${args.length} arguments`);
  const [storage, offset, size, stride, requiresGrad] = args;
  if (!isStorage(storage)) return fail('first argument is not a storage');
  const ints = (v: PyValue, what: string): number[] => {
    if (!(v instanceof PyTuple) || !v.items.every((x) => Number.isSafeInteger(x) && (x as number) >= 0)) return fail(`${what} is not a tuple of non-negative integers`);
    if (v.items.length > MAX_TORCH_RANK) fail(`${what} has ${v.items.length} dimensions, more than ${MAX_TORCH_RANK}`);
    return v.items as number[];
  };
  const shape = ints(size ?? null, 'size');
  const strides = ints(stride ?? null, 'stride');
  if (shape.length !== strides.length) fail(`size has ${shape.length} dims but stride has ${strides.length}`);
  if (!Number.isSafeInteger(offset) || (offset as number) < 0) fail('storage offset is not a non-negative integer');
  const s = storage;
  const numel = shape.reduce((n, d) => n * d, 1);
  const described = `tensor of size ${JSON.stringify(shape)}`;
  if (numel === 0) return new TorchTensor(s, offset as number, shape, strides, requiresGrad === true);
  // Sizes before extents: a product or a sum past 2^53 is not exact, and neither is a check on it.
  const bytes = numel * DTYPE_BYTES[s.dtype];
  if (!Number.isSafeInteger(bytes) || bytes > budget.maxBytes) fail(`${described} (${s.dtype}) needs ${bytes} bytes, more than the ${budget.maxBytes}-byte limit (option maxBytes)`);
  const last = (offset as number) + shape.reduce((acc, d, a) => acc + (d - 1) * strides[a]!, 0);
  if (!Number.isSafeInteger(last) || last >= s.numel) fail(`${described} at offset ${offset} reaches element ${last} of a ${s.numel}-element storage`);
  budget.total += bytes;
  if (budget.total > budget.maxTotalBytes) {
    fail(`the tensors so far need ${budget.total} bytes together, more than the ${budget.maxTotalBytes}-byte limit (option maxTotalBytes)`);
  }
  return new TorchTensor(s, offset as number, shape, strides, requiresGrad === true);
}

/** Storages made by loadStorage (persistent references): the only first argument _rebuild_tensor takes. */
const STORAGES = new WeakSet<object>();

function isStorage(value: PyValue | undefined): value is TorchStorage {
  return typeof value === 'object' && value !== null && STORAGES.has(value);
}

/** Anything else thrown while reading (a bug, an engine limit) still names the file. */
function asFormatError(file: string, error: unknown): unknown {
  if (error instanceof CheckpointFormatError) return error;
  return new CheckpointFormatError(file, `cannot read (${(error as Error)?.message ?? String(error)})`, { cause: error });
}

function allowedGlobals(file: string, budget: TensorBudget): Map<string, PyCallable | object> {
  const globals = new Map<string, PyCallable | object>();
  for (const [name, dtype] of Object.entries(STORAGE_TYPES)) globals.set(`torch.${name}`, new StorageType(`torch.${name}`, dtype));
  const callable = (name: string, call: (args: readonly PyValue[]) => PyValue): void => {
    globals.set(name, new PyCallable(name, call));
  };
  callable('collections.OrderedDict', (args) => {
    const dict = new PyDict(true);
    const [pairs] = args;
    if (args.length > 1) throw new CheckpointFormatError(file, `OrderedDict called with ${args.length} arguments`);
    if (pairs === undefined) return dict;
    if (!Array.isArray(pairs)) throw new CheckpointFormatError(file, 'OrderedDict built from something that is not a list of pairs');
    for (const pair of pairs) {
      if (!(pair instanceof PyTuple) || pair.items.length !== 2 || !isPyKey(pair.items[0])) {
        throw new CheckpointFormatError(file, 'OrderedDict built from something that is not a list of (key, value) pairs');
      }
      dict.set(pair.items[0], pair.items[1]!);
    }
    return dict;
  });
  callable('torch._utils._rebuild_tensor_v2', (args) => rebuildTensor(file, args, budget));
  callable('torch._utils._rebuild_tensor', (args) => rebuildTensor(file, args, budget));
  // nn.Parameter pickles as its data tensor plus flags; the data is all we need.
  const rebuildParameter = (args: readonly PyValue[]): PyValue => {
    if (!(args[0] instanceof TorchTensor)) throw new CheckpointFormatError(file, '_rebuild_parameter without a tensor');
    return args[0];
  };
  callable('torch._utils._rebuild_parameter', rebuildParameter);
  callable('torch._utils._rebuild_parameter_with_state', rebuildParameter);
  // Protocol 2 pickles Python 3 bytes as _codecs.encode(text, "latin1").
  // Python's latin1 codec refuses characters above U+00FF ("ordinal not in range(256)"):
  // so do we, rather than keeping their low byte (wrong bytes, silently).
  callable('_codecs.encode', ([text, encoding]) => {
    if (typeof text !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1')) {
      throw new CheckpointFormatError(file, '_codecs.encode is only allowed for latin1 bytes');
    }
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code > 0xff) throw new CheckpointFormatError(file, `_codecs.encode: character U+${code.toString(16).padStart(4, '0')} at position ${i} is not latin1`);
      out[i] = code;
    }
    return out;
  });
  return globals;
}

// Copies a strided view into C order. `span` holds storage elements from storageOffset on.
function gatherStrided(span: AnyTypedArray, tensor: TorchTensor, dtype: Dtype): AnyTypedArray {
  const out = viewOfBytes(dtype, new ArrayBuffer(tensor.numel * DTYPE_BYTES[dtype]), 0, tensor.numel) as unknown as { [i: number]: number | bigint };
  const source = span as unknown as { [i: number]: number | bigint };
  const { shape, stride } = tensor;
  const rank = shape.length;
  const coord = new Array<number>(rank).fill(0);
  for (let p = 0; p < tensor.numel; p++) {
    let at = 0;
    for (let a = 0; a < rank; a++) at += coord[a]! * stride[a]!;
    out[p] = source[at]!;
    for (let a = rank - 1; a >= 0; a--) {
      if (++coord[a]! < shape[a]!) break;
      coord[a] = 0;
    }
  }
  return out as unknown as AnyTypedArray;
}
