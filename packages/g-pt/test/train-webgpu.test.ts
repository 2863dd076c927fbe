// The same training code on WebGPU: with the same seeds the pairs, timesteps and noise are
// the same bits (host draws and Philox on both devices), so a few steps on "webgpu" give
// the CPU run's losses to float32 rounding, and the state saved from the GPU resumes.
import { afterAll, describe, expect, it, type TestContext } from 'vitest';
import { loadTrainedGpt } from '../src/train/train-state.js';
import { trainGpt, type TrainGptOptions } from '../src/train/trainer.js';
import { needWebGPU } from '../../tensor/test/need-webgpu.js';
import { removeTempDirs, tempDir, toyTrainOptions, writeToyDataset } from './train-toy.js';

afterAll(removeTempDirs);

function options(data: string, device: string, out?: string): TrainGptOptions {
  return toyTrainOptions(data, { device, ...(out ? { out } : {}), ema: { decay: 0.8 }, gradClip: 1, evalEvery: 2, evalPairs: 16, checkpointEvery: 2, steps: 4 });
}

describe('training on webgpu', () => {
  it('gives the CPU losses and saves a state that loads', async (context: TestContext) => {
    await needWebGPU(context);
    const data = await writeToyDataset();
    const cpu = await trainGpt(options(data, 'cpu'));
    cpu.trained.model.dispose();
    const out = await tempDir();
    const gpu = await trainGpt(options(data, 'webgpu', out));
    expect(gpu.trained.model.parameters()[0]!.device).toBe('webgpu');
    gpu.trained.model.dispose();
    for (const [a, b] of gpu.history.map((h, i) => [h, cpu.history[i]!] as const)) {
      expect(a.step).toBe(b.step);
      expect(Math.abs(a.loss - b.loss) / b.loss).toBeLessThan(1e-3);
      if (b.heldOutLoss !== undefined) expect(Math.abs(a.heldOutLoss! - b.heldOutLoss) / b.heldOutLoss).toBeLessThan(1e-3);
    }
    const loaded = await loadTrainedGpt(out, { device: 'webgpu' });
    expect(loaded.step).toBe(4);
    loaded.model.dispose();
    const resumed = await trainGpt({ ...options(data, 'webgpu', out), steps: 5, resume: true });
    expect(resumed.history.map((h) => h.step)).toEqual([5]);
    resumed.trained.model.dispose();
  });
});
