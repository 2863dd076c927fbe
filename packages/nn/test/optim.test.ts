import { adamStep, add, lerp, lerpSquare, memory, mul, noGrad, ones, randn, setLeakWarning, tensor, tidy, zerosLike, type Tensor } from '@gpt/tensor';
import { describe, expect, it, vi } from 'vitest';
import {
  Adam,
  AdamW,
  crossEntropy,
  Linear,
  Module,
  SGD,
  weightDecayParamGroups,
  type Optimizer,
  type BaseOptions,
} from '../src/index.js';
import { expectClose, fixture, fromEntry, values, type Entry } from './helpers.js';

interface Run {
  optimizer: 'sgd' | 'adam' | 'adamw';
  options: { lr: number; momentum?: number; dampening?: number; nesterov?: boolean; weight_decay?: number; betas?: [number, number]; eps?: number };
  grouping: 'all' | 'decay-2d';
  losses: number[];
  states: Record<string, number[]>[];
}
const data = fixture<{ init: Record<string, Entry>; x: Entry; labels: number[]; runs: Run[] }>('optimizers.json');

class SmallNet extends Module {
  fc1 = new Linear(4, 8);
  fc2 = new Linear(8, 3);
  forward(x: Tensor): Tensor {
    return tidy(() => this.fc2.forward(this.fc1.forward(x).tanh()));
  }
}

function freshNet(): SmallNet {
  const net = new SmallNet();
  const dict = Object.fromEntries(Object.entries(data.init).map(([k, e]) => [k, fromEntry(e)]));
  net.loadStateDict(dict);
  for (const t of Object.values(dict)) t.dispose();
  return net;
}

function makeOptimizer(run: Run, net: Module): Optimizer<BaseOptions> {
  const o = run.options;
  const wd = o.weight_decay ?? 0;
  const params = run.grouping === 'decay-2d' ? weightDecayParamGroups(net, wd) : net.parameters();
  if (run.optimizer === 'sgd') {
    return new SGD(params, { lr: o.lr, momentum: o.momentum ?? 0, dampening: o.dampening ?? 0, nesterov: o.nesterov ?? false, weightDecay: wd }) as unknown as Optimizer<BaseOptions>;
  }
  const Cls = run.optimizer === 'adam' ? Adam : AdamW;
  return new Cls(params, { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: wd }) as unknown as Optimizer<BaseOptions>;
}

function trainStep(net: SmallNet, optimizer: Optimizer<BaseOptions>, x: Tensor, labels: Tensor): number {
  optimizer.zeroGrad();
  const loss = tidy(() => crossEntropy(net.forward(x), labels));
  loss.backward();
  optimizer.step();
  const value = loss.item();
  loss.dispose();
  return value;
}

describe('optimizers follow PyTorch for 5 steps on a fixed problem', () => {
  for (const run of data.runs) {
    const label = `${run.optimizer} ${JSON.stringify(run.options)} (${run.grouping})`;
    it(label, () => {
      const net = freshNet();
      const optimizer = makeOptimizer(run, net);
      const x = fromEntry(data.x);
      const labels = tensor(data.labels, { dtype: 'int32' });
      const before = memory().tensors;
      for (let step = 0; step < 5; step++) {
        const loss = trainStep(net, optimizer, x, labels);
        expect(Math.abs(loss - run.losses[step]!)).toBeLessThan(1e-5);
        const dict = net.stateDict();
        for (const [key, expected] of Object.entries(run.states[step]!)) {
          expectClose(values(dict[key]!), expected, 2e-6, 1e-4, `step ${step + 1} ${key}`);
        }
        for (const t of Object.values(dict)) t.dispose();
      }
      optimizer.zeroGrad();
      // Only the optimizer state may remain (<= 2 tensors per parameter).
      expect(memory().tensors - before).toBeLessThanOrEqual(2 * net.parameters().length);
      optimizer.dispose();
      expect(memory().tensors).toBe(before);
      for (const t of [x, labels]) t.dispose();
      net.dispose();
    });
  }
});

