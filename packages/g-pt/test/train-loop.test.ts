// The training loop: one step's loss is the x0-MSE recomputed independently (float64 DDPM
// coefficients, the trainer's own t, noise and pairs, the model's output on the float64
// x_t), the pairs come from the training runs forward in time, and on the toy dataset of
// two run families the held-out loss falls far below its start (it would not for a loop
// that does not update, mixes θ₀ and θ₁'s permutations, or conditions on the wrong metric).
import { isGradEnabled, memory, noGrad, tensor } from '@gpt/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { GptTrainer, trainGpt } from '../src/train/trainer.js';
import { disposeBatch } from '../src/train/diffusion-loss.js';
import { TOY_D, removeTempDirs, toyTrainOptions, writeToyDataset } from './train-toy.js';

afterAll(removeTempDirs);

/** ᾱ_t of the linear schedule (1e-4 .. 0.02 over T steps), in float64, written out here. */
function alphasCumprod(T: number): Float64Array {
  const out = new Float64Array(T);
  let product = 1;
  for (let t = 0; t < T; t++) {
    const beta = 1e-4 + ((0.02 - 1e-4) * t) / (T - 1);
    product *= 1 - beta;
    out[t] = product;
  }
  return out;
}

describe('trainGpt', () => {
  it("a step's loss is the x0-MSE of the model's prediction from x_t = sqrt(abar) θ₁ + sqrt(1 - abar) ε", async () => {
    const data = await writeToyDataset();
    const trainer = await GptTrainer.create(toyTrainOptions(data, { lr: 1e-2, gradClip: 1, steps: 10 }));
    try {
      // A few steps first, so the decoders are no longer zero and the output depends on every input.
      for (let i = 0; i < 3; i++) {
        const b = await trainer.drawBatch();
        await trainer.trainStep(b);
        disposeBatch(b);
      }
      const batch = await trainer.drawBatch();
      const [theta0, theta1, m0, m1, t, eps] = await Promise.all([batch.theta0, batch.theta1, batch.metric0, batch.metric1, batch.timesteps, batch.noise].map((x) => x.data()));
      const B = 8;
      const abar = alphasCumprod(1000);
      const xt = new Float64Array(B * TOY_D);
      for (let i = 0; i < B; i++) {
        const a = abar[t[i]!]!;
        for (let j = 0; j < TOY_D; j++) xt[i * TOY_D + j] = Math.sqrt(a) * theta1[i * TOY_D + j]! + Math.sqrt(1 - a) * eps[i * TOY_D + j]!;
      }
      const prediction = await noGrad(() => {
        const x = tensor(Float32Array.from(xt), { shape: [B, TOY_D] });
        const out = trainer.model.forward(x, batch.timesteps, Float32Array.from(m1), Float32Array.from(m0), batch.theta0); // [B, D]
        x.dispose();
        return out;
      }).data();
      let sse = 0;
      for (let k = 0; k < B * TOY_D; k++) sse += (prediction[k]! - theta1[k]!) ** 2;
      const expected = sse / (B * TOY_D);
      const { loss } = await trainer.trainStep(batch);
      disposeBatch(batch);
      expect(loss).toBeGreaterThan(0.01);
      expect(Math.abs(loss - expected) / expected).toBeLessThan(1e-4);
      // θ₁ differs from θ₀ (pairs with a gap >= 1), both normalized by the same constant.
      expect(Array.from(theta0)).not.toEqual(Array.from(theta1));
      expect(trainer.normalizationCoefficient).toBeGreaterThan(0);
    } finally {
      await trainer.dispose();
    }
  });

  it('learns the toy: the held-out loss falls well below its start', async () => {
    const data = await writeToyDataset({ runs: 30, numTestRuns: 6 });
    const held: number[] = [];
    const result = await trainGpt({
      ...toyTrainOptions(data, { batchSize: 32, schedule: { kind: 'constant', warmupSteps: 20 }, ema: { decay: 0.95 }, gradClip: 1, normalizationSamples: 200, steps: 150, evalEvery: 50, evalPairs: 128 }),
      onProgress: (e) => {
        if (e.type === 'eval' && e.heldOutLoss !== null) held.push(e.heldOutLoss);
      },
    });
    result.trained.model.dispose();
    console.log('held-out losses', held.map((v) => v.toFixed(4)).join(' '));
    expect(held.length).toBe(4); // step 0, then every 50 steps
    expect(held.at(-1)!).toBeLessThan(0.3 * held[0]!);
  });

  it('holds no more tensors after step 1: steps, held-out losses, EMA decay switches and the EMA model leak nothing', async () => {
    const data = await writeToyDataset();
    const live = memory().tensors;
    const trainer = await GptTrainer.create(toyTrainOptions(data, { ema: { decay: 0.9, earlyDecay: 0.5, earlySteps: 5 }, gradClip: 1, steps: 20, evalEvery: 5, evalPairs: 20 }));
    const counts: number[] = [];
    // The held-out forward records no tape and runs in eval mode; the training forward records it.
    const forward = trainer.model.forward.bind(trainer.model);
    const calls: { grad: boolean; training: boolean }[] = [];
    trainer.model.forward = ((...args: Parameters<typeof forward>) => (calls.push({ grad: isGradEnabled(), training: trainer.model.training }), forward(...args))) as typeof forward;
    for (let i = 0; i < 12; i++) {
      const batch = await trainer.drawBatch();
      await trainer.trainStep(batch);
      disposeBatch(batch);
      if (i % 4 === 0) await trainer.heldOutLoss();
      trainer.trainedGpt();
      counts.push(memory().tensors);
    }
    expect(new Set(counts).size).toBe(1);
    expect(calls.filter((c) => !c.grad).every((c) => !c.training)).toBe(true);
    expect(calls.filter((c) => !c.grad)).toHaveLength(3); // held-out at steps 1, 5, 9: 20 pairs in one chunk each
    expect(calls.filter((c) => c.grad && c.training)).toHaveLength(12);
    await trainer.dispose();
    expect(memory().tensors).toBe(live);
  });
});
