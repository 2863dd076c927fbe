// Training parity: the same models, from the same initial weights, trained 50 steps on
// the CPU and on WebGPU, once with the kernels the adapter picks ('software' on lavapipe)
// and once with the real-GPU kernels forced on (tiled matmuls, a workgroup per row, fused
// attention). Losses at every step and the final weights agree within a stated
// tolerance: float32 rounding differs between the backends (GPU exp/erf/rsqrt, summation
// order), nothing else; on lavapipe the observed differences are <= 4e-7 for SGD (weights
// and losses) and for AdamW's losses, and <= 1.7e-5 for AdamW's weights.

import { getBackend } from '@gpt/tensor';
import { beforeAll, expect, it } from 'vitest';
import { ensureWebGPUDevice, GPU_KERNELS_DEVICE } from '../need-webgpu.js';
import { adamWState, adamWStep, disposeModel, gptBlock, mlp, sgdStep, transformerBlock, type Model } from './training.js';
import { describeWebGPU } from './webgpu-suite.js';

const STEPS = 50;
/** |gpu - cpu| <= TOL * max(1, |cpu|) for every loss and every final weight. */
const LOSS_TOLERANCE = 1e-5;
/**
 * SGD moves weights by lr·g, so rounding differences stay rounding-sized (observed <= 4e-7).
 * AdamW divides by sqrt(v): where a gradient entry is near zero, its rounding difference
 * becomes a visible part of an lr-sized step (observed 1.7e-5 with lr 3e-3, the qkv weight).
 */
const WEIGHT_TOLERANCE = { sgd: 1e-5, adamw: 1e-4 };

type Optimizer = 'sgd' | 'adamw';

async function train(model: Model, optimizer: Optimizer, lr: number): Promise<{ losses: number[]; weights: Float32Array[] }> {
  const losses: number[] = [];
  const adam = optimizer === 'adamw' ? adamWState(model) : null;
  for (let step = 0; step < STEPS; step++) {
    const loss = adam ? adamWStep(model, adam, lr) : sgdStep(model, lr);
    losses.push((await loss.data())[0]!);
    loss.dispose();
  }
  const weights = await Promise.all(model.params.map(async (p) => (await p.data()) as Float32Array));
  disposeModel(model);
  for (const t of [...(adam?.m ?? []), ...(adam?.v ?? [])]) t.dispose();
  return { losses, weights };
}

function worstDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!)));
  return worst;
}

async function compare(build: (device: string) => Promise<Model>, optimizer: Optimizer, lr: number, device: string): Promise<void> {
  const cpu = await train(await build('cpu'), optimizer, lr);
  const gpu = await train(await build(device), optimizer, lr);
  // Training must actually move the loss, or agreeing would prove little.
  expect(cpu.losses.at(-1)!).toBeLessThan(cpu.losses[0]! * 0.9);
  expect(worstDifference(gpu.losses, cpu.losses), 'losses').toBeLessThan(LOSS_TOLERANCE);
  cpu.weights.forEach((w, i) => expect(worstDifference(gpu.weights[i]!, w), `weight ${i}`).toBeLessThan(WEIGHT_TOLERANCE[optimizer]));
}

describeWebGPU(`training parity with the CPU backend (${STEPS} steps)`, () => {
  // The real-GPU kernels forced on this adapter, under their own device name.
  beforeAll(async () => {
    await ensureWebGPUDevice(true);
  });

  for (const device of ['webgpu', GPU_KERNELS_DEVICE]) {
    it(`${device}: MLP 16-32-4, cross-entropy, SGD`, async () => {
      if (device === GPU_KERNELS_DEVICE) expect((getBackend(device) as { kernels?: string }).kernels).toBe('gpu');
      await compare(mlp, 'sgd', 0.5, device);
    });

    it(`${device}: transformer block (layerNorm, attention via matmul + softmax, GELU MLP), MSE, SGD`, async () => {
      await compare(transformerBlock, 'sgd', 0.1, device);
    });

    it(`${device}: G.pt-shaped block (18 tokens x 64, biased matmuls, scaledDotProductAttention), MSE, AdamW`, async () => {
      // With the GPU kernels the attention is the fused kernel (what a real GPU runs).
      if (device === GPU_KERNELS_DEVICE) expect(getBackend(device).fusesAttention?.(18, 18)).toBe(true);
      await compare(gptBlock, 'adamw', 3e-3, device);
    });
  }
});
