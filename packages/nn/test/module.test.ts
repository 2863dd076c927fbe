import { memory, ones, randn, tensor, tidy, type Tensor } from '@gpt/tensor';
import { describe, expect, it } from 'vitest';
import {
  Conv2d,
  Dropout,
  GlobalAvgPool2d,
  Linear,
  Module,
  parameter,
  buffer,
  ReLU,
  SELU,
  Sequential,
  flattenParameters,
  loadFlat,
  parameterSizes,
} from '../src/index.js';
import { expectClose, fixture, fromEntry, values, type Entry } from './helpers.js';

class MLP extends Module {
  fc1 = new Linear(784, 10);
  fc2 = new Linear(10, 10);
  forward(x: Tensor): Tensor {
    return tidy(() => this.fc2.forward(this.fc1.forward(x.reshape([x.shape[0]!, 784])).relu()));
  }
}

class ConvNet extends Module {
  conv1 = new Conv2d(3, 16, 3, { stride: 2, padding: 1, bias: false });
  conv2 = new Conv2d(16, 32, 3, { stride: 1, padding: 1, bias: false });
  gap = new GlobalAvgPool2d();
  fc = new Linear(32, 10);
  forward(x: Tensor): Tensor {
    return tidy(() => this.fc.forward(this.gap.forward(this.conv2.forward(this.conv1.forward(x).relu()).relu())));
  }
}

class ActorCritic extends Module {
  actor = new Sequential(new Linear(4, 32), new SELU(), new Linear(32, 32), new SELU(), new Linear(32, 1));
  // Declared after actor, yet first in the state dict: own parameters come first, as in PyTorch.
  log_std = parameter(tensor([0]));
  forward(x: Tensor): Tensor {
    return this.actor.forward(x);
  }
}

interface NetFixture {
  name: string;
  keys: string[];
  shapes: number[][];
  parameterCount: number;
  stateDict: Record<string, number[]>;
  x: Entry;
  y: Entry;
}
const { nets } = fixture<{ nets: NetFixture[] }>('state-dicts.json');
const builders: Record<string, () => Module & { forward(x: Tensor): Tensor }> = {
  mlp: () => new MLP(),
  convnet: () => new ConvNet(),
  actorCritic: () => new ActorCritic(),
};

describe('state dicts match PyTorch', () => {
  for (const net of nets) {
    it(`${net.name}: keys, order, shapes and parameter count`, () => {
      const model = builders[net.name]!();
      expect(model.stateShapes().map(([k]) => k)).toEqual(net.keys);
      expect(model.stateShapes().map(([, s]) => [...s])).toEqual(net.shapes);
      expect(model.parameterCount).toBe(net.parameterCount);
      expect(parameterSizes(model)).toEqual(net.shapes.map((s) => s.reduce((a, b) => a * b, 1)));
      model.dispose();
    });

    it(`${net.name}: loading PyTorch's weights reproduces its output, and stateDict gives them back`, () => {
      const model = builders[net.name]!();
      const dict = Object.fromEntries(
        net.keys.map((k, i) => [k, tensor(new Float32Array(net.stateDict[k]!), { shape: net.shapes[i] })]),
      );
      model.loadStateDict(dict);
      for (const t of Object.values(dict)) t.dispose();
      const before = memory().tensors;
      const x = fromEntry(net.x);
      const y = model.forward(x);
      expectClose(values(y), net.y.data, 1e-5, 1e-4, `${net.name} output`);
      x.dispose();
      y.dispose();
      const back = model.stateDict();
      expect(Object.keys(back)).toEqual(net.keys);
      for (const k of net.keys) expect(Array.from(values(back[k]!))).toEqual(Array.from(new Float32Array(net.stateDict[k]!)));
      for (const t of Object.values(back)) t.dispose();
      expect(memory().tensors).toBe(before);
      model.dispose();
    });
  }
});

