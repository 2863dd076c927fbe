// The Gpt model: official state-dict keys and order, zero-init identity, weight-decay
// groups, the analytic parameter count, presets and bad input.

import { AdamW, Linear, loadStateDictBytes, saveStateDict } from '@gpt/nn';
import { memory, randn, tensor, tidy, type Tensor } from '@gpt/tensor';
import { describe, expect, it } from 'vitest';
import { GPT_PRESETS, Gpt, frequencies, paramCount, resolveGptConfig } from '../src/index.js';
import { CARTPOLE_SIZES, CIFAR10_SIZES, MNIST_SIZES } from './networks.js';

const D = 1250; // Cartpole's parameter count

function tinyGpt(config: Parameters<typeof resolveGptConfig>[0] = 'tiny'): Gpt {
  return new Gpt(CARTPOLE_SIZES, config, { seed: 0 });
}

describe('Gpt state dict', () => {
  it('uses the official key names in the official order', () => {
    const model = tinyGpt();
    const keys = model.stateShapes();
    const block = (i: number) =>
      ['ln1.weight', 'ln1.bias', 'ln2.weight', 'ln2.bias', ...['key', 'query', 'value', 'proj'].flatMap((l) => [`attn.${l}.weight`, `attn.${l}.bias`]), 'mlp.0.weight', 'mlp.0.bias', 'mlp.2.weight', 'mlp.2.bias'].map(
        (k) => `decoder.blocks.${i}.${k}`,
      );
    const tokens = [...CARTPOLE_SIZES, ...CARTPOLE_SIZES, 257, 257, 257, 257];
    expect(keys.map(([k]) => k)).toEqual([
      'decoder.pos_emb',
      ...block(0),
      ...block(1),
      ...tokens.map((_, j) => `decoder.input_parameter_projections.${j}.0.weight`),
      'decoder.ln_in.weight',
      'decoder.ln_in.bias',
      'decoder.ln_f.weight',
      'decoder.ln_f.bias',
      ...CARTPOLE_SIZES.map((_, j) => `decoder.output_parameter_projections.${j}.0.weight`),
      'scalar_embedder.frequencies',
    ]);
    const shapes = Object.fromEntries(keys);
    expect(shapes['decoder.pos_emb']).toEqual([1, 18, 32]);
    expect(shapes['decoder.blocks.1.mlp.0.weight']).toEqual([128, 32]);
    expect(shapes['decoder.input_parameter_projections.3.0.weight']).toEqual([32, 1024]);
    expect(shapes['decoder.input_parameter_projections.17.0.weight']).toEqual([32, 257]);
    expect(shapes['decoder.output_parameter_projections.3.0.weight']).toEqual([1024, 32]);
    expect(shapes['scalar_embedder.frequencies']).toEqual([128]);
    model.dispose();
  });

  it('deeper encoders and decoders keep PyTorch Sequential indices', () => {
    const model = tinyGpt({ ...GPT_PRESETS.tiny, encoderDepth: 2, decoderDepth: 3 });
    const keys = model.stateShapes().map(([k]) => k);
    expect(keys).toContain('decoder.input_parameter_projections.0.2.weight'); // Linear, GELU, Linear
    expect(keys).toContain('decoder.output_parameter_projections.0.4.weight'); // (Linear, GELU) x 2, Linear
    expect(keys.filter((k) => k.startsWith('decoder.output_parameter_projections.0.'))).toEqual([
      'decoder.output_parameter_projections.0.0.weight',
      'decoder.output_parameter_projections.0.2.weight',
      'decoder.output_parameter_projections.0.4.weight',
    ]);
    expect(model.parameterCount).toBe(paramCount({ ...GPT_PRESETS.tiny, encoderDepth: 2, decoderDepth: 3 }, CARTPOLE_SIZES));
    // The per-token path (deeper encoders are not batched): still the identity at init.
    const [x, xPrev] = [randn([2, D], { seed: 1 }), randn([2, D], { seed: 2 })];
    const out = model.forward(x, [5, 6], [1, 2], [3, 4], xPrev);
    expect(Array.from(out.dataSync())).toEqual(Array.from(xPrev.dataSync()));
    for (const t of [x, xPrev, out]) t.dispose();
    model.dispose();
  });

  it('a state dict saved from one model (safetensors bytes) loads into another by name', async () => {
    const a = tinyGpt();
    const b = new Gpt(CARTPOLE_SIZES, 'tiny', { seed: 1 });
    const [x, xPrev] = [randn([3, D], { seed: 5 }), randn([3, D], { seed: 6 })];
    // Decoders start at zero; give them values so the outputs depend on every weight.
    tidy(() => a.decoder.output_parameter_projections.forEach((p) => (p[0] as Linear).weight.assign(randn((p[0] as Linear).weight.shape, { seed: 9, std: 0.02 }))));
    // Through safetensors bytes, the format official weights are converted to.
    const bytes = await saveStateDict(a);
    tidy(() => b.loadStateDict(loadStateDictBytes(bytes)));
    const [ya, yb] = [a, b].map((m) => m.forward(x, [1, 500, 999], [0.1, 0.2, 0.3], [1, 2, 3], xPrev));
    expect(Array.from(yb!.dataSync())).toEqual(Array.from(ya!.dataSync()));
    for (const t of [x, xPrev, ya!, yb!]) t.dispose();
    a.dispose();
    b.dispose();
  });
});

