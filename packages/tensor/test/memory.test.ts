// Memory discipline: a 1,000-step training loop holds memory() constant after its
// first step; tidy/keep/dispose/using semantics; the autograd tape releases what it
// saved, after backward() or when its output is dropped; disposed tensors fail loudly.

import {
  add,
  crossEntropy,
  exp,
  keep,
  matmul,
  memory,
  noGrad,
  ones,
  randint,
  randn,
  relu,
  resetPeakMemory,
  tanh,
  reshape,
  sub,
  mul,
  sum,
  tensor,
  tidy,
  valueAndGrad,
  zeros,
  type Tensor,
} from '@gpt/tensor';
import { describe, expect, it } from 'vitest';

function counters(): { tensors: number; buffers: number; bytes: number } {
  const { tensors, buffers, bytes } = memory();
  return { tensors, buffers, bytes };
}

/** A 2-layer MLP classifier on fixed random data: 32 points, 4 features, 3 classes. */
function makeProblem() {
  const x = randn([32, 4], { seed: 1 }); // [N, D]
  const labels = randint(0, 3, [32], { seed: 2 }); // [N]
  const init = (shape: number[], seed: number) => {
    const raw = randn(shape, { seed });
    const scaled = mul(raw, 0.5);
    raw.dispose();
    scaled.requiresGrad = true;
    return scaled;
  };
  const params = [init([4, 16], 3), zeros([16]), init([16, 3], 4), zeros([3])];
  for (const p of params) p.requiresGrad = true;
  return { x, labels, params };
}

function mlpLoss(x: Tensor, labels: Tensor, [w1, b1, w2, b2]: Tensor[]): Tensor {
  return tidy(() => {
    const hidden = relu(add(matmul(x, w1!), b1!)); // [N, H]
    const logits = add(matmul(hidden, w2!), b2!); // [N, C]
    return crossEntropy(logits, labels);
  });
}

/** One plain gradient step; the old parameters are disposed and replaced. */
function sgdStep(params: Tensor[], lr: number): Tensor[] {
  const updated = noGrad(() => tidy(() => params.map((p) => sub(p, mul(p.grad!, lr)))));
  for (const p of params) p.dispose();
  for (const p of updated) p.requiresGrad = true;
  return updated;
}

describe('a training loop', () => {
  it('1,000 steps of backward() + SGD leave memory() unchanged after the first step', () => {
    const { x, labels, params: initial } = makeProblem();
    let params = initial;
    const losses: number[] = [];
    let afterFirst = counters();
    for (let step = 0; step < 1000; step++) {
      const loss = mlpLoss(x, labels, params);
      loss.backward();
      if (step === 0 || step === 999) losses.push(loss.item());
      loss.dispose();
      params = sgdStep(params, 0.1);
      if (step === 0) afterFirst = counters();
    }
    expect(counters()).toEqual(afterFirst);
    // Only the data and the four parameters are alive.
    expect(counters().tensors).toBe(afterFirst.tensors);
    expect(losses[1]!).toBeLessThan(losses[0]! * 0.8);
    const before = counters().tensors;
    for (const t of [x, labels, ...params]) t.dispose();
    expect(counters().tensors).toBe(before - 6);
  });

  it('1,000 steps with valueAndGrad leave memory() unchanged after the first step', () => {
    const { x, labels, params: initial } = makeProblem();
    for (const p of initial) p.requiresGrad = false;
    let params = initial;
    const lossAndGrads = valueAndGrad((...ps: Tensor[]) => mlpLoss(x, labels, ps));
    let afterFirst = counters();
    for (let step = 0; step < 1000; step++) {
      const { value, grads } = lossAndGrads(...params);
      const updated = noGrad(() => tidy(() => params.map((p, i) => sub(p, mul(grads[i]!, 0.1)))));
      for (const t of [value, ...grads, ...params]) t.dispose();
      params = updated;
      if (step === 0) afterFirst = counters();
    }
    expect(counters()).toEqual(afterFirst);
    for (const t of [x, labels, ...params]) t.dispose();
  });

  it('the CPU backend reports the same bytes as the engine counters', () => {
    const before = memory();
    const t = ones([10, 10]);
    const after = memory();
    expect(after.bytes - before.bytes).toBe(400);
    expect(after.devices.cpu!.bytes - before.devices.cpu!.bytes).toBe(400);
    t.dispose();
    expect(memory().devices.cpu!.bytes).toBe(before.devices.cpu!.bytes);
  });
});

