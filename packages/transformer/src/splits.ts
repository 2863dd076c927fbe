// The parameter tokenizer: how G.pt cuts its input vector [x | xPrev | scalar embeddings]
// into tokens, each a contiguous slice encoded by its own Linear layer (official
// `GPT.build_splits` and `Gpt.compute_token_sizes`, gpt-paper.md §3.4).

import type { SplitPolicy } from './config.js';

/** Per-tensor sizes, or groups of them (one group per input: x, xPrev, each scalar). */
export type ParameterSizes = readonly (number | readonly number[])[];

function flatSizes(sizes: ParameterSizes): number[] {
  return sizes.flatMap((s) => (typeof s === 'number' ? [s] : [...s]));
}

/** `total` cut into pieces of `chunkSize`, the remainder (if any) last. */
function chunked(total: number, chunkSize: number): number[] {
  const pieces: number[] = Array.from({ length: Math.floor(total / chunkSize) }, () => chunkSize);
  if (total % chunkSize > 0) pieces.push(total % chunkSize);
  return pieces;
}

/**
 * Token sizes for `parameterSizes` under `policy`:
 * - `chunk`: the whole vector cut into `chunkSize` pieces, ignoring tensor and input boundaries;
 * - `layer_by_layer`: one token per tensor;
 * - `chunk_within_layer`: each tensor cut into pieces of `chunkSize` (its remainder a smaller token);
 * - `chunk_within_input`: each group (input) cut into pieces, ignoring tensor boundaries
 *   inside it; needs grouped sizes.
 */
export function buildSplits(parameterSizes: ParameterSizes, policy: SplitPolicy, chunkSize?: number): number[] {
  if (parameterSizes.length === 0) throw new Error('buildSplits: parameterSizes is empty');
  for (const size of flatSizes(parameterSizes)) {
    if (!Number.isInteger(size) || size <= 0) throw new Error(`buildSplits: every parameter size must be a positive integer, got ${size}`);
  }
  const needsChunk = policy !== 'layer_by_layer';
  if (needsChunk && (chunkSize === undefined || !Number.isInteger(chunkSize) || chunkSize <= 0)) {
    throw new Error(`buildSplits: policy "${policy}" needs a positive integer chunkSize, got ${chunkSize}`);
  }
  switch (policy) {
    case 'chunk':
      return chunked(flatSizes(parameterSizes).reduce((a, b) => a + b, 0), chunkSize!);
    case 'layer_by_layer':
      return flatSizes(parameterSizes);
    case 'chunk_within_layer':
      return flatSizes(parameterSizes).flatMap((size) => chunked(size, chunkSize!));
    case 'chunk_within_input':
      return parameterSizes.flatMap((group, i) => {
        if (typeof group === 'number') {
          throw new Error(`buildSplits: policy "chunk_within_input" needs grouped sizes (one array per input); entry ${i} is the number ${group}`);
        }
        return chunked(group.reduce((a, b) => a + b, 0), chunkSize!);
      });
    default:
      throw new Error(`buildSplits: unknown policy "${String(policy)}"`);
  }
}

export interface TokenSizes {
  /** Sizes of every input token, in sequence order: x's, xPrev's, then one per scalar. */
  readonly inputSplits: number[];
  /** Sizes of the decoded tokens (the first outputSplits.length positions), summing to D. */
  readonly outputSplits: number[];
  /** Numbers per scalar embedding (2 * numFrequencies + 1). */
  readonly scalarTokenSize: number;
  /** Scalar tokens: t and the metric difference, plus target and start metric with absolute conditioning. */
  readonly scalarTokens: number;
}

/** The token sizes of a G.pt model for a network with these per-tensor sizes. */
export function computeTokenSizes(
  parameterSizes: readonly number[],
  config: { splitPolicy: SplitPolicy; chunkSize: number; numFrequencies: number; absoluteLossConditioning: boolean },
): TokenSizes {
  const scalarTokenSize = 2 * config.numFrequencies + 1;
  const scalarTokens = config.absoluteLossConditioning ? 4 : 2;
  const groups: number[][] = [[...parameterSizes], [...parameterSizes], ...Array.from({ length: scalarTokens }, () => [scalarTokenSize])];
  return {
    inputSplits: buildSplits(groups, config.splitPolicy, config.chunkSize),
    outputSplits: buildSplits([[...parameterSizes]], config.splitPolicy, config.chunkSize),
    scalarTokenSize,
    scalarTokens,
  };
}