describe('Gpt initialization', () => {
  it('a fresh model returns xPrev exactly (zero-initialized decoders, global residual)', () => {
    const model = tinyGpt();
    const before = memory().tensors;
    const [x, xPrev, t] = [randn([4, D], { seed: 1 }), randn([4, D], { seed: 2 }), tensor([0, 10, 500, 999])];
    const out = model.forward(x, t, [0.5, 1, 2, 400], [1, 2, 3, 4], xPrev);
    expect(out.shape).toEqual([4, D]);
    expect(Array.from(out.dataSync())).toEqual(Array.from(xPrev.dataSync()));
    for (const v of [x, xPrev, t, out]) v.dispose();
    expect(memory().tensors).toBe(before); // forward leaves nothing behind
    model.dispose();
  });

  it('Linear weights ~ N(0, 0.02), biases 0, LayerNorm 1 / 0, pos_emb 0, decoders 0', () => {
    const model = new Gpt(CARTPOLE_SIZES, 'cartpoleSmall', { seed: 3 });
    const dict = model.stateDict();
    const values = (k: string) => Array.from(dict[k]!.dataSync());
    const w = values('decoder.blocks.0.mlp.0.weight'); // 262,144 draws
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const std = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
    expect(Math.abs(mean)).toBeLessThan(2e-4);
    expect(Math.abs(std - 0.02)).toBeLessThan(2e-4);
    const enc = values('decoder.input_parameter_projections.3.0.weight');
    expect(Math.abs(Math.sqrt(enc.reduce((a, b) => a + b * b, 0) / enc.length) - 0.02)).toBeLessThan(5e-4);
    for (const k of ['decoder.blocks.0.attn.key.bias', 'decoder.blocks.3.mlp.2.bias', 'decoder.ln_f.bias', 'decoder.pos_emb', 'decoder.output_parameter_projections.3.0.weight']) {
      expect(values(k).every((v) => v === 0), k).toBe(true);
    }
    expect(values('decoder.ln_in.weight').every((v) => v === 1)).toBe(true);
    expect(values('scalar_embedder.frequencies')).toEqual(Array.from(frequencies(128, 14)));
    Object.values(dict).forEach((t) => t.dispose());
    model.dispose();
  });

  it('the same seed gives the same weights', () => {
    const [a, b] = [tinyGpt(), tinyGpt()];
    const [da, db] = [a.stateDict(), b.stateDict()];
    for (const k of Object.keys(da)) expect(Array.from(db[k]!.dataSync()), k).toEqual(Array.from(da[k]!.dataSync()));
    [...Object.values(da), ...Object.values(db)].forEach((t) => t.dispose());
    a.dispose();
    b.dispose();
  });
});

