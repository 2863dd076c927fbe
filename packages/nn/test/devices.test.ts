// Host and device: state dicts and flat vectors given as Float32Arrays or as tensors
// on another device, Module.to / toAsync moving a model in place with its optimizer
// and EMA attached, and optimizer hyper-parameters reaching the kernels with one
// upload per parameter group and step (counted by the backends' stats()). The
// WebGPU cases skip without an adapter (GPT_REQUIRE_WEBGPU=1 makes that a failure).

import { getBackend, memory, mse, randn, tensor, tidy, type Tensor } from '@gpt/tensor';
import { describe, expect, it } from 'vitest';
import {
  Adam,
  AdamW,
  buffer,
  EMA,
  flattenParameters,
  Linear,
  loadFlat,
  loadFlatAsync,
  loadStateDictBytes,
  Module,
  saveStateDict,
  SGD,
  weightDecayParamGroups,
} from '../src/index.js';
import { needWebGPU } from './helpers.js';

class Net extends Module {
  fc1: Linear;
  fc2: Linear;
  count: Tensor;
  constructor(seed = 0) {
    super();
    this.fc1 = new Linear(4, 8, { seed });
    this.fc2 = new Linear(8, 2, { seed: seed + 1 });
    this.count = buffer(tensor([3], { dtype: 'int32' }));
  }
  forward(x: Tensor): Tensor {
    return tidy(() => this.fc2.forward(this.fc1.forward(x).tanh()));
  }
}

/** Uploads made by `device`'s backend so far (both backends count them in stats()). */
function uploads(device: string): number {
  return (getBackend(device) as unknown as { stats(): { uploads: number } }).stats().uploads;
}

function trainStep(net: Net, optimizer: { zeroGrad(): void; step(): void }, x: Tensor, y: Tensor): void {
  optimizer.zeroGrad();
  const loss = tidy(() => mse(net.forward(x), y));
  loss.backward();
  optimizer.step();
  loss.dispose();
}

async function lossOf(net: Net, x: Tensor, y: Tensor): Promise<number> {
  const loss = tidy(() => mse(net.forward(x), y));
  const value = (await loss.data())[0]!;
  loss.dispose();
  return value;
}

async function flatValues(net: Module): Promise<Float32Array> {
  const flat = flattenParameters(net);
  const values = (await flat.data()) as Float32Array;
  flat.dispose();
  return values;
}

/** Every state-dict value, in order, as numbers (Net's int32 buffer rules out flattenParameters). */
async function stateValues(net: Module): Promise<number[]> {
  const dict = net.stateDict();
  const values: number[] = [];
  for (const t of Object.values(dict)) values.push(...(await t.data()));
  for (const t of Object.values(dict)) t.dispose();
  return values;
}

