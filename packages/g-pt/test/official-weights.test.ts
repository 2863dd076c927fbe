// loadOfficialGpt(): the official G.pt file layout ({"G", "optim", "G_ema"}, torch.save)
// loaded into Gpt by state-dict name. The fixture is a tiny Cartpole-layout G.pt made by
// scripts/fixtures/official_gpt_fixture.py with an independent PyTorch twin of the model;
// the loaded model must reproduce the twin's output, and every mismatch must name its key.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readSafetensors } from '@gpt/checkpoints/node';
import { GPT_PRESETS, Gpt, resolveGptConfig } from '@gpt/transformer';
import { noGrad, tensor } from '@gpt/tensor';
import { expectedGptStateShapes, loadOfficialGpt, officialGptName } from '../src/sample/official.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/official-tiny-cartpole.pt', import.meta.url));
const EXPECTED = fileURLToPath(new URL('./fixtures/official-tiny-cartpole.expected.safetensors', import.meta.url));
const TINY = { ...GPT_PRESETS.cartpole, nEmbd: 8, nLayer: 1, nHead: 2, numFrequencies: 8 };
const CARTPOLE_SIZES = [1, 128, 32, 1024, 32, 32, 1];

describe('expectedGptStateShapes', () => {
  it.each([
    ['tiny layer_by_layer', CARTPOLE_SIZES, { ...TINY }],
    ['deeper encoders and decoders', CARTPOLE_SIZES, { ...TINY, encoderDepth: 2, decoderDepth: 3, nLayer: 2 }],
    ['chunk_within_layer, no absolute conditioning', [7840, 10, 100, 10], { ...TINY, splitPolicy: 'chunk_within_layer' as const, chunkSize: 1000, absoluteLossConditioning: false }],
  ])('equals a built Gpt\'s state-dict keys and shapes (%s)', (_, sizes, config) => {
    const model = new Gpt(sizes, config, { seed: 1 });
    expect([...expectedGptStateShapes(sizes, resolveGptConfig(config)).entries()]).toEqual(model.stateShapes());
  });
});

describe('officialGptName', () => {
  it('reads the model from the file name, including the README\'s cifar_* names', () => {
    expect(officialGptName('/models/mnist_error.pt')).toBe('mnist_error');
    expect(officialGptName('cifar_loss.pt')).toBe('cifar10_loss');
    expect(officialGptName('cartpole')).toBe('cartpole');
    expect(officialGptName('best.pt')).toBeNull();
  });
});

describe('loadOfficialGpt', () => {
  it('loads G_ema into a Gpt that reproduces the PyTorch model, with the official task constants', async () => {
    const events: number[] = [];
    const trained = await loadOfficialGpt(FIXTURE, { task: 'cartpole', config: TINY, onProgress: (e) => events.push(e.done) });
    expect(trained.task).toBe('cartpole');
    expect(trained.normalizationCoefficient).toBe(2.06);
    expect(trained.diffusionSteps).toBe(1000);
    expect(trained.noiseSchedule).toBe('linear');
    expect(trained.model.parameterDim).toBe(1250);
    expect(events.at(-1)).toBe(47);
    const { tensors } = await readSafetensors(EXPECTED);
    const get = (k: string) => tensors.get(k)!.data as Float32Array;
    const out = noGrad(() => {
      const x = tensor(get('x'), { shape: [2, 1250] });
      const xPrev = tensor(get('x_prev'), { shape: [2, 1250] });
      const y = trained.model.forward(x, get('t'), get('target'), get('prev'), xPrev);
      const values = y.dataSync() as Float32Array;
      for (const t of [x, xPrev, y]) t.dispose();
      return values;
    });
    const expected = get('output');
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(out[i]! - expected[i]!));
    expect(worst).toBeLessThan(1e-4);
    // The decoders contribute (not just the residual x_prev), so wrong weights would show.
    const xPrev = get('x_prev');
    expect(Math.max(...expected.map((v, i) => Math.abs(v - xPrev[i]!)))).toBeGreaterThan(0.1);
  });

  it('loads the raw weights with weights "G", which differ from the EMA ones', async () => {
    const ema = await loadOfficialGpt(FIXTURE, { task: 'cartpole', config: TINY });
    const raw = await loadOfficialGpt(FIXTURE, { task: 'cartpole', config: TINY, weights: 'G' });
    const a = ema.model.stateDict()['decoder.ln_f.weight']!.dataSync() as Float32Array;
    const b = raw.model.stateDict()['decoder.ln_f.weight']!.dataSync() as Float32Array;
    expect(Array.from(a)).not.toEqual(Array.from(b));
  });

  it('names the mismatched keys when the config or the task does not fit the file', async () => {
    // The released cartpole config (width 1536) against the tiny file: checked before building the 347M-parameter model.
    await expect(loadOfficialGpt(FIXTURE, { task: 'cartpole' })).rejects.toThrow(/"decoder\.pos_emb" has shape \[1, 18, 8\], expected \[1, 18, 1536\]/);
    await expect(loadOfficialGpt(FIXTURE, { task: 'cartpole', config: { ...TINY, nLayer: 2 } })).rejects.toThrow(/missing keys: decoder\.blocks\.1\.ln1\.weight/);
    await expect(loadOfficialGpt(FIXTURE, { task: 'mnist_error', config: TINY })).rejects.toThrow(/"decoder\.input_parameter_projections\.0\.0\.weight" has shape \[8, 1\], expected \[8, 7840\]/);
  });

  it('refuses a file whose model it cannot tell, and a file that is not a .pt', async () => {
    await expect(loadOfficialGpt(FIXTURE)).rejects.toThrow(/cannot tell which official model .*official-tiny-cartpole\.pt is/);
    await expect(loadOfficialGpt(EXPECTED, { task: 'cartpole', config: TINY })).rejects.toThrow(/official-tiny-cartpole\.expected\.safetensors/);
  });
});
