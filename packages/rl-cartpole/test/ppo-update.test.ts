// The host-side PPO step (ppo-update.ts) against the tensor reference through autograd: the loss
// gradient with respect to the networks' outputs and log_std, and FlatAdam against @gpt/nn's Adam
// after clipGradNorm; and the truncation bootstrap of a vector step.

import { Adam, clipGradNorm } from '@gpt/nn';
import { Generator, add, memory, mul, noGrad, sub, tensor, tidy } from '@gpt/tensor';
import { describe, expect, it } from 'vitest';
import {
  CartPoleCritic,
  FlatAdam,
  GaussianMlpPolicy,
  allocateTruncationScratch,
  computeGae,
  ppoLosses,
  ppoMinibatchStep,
  truncationValues,
} from '../src/index.js';

const B = 64;

/** A batch whose ratios spread over both sides of the clip range. */
function makeBatch(policy: GaussianMlpPolicy, seed: number) {
  const g = new Generator(seed);
  const observations = Float32Array.from(g.normal(B * 4), (v) => 0.5 * v);
  const means = noGrad(() => tidy(() => Float32Array.from(policy.forward(tensor(observations, { shape: [B, 4] })).dataSync())));
  const std = Math.exp(policy.logStdScale * policy.log_std.dataSync()[0]!);
  const actions = Float32Array.from(g.normal(B), (z, i) => means[i]! + std * z);
  const oldLogProbs = noGrad(() => tidy(() => Float32Array.from(policy.logProb(tensor(observations, { shape: [B, 4] }), tensor(actions, { shape: [B, 1] })).dataSync())));
  const shift = g.normal(B);
  for (let i = 0; i < B; i++) oldLogProbs[i]! += 0.4 * shift[i]!; // ratios ~ e^(+-0.4)
  return { observations, actions, oldLogProbs, advantages: Float32Array.from(g.normal(B)), returns: Float32Array.from(g.normal(B), (v) => 1 + v) };
}

/** The reference: the loss through GaussianMlpPolicy.logProb and ppoLosses, backward, clipGradNorm, @gpt/nn's Adam. */
function referenceStep(policy: GaussianMlpPolicy, critic: CartPoleCritic, adam: Adam, batch: ReturnType<typeof makeBatch>, c: { clip: number; valueCoef: number; entropyCoef: number; maxGradNorm: number }) {
  const params = [...policy.parameters(), ...critic.parameters()];
  adam.zeroGrad();
  const losses = tidy(() => {
    const obs = tensor(batch.observations, { shape: [B, 4] });
    const logProb = policy.logProb(obs, tensor(batch.actions, { shape: [B, 1] }));
    const { surrogate, valueLoss } = ppoLosses({ logProb, oldLogProb: tensor(batch.oldLogProbs), advantages: tensor(batch.advantages), values: critic.forward(obs), returns: tensor(batch.returns) }, c.clip);
    const entropy = add(policy.actionLogStd().sum(), 0.5 * (1 + Math.log(2 * Math.PI)));
    const loss = sub(add(surrogate, mul(valueLoss, c.valueCoef)), mul(entropy, c.entropyCoef));
    loss.backward();
    return { surrogate: surrogate.item(), valueLoss: valueLoss.item() };
  });
  const grads = params.map((p) => Float32Array.from(p.grad!.dataSync()));
  const norm = clipGradNorm(params, c.maxGradNorm);
  const gradNorm = norm.item();
  norm.dispose();
  adam.step();
  return { ...losses, grads, gradNorm };
}

