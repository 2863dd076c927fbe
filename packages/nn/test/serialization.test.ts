// State dicts as safetensors bytes: files written by Python's `safetensors` load into
// our modules (scripts/fixtures/safetensors_fixtures.py made them and checked that it
// reads ours), our writer still makes the bytes that script verified, optimizer state
// survives the trip and resumes bit for bit, and bad bytes fail clearly.

import { readFileSync } from 'node:fs';
import { encodeSafetensors } from '@gpt/checkpoints';
import { memory, mse, tensor, tidy, type Tensor } from '@gpt/tensor';
import { describe, expect, it } from 'vitest';
import { AdamW, Linear, loadOptimizerStateBytes, loadStateDictBytes, saveOptimizerState, saveStateDict, SGD } from '../src/index.js';
import { fixture, type Entry } from './helpers.js';
import { patternAdamW, patternTiny, Tiny, tsWrittenBytes } from './safetensors-sources.js';

const expected = fixture<{ module: Record<string, Entry>; dtypes: Record<string, Entry & { dtype: string }> }>('torch-safetensors.json');
const bytesOf = (name: string) => new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  chunks.reduce((offset, c) => (out.set(c, offset), offset + c.byteLength), 0);
  return out;
}

describe('safetensors written by Python', () => {
  it('a PyTorch state dict loads into the twin module (I64 buffer as int32)', () => {
    const net = new Tiny();
    tidy(() => net.loadStateDict(loadStateDictBytes(bytesOf('torch-module.safetensors'))));
    for (const [key, t] of net.namedParameters()) {
      expect(t.shape, key).toEqual(expected.module[key]!.shape);
      expect(Array.from(t.dataSync()), key).toEqual(Array.from(Float32Array.from(expected.module[key]!.data)));
    }
    expect([net.steps.dtype, net.steps.item()]).toEqual(['int32', 7]);
    net.dispose();
  });

  it('reads F32, F16, BF16, F64 as float32, I64 and I32 as int32, BOOL as bool', () => {
    const before = memory().tensors;
    const dict = loadStateDictBytes(bytesOf('torch-dtypes.safetensors'));
    const dtypes = Object.fromEntries(Object.entries(dict).map(([k, t]) => [k, t.dtype]));
    expect(dtypes).toEqual({ f32: 'float32', f16: 'float32', bf16: 'float32', f64: 'float32', i64: 'int32', i32: 'int32', bool: 'bool', scalar: 'float32' });
    for (const [key, want] of Object.entries(expected.dtypes)) {
      const t = dict[key]!;
      expect(t.shape, key).toEqual(want.shape);
      // The JSON holds float32 values as their shortest decimal text: compare as float32.
      const values = t.dtype === 'bool' ? Array.from(t.dataSync(), (v) => v === 1) : Array.from(t.dataSync());
      const wanted = t.dtype === 'float32' ? Array.from(Float32Array.from(want.data)) : want.data;
      expect(values, `${key} (${want.dtype})`).toEqual(wanted);
    }
    for (const t of Object.values(dict)) t.dispose();
    expect(memory().tensors).toBe(before);
  });
});