describe('state dicts and flat vectors from the host', () => {
  it('loadStateDict takes Float32Array / Int32Array values of the module\'s shapes', () => {
    const net = new Net();
    const w = Float32Array.from({ length: 32 }, (_, i) => i / 10);
    net.loadStateDict({ 'fc1.weight': w, count: Int32Array.of(7) }, { strict: false });
    expect(Array.from(net.fc1.weight.dataSync())).toEqual(Array.from(w));
    expect(net.fc1.weight.shape).toEqual([8, 4]);
    expect(net.count.item()).toBe(7);
    w[0] = 99; // the module holds a copy
    expect(net.fc1.weight.dataSync()[0]).toBe(0);
    net.dispose();
  });

  it('rejects typed arrays of the wrong length or type, naming each, and changes nothing', async () => {
    const net = new Net();
    const before = await stateValues(net);
    const bad = { 'fc1.weight': new Float32Array(31), 'fc1.bias': new Int32Array(8), 'fc2.weight': new Float32Array(16), count: new Float32Array(1) };
    expect(() => net.loadStateDict(bad, { strict: false })).toThrow(
      'loadStateDict (Net): "count" is Float32Array, expected Int32Array (the module\'s tensor is int32); "fc1.weight" has 31 values, expected 32 for shape [8, 4]; "fc1.bias" is Int32Array, expected Float32Array (the module\'s tensor is float32)',
    );
    expect(() => net.loadStateDict({ 'fc1.weight': [1, 2] as unknown as Float32Array }, { strict: false })).toThrow('"fc1.weight" is not a Tensor or a typed array');
    expect(await stateValues(net)).toEqual(before);
    net.dispose();
  });

  it('loadFlat takes a Float32Array; a wrong length names both sizes', async () => {
    const a = new Linear(4, 3, { seed: 1 });
    const b = new Linear(4, 3, { seed: 2 });
    const vector = await flatValues(a);
    loadFlat(b, vector);
    expect(Array.from(await flatValues(b))).toEqual(Array.from(vector));
    expect(() => loadFlat(b, new Float32Array(14))).toThrow('loadFlat: expected a vector of 15 values for Linear, got a Float32Array of 14');
    await expect(loadFlatAsync(b, new Float32Array(16))).rejects.toThrow('loadFlatAsync: expected a vector of 15 values for Linear, got a Float32Array of 16');
    for (const m of [a, b]) m.dispose();
  });

  it('optimizer state loads from Float32Arrays and rejects a wrong length', () => {
    const lin = new Linear(3, 2, { seed: 0 });
    const opt = new Adam(lin.parameters());
    const groups = opt.stateDict().paramGroups;
    opt.loadStateDict({ state: { 0: { step: 4, expAvg: new Float32Array(6).fill(0.5), expAvgSq: new Float32Array(6).fill(2) } }, paramGroups: groups });
    const saved = opt.stateDict();
    expect(saved.state[0]!.step).toBe(4);
    expect(Array.from((saved.state[0]!.expAvg as Tensor).dataSync())).toEqual([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    expect(saved.state[1]).toBeUndefined();
    expect(() => opt.loadStateDict({ state: { 1: { expAvg: new Float32Array(3) } }, paramGroups: groups })).toThrow(
      'Adam.loadStateDict: state "1.expAvg" has 3 values, expected 2 like its parameter [2]',
    );
    expect((opt.stateDict().state[0]!.expAvgSq as Tensor).dataSync()[0]).toBe(2); // unchanged by the failed load
    for (const v of Object.values(saved.state[0]!)) if (typeof v !== 'number') v.dispose();
    opt.dispose();
    lin.dispose();
  });
});

describe('hyper-parameter uploads (CPU)', () => {
  const x = randn([16, 4], { seed: 3 });
  const y = randn([16, 2], { seed: 4 });

  it('AdamW, Adam with L2 and SGD upload their step numbers once per parameter group and step', () => {
    const net = new Net();
    const optimizers = [
      new AdamW(weightDecayParamGroups(net, 0.1)),
      new Adam(net.parameters(), { weightDecay: 1e-3 }),
      new SGD(weightDecayParamGroups(net, 1e-4), { lr: 0.1, momentum: 0.9, nesterov: true }),
    ];
    for (const opt of optimizers) {
      for (let step = 0; step < 3; step++) {
        opt.zeroGrad();
        const loss = tidy(() => mse(net.forward(x), y));
        loss.backward();
        loss.dispose();
        const before = uploads('cpu');
        opt.step();
        expect(uploads('cpu') - before, `${opt.constructor.name} step ${step}`).toBe(opt.paramGroups.length);
      }
      opt.zeroGrad();
      opt.dispose();
    }
    net.dispose();
  });

  it('parameters of one group with different step counts each get their numbers (one upload per count)', async () => {
    const net = new Net();
    const opt = new AdamW(net.parameters(), { lr: 0.01 });
    const twin = new Net();
    const twinOpt = new AdamW(twin.parameters(), { lr: 0.01 });
    // Step 1 trains fc2 only in both; step 2 trains everything: fc1 takes its first
    // step, fc2 its second, in one group.
    const stepBoth = (nets: Net[], opts: AdamW[], onlyFc2: boolean) => {
      nets.forEach((n, i) => {
        opts[i]!.zeroGrad();
        const loss = tidy(() => mse(n.forward(x), y));
        loss.backward();
        loss.dispose();
        if (onlyFc2) n.fc1.zeroGrad();
      });
    };
    stepBoth([net, twin], [opt, twinOpt], true);
    opt.step();
    twinOpt.step();
    stepBoth([net, twin], [opt, twinOpt], false);
    const before = uploads('cpu');
    opt.step();
    expect(uploads('cpu') - before).toBe(2);
    const state = opt.stateDict().state;
    expect([0, 1, 2, 3].map((i) => state[i]!.step)).toEqual([1, 1, 2, 2]);
    // The twin takes the same steps one parameter group at a time: equal results bit for bit.
    const fc1Only = new AdamW(twin.fc1.parameters(), { lr: 0.01 });
    const fc2Only = new AdamW(twin.fc2.parameters(), { lr: 0.01 });
    fc2Only.loadStateDict({ state: { 0: twinOpt.stateDict().state[2]!, 1: twinOpt.stateDict().state[3]! }, paramGroups: fc2Only.stateDict().paramGroups });
    fc1Only.step();
    fc2Only.step();
    expect(await stateValues(twin)).toEqual(await stateValues(net));
    for (const o of [opt, twinOpt, fc1Only, fc2Only]) (o.zeroGrad(), o.dispose());
    net.dispose();
    twin.dispose();
  });
});


describe('webgpu', () => {
  it('loadFlat from a vector on WebGPU into a CPU module: async, or a clear error', async (context) => {
    await needWebGPU(context);
    const source = new Linear(4, 3, { seed: 1 });
    const target = new Linear(4, 3, { seed: 2 });
    const flat = flattenParameters(source);
    const onGpu = flat.to('webgpu');
    expect(() => loadFlat(target, onGpu)).toThrow(
      'loadFlat: the vector lives on "webgpu", which cannot be read synchronously, and Linear on "cpu"; use await loadFlatAsync(module, vector)',
    );
    await loadFlatAsync(target, onGpu);
    expect(target.weight.device).toBe('cpu');
    expect(Array.from(await flatValues(target))).toEqual(Array.from(flat.dataSync()));
    // A CPU vector into a module on WebGPU is synchronous, and so is a vector on the module's own device.
    target.to('webgpu');
    loadFlat(target, flat);
    expect(Array.from(await flatValues(target))).toEqual(Array.from(flat.dataSync()));
    loadFlat(target, onGpu);
    expect(target.weight.device).toBe('webgpu');
    await expect(loadFlatAsync(target, onGpu)).resolves.toBeUndefined();
    for (const t of [flat, onGpu]) t.dispose();
    for (const m of [source, target]) m.dispose();
  });

  it('loadStateDict with WebGPU values into a CPU module needs loadStateDictAsync', async (context) => {
    await needWebGPU(context);
    const net = new Net(1);
    const other = new Net(2);
    const dict = other.stateDict();
    const onGpu = Object.fromEntries(Object.entries(dict).map(([k, t]) => [k, t.to('webgpu')]));
    const before = await stateValues(net);
    expect(() => net.loadStateDict(onGpu)).toThrow(
      'loadStateDict (Net): "count" lives on "webgpu", which cannot be read synchronously, and the module\'s tensor on "cpu"; use await module.loadStateDictAsync(dict)',
    );
    expect(await stateValues(net)).toEqual(before);
    await net.loadStateDictAsync(onGpu);
    expect(net.fc1.weight.device).toBe('cpu');
    expect(await stateValues(net)).toEqual(await stateValues(other));
    expect(net.count.item()).toBe(3);
    for (const t of [...Object.values(dict), ...Object.values(onGpu)]) t.dispose();
    net.dispose();
    other.dispose();
  });

  it('Module.to("webgpu") moves parameters in place; AdamW and EMA follow; training continues there', async (context) => {
    await needWebGPU(context);
    const x = randn([16, 4], { seed: 3 });
    const y = randn([16, 2], { seed: 4 });
    const net = new Net();
    const weight = net.fc1.weight;
    const opt = new AdamW(weightDecayParamGroups(net, 0.01), { lr: 0.01 });
    const ema = new EMA(net, 0.9);
    // One step on the CPU so that the optimizer has state to carry over.
    const first = await lossOf(net, x, y);
    trainStep(net, opt, x, y);
    ema.update(net);
    const tensorsBefore = memory().tensors;
    expect(net.to('webgpu')).toBe(net);
    expect(net.fc1.weight).toBe(weight); // the same handle: the optimizer still holds it
    expect(net.parameters().map((p) => p.device)).toEqual(['webgpu', 'webgpu', 'webgpu', 'webgpu']);
    expect(net.count.device).toBe('webgpu');
    expect(memory().tensors).toBe(tensorsBefore);
    const [xg, yg] = [x.to('webgpu'), y.to('webgpu')];
    const losses: number[] = [];
    for (let step = 0; step < 5; step++) {
      trainStep(net, opt, xg, yg);
      ema.update(net);
      losses.push(await lossOf(net, xg, yg));
    }
    expect(losses.at(-1)!).toBeLessThan(first);
    const state = opt.stateDict();
    for (const s of Object.values(state.state)) {
      expect([s.step, (s.expAvg as Tensor).device, (s.expAvgSq as Tensor).device]).toEqual([6, 'webgpu', 'webgpu']);
      for (const v of Object.values(s)) if (typeof v !== 'number') v.dispose();
    }
    expect([...ema.shadow.values()].map((t) => t.device)).toEqual(['webgpu', 'webgpu', 'webgpu', 'webgpu']);
    // Back to the CPU: synchronous reads are impossible, so to() refuses and toAsync() works;
    // then the optimizer's state (on WebGPU) needs followParamsAsync before a CPU step.
    expect(() => net.to('cpu')).toThrow('Net.to("cpu"): "count" lives on "webgpu", which cannot be read synchronously; use await module.toAsync("cpu")');
    expect(net.fc1.weight.device).toBe('webgpu');
    await net.toAsync('cpu');
    expect(net.namedParameters().map(([, p]) => p.device)).toEqual(['cpu', 'cpu', 'cpu', 'cpu']);
    opt.zeroGrad();
    const loss = tidy(() => mse(net.forward(x), y));
    loss.backward();
    loss.dispose();
    expect(() => opt.step()).toThrow(
      'AdamW.step: state "expAvg" of a parameter lives on "webgpu", which cannot be read synchronously, but the parameter on "cpu"; call await optimizer.followParamsAsync() first',
    );
    await opt.followParamsAsync();
    opt.step();
    expect(() => ema.update(net)).toThrow('EMA.update: the average of "fc1.weight" lives on "webgpu"');
    await ema.toAsync('cpu');
    ema.update(net);
    for (const t of [x, y, xg, yg]) t.dispose();
    opt.zeroGrad();
    opt.dispose();
    ema.dispose();
    net.dispose();
  });

  it('saveStateDict reads a module on WebGPU; loadStateDictBytes creates tensors on the device asked for', async (context) => {
    await needWebGPU(context);
    const net = new Net(3);
    const onCpu = await saveStateDict(net);
    net.to('webgpu');
    const onGpu = await saveStateDict(net);
    expect(Buffer.from(onGpu).equals(Buffer.from(onCpu))).toBe(true);
    const dict = loadStateDictBytes(onGpu, { device: 'webgpu' });
    expect(Object.values(dict).map((t) => t.device)).toEqual(['webgpu', 'webgpu', 'webgpu', 'webgpu', 'webgpu']);
    const back = new Net(4);
    await back.loadStateDictAsync(dict);
    expect(await stateValues(back)).toEqual(await stateValues(net));
    for (const t of Object.values(dict)) t.dispose();
    net.dispose();
    back.dispose();
  });

  it('AdamW on WebGPU: one upload per parameter group and step (was five per parameter)', async (context) => {
    await needWebGPU(context);
    const net = new Net().to('webgpu');
    const [x, y] = [randn([16, 4], { seed: 3 }).to('webgpu'), randn([16, 2], { seed: 4 }).to('webgpu')];
    const opt = new AdamW(weightDecayParamGroups(net, 0.1));
    for (let step = 0; step < 3; step++) {
      opt.zeroGrad();
      const loss = tidy(() => mse(net.forward(x), y));
      loss.backward();
      loss.dispose();
      const before = uploads('webgpu');
      opt.step();
      expect(uploads('webgpu') - before).toBe(2); // 4 parameters in 2 groups
    }
    opt.zeroGrad();
    opt.dispose();
    for (const t of [x, y]) t.dispose();
    net.dispose();
  });
});
