import { describe, expect, it } from 'vitest';
import { GaussianDiffusion, getNamedBetaSchedule, ModelMeanType, ModelVarType, UniformSampler } from '@gpt/diffusion';
import { memory, randn, tensor, type Tensor } from '@gpt/tensor';

const betas = getNamedBetaSchedule('linear', 100);
const make = (modelMeanType: ModelMeanType) => new GaussianDiffusion({ betas, modelMeanType, modelVarType: ModelVarType.FIXED_LARGE });

describe('trainingLosses', () => {
  it('is the per-example MSE against x_0, epsilon or the posterior mean (float64 reference)', async () => {
    const before = memory().tensors;
    const x0 = randn([3, 2, 2], { seed: 1 });
    const noise = randn([3, 2, 2], { seed: 2 });
    const prediction = randn([3, 2, 2], { seed: 3 });
    const ts = [0, 42, 99];
    const t = tensor(Int32Array.from(ts));
    const xs = x0.dataSync();
    const ns = noise.dataSync();
    const ps = prediction.dataSync();
    for (const meanType of [ModelMeanType.START_X, ModelMeanType.EPSILON, ModelMeanType.PREVIOUS_X]) {
      const d = make(meanType);
      let seenX: number[] = [];
      const { loss } = await d.trainingLosses(
        (xT) => {
          seenX = Array.from(xT.dataSync());
          return prediction.mul(1);
        },
        x0,
        t,
        { noise },
      );
      expect(loss.shape).toEqual([3]);
      const values = loss.dataSync();
      ts.forEach((step, b) => {
        let sum = 0;
        for (let j = 0; j < 4; j++) {
          const i = b * 4 + j;
          const xT = d.sqrtAlphasCumprod[step]! * xs[i]! + d.sqrtOneMinusAlphasCumprod[step]! * ns[i]!;
          expect(seenX[i]).toBeCloseTo(xT, 5);
          const target =
            meanType === ModelMeanType.START_X ? xs[i]! : meanType === ModelMeanType.EPSILON ? ns[i]! : d.posteriorMeanCoef1[step]! * xs[i]! + d.posteriorMeanCoef2[step]! * xT;
          sum += (target - ps[i]!) ** 2;
        }
        expect(values[b]).toBeCloseTo(sum / 4, 5);
      });
      loss.dispose();
    }
    for (const x of [x0, noise, prediction, t]) x.dispose();
    expect(memory().tensors).toBe(before);
  });

  it('carries gradients to the model parameters (checked against the closed form)', async () => {
    const d = make(ModelMeanType.START_X);
    const x0 = randn([64, 3], { seed: 4 });
    const { timesteps, weights } = new UniformSampler(d).sample(64, { seed: 5 });
    const w = tensor([0.3]);
    w.requiresGrad = true;
    const model = (xT: Tensor): Tensor => xT.mul(w);
    const noise = randn([64, 3], { seed: 6 });
    const { loss } = await d.trainingLosses(model, x0, timesteps, { noise });
    const weighted = loss.mul(weights);
    const total = weighted.mean();
    total.backward();
    // loss = mean_b mean_j (x0 - w x_t)^2  =>  dL/dw = mean over all (-2 x_t (x0 - w x_t))
    const xT = d.qSample(x0, timesteps, { noise });
    const xs = x0.dataSync();
    const xts = xT.dataSync();
    let grad = 0;
    for (let i = 0; i < xs.length; i++) grad += -2 * xts[i]! * (xs[i]! - 0.3 * xts[i]!);
    expect(w.grad!.item()).toBeCloseTo(grad / xs.length, 4);
    for (const x of [x0, timesteps, weights, w, noise, loss, weighted, total, xT]) x.dispose();
  });

  it('draws its noise from the seed when none is given', async () => {
    const d = make(ModelMeanType.EPSILON);
    const x0 = randn([4, 2], { seed: 7 });
    const t = tensor(Int32Array.from([5, 6, 7, 8]));
    const zero = (xT: Tensor): Tensor => xT.mul(0);
    const a = (await d.trainingLosses(zero, x0, t, { seed: 3 })).loss;
    const b = (await d.trainingLosses(zero, x0, t, { seed: 3 })).loss;
    const c = (await d.trainingLosses(zero, x0, t, { seed: 4 })).loss;
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(Array.from(a.dataSync())).not.toEqual(Array.from(c.dataSync()));
    // The epsilon target is the drawn noise: its mean square over 2 values is about 1.
    expect(a.dataSync().every((v) => v > 0)).toBe(true);
    for (const x of [x0, t, a, b, c]) x.dispose();
  });
});
