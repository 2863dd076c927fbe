import { describe, expect, it } from 'vitest';
import { CheckpointFormatError, PyCallable, PyDict, PyTuple, UnsafePickleError, unpickle, type PyValue } from '../src/index.js';

/** Builds pickle bytes from opcodes given as strings (latin1) and byte arrays. */
function pickle(...parts: (string | number[])[]): Uint8Array {
  const bytes: number[] = [];
  for (const part of parts) {
    if (typeof part === 'string') for (const c of part) bytes.push(c.charCodeAt(0));
    else bytes.push(...part);
  }
  return Uint8Array.from(bytes);
}

const noGlobals = { file: 'test.pkl', globals: new Map() };

describe('unpickle', () => {
  it('decodes protocol-2 containers, memo references and scalar opcodes', () => {
    // {'a': [1, -2, 300, 70000, 1.5, None, True], 'b': ('x', b'\x01'), 'c': <same list as 'a'>}
    const bytes = pickle(
      [0x80, 2],
      '}q\x00(',
      'X\x01\x00\x00\x00a',
      ']q\x01(K\x01J\xfe\xff\xff\xffM\x2c\x01J\x70\x11\x01\x00G',
      [0x3f, 0xf8, 0, 0, 0, 0, 0, 0],
      'N',
      [0x88],
      'e',
      'X\x01\x00\x00\x00b',
      'X\x01\x00\x00\x00x',
      'C\x01\x01',
      [0x86],
      'X\x01\x00\x00\x00c',
      'h\x01',
      'u.',
    );
    const value = unpickle(bytes, noGlobals) as PyDict;
    expect(value).toBeInstanceOf(PyDict);
    expect(value.get('a')).toEqual([1, -2, 300, 70000, 1.5, null, true]);
    const b = value.get('b') as PyTuple;
    expect(b).toBeInstanceOf(PyTuple);
    expect(b.items[0]).toBe('x');
    expect(b.items[1]).toEqual(Uint8Array.of(1));
    expect(value.get('c')).toBe(value.get('a')); // memo keeps identity
  });

  it('decodes LONG1 integers, returning bigint beyond 2^53', () => {
    const small = unpickle(pickle([0x80, 2, 0x8a, 2, 0xff, 0x7f], '.'), noGlobals);
    expect(small).toBe(32767);
    const negative = unpickle(pickle([0x80, 2, 0x8a, 1, 0xff], '.'), noGlobals);
    expect(negative).toBe(-1);
    const big = unpickle(pickle([0x80, 2, 0x8a, 8, 1, 0, 0, 0, 0, 0, 0, 0x40], '.'), noGlobals);
    expect(big).toBe(2n ** 62n + 1n);
  });

  it('decodes protocol-4 strings, STACK_GLOBAL and MEMOIZE with allowed callables', () => {
    const calls: PyValue[][] = [];
    const globals = new Map([['mod.make', new PyCallable('mod.make', (args) => (calls.push([...args]), { made: args.length }))]]);
    const bytes = pickle([0x80, 4, 0x95], [0, 0, 0, 0, 0, 0, 0, 0], [0x8c, 3], 'mod', [0x94, 0x8c, 4], 'make', [0x94, 0x93, 0x94], 'K\x07', [0x85], 'R.');
    expect(unpickle(bytes, { file: 'p4.pkl', globals })).toEqual({ made: 1 });
    expect(calls).toEqual([[7]]);
  });

  it('refuses globals that are not allowed, naming them, and never calls anything', () => {
    const viaGlobal = pickle([0x80, 2], 'cbuiltins\neval\nX\x04\x00\x00\x001+1\x85R.');
    expect(() => unpickle(viaGlobal, noGlobals)).toThrow(UnsafePickleError);
    expect(() => unpickle(viaGlobal, noGlobals)).toThrow(/test\.pkl: pickle refers to the global 'builtins\.eval'/);
    const viaStackGlobal = pickle([0x80, 4, 0x8c, 2], 'os', [0x8c, 6], 'system', [0x93], '.');
    expect(() => unpickle(viaStackGlobal, noGlobals)).toThrow(/'os\.system'/);
    const viaInst = pickle('(Nios\nsystem\n.');
    expect(() => unpickle(viaInst, noGlobals)).toThrow(/'os\.system'/);
  });

  it('refuses REDUCE on values that are not allowed callables and BUILD on non-dicts', () => {
    const reduceOnList = pickle([0x80, 2], ']', ')R.');
    expect(() => unpickle(reduceOnList, noGlobals)).toThrow(/REDUCE\/NEWOBJ on something that is not an allowed callable \(a list\)/);
    const buildOnList = pickle([0x80, 2], ']', '}b.');
    expect(() => unpickle(buildOnList, noGlobals)).toThrow(/BUILD \(__setstate__\) on a list is not allowed/);
  });

  it('reports truncated input, a missing STOP, and unknown opcodes with their position', () => {
    expect(() => unpickle(pickle([0x80, 2], 'X\x10\x00\x00\x00ab'), noGlobals)).toThrow(CheckpointFormatError);
    expect(() => unpickle(pickle([0x80, 2], 'X\x10\x00\x00\x00ab'), noGlobals)).toThrow(/truncated at byte 7/);
    expect(() => unpickle(pickle([0x80, 2], 'K\x01'), noGlobals)).toThrow(/ended without a STOP opcode/);
    expect(() => unpickle(pickle([0x80, 2, 0x82, 1], '.'), noGlobals)).toThrow(/disallowed opcode 0x82 at byte 2/);
    expect(() => unpickle(pickle([0x80, 2], 'h\x05.'), noGlobals)).toThrow(/memo index 5 used before it was set/);
  });
});
