// State dicts from untrusted places (issue 19): loadStateDict refuses what is not a state
// dict with an error naming the module and the problem (never a raw TypeError from deep
// inside), reads only own keys (a prototype's "constructor" is not a parameter), and
// safetensors bytes keep every name, "__proto__" included, as a key.
import { CheckpointFormatError, encodeSafetensors } from '@gpt/checkpoints';
import { memory, tensor } from '@gpt/tensor';
import { describe, expect, it } from 'vitest';
import { Linear, loadOptimizerStateBytes, loadStateDictBytes, saveStateDict } from '../src/index.js';

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  chunks.reduce((offset, c) => (out.set(c, offset), offset + c.byteLength), 0);
  return out;
}

describe('Module.loadStateDict with what is not a state dict', () => {
  it('null, undefined, numbers, arrays and typed arrays are refused naming the module, changing nothing', () => {
    const lin = new Linear(2, 2, { seed: 0 });
    const before = Array.from(lin.weight.dataSync());
    for (const [value, got] of [
      [null, 'null'],
      [undefined, 'undefined'],
      [3, 'number'],
      ['w', 'string'],
      [[], 'an array'],
      [new Float32Array(4), 'a typed array'],
    ] as const) {
      expect(() => lin.loadStateDict(value as never), String(got)).toThrow(`loadStateDict (Linear): the state dict must be an object of key -> tensor or host array, got ${got}`);
    }
    expect(Array.from(lin.weight.dataSync())).toEqual(before);
    lin.dispose();
  });

  it('inherited keys are not state: an object whose prototype holds the tensors is missing them all', () => {
    const lin = new Linear(2, 2, { seed: 0 });
    const inherited = Object.create({ weight: new Float32Array(4), bias: new Float32Array(2) });
    expect(() => lin.loadStateDict(inherited)).toThrow('loadStateDict (Linear): missing keys: weight, bias');
    expect(() => lin.loadStateDict({ weight: new Float32Array(4), bias: new Float32Array(2), constructor: new Float32Array(1) })).toThrow(/unexpected keys: constructor/);
    expect(() => lin.loadStateDict({ weight: new Float32Array(3), bias: new Float32Array(2) })).toThrow(/"weight" has 3 values, expected 4 for shape \[2, 2\]/);
    lin.dispose();
  });
});

describe('state dict bytes', () => {
  it('a tensor named __proto__ (and constructor) round-trips through saveStateDict and loadStateDictBytes', async () => {
    const before = memory().tensors;
    // Computed keys: a literal `__proto__:` would set the prototype instead of making a key.
    const tensors = { ['__proto__']: tensor([1, 2], { shape: [2] }), ['constructor']: tensor([3], { shape: [1] }) } as Record<string, ReturnType<typeof tensor>>;
    expect(Object.keys(tensors)).toEqual(['__proto__', 'constructor']);
    const bytes = await saveStateDict(tensors);
    const loaded = loadStateDictBytes(bytes, { name: 'proto.safetensors' });
    expect(Object.keys(loaded)).toEqual(['__proto__', 'constructor']);
    expect(Array.from(loaded['__proto__']!.dataSync())).toEqual([1, 2]);
    expect(Array.from(loaded['constructor']!.dataSync())).toEqual([3]);
    for (const t of [...Object.values(loaded), ...Object.values(tensors)]) t.dispose();
    expect(memory().tensors).toBe(before);
  });

  it('non-bytes are a TypeError naming the argument; bad bytes and bad optimizer metadata are CheckpointFormatErrors naming the file', async () => {
    expect(() => loadStateDictBytes(null as never, { name: 'x.safetensors' })).toThrow('loadStateDictBytes (x.safetensors): bytes must be a Uint8Array, got null');
    expect(() => loadStateDictBytes(new Uint8Array(3), { name: 'x.safetensors' })).toThrow(CheckpointFormatError);
    const big = concat(encodeSafetensors([{ name: 'w', dtype: 'F32', shape: [64], data: new Float32Array(64) }]));
    expect(() => loadStateDictBytes(big, { name: 'x.safetensors', maxBytes: 100 })).toThrow(/^x\.safetensors: the tensors need more than 100 bytes/);
    const meta = (state: string) => concat(encodeSafetensors([], { format: 'gpt.nn.optimizer/1', paramGroups: '[]', state }));
    for (const state of ['{"0": {"step": "1"}}', '{"0": [1]}', '{"99999999999": {}}', '[]']) {
      const error = (() => {
        try {
          loadOptimizerStateBytes(meta(state), { name: 'opt.safetensors' });
        } catch (e) {
          return e;
        }
      })();
      expect(error, state).toBeInstanceOf(CheckpointFormatError);
      expect((error as Error).message, state).toMatch(/^opt\.safetensors: __metadata__\.state/);
    }
    const proto = loadOptimizerStateBytes(meta('{"0": {"__proto__": 5, "step": 2}}'), { name: 'opt.safetensors' });
    expect(Object.entries(proto.state[0]!)).toEqual([
      ['__proto__', 5],
      ['step', 2],
    ]);
    await expect(saveStateDict(null as never)).rejects.toThrow('saveStateDict: expected a Module or an object of name -> Tensor, got null');
  });
});
