// A restricted unpickler: it runs the pickle stack machine (protocols 0-5, the opcodes
// that plain data uses) but resolves globals only through an allow-list given by the
// caller. A global that is not listed stops the load with UnsafePickleError naming it;
// nothing from the file is ever called, imported or evaluated. Legacy object opcodes
// (INST, OBJ), extension registries and out-of-band buffers are refused.
//
// Hostile input: the machine is a loop over opcodes with no recursion, every opcode costs
// time linear in its own bytes (integers are capped at Python's 4300-digit limit and
// decoded through hex), no value is larger than the bytes that spell it, and whatever
// throws inside (an allowed callable included) leaves as a CheckpointFormatError naming
// the file. The result can be deep or cyclic (a list appended to itself through the memo
// is legal pickle): walk it with a visited set.
import { CheckpointFormatError, UnsafePickleError } from '../errors.js';

/** A Python tuple (kept apart from lists so callers can tell them apart). */
export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

/** A Python dict or collections.OrderedDict; `attributes` holds state set by BUILD (e.g. `_metadata`). */
export class PyDict extends Map<PyKey, PyValue> {
  readonly attributes = new Map<string, PyValue>();
  constructor(readonly ordered = false) {
    super();
  }
}

/** An allowed global that may be called by REDUCE / NEWOBJ. */
export class PyCallable {
  constructor(
    readonly qualifiedName: string,
    readonly call: (args: readonly PyValue[]) => PyValue,
  ) {}
}

export type PyKey = string | number | bigint | boolean | null | PyTuple;

/** Values the unpickler produces; `object` covers what allowed callables return (tensors, storages). */
export type PyValue = null | boolean | number | bigint | string | Uint8Array | PyValue[] | PyTuple | PyDict | PyCallable | object;

export interface UnpickleOptions {
  /** Names errors. */
  readonly file: string;
  /** Allowed globals by "module.name": a callable, or a plain value (e.g. a storage type tag). */
  readonly globals: ReadonlyMap<string, PyCallable | object>;
  /** Resolves BINPERSID references (torch: storages); without it they are an error. */
  readonly persistentLoad?: (pid: PyValue) => PyValue;
}

/**
 * The longest integer accepted, in digits of a text INT/LONG (Python's own default limit
 * for int(str) since 3.11), and in bytes of a binary LONG1/LONG4 (the same magnitude).
 * Tensor metadata never comes near; a longer one is a hostile or corrupt file.
 */
export const MAX_INT_DIGITS = 4300;
export const MAX_LONG_BYTES = 1786; // ceil(4300 * log2(10) / 8)

const MARK = Symbol('mark');
/** A module or attribute path as Python writes them in GLOBAL (dotted identifiers, bounded). */
const PYTHON_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,15}$/;
type StackItem = PyValue | typeof MARK;

const LATIN1 = new TextDecoder('latin1');
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes one pickle. Throws CheckpointFormatError (or UnsafePickleError) on anything unexpected. */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): PyValue {
  try {
    return runMachine(bytes, options);
  } catch (error) {
    if (error instanceof CheckpointFormatError) throw error;
    // A bug or a limit of the engine (e.g. an allowed callable's own check) must still name the file.
    throw new CheckpointFormatError(options.file, `pickle: cannot decode (${(error as Error)?.message ?? String(error)})`, { cause: error });
  }
}

