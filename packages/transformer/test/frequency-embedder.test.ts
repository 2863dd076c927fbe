// The scalar embedding: [sin(f s), cos(f s), s] with float32 frequencies 2^linspace(0, 14, 128).

import { Module } from '@gpt/nn';
import { tensor } from '@gpt/tensor';
import { describe, expect, it } from 'vitest';
import { FrequencyEmbedder, frequencies } from '../src/index.js';

describe('FrequencyEmbedder', () => {
  it('spans 2^0 .. 2^maxFreqLog2 geometrically', () => {
    const f = frequencies(128, 14);
    expect(f[0]).toBe(1);
    expect(f[127]).toBe(16384);
    for (let k = 0; k < 128; k++) expect(Math.abs(f[k]! / 2 ** ((14 * k) / 127) - 1)).toBeLessThan(1e-6);
    expect(Array.from(frequencies(3, 20))).toEqual([1, 1024, 2 ** 20]);
  });

  it('embeds each scalar as its sines, its cosines and itself (257 numbers), for [N] and [N, D]', () => {
    const embedder = new FrequencyEmbedder(128, 14);
    expect(embedder.width).toBe(257);
    const f = frequencies(128, 14);
    const values = [0, 1, -0.37, 999];
    const out = embedder.forward(tensor(values));
    expect(out.shape).toEqual([4, 257]);
    const got = out.dataSync();
    values.forEach((s, n) => {
      for (let k = 0; k < 128; k++) {
        // float32 product as PyTorch forms it, then sin/cos of that float32 argument.
        const arg = Math.fround(f[k]! * Math.fround(s));
        expect(Math.abs(got[n * 257 + k]! - Math.sin(arg))).toBeLessThan(1e-6);
        expect(Math.abs(got[n * 257 + 128 + k]! - Math.cos(arg))).toBeLessThan(1e-6);
      }
      expect(got[n * 257 + 256]).toBe(Math.fround(s));
    });
    const wide = embedder.forward(tensor([[1, 2]]));
    expect(wide.shape).toEqual([1, 514]);
    expect(wide.dataSync()[256]).toBe(1);
    expect(wide.dataSync()[513]).toBe(2);
    expect(() => embedder.forward(tensor(1))).toThrow('FrequencyEmbedder.forward: expected [N] or [N, D], got []');
    for (const t of [out, wide]) t.dispose();
  });

  it('saves its frequencies as a buffer, not a parameter', () => {
    class Holder extends Module {
      scalar_embedder = new FrequencyEmbedder(4, 14);
    }
    const holder = new Holder();
    expect(holder.stateShapes()).toEqual([['scalar_embedder.frequencies', [4]]]);
    expect(holder.parameters()).toEqual([]);
    holder.dispose();
  });
});