describe('Adam(W) in one fused pass', () => {
  // The update as it was written before adamUpdate: three fused passes (both moments, then
  // the parameter), driven here by hand with the same bias-corrected numbers.
  function unfusedSteps(decoupled: boolean, params: Float32Array[], grads: Float32Array[][], o: { lr: number; betas: [number, number]; eps: number; weightDecay: number }) {
    return noGrad(() => {
      const ps = params.map((p) => tensor(p));
      const ms = ps.map((p) => zerosLike(p));
      const vs = ps.map((p) => zerosLike(p));
      grads.forEach((stepGrads, t) => {
        const step = t + 1;
        const c2 = Math.sqrt(1 - o.betas[1] ** step);
        const alpha = (o.lr / (1 - o.betas[0] ** step)) * c2;
        ps.forEach((p, i) => {
          const grad = tensor(stepGrads[i]!);
          const g = decoupled || o.weightDecay === 0 ? grad : tidy(() => add(grad, mul(p, o.weightDecay)));
          const m = lerp(ms[i]!, g, 1 - o.betas[0]);
          const v = lerpSquare(vs[i]!, g, 1 - o.betas[1]);
          const next = adamStep(p, m, v, decoupled ? 1 - o.lr * o.weightDecay : 1, alpha, o.eps * c2);
          for (const old of [ms[i]!, vs[i]!, p, grad, ...(g !== grad ? [g] : [])]) old.dispose();
          [ps[i], ms[i], vs[i]] = [next, m, v];
        });
      });
      const out = { params: ps.map((t) => t.dataSync()), m: ms.map((t) => t.dataSync()), v: vs.map((t) => t.dataSync()) };
      for (const t of [...ps, ...ms, ...vs]) t.dispose();
      return out;
    });
  }

  for (const [name, Cls, decoupled] of [['Adam', Adam, false], ['AdamW', AdamW, true]] as const) {
    it(`${name} matches lerp + lerpSquare + adamStep over 4 steps (weight decay, sizes below and above the WASM threshold)`, () => {
      const before = memory().tensors;
      const sizes = [[3, 5], [4100], [70000]];
      const initial = sizes.map((shape, i) => randn(shape, { seed: 10 + i }));
      const grads = [0, 1, 2, 3].map((t) => sizes.map((shape, i) => randn(shape, { seed: 100 * t + i })));
      const options = { lr: 3e-3, betas: [0.8, 0.95] as [number, number], eps: 1e-6, weightDecay: 0.05 };
      const params = initial.map((t) => t.detach());
      for (const p of params) p.requiresGrad = true;
      const optimizer = new Cls(params, options);
      for (const stepGrads of grads) {
        params.forEach((p, i) => (p.grad = stepGrads[i]!.detach()));
        optimizer.step();
        optimizer.zeroGrad();
      }
      const expected = unfusedSteps(decoupled, initial.map((t) => t.dataSync() as Float32Array), grads.map((g) => g.map((t) => t.dataSync() as Float32Array)), options);
      const state = optimizer.stateDict().state;
      params.forEach((p, i) => {
        const what = `${name} parameter ${i}`;
        expectClose(p.dataSync(), expected.params[i]!, 1e-7, 1e-6, what);
        expectClose((state[i]!.expAvg as Tensor).dataSync(), expected.m[i]!, 1e-7, 1e-6, `${what} expAvg`);
        expectClose((state[i]!.expAvgSq as Tensor).dataSync(), expected.v[i]!, 1e-7, 1e-6, `${what} expAvgSq`);
        expect(state[i]!.step).toBe(4);
      });
      for (const s of Object.values(state)) for (const v of Object.values(s)) if (typeof v !== 'number') v.dispose();
      optimizer.dispose();
      for (const t of [...params, ...initial, ...grads.flat()]) t.dispose();
      expect(memory().tensors).toBe(before);
    });
  }
});

describe('optimizer state dicts', () => {
  for (const kind of ['sgd', 'adamw'] as const) {
    it(`${kind}: resuming from stateDict() continues exactly like an uninterrupted run`, () => {
      const run = data.runs.find((r) => r.optimizer === kind)!;
      const x = fromEntry(data.x);
      const labels = tensor(data.labels, { dtype: 'int32' });
      const reference = freshNet();
      const refOpt = makeOptimizer(run, reference);
      for (let i = 0; i < 5; i++) trainStep(reference, refOpt, x, labels);

      const first = freshNet();
      const firstOpt = makeOptimizer(run, first);
      for (let i = 0; i < 2; i++) trainStep(first, firstOpt, x, labels);
      const modelState = first.stateDict();
      const optState = firstOpt.stateDict();
      // The snapshot is plain data plus tensors and survives a JSON round trip of its non-tensor part.
      expect(JSON.parse(JSON.stringify(optState.paramGroups))).toEqual(optState.paramGroups);
      trainStep(first, firstOpt, x, labels); // must not change the snapshot

      const resumed = new SmallNet();
      resumed.loadStateDict(modelState);
      const resumedOpt = makeOptimizer(run, resumed);
      resumedOpt.loadStateDict(optState);
      for (let i = 2; i < 5; i++) trainStep(resumed, resumedOpt, x, labels);
      const a = reference.stateDict();
      const b = resumed.stateDict();
      for (const key of Object.keys(a)) expect(Array.from(values(b[key]!))).toEqual(Array.from(values(a[key]!)));

      for (const t of [x, labels, ...Object.values(modelState), ...Object.values(a), ...Object.values(b)]) t.dispose();
      for (const s of Object.values(optState.state)) for (const v of Object.values(s)) if (typeof v !== 'number') v.dispose();
      for (const o of [refOpt, firstOpt, resumedOpt]) (o.zeroGrad(), o.dispose());
      for (const n of [reference, first, resumed]) n.dispose();
    });
  }

  it('loadStateDict rejects a state dict from a different parameter layout', () => {
    const a = new Linear(3, 2);
    const b = new Linear(3, 4);
    const optA = new Adam(a.parameters(), { lr: 0.1 });
    const optB = new Adam(b.parameters(), { lr: 0.1 });
    for (const p of a.parameters()) p.grad = ones(p.shape);
    optA.step();
    const state = optA.stateDict();
    expect(() => optB.loadStateDict(state)).toThrow('Adam.loadStateDict: state "0.expAvg" has shape [2, 3], expected [4, 3] like its parameter');
    const twoGroups = new Adam([{ params: [b.weight] }, { params: [b.bias!] }], { lr: 0.1 });
    expect(() => twoGroups.loadStateDict(state)).toThrow('the state dict has 1 param groups, this optimizer 2');
    for (const s of Object.values(state.state)) for (const v of Object.values(s)) if (typeof v !== 'number') v.dispose();
    a.zeroGrad();
    for (const o of [optA, optB, twoGroups]) o.dispose();
    a.dispose();
    b.dispose();
  });
});