describe('Module', () => {
  it('names children of arrays like a ModuleList and nested Sequentials like PyTorch', () => {
    class Block extends Module {
      ln = new Linear(2, 2);
    }
    class Net extends Module {
      blocks = [new Block(), new Block()];
      head = new Sequential(new Linear(2, 3), new ReLU(), new Sequential(new Linear(3, 1, { bias: false })));
    }
    const net = new Net();
    expect(net.namedParameters().map(([k]) => k)).toEqual([
      'blocks.0.ln.weight',
      'blocks.0.ln.bias',
      'blocks.1.ln.weight',
      'blocks.1.ln.bias',
      'head.0.weight',
      'head.0.bias',
      'head.2.0.weight',
    ]);
    expect(net.namedModules().map(([k]) => k)).toEqual(['', 'blocks.0', 'blocks.0.ln', 'blocks.1', 'blocks.1.ln', 'head', 'head.0', 'head.1', 'head.2', 'head.2.0']);
    net.dispose();
  });

  it('keeps buffers in the state dict but not in parameters, after the parameters of the same module', () => {
    class WithBuffer extends Module {
      count = buffer(tensor([3]));
      weight = parameter(ones([2]));
    }
    const m = new WithBuffer();
    expect(m.namedParameters().map(([k]) => k)).toEqual(['weight']);
    expect(m.namedBuffers().map(([k]) => k)).toEqual(['count']);
    expect(m.stateShapes().map(([k]) => k)).toEqual(['weight', 'count']);
    expect(m.parameterCount).toBe(2);
    m.dispose();
  });

  it('counts a shared parameter once and lists it under its first name', () => {
    class Tied extends Module {
      a = new Linear(3, 3);
      b = new Linear(3, 3);
      constructor() {
        super();
        this.b.weight.dispose();
        this.b.weight = this.a.weight;
      }
    }
    const m = new Tied();
    expect(m.namedParameters().map(([k]) => k)).toEqual(['a.weight', 'a.bias', 'b.bias']);
    expect(m.parameterCount).toBe(9 + 3 + 3);
    m.dispose();
  });

  it('parameters are leaves that require grad and survive tidy', () => {
    const lin = tidy(() => new Linear(3, 2));
    expect(lin.weight.isDisposed).toBe(false);
    expect(lin.weight.requiresGrad).toBe(true);
    expect(lin.weight.node).toBeNull();
    lin.dispose();
  });

  it('train() and eval() switch every descendant', () => {
    const net = new Sequential(new Linear(2, 2), new Sequential(new Dropout(0.5)));
    net.eval();
    expect(net.modules().every((m) => !m.training)).toBe(true);
    net.train();
    expect(net.modules().every((m) => m.training)).toBe(true);
    net.dispose();
  });

  it('loadStateDict names missing, unexpected and mis-shaped keys and changes nothing', () => {
    const model = new MLP();
    const original = flattenParameters(model);
    const dict = model.stateDict();
    const wrong = randn([10, 783]);
    const extra = randn([1]);
    const bad = { ...dict, 'fc1.weight': wrong, 'fc3.bias': extra } as Record<string, Tensor>;
    delete bad['fc2.bias'];
    let message = '';
    try {
      model.loadStateDict(bad);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('missing keys: fc2.bias');
    expect(message).toContain('unexpected keys: fc3.bias');
    expect(message).toContain('"fc1.weight" has shape [10, 783], expected [10, 784]');
    const after = flattenParameters(model);
    expect(Array.from(values(after))).toEqual(Array.from(values(original)));
    // Non-strict loading skips missing and unexpected keys but still refuses wrong shapes.
    expect(() => model.loadStateDict({ 'fc3.bias': extra }, { strict: false })).not.toThrow();
    expect(() => model.loadStateDict({ 'fc1.weight': wrong }, { strict: false })).toThrow(/"fc1.weight" has shape/);
    for (const t of [original, after, wrong, extra, ...Object.values(dict)]) t.dispose();
    model.dispose();
  });

  it('stateDict is a snapshot: later parameter updates do not change it', () => {
    const lin = new Linear(2, 2);
    const dict = lin.stateDict();
    const before = Array.from(values(dict.weight!));
    const replacement = ones([2, 2]);
    lin.weight.assign(replacement);
    replacement.dispose();
    expect(Array.from(values(dict.weight!))).toEqual(before);
    expect(Array.from(values(lin.weight))).toEqual([1, 1, 1, 1]);
    for (const t of Object.values(dict)) t.dispose();
    lin.dispose();
  });
});

describe('flat parameter vectors', () => {
  it('flattenParameters concatenates the state dict in order; loadFlat inverts it', () => {
    const net = nets.find((n) => n.name === 'actorCritic')!;
    const model = new ActorCritic();
    const expected = net.keys.flatMap((k) => net.stateDict[k]!);
    const before = memory().tensors;
    const vector = tensor(new Float32Array(expected));
    loadFlat(model, vector);
    expect(memory().tensors).toBe(before + 1);
    const flat = flattenParameters(model);
    expect(flat.shape).toEqual([1250]);
    expect(Array.from(values(flat))).toEqual(Array.from(new Float32Array(expected)));
    // And the loaded network computes PyTorch's output.
    const x = fromEntry(net.x);
    const y = model.forward(x);
    expectClose(values(y), net.y.data, 1e-5, 1e-4, 'actor output');
    for (const t of [vector, flat, x, y]) t.dispose();
    expect(memory().tensors).toBe(before);
    model.dispose();
  });

  it('loadFlat rejects a vector of the wrong length, naming both sizes', () => {
    const model = new MLP();
    const v = randn([7959]);
    expect(() => loadFlat(model, v)).toThrow('loadFlat: expected a vector of 7960 values for MLP, got shape [7959]');
    v.dispose();
    model.dispose();
  });
});