describe('tidy', () => {
  it('disposes intermediates and keeps what it returns', () => {
    const before = counters().tensors;
    const result = tidy(() => {
      const a = ones([3]);
      const b = add(a, 1);
      return mul(b, 2);
    });
    expect(counters().tensors).toBe(before + 1);
    expect(Array.from(result.dataSync())).toEqual([4, 4, 4]);
    result.dispose();
    expect(counters().tensors).toBe(before);
  });

  it('keeps tensors returned inside arrays, objects and maps', () => {
    const before = counters().tensors;
    const { list, record, map } = tidy(() => {
      const scratch = ones([2]);
      return { list: [add(scratch, 1), add(scratch, 2)], record: { inner: add(scratch, 3) }, map: new Map([['k', add(scratch, 4)]]) };
    });
    expect(counters().tensors).toBe(before + 4);
    for (const t of [...list, record.inner, map.get('k')!]) t.dispose();
    expect(counters().tensors).toBe(before);
  });

  it('nests: the inner result belongs to the outer scope', () => {
    const before = counters().tensors;
    let inner: Tensor | undefined;
    const outer = tidy(() => {
      inner = tidy(() => add(ones([2]), 1));
      expect(inner.isDisposed).toBe(false);
      return mul(inner, 3);
    });
    expect(inner!.isDisposed).toBe(true);
    expect(Array.from(outer.dataSync())).toEqual([6, 6]);
    outer.dispose();
    expect(counters().tensors).toBe(before);
  });

  it('keep() lets a tensor outlive every enclosing scope', () => {
    const before = counters().tensors;
    let kept: Tensor | undefined;
    tidy(() => {
      tidy(() => {
        kept = keep(ones([4]));
        ones([4]);
      });
    });
    expect(kept!.isDisposed).toBe(false);
    expect(counters().tensors).toBe(before + 1);
    kept!.dispose();
  });

  it('tensors created before the scope are untouched', () => {
    const outside = ones([2]);
    tidy(() => add(outside, 1).dispose());
    expect(outside.isDisposed).toBe(false);
    outside.dispose();
  });

  it('rejects async functions, disposing what they created synchronously', async () => {
    const before = counters().tensors;
    expect(() =>
      tidy(async () => {
        ones([2]);
        return 1;
      }),
    ).toThrow(/tidy: the function returned a Promise/);
    expect(counters().tensors).toBe(before);
  });

  it('disposes intermediates when the function throws', () => {
    const before = counters().tensors;
    expect(() =>
      tidy(() => {
        ones([3]);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(counters().tensors).toBe(before);
  });
});

describe('dispose', () => {
  it('is idempotent', () => {
    const before = counters();
    const t = ones([5]);
    t.dispose();
    t.dispose();
    expect(counters()).toEqual(before);
    expect(t.isDisposed).toBe(true);
  });

  it('works with using declarations (Symbol.dispose)', () => {
    const before = counters();
    let outer: Tensor[] = [];
    {
      using t = ones([3]);
      using u = add(t, 1);
      expect(counters().tensors).toBe(before.tensors + 2);
      // Alive and correct inside the block...
      expect(u.toArray()).toEqual([2, 2, 2]);
      outer = [t, u];
    }
    // ...and disposed when it ends.
    expect(outer.map((x) => x.isDisposed)).toEqual([true, true]);
    expect(counters()).toEqual(before);
  });

  it('views share one buffer that lives until the last handle goes', () => {
    const before = counters();
    const t = tensor([1, 2, 3, 4, 5, 6]);
    const view = reshape(t, [2, 3]);
    expect(counters().buffers).toBe(before.buffers + 1);
    t.dispose();
    expect(Array.from(view.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    view.dispose();
    expect(counters()).toEqual(before);
  });

  it('using a disposed tensor throws an error naming the op and the tensor', async () => {
    const t = ones([3]);
    t.dispose();
    expect(() => add(t, 1)).toThrow(/add: tensor #\d+ \[3\] was disposed and cannot be used/);
    expect(() => t.dataSync()).toThrow(/dataSync: tensor #\d+ \[3\] was disposed/);
    expect(() => t.detach()).toThrow(/detach: tensor #\d+ \[3\] was disposed/);
    await expect(t.data()).rejects.toThrow(/data: tensor #\d+ \[3\] was disposed/);
    expect(String(t)).toMatch(/Tensor\(disposed, shape=\[3\]/);
  });

  it('disposing a tensor also disposes its gradient', () => {
    const before = counters();
    const x = ones([3]);
    x.requiresGrad = true;
    const y = tidy(() => sum(mul(x, x)));
    y.backward();
    expect(x.grad).not.toBeNull();
    y.dispose();
    x.dispose();
    expect(counters()).toEqual(before);
  });
});

describe('the autograd tape', () => {
  it('backward() frees the tensors the tape saved', () => {
    const x = tensor([1, 2, 3]);
    x.requiresGrad = true;
    const base = counters();
    // The intermediates are disposed by tidy, but the tape keeps what backward needs.
    const y = tidy(() => sum(mul(add(x, 1), add(x, 2))));
    const beforeBackward = counters();
    expect(beforeBackward.tensors).toBeGreaterThan(base.tensors + 1);
    y.backward();
    // Left: y and x.grad (x existed before).
    expect(counters().tensors).toBe(base.tensors + 2);
    expect(counters().buffers).toBe(base.buffers + 2);
    expect(Array.from(x.grad!.dataSync())).toEqual([5, 7, 9]);
    y.dispose();
    x.dispose();
  });

  it('10 chained adds on a 4 MiB tensor hold no bytes beyond the result (add saves nothing for backward)', () => {
    const x = zeros([1024 * 1024]); // [1M] float32: 4 MiB
    x.requiresGrad = true;
    const base = counters();
    let y = x;
    for (let i = 0; i < 10; i++) {
      const next = add(y, x);
      if (y !== x) y.dispose();
      y = next;
    }
    expect(counters().bytes).toBe(base.bytes + 4 * 1024 * 1024);
    y.backward(ones([1024 * 1024]));
    expect(Array.from(x.grad!.dataSync().subarray(0, 3))).toEqual([11, 11, 11]);
    y.dispose();
    x.dispose();
  });

  it('the tape keeps only what each rule reads: exp its output, mul its inputs, not the intermediate between them', () => {
    const x = ones([1000]);
    x.requiresGrad = true;
    const base = counters();
    // mul saves x and the scalar 3 (4 bytes); exp saves its output, which is y itself.
    const y = tidy(() => exp(mul(x, 3)));
    expect(counters().bytes).toBe(base.bytes + 4000 + 4);
    y.backward(ones([1000]));
    expect(x.grad!.dataSync()[0]).toBeCloseTo(3 * Math.exp(3), 3);
    y.dispose();
    x.dispose();
  });

  it('backward() frees each gradient once its node has used it: peak = saved tensors + gradients in flight', () => {
    const n = 256 * 1024; // [256K] float32: 1 MiB
    const mib = 4 * n;
    const x = zeros([n]);
    x.requiresGrad = true;
    // 10 chained tanh: each saves its output (10 MiB on the tape); nothing else stays live.
    const y = tidy(() => {
      let h = x;
      for (let i = 0; i < 10; i++) h = tanh(h);
      return h;
    });
    const seed = ones([n]);
    const before = counters().bytes;
    resetPeakMemory();
    y.backward(seed);
    // Each tanh rule makes g (1 - y^2) through 3 temporaries; kept until the end they would
    // add ~40 MiB. Freed as it goes, the peak stays within a few gradients of 1 MiB.
    expect(memory().peakBytes - before).toBeLessThanOrEqual(5 * mib);
    expect(x.grad!.dataSync()[0]).toBe(1);
    // The tape's saved outputs went with backward, except the last, which is y's own
    // buffer (9 MiB freed); x.grad (1 MiB) was added.
    expect(counters().bytes).toBe(before - 8 * mib);
    for (const t of [y, seed, x]) t.dispose();
  });

  it('backward() with retainGraph keeps them until the output is disposed', () => {
    const x = tensor([1, 2]);
    x.requiresGrad = true;
    const base = counters();
    const y = tidy(() => sum(mul(x, x)));
    const built = counters();
    y.backward(undefined, { retainGraph: true });
    expect(counters().tensors).toBe(built.tensors + 1); // + x.grad
    y.dispose();
    expect(counters().tensors).toBe(base.tensors + 1);
    x.dispose();
  });

  it('disposing an output that never ran backward releases the whole graph behind it', () => {
    const x = randn([4, 3], { seed: 1 });
    x.requiresGrad = true;
    const w = randn([3, 2], { seed: 2 });
    w.requiresGrad = true;
    const base = counters();
    const y = tidy(() => sum(relu(matmul(x, w))));
    expect(counters().tensors).toBeGreaterThan(base.tensors + 1);
    y.dispose();
    expect(counters()).toEqual(base);
    x.dispose();
    w.dispose();
  });

  it('an intermediate kept alive by the user still releases the nodes behind it once both go', () => {
    const x = tensor([1, 2, 3]);
    x.requiresGrad = true;
    const base = counters();
    const h = mul(x, 2);
    const y = tidy(() => sum(mul(h, h)));
    y.dispose();
    h.dispose();
    expect(counters()).toEqual(base);
    x.dispose();
  });
});

describe('to(device) on the same device', () => {
  it('returns a handle that tidy tracks and frees', async () => {
    const { tensor, tidy, memory } = await import('@gpt/tensor');
    const x = tensor([1, 2, 3]);
    const before = memory().tensors;
    const kept = tidy(() => {
      x.to('cpu');
      return x.to(x.device);
    });
    expect(memory().tensors).toBe(before + 1);
    expect(kept.toArray()).toEqual([1, 2, 3]);
    kept.dispose();
    expect(x.toArray()).toEqual([1, 2, 3]);
    x.dispose();
  });
});
