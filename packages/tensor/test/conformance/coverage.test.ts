// The suite's own completeness: every primitive in OPS has a forward case and,
// when it has a gradient rule, a gradient case; so do the public composite
// functions listed below. A new op without tests fails here. Cases also prove
// their claim: a case filed under a primitive must dispatch that primitive's
// kernel, and a gradient case must reach the primitive's gradient rule.

import { tensor, tidy, type Tensor } from '@gpt/tensor';
import { cpuBackend, GRADIENTS, OPS, type OpName } from '@gpt/tensor/internal';
import { describe, expect, it } from 'vitest';
import { ALL_CASES } from './cases/all-cases.js';
import { caseTitle, type OpCase } from './case.js';
import { drawInputs, seedOf } from './inputs.js';

/** Public functions built from primitives (or named differently from them), and whether they are differentiable. */
const PUBLIC_FUNCTIONS: Record<string, boolean> = {
  mean: true,
  variance: true,
  logsumexp: true,
  clamp: true,
  square: true,
  transpose: true,
  broadcastTo: true,
  squeeze: true,
  unsqueeze: true,
  flatten: true,
  stack: true,
  split: true,
  indexSelect: true,
  oneHot: false,
  globalAvgPool2d: true,
  dropout: true,
  crossEntropy: true,
  nllLoss: true,
  mse: true,
  scaledDotProductAttention: true,
  rand: false,
  randn: false,
  randint: false,
  arange: false,
  linspace: false,
  eye: false,
  tensor: false,
};

const PRIMITIVES = Object.keys(OPS) as OpName[];
const isPrimitive = (name: string): name is OpName => (PRIMITIVES as string[]).includes(name);

describe('conformance coverage', () => {
  it('every case is filed under a primitive or a listed public function', () => {
    const unknown = ALL_CASES.filter((c) => !isPrimitive(c.subject) && !(c.subject in PUBLIC_FUNCTIONS)).map(caseTitle);
    expect(unknown).toEqual([]);
  });

  it('case titles are unique', () => {
    const titles = ALL_CASES.map(caseTitle);
    expect(titles.filter((t, i) => titles.indexOf(t) !== i)).toEqual([]);
  });

  it.each(PRIMITIVES)('primitive %s has a forward case, and a gradient case when differentiable', (op) => {
    const cases = ALL_CASES.filter((c) => c.subject === op);
    expect(cases.length, `forward cases for ${op}`).toBeGreaterThan(0);
    if (GRADIENTS[op] !== null) expect(cases.filter((c) => c.gradient).length, `gradient cases for ${op}`).toBeGreaterThan(0);
  });

  it.each(Object.entries(PUBLIC_FUNCTIONS))('public function %s has a forward case, and a gradient case when differentiable (%s)', (name, differentiable) => {
    const cases = ALL_CASES.filter((c) => c.subject === name);
    expect(cases.length, `forward cases for ${name}`).toBeGreaterThan(0);
    if (differentiable) expect(cases.filter((c) => c.gradient).length, `gradient cases for ${name}`).toBeGreaterThan(0);
  });
});

/** Runs `fn` while recording which kernels the CPU backend dispatches. */
function recordDispatches(fn: () => void): Set<string> {
  const seen = new Set<string>();
  const original = cpuBackend.run;
  cpuBackend.run = function (this: typeof cpuBackend, op, ...rest) {
    seen.add(op);
    return original.call(this, op, ...rest);
  } as typeof cpuBackend.run;
  try {
    fn();
  } finally {
    cpuBackend.run = original;
  }
  return seen;
}

/** Runs `fn` while counting calls of the gradient rule of `op`. */
function countRuleCalls(op: OpName, fn: () => void): number {
  const rules = GRADIENTS as Record<OpName, unknown>;
  const original = rules[op] as (...args: unknown[]) => unknown;
  let calls = 0;
  rules[op] = (...args: unknown[]) => {
    calls++;
    return original(...args);
  };
  try {
    fn();
  } finally {
    rules[op] = original;
  }
  return calls;
}

function makeInputs(c: OpCase, requiresGrad: boolean): Tensor[] {
  const { typed } = drawInputs(c.inputs, seedOf(caseTitle(c)));
  return typed.map((values, i) => {
    const spec = c.inputs[i]!;
    const t = tensor(values, { shape: spec.shape, dtype: spec.dtype });
    t.requiresGrad = requiresGrad && spec.grad && spec.dtype === 'float32';
    return t;
  });
}

// reshape is a view: the engine handles it without a kernel, so there is no dispatch to observe.
const dispatchable = ALL_CASES.filter((c) => isPrimitive(c.subject) && c.subject !== 'reshape');

describe('cases exercise the primitive they are filed under (cpu)', () => {
  it.each(dispatchable.map((c) => [caseTitle(c), c] as const))('%s', (_title, c) => {
    const inputs = makeInputs(c, false);
    const seen = recordDispatches(() => tidy(() => void c.run(...inputs)));
    for (const t of inputs) t.dispose();
    expect([...seen]).toContain(c.subject);
  });

  it.each(dispatchable.filter((c) => c.gradient).map((c) => [caseTitle(c), c] as const))('%s reaches the gradient rule', (_title, c) => {
    const inputs = makeInputs(c, true);
    const calls = countRuleCalls(c.subject as OpName, () =>
      tidy(() => {
        const result = c.run(...inputs);
        for (const out of Array.isArray(result) ? result : [result]) out.backward(tensor(new Float32Array(out.size).fill(1), { shape: out.shape }), { retainGraph: true });
      }),
    );
    for (const t of inputs) t.dispose();
    expect(calls).toBeGreaterThan(0);
  });
});