describe('the host PPO step', () => {
  const config = { clip: 0.2, valueCoef: 2, entropyCoef: 0.01, maxGradNorm: 0.5 };

  it('takes the same steps as autograd + clipGradNorm + Adam', () => {
    const before = memory().tensors;
    const make = () => {
      const policy = new GaussianMlpPolicy({ seed: 3 });
      // A non-zero log_std and a non-trivial mean, so every term of the density's gradient counts.
      const logStd = tensor([-0.3]);
      policy.log_std.assign(logStd);
      logStd.dispose();
      return { policy, critic: new CartPoleCritic({ seed: 4 }) };
    };
    const ref = make();
    const fast = make();
    const refParams = [...ref.policy.parameters(), ...ref.critic.parameters()];
    const fastParams = [...fast.policy.parameters(), ...fast.critic.parameters()];
    const adam = new Adam(refParams, { lr: 1e-2 });
    const flat = new FlatAdam(fastParams, { lr: 1e-2 });
    const scratch = { gradMeans: new Float32Array(B), gradValues: new Float32Array(B) };
    for (let step = 0; step < 4; step++) {
      const batch = makeBatch(ref.policy, 10 + step);
      const expected = referenceStep(ref.policy, ref.critic, adam, batch, config);
      const obs = tensor(batch.observations, { shape: [B, 4] });
      const got = ppoMinibatchStep(fast.policy, fast.critic, flat, { ...batch, observations: obs }, config, scratch);
      obs.dispose();
      expect(got.surrogate).toBeCloseTo(expected.surrogate, 5);
      expect(got.valueLoss).toBeCloseTo(expected.valueLoss, 5);
      expect(got.gradNorm).toBeCloseTo(expected.gradNorm, 4);
      expect(expected.gradNorm).toBeGreaterThan(config.maxGradNorm); // the clip is exercised
      // The gradients before clipping, parameter by parameter (flat.grads holds them unclipped).
      let offset = 0;
      expected.grads.forEach((g) => {
        g.forEach((v, i) => expect(flat.grads[offset + i]!).toBeCloseTo(v, 4));
        offset += g.length;
      });
      refParams.forEach((p, k) => {
        const want = p.dataSync();
        const have = fastParams[k]!.dataSync();
        want.forEach((v, i) => expect(have[i]!).toBeCloseTo(v, 4));
      });
    }
    // The log_std moved, so its gradient path was exercised too.
    expect(fast.policy.log_std.dataSync()[0]!).not.toBeCloseTo(-0.3, 3);
    adam.dispose();
    for (const p of [...refParams, ...fastParams]) {
      p.grad?.dispose();
      p.dispose();
    }
    expect(memory().tensors).toBe(before);
  });
});

describe('truncation bootstrap', () => {
  it('bootstraps V(final observation) only where an episode was truncated and not terminated', () => {
    const critic = new CartPoleCritic({ seed: 1 });
    const final = Float32Array.from({ length: 16 }, (_, k) => 0.1 * (k - 8));
    const observations = Float32Array.from({ length: 16 }, (_, k) => -0.05 * k); // the reset ones: must not be used
    const step = {
      observations,
      terminated: Uint8Array.of(1, 0, 1, 0),
      truncated: Uint8Array.of(0, 1, 1, 0),
      info: { finalObservations: final, episodeDone: Uint8Array.of(1, 1, 1, 0), episodeReturn: new Float64Array(4), episodeLength: new Int32Array(4) },
    };
    const out = Float32Array.of(7, 7, 7, 7);
    truncationValues(critic, step, out, allocateTruncationScratch(4));
    const v = noGrad(() => tidy(() => critic.forward(tensor(final, { shape: [4, 4] })).dataSync()));
    expect(out[1]).toBeCloseTo(v[1]!, 6);
    expect([out[0], out[2], out[3]]).toEqual([0, 0, 0]);
    for (const p of critic.parameters()) p.dispose();
  });

  it('GAE adds gamma V(final) at a truncation and still stops the carry there', () => {
    // One env, 3 steps; the episode is truncated at t = 1 with V(final) = 5; t = 2 is a new episode.
    const rewards = [1, 1, 1];
    const values = [2, 3, 0.5];
    const dones = [0, 1, 0];
    const gamma = 0.9;
    const lambda = 0.5;
    const { advantages } = computeGae({ rewards, values, dones, lastValues: [4], bootstrapValues: [0, 5, 0] }, 3, 1, gamma, lambda);
    // d2 = 1 + 0.9*4 - 0.5 = 4.1; d1 = 1 + 0.9*5 - 3 = 2.5 (no carry from t = 2); d0 = 1 + 0.9*3 - 2 = 1.7
    // A2 = 4.1, A1 = 2.5, A0 = 1.7 + 0.45*2.5 = 2.825
    [2.825, 2.5, 4.1].forEach((a, t) => expect(advantages[t]!).toBeCloseTo(a, 5));
    // Without the bootstrap the truncated step is a termination: d1 = 1 - 3 = -2.
    const plain = computeGae({ rewards, values, dones, lastValues: [4] }, 3, 1, gamma, lambda);
    expect(plain.advantages[1]!).toBeCloseTo(-2, 5);
  });
});