function runMachine(bytes: Uint8Array, options: UnpickleOptions): PyValue {
  const { file } = options;
  const fail: (problem: string) => never = (problem) => {
    throw new CheckpointFormatError(file, `pickle: ${problem}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const stack: StackItem[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();

  const need = (n: number): number => {
    if (n < 0 || pos + n > bytes.byteLength) fail(`truncated at byte ${pos} (wanted ${n} more bytes)`);
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = (): number => view.getUint8(need(1));
  const u16 = (): number => view.getUint16(need(2), true);
  const u32 = (): number => view.getUint32(need(4), true);
  const u64 = (): number => {
    const v = view.getBigUint64(need(8), true);
    if (v > BigInt(bytes.byteLength)) fail(`length ${v} at byte ${pos - 8} runs past the end`);
    return Number(v);
  };
  const raw = (n: number): Uint8Array => bytes.subarray(need(n), pos);
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail(`unterminated text line at byte ${pos}`);
    const text = LATIN1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return text;
  };
  const utf8 = (n: number): string => {
    const data = raw(n);
    try {
      return UTF8.decode(data);
    } catch {
      return fail(`invalid UTF-8 string at byte ${pos - n}`);
    }
  };
  const pop = (): PyValue => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1]!)) fail(`stack underflow at byte ${pos - 1}`);
    const v = stack.pop()!;
    return v as PyValue;
  };
  const top = (): PyValue => {
    if (stack.length === 0) fail(`stack underflow at byte ${pos - 1}`);
    return stack[stack.length - 1] as PyValue;
  };
  const popMark = (): PyValue[] => {
    const m = marks.pop();
    if (m === undefined) fail(`no MARK before byte ${pos - 1}`);
    return stack.splice(m!) as PyValue[];
  };
  const resolveGlobal = (module: string, name: string): PyValue => {
    const qualified = `${module}.${name}`;
    // Not a Python dotted name: corrupt bytes, reported as such (and never echoed at length).
    if (!PYTHON_NAME.test(module) || !PYTHON_NAME.test(name)) fail(`global ${JSON.stringify(qualified.slice(0, 80))} at byte ${pos} is not a Python name`);
    const value = options.globals.get(qualified);
    if (value === undefined) throw new UnsafePickleError(file, qualified);
    return value;
  };
  const callWith = (callable: PyValue, args: PyValue): PyValue => {
    if (!(callable instanceof PyCallable)) fail(`REDUCE/NEWOBJ on something that is not an allowed callable (${describe(callable)})`);
    if (!(args instanceof PyTuple)) fail(`arguments of ${(callable as PyCallable).qualifiedName} are not a tuple`);
    return (callable as PyCallable).call((args as PyTuple).items);
  };
  const asKey = (key: PyValue): PyKey => (isPyKey(key) ? key : fail(`unhashable dict key (${describe(key)})`));
  const setItems = (target: PyValue, items: PyValue[]): void => {
    if (!(target instanceof PyDict)) fail(`SETITEM(S) on ${describe(target)}`);
    if (items.length % 2 !== 0) fail('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) (target as PyDict).set(asKey(items[i]!), items[i + 1]!);
  };
  const appendItems = (target: PyValue, items: PyValue[]): void => {
    if (!Array.isArray(target)) fail(`APPEND(S) on ${describe(target)}`);
    // One by one: push(...items) spreads them as call arguments, which overflows the
    // stack for a few hundred thousand items.
    for (const item of items) (target as PyValue[]).push(item);
  };
  const long = (n: number): number | bigint => {
    if (n > MAX_LONG_BYTES) fail(`LONG of ${n} bytes at byte ${pos} exceeds the ${MAX_LONG_BYTES}-byte limit`);
    return decodeLong(raw(n));
  };
  const build = (target: PyValue, state: PyValue): void => {
    // Only dicts take state (OrderedDict's instance __dict__, e.g. a state dict's `_metadata`).
    if (!(target instanceof PyDict)) fail(`BUILD (__setstate__) on ${describe(target)} is not allowed`);
    const parts = state instanceof PyTuple ? state.items : [state];
    for (const part of parts) {
      if (part === null) continue;
      if (!(part instanceof PyDict)) fail(`BUILD state of a dict is ${describe(part)}, expected a dict`);
      for (const [k, v] of part) {
        if (typeof k !== 'string') fail('BUILD state has a non-string attribute name');
        target.attributes.set(k, v);
      }
    }
  };

  while (true) {
    if (pos >= bytes.byteLength) fail('ended without a STOP opcode');
    const opAt = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail(`unsupported pickle protocol ${bytes[pos - 1]}`);
        break;
      case 0x95: // FRAME: a length hint only
        need(8);
        break;
      case 0x2e: {
        // STOP
        if (stack.length !== 1 || marks.length !== 0) fail(`STOP with ${stack.length} values on the stack`);
        return stack[0] as PyValue;
      }
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (marks.length > 0 && marks[marks.length - 1] === stack.length) marks.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x49: {
        // INT (text); "01"/"00" are protocol-0 booleans
        const text = line();
        if (text === '01' || text === '00') stack.push(text === '01');
        else stack.push(parseIntText(text, fail));
        break;
      }
      case 0x4c: // LONG (text, trailing L)
        stack.push(parseIntText(line().replace(/L$/, ''), fail));
        break;
      case 0x46: {
        // FLOAT (text)
        const value = Number(line());
        if (Number.isNaN(value) && !/nan/i.test(LATIN1.decode(bytes.subarray(opAt + 1, pos)))) fail(`bad FLOAT at byte ${opAt}`);
        stack.push(value);
        break;
      }
      case 0x4a: // BININT
        stack.push(view.getInt32(need(4), true));
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(long(u8()));
        break;
      case 0x8b: // LONG4
        stack.push(long(u32()));
        break;
      case 0x47: // BINFLOAT (big-endian double)
        stack.push(view.getFloat64(need(8), false));
        break;
      case 0x54: // BINSTRING (py2 str)
        stack.push(LATIN1.decode(raw(view.getInt32(need(4), true))));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(LATIN1.decode(raw(u8())));
        break;
      case 0x58: // BINUNICODE
        stack.push(utf8(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8(u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8(u64()));
        break;
      case 0x42: // BINBYTES
        stack.push(raw(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(raw(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(raw(u64()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x74: // TUPLE
        stack.push(new PyTuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(new PyTuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push(new PyTuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push(new PyTuple([pop(), b, c]));
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: {
        // APPEND
        const item = pop();
        appendItems(top(), [item]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x64: {
        // DICT
        const dict = new PyDict();
        setItems(dict, popMark());
        stack.push(dict);
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        stack.push(resolveGlobal(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE: callable(*args)
        const args = pop();
        stack.push(callWith(pop(), args));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args) — allowed classes construct like a call
        const args = pop();
        stack.push(callWith(pop(), args));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        build(top(), state);
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!options.persistentLoad) fail('persistent reference (BINPERSID) without a loader');
        stack.push(options.persistentLoad!(pid));
        break;
      }
      case 0x70: // PUT (text)
        memo.set(parseMemoIndex(line(), fail), top());
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x67: // GET (text)
        stack.push(memoGet(memo, parseMemoIndex(line(), fail), fail));
        break;
      case 0x68: // BINGET
        stack.push(memoGet(memo, u8(), fail));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(memo, u32(), fail));
        break;
      case 0x69: {
        // INST: refuse, but name the class it asked for
        const module = line();
        const name = line();
        if (!PYTHON_NAME.test(module) || !PYTHON_NAME.test(name)) fail(`INST of ${JSON.stringify(`${module}.${name}`.slice(0, 80))} at byte ${opAt}: not a Python name`);
        throw new UnsafePickleError(file, `${module}.${name}`);
      }
      case 0x6f: // OBJ
        fail(`opcode OBJ (legacy object construction) at byte ${opAt} is not allowed`);
        break;
      default:
        fail(`unsupported or disallowed opcode 0x${op.toString(16).padStart(2, '0')} at byte ${opAt}`);
    }
  }
}

/** Whether a value may be a dict key (Python: hashable; here the immutable scalars and tuples). */
export function isPyKey(key: unknown): key is PyKey {
  return key === null || ['string', 'number', 'bigint', 'boolean'].includes(typeof key) || key instanceof PyTuple;
}

function parseIntText(text: string, fail: (p: string) => never): number | bigint {
  // Decimal to BigInt is quadratic in the digits: refuse lengths no real pickle has.
  if (text.replace(/^[-+]/, '').length > MAX_INT_DIGITS) fail(`integer literal of ${text.length} characters exceeds the ${MAX_INT_DIGITS}-digit limit`);
  if (!/^[-+]?\d+$/.test(text)) fail(`bad integer literal "${text.slice(0, 40)}"`);
  const big = BigInt(text);
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

function parseMemoIndex(text: string, fail: (p: string) => never): number {
  if (!/^\d+$/.test(text)) fail(`bad memo index "${text}"`);
  return Number(text);
}

function memoGet(memo: Map<number, PyValue>, index: number, fail: (p: string) => never): PyValue {
  if (!memo.has(index)) fail(`memo index ${index} used before it was set`);
  return memo.get(index)!;
}

const HEX_BYTE = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/**
 * Little-endian two's-complement integer (LONG1/LONG4); a number when it is safe.
 * Linear in the bytes: one hex string (most significant byte first) parsed once, where
 * shifting a BigInt per byte would copy the growing value every time (quadratic).
 */
export function decodeLong(data: Uint8Array): number | bigint {
  if (data.length === 0) return 0;
  const hex = new Array<string>(data.length);
  for (let i = 0; i < data.length; i++) hex[i] = HEX_BYTE[data[data.length - 1 - i]!]!;
  let value = BigInt(`0x${hex.join('')}`);
  if (data[data.length - 1]! & 0x80) value -= 1n << BigInt(8 * data.length);
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

function describe(value: unknown): string {
  if (value === null) return 'None';
  if (value instanceof PyCallable) return value.qualifiedName;
  if (value instanceof PyTuple) return 'a tuple';
  if (value instanceof PyDict) return 'a dict';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Uint8Array) return 'bytes';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'an object';
  return typeof value;
}
