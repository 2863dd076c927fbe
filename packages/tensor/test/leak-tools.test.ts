// Tools for finding leaks: liveTensorsSince(memoryMark()) lists what was created and is
// still alive, memory().peakBytes the high-water mark since resetPeakMemory(), and the
// opt-in leak warning fires when live tensors grow at every one of N markStep() calls.

import {
  add,
  exp,
  liveTensorsSince,
  markStep,
  memory,
  memoryMark,
  mul,
  ones,
  resetPeakMemory,
  setLeakWarning,
  sum,
  tensor,
  tidy,
  zeros,
  type Tensor,
} from '@gpt/tensor';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';

describe('liveTensorsSince', () => {
  it('lists the tensors created after the mark that are still alive, with the op that made them', () => {
    const before = ones([1]);
    const mark = memoryMark();
    const a = tensor([[1, 2, 3]]);
    const b = zeros([2, 2], { dtype: 'int32' });
    const gone = add(a, 1);
    const c = mul(a, 2);
    gone.dispose();
    expect(liveTensorsSince(mark)).toEqual([
      { id: a.id, op: 'tensor', shape: [1, 3], dtype: 'float32', device: 'cpu', savedForBackward: false },
      { id: b.id, op: 'fill', shape: [2, 2], dtype: 'int32', device: 'cpu', savedForBackward: false },
      // mul(a, 2) made the scalar 2 and disposed it again.
      { id: c.id, op: 'mul', shape: [1, 3], dtype: 'float32', device: 'cpu', savedForBackward: false },
    ]);
    for (const t of [before, a, b, c]) t.dispose();
  });

  it('marks the handles the autograd tape keeps, and loses them with the graph', () => {
    const x = ones([4]);
    x.requiresGrad = true;
    const mark = memoryMark();
    const y = tidy(() => sum(exp(x)));
    const saved = liveTensorsSince(mark).filter((t) => t.savedForBackward);
    expect(saved.map((t) => t.op)).toEqual(['exp']); // exp keeps its output; sum keeps nothing
    y.dispose();
    expect(liveTensorsSince(mark)).toEqual([]);
    x.dispose();
  });
});

describe('memory().peakBytes', () => {
  it('is the most bytes live at once since resetPeakMemory()', () => {
    const base = memory().bytes;
    resetPeakMemory();
    expect(memory().peakBytes).toBe(base);
    const big = zeros([1000]); // 4000 bytes
    big.dispose();
    const small = zeros([10]); // 40 bytes
    expect(memory().bytes).toBe(base + 40);
    expect(memory().peakBytes).toBe(base + 4000);
    resetPeakMemory();
    expect(memory().peakBytes).toBe(base + 40);
    small.dispose();
  });
});

describe('the leak warning', () => {
  afterEach(() => {
    setLeakWarning(false);
    vi.restoreAllMocks();
  });

  const source = ones([2, 2]);
  afterAll(() => source.dispose());

  /** `count` training-like steps; each leaks `leakPerStep` tensors of mul [2, 2]. */
  function runSteps(count: number, leakPerStep: number): Tensor[] {
    const leaked: Tensor[] = [];
    for (let step = 0; step < count; step++) {
      tidy(() => void mul(ones([8]), 2)); // a clean step's work
      for (let i = 0; i < leakPerStep; i++) leaked.push(mul(source, 3));
      markStep();
    }
    return leaked;
  }

  it('warns once when live tensors grew at each of the last N steps, naming the ops and shapes', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    setLeakWarning({ steps: 3 });
    const leaked = runSteps(6, 1);
    expect(warn).toHaveBeenCalledTimes(1);
    const message = String(warn.mock.calls[0]![0]);
    expect(message).toMatch(/live tensors grew at each of the last 3 steps \(\d+ -> \d+, \+1\.0 per step\)/);
    expect(message).toContain('3 x mul [2, 2] float32');
    for (const t of leaked) t.dispose();
  });

  it('stays quiet when the count holds, or grows at fewer than N steps in a row', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    setLeakWarning({ steps: 3 });
    runSteps(6, 0);
    const leaked = [...runSteps(2, 1), ...runSteps(1, 0), ...runSteps(2, 1)];
    expect(warn).not.toHaveBeenCalled();
    for (const t of leaked) t.dispose();
  });

  it('is off by default and after setLeakWarning(false)', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const leaked = runSteps(8, 1);
    setLeakWarning({ steps: 2 });
    setLeakWarning(false);
    leaked.push(...runSteps(8, 1));
    expect(warn).not.toHaveBeenCalled();
    expect(() => setLeakWarning({ steps: 0 })).toThrow(/setLeakWarning: steps must be a positive integer, got 0/);
    for (const t of leaked) t.dispose();
  });
});
