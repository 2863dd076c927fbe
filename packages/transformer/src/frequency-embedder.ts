// G.pt's scalar embedding (gpt-paper.md §3.3): a scalar s becomes
// [sin(f_1 s) .. sin(f_F s), cos(f_1 s) .. cos(f_F s), s] with f_k = 2^linspace(0, maxFreqLog2, F).
// No learned parameters; the frequencies are a buffer so they appear in the state dict
// as `scalar_embedder.frequencies`, like the official model's.

import { Module, buffer } from '@gpt/nn';
import { cast, concat, cos, mul, reshape, sin, tensor, tidy, type Tensor } from '@gpt/tensor';

/**
 * 2^linspace(0, maxLog2, count), each the float32 nearest to the exact value. PyTorch's
 * float32 linspace (8-wide vector steps) and pow land a unit or two in the last place
 * away at about a quarter of the entries; with t up to 999 and frequencies up to 2^14
 * that moves sin noticeably, so weights trained in PyTorch should come with their own
 * buffer (it is in the state dict, and loadStateDict replaces this one).
 */
export function frequencies(count: number, maxLog2: number): Float32Array {
  const out = new Float32Array(count);
  for (let k = 0; k < count; k++) out[k] = count === 1 ? 1 : 2 ** ((maxLog2 * k) / (count - 1));
  return out;
}

export class FrequencyEmbedder extends Module {
  /** [F] */
  frequencies: Tensor;

  constructor(
    readonly numFrequencies: number,
    readonly maxFreqLog2: number,
    options: { device?: string } = {},
  ) {
    super();
    this.frequencies = buffer(tensor(frequencies(numFrequencies, maxFreqLog2), { device: options.device }));
  }

  /** Numbers per embedded scalar. */
  get width(): number {
    return 2 * this.numFrequencies + 1;
  }

  /** [N] or [N, D] -> [N, D * (2F + 1)]: per scalar its sines, its cosines, then itself. */
  forward(x: Tensor): Tensor {
    if (x.rank !== 1 && x.rank !== 2) throw new Error(`FrequencyEmbedder.forward: expected [N] or [N, D], got [${x.shape.join(', ')}]`);
    const [n, d] = [x.shape[0]!, x.rank === 2 ? x.shape[1]! : 1];
    const f = this.numFrequencies;
    return tidy(() => {
      const values = reshape(x.dtype === 'float32' ? x : cast(x, 'float32'), [n, d, 1]); // [N, D, 1]
      const scaled = mul(values, reshape(this.frequencies, [1, 1, f])); // [N, D, F]
      const embedded = concat([sin(scaled), cos(scaled), values], 2); // [N, D, 2F + 1]
      return reshape(embedded, [n, d * (2 * f + 1)]); // [N, D * (2F + 1)]
    });
  }
}
