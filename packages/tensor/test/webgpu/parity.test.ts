// Training parity: the same MLP and the same transformer block, from the same
// initial weights, trained 50 SGD steps on the CPU and on WebGPU. Losses at every
// step and the final weights agree within a stated tolerance: float32 rounding
// differs between the backends (GPU exp/erf/rsqrt, summation order), nothing else;
// on lavapipe the observed differences are ~3e-7, 30x inside the tolerance.

import { expect, it } from 'vitest';
import { disposeModel, mlp, sgdStep, transformerBlock, type Model } from './training.js';
import { describeWebGPU } from './webgpu-suite.js';

const STEPS = 50;
/** |gpu - cpu| <= TOL * max(1, |cpu|) for every loss and every final weight. */
const LOSS_TOLERANCE = 1e-5;
const WEIGHT_TOLERANCE = 1e-5;

async function train(model: Model, lr: number): Promise<{ losses: number[]; weights: Float32Array[] }> {
  const losses: number[] = [];
  for (let step = 0; step < STEPS; step++) {
    const loss = sgdStep(model, lr);
    losses.push((await loss.data())[0]!);
    loss.dispose();
  }
  const weights = await Promise.all(model.params.map(async (p) => (await p.data()) as Float32Array));
  disposeModel(model);
  return { losses, weights };
}

function worstDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!)));
  return worst;
}

async function compare(build: (device: string) => Promise<Model>, lr: number): Promise<void> {
  const cpu = await train(await build('cpu'), lr);
  const gpu = await train(await build('webgpu'), lr);
  // Training must actually move the loss, or agreeing would prove little.
  expect(cpu.losses.at(-1)!).toBeLessThan(cpu.losses[0]! * 0.9);
  expect(worstDifference(gpu.losses, cpu.losses), 'losses').toBeLessThan(LOSS_TOLERANCE);
  cpu.weights.forEach((w, i) => expect(worstDifference(gpu.weights[i]!, w), `weight ${i}`).toBeLessThan(WEIGHT_TOLERANCE));
}

describeWebGPU('training parity with the CPU backend (50 SGD steps)', () => {
  it('MLP 16-32-4, cross-entropy', async () => {
    await compare(mlp, 0.5);
  });

  it('transformer block (layerNorm, attention via matmul + softmax, GELU MLP), MSE', async () => {
    await compare(transformerBlock, 0.1);
  });
});