describe('Gpt weight decay and size', () => {
  it('decays only Linear weights (official configure_optimizers)', () => {
    const model = tinyGpt();
    const names = new Map<Tensor, string>(model.namedParameters().map(([k, p]) => [p, k]));
    const [decay, noDecay] = model.weightDecayGroups(0.1);
    const decayed = decay.params.map((p) => names.get(p)!);
    const undecayed = noDecay.params.map((p) => names.get(p)!);
    expect(decay.weightDecay).toBe(0.1);
    expect(noDecay.weightDecay).toBe(0);
    expect(decayed.every((k) => k.endsWith('.weight') && !k.includes('ln'))).toBe(true);
    expect(decayed).toContain('decoder.blocks.0.attn.query.weight');
    expect(decayed).toContain('decoder.blocks.1.mlp.2.weight');
    expect(decayed).toContain('decoder.input_parameter_projections.17.0.weight');
    expect(decayed).toContain('decoder.output_parameter_projections.6.0.weight');
    expect(undecayed).toEqual([
      'decoder.pos_emb', // a 3-D tensor that the >= 2-D default would have decayed
      ...[0, 1].flatMap((i) => [
        ...['ln1.weight', 'ln1.bias', 'ln2.weight', 'ln2.bias', 'attn.key.bias', 'attn.query.bias', 'attn.value.bias', 'attn.proj.bias', 'mlp.0.bias', 'mlp.2.bias'].map((k) => `decoder.blocks.${i}.${k}`),
      ]),
      'decoder.ln_in.weight',
      'decoder.ln_in.bias',
      'decoder.ln_f.weight',
      'decoder.ln_f.bias',
    ]);
    expect(decayed.length + undecayed.length).toBe(model.parameters().length);
    const optimizer = new AdamW(model.weightDecayGroups(0.1), { lr: 1e-3 });
    expect(optimizer.paramGroups.map((g) => g.weightDecay)).toEqual([0.1, 0]);
    model.dispose();
  });

  it('paramCount gives the paper sizes (§3.9) and the allocated count of small models', () => {
    expect(paramCount('mnist', MNIST_SIZES)).toBe(378_283_008);
    expect(paramCount('cifar10', CIFAR10_SIZES)).toBe(639_459_328);
    expect(paramCount('cartpole', CARTPOLE_SIZES)).toBe(347_351_040);
    expect(Math.round(paramCount('mnist', MNIST_SIZES) / 1e5) / 10).toBe(378.3);
    expect(Math.round(paramCount('cifar10', CIFAR10_SIZES) / 1e5) / 10).toBe(639.5);
    expect(Math.round(paramCount('cartpole', CARTPOLE_SIZES) / 1e5) / 10).toBe(347.4);
    for (const [config, sizes] of [
      ['tiny', CARTPOLE_SIZES],
      ['cartpoleSmall', CARTPOLE_SIZES],
      [{ ...GPT_PRESETS.tiny, splitPolicy: 'chunk_within_layer', chunkSize: 1000, absoluteLossConditioning: false }, MNIST_SIZES],
      [{ ...GPT_PRESETS.tiny, splitPolicy: 'chunk', chunkSize: 700 }, CIFAR10_SIZES],
    ] as const) {
      const model = new Gpt(sizes, config, { seed: 0 });
      expect(model.parameterCount).toBe(paramCount(config, sizes));
      model.dispose();
    }
  });
});

describe('Gpt bad input', () => {
  it('names the argument and the shapes', () => {
    const model = tinyGpt();
    const x = randn([2, D]);
    const short = randn([2, D - 1]);
    const three = randn([3, D]);
    const s = [1, 2];
    expect(() => model.forward(short, s, s, s, x)).toThrow(`Gpt.forward: x must be [N, ${D}] (N parameter vectors of this model's D = ${D}), got [2, 1249]`);
    expect(() => model.forward(x, s, s, s, short)).toThrow('Gpt.forward: xPrev must be [N, 1250]');
    expect(() => model.forward(x, s, s, s, three)).toThrow('Gpt.forward: x [2, 1250] and xPrev [3, 1250] have different batch sizes');
    expect(() => model.forward(x, [1, 2, 3], s, s, x)).toThrow('Gpt.forward: t must hold one value per vector, [2] or [2, 1] for x [2, 1250], got [3]');
    expect(() => model.forward(x, s, s, tensor([[1, 2]]), x)).toThrow('Gpt.forward: lossPrev must hold one value per vector, [2] or [2, 1] for x [2, 1250], got [1, 2]');
    expect(() => model.forward(x, [0, 1000], s, s, x)).toThrow('Gpt.forward: t must lie in [0, 1000) (the diffusion schedule), got 1000');
    expect(() => model.forward(x, tensor([-1, 3]), s, s, x)).toThrow('t must lie in [0, 1000) (the diffusion schedule), got -1');
    expect(() => model.forward(x, [NaN, 3], s, s, x)).toThrow('got NaN');
    for (const t of [x, short, three]) t.dispose();
    model.dispose();
  });

  it('refuses bad configs', () => {
    expect(() => tinyGpt({ nEmbd: 30, nHead: 4 })).toThrow('GptConfig: nEmbd 30 is not a multiple of nHead 4');
    expect(() => tinyGpt({ nLayer: 0 })).toThrow('GptConfig: nLayer must be a positive integer, got 0');
    expect(() => tinyGpt({ dropout: 1 })).toThrow('GptConfig: dropout must be in [0, 1), got 1');
    expect(() => tinyGpt('huge' as never)).toThrow('GptConfig: unknown preset "huge" (known: mnist, cifar10, cartpole');
    expect(() => tinyGpt({ splitPolicy: 'rows' as never })).toThrow('GptConfig: unknown splitPolicy "rows"');
  });
});