describe('safetensors written by @gpt/nn', () => {
  it('are byte for byte the files the Python script verified', async () => {
    const { module, optimizer } = await tsWrittenBytes();
    expect(Buffer.from(module).equals(bytesOf('ts-module.safetensors'))).toBe(true);
    expect(Buffer.from(optimizer).equals(bytesOf('ts-optimizer.safetensors'))).toBe(true);
  });

  it('a module round-trips, including the int buffer', async () => {
    const net = patternTiny();
    const other = new Tiny();
    other.steps.assign(tensor([1], { dtype: 'int32' }));
    tidy(() => other.loadStateDict(loadStateDictBytes(new Uint8Array(readFileSync(new URL('./fixtures/ts-module.safetensors', import.meta.url))))));
    for (const [[key, a], [, b]] of net.namedParameters().map((e, i) => [e, other.namedParameters()[i]!] as const)) {
      expect(Array.from(b.dataSync()), key).toEqual(Array.from(a.dataSync()));
    }
    expect(other.steps.item()).toBe(7);
    // A state dict given as key -> tensor (here with a bool) writes the same way.
    const flags = tensor([true, false, true]);
    const back = loadStateDictBytes(await saveStateDict({ flags }, { metadata: { note: 'kept' } }));
    expect([back.flags!.dtype, Array.from(back.flags!.dataSync())]).toEqual(['bool', [1, 0, 1]]);
    for (const t of [flags, back.flags!]) t.dispose();
    net.dispose();
    other.dispose();
  });

  it('optimizer state round-trips; training resumed from the bytes matches uninterrupted training bit for bit', async () => {
    const x = tensor(Float32Array.from({ length: 20 }, (_, i) => ((i * 7) % 11) / 4 - 1), { shape: [5, 4] });
    const y = tensor(Float32Array.from({ length: 15 }, (_, i) => ((i * 2) % 7) / 2 - 1), { shape: [5, 3] });
    const step = (net: Tiny, opt: AdamW) => {
      opt.zeroGrad();
      const loss = tidy(() => mse(net.forward(x), y));
      loss.backward();
      opt.step();
      loss.dispose();
    };
    const net = patternTiny();
    const opt = patternAdamW(net);
    step(net, opt);
    const [moduleBytes, optimizerBytes] = await Promise.all([saveStateDict(net), saveOptimizerState(opt)]);
    const resumed = new Tiny();
    const resumedOpt = new AdamW(resumed.parameters(), { lr: 0.5 }); // lr comes from the bytes
    tidy(() => {
      resumed.loadStateDict(loadStateDictBytes(moduleBytes));
      resumedOpt.loadStateDict(loadOptimizerStateBytes(optimizerBytes));
    });
    expect(resumedOpt.paramGroups[0]!.lr).toBe(0.01);
    expect(resumedOpt.stateDict().state[0]!.step).toBe(3);
    for (let i = 0; i < 3; i++) {
      step(net, opt);
      step(resumed, resumedOpt);
    }
    const a = await saveStateDict(net);
    const b = await saveStateDict(resumed);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    for (const o of [opt, resumedOpt]) (o.zeroGrad(), o.dispose());
    for (const t of [x, y]) t.dispose();
    net.dispose();
    resumed.dispose();
  });

  it('an optimizer state with stateless entries (SGD without momentum) keeps them', async () => {
    const lin = new Linear(2, 2, { seed: 0 });
    const opt = new SGD(lin.parameters(), { lr: 0.1 });
    const loss = tidy(() => lin.forward(tensor([[1, 2]])).sum());
    loss.backward();
    loss.dispose();
    opt.step();
    const dict = loadOptimizerStateBytes(await saveOptimizerState(opt));
    expect(dict.state).toEqual({ 0: {}, 1: {} });
    expect(dict.paramGroups).toEqual([{ lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, initialLr: 0.1, params: [0, 1] }]);
    opt.zeroGrad();
    opt.dispose();
    lin.dispose();
  });
});

describe('bad bytes', () => {
  it('fail with a message naming the bytes and the problem, leaking nothing', async () => {
    const before = memory().tensors;
    const moduleBytes = bytesOf('ts-module.safetensors');
    expect(() => loadOptimizerStateBytes(moduleBytes, { name: 'model.safetensors' })).toThrow(
      'model.safetensors: not an optimizer state (__metadata__.format is undefined, expected "gpt.nn.optimizer/1")',
    );
    expect(() => loadStateDictBytes(moduleBytes.subarray(0, 100), { name: 'cut.safetensors' })).toThrow(/^cut\.safetensors: /);
    const tooWide = concat(
      encodeSafetensors([
        { name: 'ok', dtype: 'F32', shape: [1], data: new Float32Array([1]) },
        { name: 'big', dtype: 'I64', shape: [1], data: new BigInt64Array([2n ** 40n]) },
      ]),
    );
    expect(() => loadStateDictBytes(tooWide)).toThrow('safetensors bytes: tensor "big": I64 value 1099511627776 at index 0 does not fit in int32');
    const unsigned = concat(encodeSafetensors([{ name: 'u', dtype: 'U16', shape: [1], data: new Uint16Array([1]) }]));
    expect(() => loadStateDictBytes(unsigned)).toThrow('tensor "u": dtype U16 is not supported');
    const wrongKey = concat(
      encodeSafetensors([{ name: 'expAvg', dtype: 'F32', shape: [1], data: new Float32Array(1) }], {
        format: 'gpt.nn.optimizer/1',
        paramGroups: '[]',
        state: '{}',
      }),
    );
    expect(() => loadOptimizerStateBytes(wrongKey)).toThrow('tensor "expAvg" is not "state.<index>.<field>" of a parameter listed in __metadata__.state');
    const badJson = concat(encodeSafetensors([], { format: 'gpt.nn.optimizer/1', paramGroups: '[', state: '{}' }));
    expect(() => loadOptimizerStateBytes(badJson)).toThrow(/__metadata__\.paramGroups is not valid JSON/);
    // A file from another model: loadStateDict names the mismatches and changes nothing.
    const lin = new Linear(4, 3, { seed: 0 });
    const weight = Array.from(lin.weight.dataSync());
    expect(() => tidy(() => lin.loadStateDict(loadStateDictBytes(moduleBytes)))).toThrow(/missing keys: weight, bias; unexpected keys: steps, fc.weight/);
    expect(Array.from(lin.weight.dataSync())).toEqual(weight);
    lin.dispose();
    expect(memory().tensors).toBe(before);
  });
});
