import { Generator, memory, ones, randn, tensor, tidy } from '@gpt/tensor';
import { describe, expect, it } from 'vitest';
import { Conv2d, Dropout, Flatten, GELU, GlobalAvgPool2d, LayerNorm, Linear, ReLU, SELU, Sequential, Sigmoid, Tanh, type Layer } from '../src/index.js';
import { expectClose, fixture, fromEntry, values, type Entry } from './helpers.js';

interface LayerCase {
  name: string;
  type: 'linear' | 'conv2d' | 'layerNorm';
  in: number;
  out: number;
  bias: boolean;
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  size: number;
  eps: number;
  params: Record<string, Entry>;
  x: Entry;
  y: Entry;
  upstream: Entry;
  dx: Entry;
  grads: Record<string, Entry>;
}

function build(c: LayerCase): Layer {
  switch (c.type) {
    case 'linear':
      return new Linear(c.in, c.out, { bias: c.bias });
    case 'conv2d':
      return new Conv2d(c.in, c.out, c.kernel, { stride: c.stride, padding: c.padding, bias: c.bias });
    case 'layerNorm':
      return new LayerNorm(c.size, { eps: c.eps });
  }
}

describe('layers against PyTorch (forward, input and weight gradients)', () => {
  const { cases } = fixture<{ cases: LayerCase[] }>('layers.json');
  for (const c of cases) {
    it(c.name, () => {
      const layer = build(c);
      const dict = Object.fromEntries(Object.entries(c.params).map(([k, e]) => [k, fromEntry(e)]));
      layer.loadStateDict(dict);
      for (const t of Object.values(dict)) t.dispose();
      const before = memory().tensors;
      const x = fromEntry(c.x);
      x.requiresGrad = true;
      const upstream = fromEntry(c.upstream);
      const loss = tidy(() => {
        const y = layer.forward(x);
        expect(y.shape).toEqual(c.y.shape);
        expectClose(values(y), c.y.data, 1e-5, 1e-4, 'forward');
        return y.mul(upstream).sum();
      });
      loss.backward();
      expectClose(values(x.grad!), c.dx.data, 1e-5, 1e-4, 'input gradient');
      for (const [name, p] of layer.namedParameters()) {
        expectClose(values(p.grad!), c.grads[name]!.data, 1e-4, 1e-4, `${name} gradient`);
      }
      for (const t of [loss, x, upstream]) t.dispose();
      layer.zeroGrad();
      expect(memory().tensors).toBe(before);
      layer.dispose();
    });
  }
});

describe('layer behaviour', () => {
  it('Linear and Conv2d validate their inputs with the expected shape in the message', () => {
    const lin = new Linear(3, 2);
    const x = randn([4, 5]);
    expect(() => lin.forward(x)).toThrow('Linear.forward: input [4, 5] should end in 3 features');
    const conv = new Conv2d(3, 4, 3);
    expect(() => conv.forward(x)).toThrow('Conv2d.forward: input [4, 5] should be [N, 3, H, W]');
    expect(() => new Linear(0, 2)).toThrow('Linear: inFeatures must be a positive integer, got 0');
    x.dispose();
    lin.dispose();
    conv.dispose();
  });

  it('Dropout zeroes about p of the values and rescales the rest in training, and is the identity in eval', () => {
    const drop = new Dropout(0.25, { generator: new Generator(3) });
    const x = ones([4000]);
    const y = drop.forward(x);
    const v = values(y);
    const zeros = v.filter((a) => a === 0).length;
    expect(Math.abs(zeros / 4000 - 0.25)).toBeLessThan(0.03);
    expect(v.every((a) => a === 0 || Math.abs(a - 1 / 0.75) < 1e-6)).toBe(true);
    drop.eval();
    const z = drop.forward(x);
    expect(values(z).every((a) => a === 1)).toBe(true);
    for (const t of [x, y, z]) t.dispose();
  });

  it('activations, Flatten and GlobalAvgPool2d compute what their names say', () => {
    const x = tensor([-2, -0.5, 0, 0.5, 2]);
    const cases: [Layer, (v: number) => number][] = [
      [new ReLU(), (v) => Math.max(v, 0)],
      [new Tanh(), Math.tanh],
      [new Sigmoid(), (v) => 1 / (1 + Math.exp(-v))],
      [new SELU(), (v) => 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * (Math.exp(v) - 1))],
      // GELU(x) = x Phi(x); reference values of Phi from the standard normal table.
      [new GELU(), (v) => v * ({ '-2': 0.022750131948179, '-0.5': 0.308537538725987, '0': 0.5, '0.5': 0.691462461274013, '2': 0.977249868051821 } as Record<string, number>)[String(v)]!],
    ];
    for (const [layer, f] of cases) {
      const y = layer.forward(x);
      expectClose(values(y), [-2, -0.5, 0, 0.5, 2].map(f), 1e-6, 1e-5, layer.constructor.name);
      y.dispose();
    }
    x.dispose();
    const img = tensor(Float32Array.from({ length: 2 * 3 * 2 * 2 }, (_, i) => i), { shape: [2, 3, 2, 2] });
    const flat = new Flatten().forward(img);
    expect(flat.shape).toEqual([2, 12]);
    const pooled = new GlobalAvgPool2d().forward(img);
    expect(pooled.shape).toEqual([2, 3]);
    expect(Array.from(values(pooled))).toEqual([1.5, 5.5, 9.5, 13.5, 17.5, 21.5]);
    for (const t of [img, flat, pooled]) t.dispose();
  });

  it('Sequential chains layers without leaking intermediates, and its gradients flow to every layer', () => {
    const net = new Sequential(new Linear(3, 5, { seed: 1 }), new Tanh(), new Linear(5, 2, { seed: 2 }));
    const x = randn([4, 3], { seed: 3 });
    const before = memory().tensors;
    const loss = tidy(() => net.forward(x).square().mean());
    loss.backward();
    expect(net.parameters().every((p) => p.grad !== null)).toBe(true);
    loss.dispose();
    net.zeroGrad();
    expect(memory().tensors).toBe(before);
    expect(net.length).toBe(3);
    expect([...net].map((l) => l.constructor.name)).toEqual(['Linear', 'Tanh', 'Linear']);
    x.dispose();
    net.dispose();
  });

  it('the same seed builds the same layer; different seeds differ', () => {
    const a = new Linear(4, 3, { seed: 7 });
    const b = new Linear(4, 3, { seed: 7 });
    const c = new Linear(4, 3, { seed: 8 });
    expect(Array.from(values(a.weight))).toEqual(Array.from(values(b.weight)));
    expect(Array.from(values(a.bias!))).toEqual(Array.from(values(b.bias!)));
    expect(Array.from(values(a.weight))).not.toEqual(Array.from(values(c.weight)));
    for (const m of [a, b, c]) m.dispose();
  });
});
