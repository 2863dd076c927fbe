// Dropout's statistics and seeding on every device: the drop rate is p, kept
// values are scaled by 1/(1-p) so the mean is preserved, and masks depend only
// on the seed (or advance with a generator).

import { dropout, Generator, getBackend, memory, ones, type Tensor } from '@gpt/tensor';
import { expect, it } from 'vitest';
import { describeEachDevice } from '../device-suite.js';

const N = 100_000;

async function read(t: Tensor): Promise<number[]> {
  const values = Array.from(await t.data());
  t.dispose();
  return values;
}

describeEachDevice((device) => {
  it('p 0 and training false are views of the input: no kernel runs, and the values and gradient pass through', async () => {
    const x = ones([4, 3], { device: device.device });
    x.requiresGrad = true;
    const backend = getBackend(device.device);
    const original = backend.run;
    const ran: string[] = [];
    backend.run = ((...args: Parameters<typeof original>) => {
      ran.push(args[0]);
      return original.apply(backend, args);
    }) as typeof original;
    let outputs: Tensor[];
    try {
      outputs = [dropout(x, 0, { seed: 1 }), dropout(x, 0.5, { training: false })];
    } finally {
      backend.run = original;
    }
    expect(ran).toEqual([]);
    for (const y of outputs) {
      expect(y).not.toBe(x);
      expect(await y.data()).toEqual(new Float32Array(12).fill(1));
    }
    outputs[0]!.backward(ones([4, 3], { device: device.device }));
    expect(await x.grad!.data()).toEqual(new Float32Array(12).fill(1));
    for (const t of [...outputs, x.grad!, x]) t.dispose();
  });

  it.each([0.1, 0.5, 0.9])('drops a fraction p = %s and scales the rest by 1/(1-p)', async (p) => {
    const x = ones([N], { device: device.device });
    const y = await read(dropout(x, p, { seed: 17 }));
    x.dispose();
    const zeros = y.filter((v) => v === 0).length;
    // 5 standard errors of a binomial proportion.
    expect(Math.abs(zeros / N - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / N));
    const scale = Math.fround(1 / Math.fround(1 - p));
    expect(y.filter((v) => v !== 0 && Math.abs(v - scale) > 1e-6 * scale)).toEqual([]);
    const mean = y.reduce((a, b) => a + b, 0) / N;
    expect(Math.abs(mean - 1)).toBeLessThan(5 * Math.sqrt(p / (1 - p) / N));
  });

  it('the same seed gives the same mask, another seed another', async () => {
    const x = ones([4096], { device: device.device });
    const a = await read(dropout(x, 0.5, { seed: 1 }));
    expect(await read(dropout(x, 0.5, { seed: 1 }))).toEqual(a);
    expect(await read(dropout(x, 0.5, { seed: 2 }))).not.toEqual(a);
    x.dispose();
  });

  it('a generator gives a fresh mask per call, reproducible from its state', async () => {
    const x = ones([4096], { device: device.device });
    const g = new Generator(5);
    const state = g.getState();
    const first = await read(dropout(x, 0.3, { generator: g }));
    const second = await read(dropout(x, 0.3, { generator: g }));
    expect(second).not.toEqual(first);
    g.setState(state);
    expect(await read(dropout(x, 0.3, { generator: g }))).toEqual(first);
    x.dispose();
  });

  it('in evaluation mode it returns a copy and draws nothing', async () => {
    const x = ones([64], { device: device.device });
    const g = new Generator(5);
    const before = memory().tensors;
    const y = dropout(x, 0.7, { training: false, generator: g });
    expect(y).not.toBe(x);
    expect(await read(y)).toEqual(new Array(64).fill(1));
    expect(g.getState().counter).toBe(0);
    expect(memory().tensors).toBe(before);
    x.dispose();
  });
});
