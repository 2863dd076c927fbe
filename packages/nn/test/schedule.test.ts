import { memory, ones, tensor } from '@gpt/tensor';
import { describe, expect, it } from 'vitest';
import {
  AdamW,
  applyLrSchedule,
  clipGradNorm,
  composeSchedules,
  cosineDecay,
  EMA,
  Linear,
  linearWarmup,
  perEpoch,
  SGD,
} from '../src/index.js';
import { expectClose, fixture, values } from './helpers.js';

const data = fixture<{
  cosinePerEpoch: { base: number; epochs: number; lrs: number[] };
  warmupCosine: { base: number; epochs: number; warmup: number; warmupFactor: number; stepsPerEpoch: number; lrs: number[] };
}>('schedules.json');

describe('learning-rate schedules', () => {
  it("per-epoch cosine matches PyTorch's CosineAnnealingLR stepped once per epoch", () => {
    const { base, epochs, lrs } = data.cosinePerEpoch;
    const lin = new Linear(2, 2);
    const opt = new SGD(lin.parameters(), { lr: base, momentum: 0.9 });
    const schedule = perEpoch(cosineDecay(epochs));
    const stepsPerEpoch = 3;
    for (let e = 0; e < epochs; e++) {
      for (let s = 0; s < stepsPerEpoch; s++) {
        // Evaluated at fractional epochs, the per-epoch schedule holds its value within the epoch.
        applyLrSchedule(opt, schedule, e + s / stepsPerEpoch);
        expect(opt.paramGroups[0]!.lr).toBeCloseTo(lrs[e]!, 12);
      }
    }
    opt.dispose();
    lin.dispose();
  });

  it("warmup x cosine at fractional epochs matches G.pt's update_lr run through PyTorch's LambdaLR", () => {
    const { base, epochs, warmup, warmupFactor, stepsPerEpoch, lrs } = data.warmupCosine;
    const lin = new Linear(2, 2);
    const opt = new AdamW(lin.parameters(), { lr: base });
    const schedule = composeSchedules(cosineDecay(epochs), linearWarmup(warmup, warmupFactor));
    lrs.forEach((expected, step) => {
      applyLrSchedule(opt, schedule, step / stepsPerEpoch);
      expect(opt.paramGroups[0]!.lr).toBeCloseTo(expected, 15);
    });
    expect(lrs[0]).toBe(0);
    opt.dispose();
    lin.dispose();
  });

  it('schedules scale each group from its own initial lr and reject bad arguments', () => {
    const lin = new Linear(2, 2);
    const opt = new SGD([{ params: [lin.weight], lr: 1 }, { params: [lin.bias!] }], { lr: 0.1 });
    expect(applyLrSchedule(opt, cosineDecay(10), 5)).toBeCloseTo(0.5, 15);
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.5, 0.05]);
    expect(cosineDecay(10)(12)).toBe(0);
    expect(linearWarmup(4)(1)).toBe(0.25);
    expect(() => cosineDecay(0)).toThrow('cosineDecay: totalEpochs must be a positive number, got 0');
    expect(() => applyLrSchedule(opt, cosineDecay(10), Number.NaN)).toThrow('applyLrSchedule: epoch must be a finite number');
    opt.dispose();
    lin.dispose();
  });
});

describe('clipGradNorm', () => {
  it('returns the total norm and scales gradients to maxNorm only when above it', () => {
    const lin = new Linear(2, 2);
    lin.weight.grad = tensor([[3, 0], [0, 0]]);
    lin.bias!.grad = tensor([4, 0]);
    const before = memory().tensors;
    const total = clipGradNorm(lin.parameters(), 1);
    expect(total.item()).toBeCloseTo(5, 6);
    // Scale 1 / (5 + 1e-6), as torch.nn.utils.clip_grad_norm_.
    expectClose(values(lin.weight.grad), [3 / (5 + 1e-6), 0, 0, 0], 1e-7, 1e-6, 'weight grad');
    expectClose(values(lin.bias!.grad), [4 / (5 + 1e-6), 0], 1e-7, 1e-6, 'bias grad');
    total.dispose();
    expect(memory().tensors).toBe(before);
    const small = clipGradNorm(lin.parameters(), 10);
    expect(small.item()).toBeCloseTo(1, 5);
    expectClose(values(lin.bias!.grad), [4 / (5 + 1e-6), 0], 1e-7, 1e-6, 'unchanged below maxNorm');
    small.dispose();
    lin.zeroGrad();
    expect(() => clipGradNorm(lin.parameters(), 1)).toThrow('clipGradNorm: none of the parameters has a gradient');
    lin.dispose();
  });
});

describe('EMA', () => {
  it('starts as an exact copy and follows ema = d * ema + (1 - d) * param', () => {
    const lin = new Linear(3, 2, { seed: 5 });
    const ema = new EMA(lin, 0.9);
    const w0 = Array.from(values(lin.weight));
    expect(Array.from(values(ema.shadow.get('weight')!))).toEqual(w0);
    const before = memory().tensors;
    const target = ones([2, 3]);
    lin.weight.assign(target);
    target.dispose();
    ema.update(lin);
    ema.update(lin);
    // Two updates toward 1: ema = 0.81 w0 + 0.19.
    expectClose(values(ema.shadow.get('weight')!), w0.map((w) => 0.81 * w + 0.19), 1e-7, 1e-6, 'ema weight');
    expect(memory().tensors).toBe(before);
    const copy = new Linear(3, 2, { seed: 9 });
    ema.copyTo(copy);
    expect(Array.from(values(copy.weight))).toEqual(Array.from(values(ema.shadow.get('weight')!)));
    const saved = ema.stateDict();
    const restored = new EMA(new Linear(3, 2), 0.9);
    restored.loadStateDict(saved);
    expect(Array.from(values(restored.shadow.get('bias')!))).toEqual(Array.from(values(ema.shadow.get('bias')!)));
    expect(() => new EMA(new Linear(3, 4), 0.9).copyTo(lin)).toThrow(/EMA.copyTo: the module's parameters/);
    for (const t of Object.values(saved)) t.dispose();
    for (const x of [ema, restored, lin, copy]) x.dispose();
  });
});
