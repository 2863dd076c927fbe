// The parameter tokenizer: the token sizes of gpt-paper.md §3.4 for the paper's three
// networks, the two policies no paper config uses, and bad input.

import { describe, expect, it } from 'vitest';
import { GPT_PRESETS, buildSplits, computeTokenSizes } from '../src/index.js';
import { CARTPOLE_SIZES, CIFAR10_SIZES, MNIST_SIZES } from './networks.js';

const S = 257; // one scalar embedding: 128 sines, 128 cosines, the value

describe('buildSplits', () => {
  it('gives the token sizes of the paper configs (§3.4)', () => {
    const mnist = [1000, 1000, 1000, 1000, 1000, 1000, 1000, 840, 10, 100, 10];
    const cifar = [432, 576, 576, 576, 576, 576, 576, 576, 576, 320, 10];
    expect(buildSplits(MNIST_SIZES, 'chunk_within_layer', 1000)).toEqual(mnist);
    expect(buildSplits(CIFAR10_SIZES, 'chunk_within_layer', 576)).toEqual(cifar);
    expect(buildSplits(CARTPOLE_SIZES, 'layer_by_layer', 2048)).toEqual(CARTPOLE_SIZES);
    expect(buildSplits(CARTPOLE_SIZES, 'layer_by_layer')).toEqual(CARTPOLE_SIZES);
  });

  it('gives the whole sequences: θ tokens, θ_prev tokens, then 4 scalar tokens', () => {
    const mnist = computeTokenSizes(MNIST_SIZES, GPT_PRESETS.mnist);
    expect(mnist.inputSplits).toHaveLength(26);
    expect(mnist.inputSplits.slice(0, 11)).toEqual(mnist.outputSplits);
    expect(mnist.inputSplits.slice(11, 22)).toEqual(mnist.outputSplits);
    expect(mnist.inputSplits.slice(22)).toEqual([S, S, S, S]);
    expect(computeTokenSizes(CIFAR10_SIZES, GPT_PRESETS.cifar10).inputSplits).toHaveLength(26);
    const cartpole = computeTokenSizes(CARTPOLE_SIZES, GPT_PRESETS.cartpole);
    expect(cartpole.inputSplits).toEqual([...CARTPOLE_SIZES, ...CARTPOLE_SIZES, S, S, S, S]);
    expect(cartpole.outputSplits).toEqual(CARTPOLE_SIZES);
    expect([cartpole.scalarTokenSize, cartpole.scalarTokens]).toEqual([S, 4]);
    const relativeOnly = computeTokenSizes(CARTPOLE_SIZES, { ...GPT_PRESETS.cartpole, absoluteLossConditioning: false });
    expect(relativeOnly.inputSplits).toEqual([...CARTPOLE_SIZES, ...CARTPOLE_SIZES, S, S]);
  });

  it('chunk ignores tensor and input boundaries; chunk_within_input keeps inputs apart', () => {
    // Cartpole: D = 1,250, so [θ | θ_prev | 4 scalars] holds 2,500 + 1,028 = 3,528 numbers.
    expect(buildSplits(CARTPOLE_SIZES, 'chunk', 500)).toEqual([500, 500, 250]);
    const groups = [CARTPOLE_SIZES, CARTPOLE_SIZES, [S], [S], [S], [S]];
    expect(buildSplits(groups, 'chunk', 1000)).toEqual([1000, 1000, 1000, 528]);
    expect(buildSplits(groups, 'chunk_within_input', 1000)).toEqual([1000, 250, 1000, 250, S, S, S, S]);
    expect(buildSplits(groups, 'chunk_within_layer', 100)).toEqual([
      ...[1, 100, 28, 32, ...Array(10).fill(100), 24, 32, 32, 1],
      ...[1, 100, 28, 32, ...Array(10).fill(100), 24, 32, 32, 1],
      ...[100, 100, 57, 100, 100, 57, 100, 100, 57, 100, 100, 57],
    ]);
    // Every policy covers every number exactly once.
    for (const policy of ['chunk', 'layer_by_layer', 'chunk_within_layer', 'chunk_within_input'] as const) {
      expect(buildSplits(groups, policy, 333).reduce((a, b) => a + b, 0)).toBe(3528);
    }
  });

  it('refuses bad input with a clear error', () => {
    expect(() => buildSplits(CARTPOLE_SIZES, 'chunk')).toThrow('buildSplits: policy "chunk" needs a positive integer chunkSize, got undefined');
    expect(() => buildSplits(CARTPOLE_SIZES, 'chunk_within_layer', 0)).toThrow('needs a positive integer chunkSize, got 0');
    expect(() => buildSplits(CARTPOLE_SIZES, 'chunk_within_input', 10)).toThrow('needs grouped sizes (one array per input); entry 0 is the number 1');
    expect(() => buildSplits([10, 0], 'layer_by_layer')).toThrow('every parameter size must be a positive integer, got 0');
    expect(() => buildSplits([], 'layer_by_layer')).toThrow('buildSplits: parameterSizes is empty');
    expect(() => buildSplits([10], 'rows' as never, 4)).toThrow('buildSplits: unknown policy "rows"');
  });
});
