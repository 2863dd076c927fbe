// Autograd semantics beyond single-op gradients: accumulation, noGrad, valueAndGrad,
// detach, fan-out, disposed leaves, retainGraph, ties, broadcasting and deep graphs.

import {
  add,
  argmax,
  backward,
  exp,
  isGradEnabled,
  matmul,
  max,
  maximum,
  memory,
  mul,
  noGrad,
  ones,
  sin,
  sum,
  tensor,
  tidy,
  valueAndGrad,
  type Tensor,
} from '@gpt/tensor';
import { describe, expect, it } from 'vitest';

function leaf(values: number[] | number[][]): Tensor {
  const t = tensor(values);
  t.requiresGrad = true;
  return t;
}

const gradOf = (t: Tensor): number[] => Array.from(t.grad!.dataSync());
const closeTo = (actual: number[], expected: number[]) => actual.forEach((a, i) => expect(a).toBeCloseTo(expected[i]!, 5));

describe('autograd', () => {
  it('gradients accumulate across two backward() calls on separate graphs', () => {
    const x = leaf([1, 2, 3]);
    const y1 = tidy(() => sum(mul(x, x)));
    y1.backward();
    closeTo(gradOf(x), [2, 4, 6]);
    const y2 = tidy(() => sum(mul(x, 3)));
    y2.backward();
    closeTo(gradOf(x), [5, 7, 9]);
    for (const t of [x, y1, y2]) t.dispose();
  });

  it('retainGraph lets the same graph run backward twice, accumulating', () => {
    const x = leaf([0.5, -1]);
    const y = tidy(() => sum(exp(x)));
    y.backward(undefined, { retainGraph: true });
    y.backward();
    closeTo(gradOf(x), [2 * Math.exp(0.5), 2 * Math.exp(-1)]);
    for (const t of [x, y]) t.dispose();
  });

  it('a tensor used twice gets the sum of both paths (x*x + x, and a diamond)', () => {
    const x = leaf([1, -2, 3]);
    const y = tidy(() => sum(add(mul(x, x), x)));
    y.backward();
    closeTo(gradOf(x), [3, -3, 7]);
    x.grad!.dispose();
    x.grad = null;
    // Diamond: h = sin(x) feeds two branches that meet again.
    const z = tidy(() => {
      const h = sin(x);
      return sum(mul(mul(h, 2), mul(h, h)));
    });
    z.backward();
    closeTo(gradOf(x), [1, -2, 3].map((v) => 6 * Math.sin(v) ** 2 * Math.cos(v)));
    for (const t of [x, y, z]) t.dispose();
  });

  it('gradients of broadcast inputs are summed back to their shapes', () => {
    const a = leaf([[1], [2], [3]]); // [3, 1]
    const b = leaf([10, 20, 30, 40]); // [4]
    const y = tidy(() => sum(mul(add(a, b), tensor([[1, 1, 1, 1], [2, 2, 2, 2], [3, 3, 3, 3]]))));
    y.backward();
    expect(a.grad!.shape).toEqual([3, 1]);
    expect(b.grad!.shape).toEqual([4]);
    closeTo(gradOf(a), [4, 8, 12]);
    closeTo(gradOf(b), [6, 6, 6, 6]);
    for (const t of [a, b, y]) t.dispose();
  });

  it('only inputs that require grad get one; outputs require grad iff an input does', () => {
    const x = leaf([1, 2]);
    const c = tensor([3, 4]);
    const y = mul(x, c);
    expect(y.requiresGrad).toBe(true);
    const z = mul(c, c);
    expect(z.requiresGrad).toBe(false);
    const s = tidy(() => sum(y));
    s.backward();
    expect(c.grad).toBeNull();
    closeTo(gradOf(x), [3, 4]);
    for (const t of [x, c, y, z, s]) t.dispose();
  });

  it('noGrad records nothing and restores the mode, also after a throw', () => {
    const x = leaf([1, 2]);
    const before = memory().tensors;
    const y = noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      return mul(x, x);
    });
    expect(isGradEnabled()).toBe(true);
    expect(y.requiresGrad).toBe(false);
    expect(y.node).toBeNull();
    // No saved tensors: just y itself.
    expect(memory().tensors).toBe(before + 1);
    expect(() =>
      noGrad(() => {
        throw new Error('inside');
      }),
    ).toThrow('inside');
    expect(isGradEnabled()).toBe(true);
    for (const t of [x, y]) t.dispose();
  });

  it('detach cuts the graph but shares the data', () => {
    const x = leaf([2, 3]);
    const d = x.detach();
    expect(d.requiresGrad).toBe(false);
    expect(Array.from(d.dataSync())).toEqual([2, 3]);
    // y = x * detach(x): the detached factor is a constant, so dy/dx = x, not 2x.
    const y = tidy(() => sum(mul(x, d)));
    y.backward();
    closeTo(gradOf(x), [2, 3]);
    for (const t of [x, d, y]) t.dispose();
  });

  it('valueAndGrad returns the value and every gradient without touching .grad', () => {
    const a = tensor([[1, 2], [3, 4]]);
    const b = tensor([0.5, -1]);
    const unused = tensor([7]);
    const f = valueAndGrad((p: Tensor, q: Tensor, _r: Tensor) => tidy(() => sum(mul(matmul(p, q), matmul(p, q)))));
    const before = memory().tensors;
    const { value, grads } = f(a, b, unused);
    // p q = [-1.5, -2.5]; value = 2.25 + 6.25.
    expect(value.item()).toBeCloseTo(8.5, 5);
    expect(value.requiresGrad).toBe(false);
    // d/dp = 2 (p q) q^T, d/dq = 2 p^T (p q); a function ignoring an argument gives zeros for it.
    closeTo(Array.from(grads[0]!.dataSync()), [-1.5, 3, -2.5, 5]);
    closeTo(Array.from(grads[1]!.dataSync()), [2 * (1 * -1.5 + 3 * -2.5), 2 * (2 * -1.5 + 4 * -2.5)]);
    expect(Array.from(grads[2]!.dataSync())).toEqual([0]);
    expect(a.grad).toBeNull();
    expect(a.requiresGrad).toBe(false);
    expect(memory().tensors).toBe(before + 4);
    for (const t of [a, b, unused, value, ...grads]) t.dispose();
  });

  it('leaves and intermediates disposed before backward() still get/give their gradients', () => {
    const x = leaf([1, 2, 3]);
    const w = leaf([0.5, 0.25, 2]);
    const y = tidy(() => sum(mul(exp(x), w)));
    // x is gone before backward: its gradient is dropped, but w's still arrives.
    x.dispose();
    y.backward();
    closeTo(gradOf(w), [1, 2, 3].map(Math.exp));
    for (const t of [w, y]) t.dispose();
  });

  it('max splits the gradient evenly between tied maxima; maximum halves on ties', () => {
    const x = leaf([1, 3, 3, 2]);
    const y = max(x);
    y.backward();
    expect(gradOf(x)).toEqual([0, 0.5, 0.5, 0]);
    const a = leaf([1, 2, 3]);
    const b = leaf([1, 5, 0]);
    const z = tidy(() => sum(maximum(a, b)));
    z.backward();
    expect(gradOf(a)).toEqual([0.5, 0, 1]);
    expect(gradOf(b)).toEqual([0.5, 1, 0]);
    for (const t of [x, y, a, b, z]) t.dispose();
  });

  it('integer and bool results end the graph instead of failing', () => {
    const x = leaf([1, 5, 2]);
    const index = argmax(x);
    expect(index.dtype).toBe('int32');
    expect(index.requiresGrad).toBe(false);
    for (const t of [x, index]) t.dispose();
  });

  it('backward() of a leaf gives it a gradient of ones; an explicit gradient seeds non-scalars', () => {
    const x = leaf([4]);
    x.backward();
    expect(gradOf(x)).toEqual([1]);
    const v = leaf([1, 2]);
    const y = mul(v, v);
    const seed = tensor([1, -1]);
    backward(y, seed);
    expect(gradOf(v)).toEqual([2, -4]);
    for (const t of [x, v, y, seed]) t.dispose();
  });

  it('a 5,000-op chain runs backward without exhausting the stack', () => {
    const x = leaf([1]);
    const before = memory().tensors;
    let y: Tensor = x;
    for (let i = 0; i < 5000; i++) {
      const next = mul(y, 1.0001);
      if (y !== x) y.dispose();
      y = next;
    }
    y.backward();
    expect(gradOf(x)[0]).toBeCloseTo(1.0001 ** 5000, 2);
    y.dispose();
    expect(memory().tensors).toBe(before + 1); // x.grad
    x.dispose();
  });

  it('ones() inputs never require grad by default', () => {
    const t = ones([2]);
    expect(t.requiresGrad).toBe(false);
    expect(t.grad).toBeNull();
    t.dispose();
  });
});