describe('optimizer options and groups', () => {
  it('weightDecayParamGroups puts >= 2-D tensors in the decayed group', () => {
    const net = new SmallNet();
    const [decay, noDecay] = weightDecayParamGroups(net, 0.1);
    const names = new Map(net.namedParameters().map(([k, p]) => [p, k]));
    expect(decay.params.map((p) => names.get(p))).toEqual(['fc1.weight', 'fc2.weight']);
    expect(noDecay.params.map((p) => names.get(p))).toEqual(['fc1.bias', 'fc2.bias']);
    expect([decay.weightDecay, noDecay.weightDecay]).toEqual([0.1, 0]);
    net.dispose();
  });

  it('weightDecayParamGroups takes a predicate that sees the name, the parameter and its owning module', () => {
    const net = new SmallNet();
    const calls: [string, number, string][] = [];
    const [decay, noDecay] = weightDecayParamGroups(net, 0.5, (name, parameter, owner) => {
      calls.push([name, parameter.rank, owner.constructor.name]);
      return name.startsWith('fc2.');
    });
    expect(calls).toEqual([
      ['fc1.weight', 2, 'Linear'],
      ['fc1.bias', 1, 'Linear'],
      ['fc2.weight', 2, 'Linear'],
      ['fc2.bias', 1, 'Linear'],
    ]);
    const same = (a: Tensor[], b: Tensor[]) => a.length === b.length && a.every((t, i) => t === b[i]);
    expect(same(decay.params, [net.fc2.weight, net.fc2.bias!])).toBe(true);
    expect(same(noDecay.params, [net.fc1.weight, net.fc1.bias!])).toBe(true);
    expect([decay.weightDecay, noDecay.weightDecay]).toEqual([0.5, 0]);
    net.dispose();
  });

  it('bad options and parameters give errors naming the option and group', () => {
    const net = new SmallNet();
    expect(() => new SGD(net.parameters(), { lr: -1 })).toThrow('SGD: param group 0: lr must be a number >= 0, got -1');
    expect(() => new SGD(net.parameters(), { lr: 0.1, nesterov: true })).toThrow('Nesterov momentum requires momentum > 0 and dampening 0');
    expect(() => new Adam([{ params: [net.fc1.weight] }, { params: [net.fc1.bias!], betas: [0.9, 1] }])).toThrow(
      'Adam: param group 1: betas[1] must be a number in [0, 0.9999999999999998], got 1',
    );
    expect(() => new AdamW([net.fc1.weight, net.fc1.weight])).toThrow('a parameter appears more than once');
    const derived = tidy(() => net.fc1.weight.mul(2));
    expect(() => new SGD([derived], { lr: 0.1 })).toThrow('not a leaf tensor');
    derived.dispose();
    expect(() => new SGD([], { lr: 0.1 })).toThrow('SGD: got an empty parameter list');
    net.dispose();
  });

  it('per-group options override the defaults, and parameters without gradients are skipped', () => {
    const a = new Linear(2, 2, { seed: 1 });
    const opt = new SGD([{ params: [a.weight], lr: 0.5 }, { params: [a.bias!] }], { lr: 0.1 });
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.5, 0.1]);
    const w0 = Array.from(values(a.weight));
    const b0 = Array.from(values(a.bias!));
    a.weight.grad = ones([2, 2]);
    opt.step();
    expectClose(values(a.weight), w0.map((v) => v - 0.5), 1e-6, 1e-6, 'weight');
    expect(Array.from(values(a.bias!))).toEqual(b0);
    opt.zeroGrad();
    opt.dispose();
    a.dispose();
  });

  it('step() marks a training step for the leak warning: a tensor kept per step is reported', () => {
    const a = new Linear(2, 2, { seed: 1 });
    const opt = new SGD(a.parameters(), { lr: 0.1 });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const leaked: Tensor[] = [];
    setLeakWarning({ steps: 3 });
    try {
      for (let i = 0; i < 4; i++) {
        const loss = tidy(() => a.forward(ones([1, 2])).sum());
        loss.backward();
        leaked.push(loss); // never disposed: one more live tensor per step
        opt.step();
        opt.zeroGrad();
      }
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/live tensors grew at each of the last 3 steps/);
    } finally {
      setLeakWarning(false);
      warn.mockRestore();
    }
    for (const t of leaked) t.dispose();
    opt.dispose();
    a.dispose();
  });
});
