// The samplers, the training loss and the timestep samplers on every device @gpt/tensor can
// reach here (the CPU always; WebGPU where an adapter exists): same seeds, same results as on
// the CPU up to float32 rounding. Nothing in @gpt/diffusion reads tensors back to the host
// while sampling, so the whole loop stays on the device.

import { describe, expect, it } from 'vitest';
import { createDiffusion, UniformSampler } from '@gpt/diffusion';
import { needWebGPU } from '../../tensor/test/need-webgpu.js';
import { memory, tensor, type Tensor } from '@gpt/tensor';

const diffusion = createDiffusion({ steps: 100, predictXstart: true });

async function runOn(device: string): Promise<number[][]> {
  const w = tensor([0.5, -0.25], { device, shape: [1, 2] });
  const model = (x: Tensor) => x.mul(w);
  const ddpm = await diffusion.pSampleLoop(model, [64, 2], { seed: 3, device });
  const ddim = await diffusion.ddimSampleLoop(model, [64, 2], { seed: 3, device, eta: 0.3 });
  const { timesteps, weights } = new UniformSampler(diffusion).sample(8, { seed: 1, device });
  const x0 = tensor(new Float32Array(16).fill(1), { shape: [8, 2], device });
  const { loss } = await diffusion.trainingLosses(model, x0, timesteps, { seed: 2 });
  expect([ddpm, ddim, timesteps, loss].map((t) => t.device)).toEqual([device, device, device, device]);
  const out = await Promise.all([ddpm, ddim, timesteps, loss].map(async (t) => Array.from(await t.data())));
  for (const t of [w, ddpm, ddim, timesteps, weights, x0, loss]) t.dispose();
  return out;
}

describe('devices', () => {
  it('runs on WebGPU like on the CPU (skipped without an adapter)', async (context) => {
    await needWebGPU(context);
    const before = memory().tensors;
    const cpu = await runOn('cpu');
    const gpu = await runOn('webgpu');
    expect(gpu[2]).toEqual(cpu[2]); // the same timesteps from the same seed
    for (const k of [0, 1, 3]) {
      const worst = Math.max(...cpu[k]!.map((v, i) => Math.abs(v - gpu[k]![i]!)));
      expect(worst, `output ${k}`).toBeLessThan(1e-5);
    }
    expect(memory().tensors).toBe(before);
  });
});
